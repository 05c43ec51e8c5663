CREATE TABLE `system_state` (
	`name` varchar(64) NOT NULL,
	`value` varchar(32) NOT NULL,
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `system_state_name` PRIMARY KEY(`name`)
);
