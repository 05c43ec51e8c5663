CREATE TABLE `notifications` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned,
	`kind` varchar(32) NOT NULL,
	`ref` varchar(100) NOT NULL,
	`channel` varchar(16) NOT NULL,
	`recipient` varchar(200),
	`status` varchar(16) NOT NULL,
	`error` varchar(1000),
	`sent_at` datetime(3),
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `notifications_id` PRIMARY KEY(`id`),
	CONSTRAINT `notifications_kind_ref_uq` UNIQUE(`kind`,`ref`)
);
--> statement-breakpoint
CREATE TABLE `retell_phone_numbers` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned,
	`e164` varchar(20) NOT NULL,
	`nickname` varchar(200),
	`inbound_agent_ids` json NOT NULL,
	`outbound_agent_ids` json NOT NULL,
	`inbound_webhook_url` varchar(500),
	`last_modified_at` datetime(3),
	`synced_at` datetime(3) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `retell_phone_numbers_id` PRIMARY KEY(`id`),
	CONSTRAINT `retell_phone_numbers_e164_uq` UNIQUE(`e164`)
);
--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned,
	`status` varchar(16) NOT NULL,
	`report` json,
	`started_at` datetime(3) NOT NULL,
	`finished_at` datetime(3),
	CONSTRAINT `sync_runs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `calls` ADD `purged_at` datetime(3);--> statement-breakpoint
ALTER TABLE `customers` ADD `erased_at` datetime(3);--> statement-breakpoint
CREATE INDEX `sync_runs_started_idx` ON `sync_runs` (`started_at`);