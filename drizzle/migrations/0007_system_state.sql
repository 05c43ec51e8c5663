CREATE TABLE `system_state` (
	`name` varchar(64) NOT NULL,
	`value` varchar(32) NOT NULL,
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `system_state_name` PRIMARY KEY(`name`)
);
--> statement-breakpoint
-- The row exists from the start: a keyless upsert's shared lock on it is what a `closing` waits
-- for, under READ COMMITTED too (which takes no lock on a row that is not there).
INSERT INTO `system_state` (`name`, `value`) VALUES ('plain_phone_index', 'open');
