CREATE TABLE `appointments` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned NOT NULL,
	`branch_id` bigint unsigned NOT NULL,
	`customer_id` bigint unsigned NOT NULL,
	`call_id` bigint unsigned,
	`service_id` bigint unsigned NOT NULL,
	`idempotency_key` varchar(64) NOT NULL,
	`calcom_booking_uid` varchar(100),
	`calcom_booking_id` int,
	`start_at` datetime(3) NOT NULL,
	`end_at` datetime(3),
	`status` varchar(16) NOT NULL,
	`failure_reason` varchar(1000),
	`alternatives` json,
	`source` varchar(16) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `appointments_id` PRIMARY KEY(`id`),
	CONSTRAINT `appointments_idempotency_key_uq` UNIQUE(`idempotency_key`),
	CONSTRAINT `appointments_calcom_uid_uq` UNIQUE(`calcom_booking_uid`)
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned,
	`actor` varchar(100) NOT NULL,
	`action` varchar(100) NOT NULL,
	`target` varchar(200),
	`details` json,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `audit_log_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `branches` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned NOT NULL,
	`slug` varchar(64) NOT NULL,
	`name` varchar(200) NOT NULL,
	`timezone` varchar(64) NOT NULL,
	`language` varchar(8) NOT NULL DEFAULT 'de',
	`opening_hours` varchar(500),
	`default_service_id` bigint unsigned,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `branches_id` PRIMARY KEY(`id`),
	CONSTRAINT `branches_company_slug_uq` UNIQUE(`company_id`,`slug`)
);
--> statement-breakpoint
CREATE TABLE `calls` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`retell_call_id` varchar(100) NOT NULL,
	`company_id` bigint unsigned NOT NULL,
	`branch_id` bigint unsigned NOT NULL,
	`customer_id` bigint unsigned,
	`agent_id` varchar(100),
	`direction` varchar(16),
	`from_number` varchar(20),
	`to_number` varchar(20),
	`status` varchar(20) NOT NULL,
	`started_at` datetime(3),
	`ended_at` datetime(3),
	`duration_ms` int,
	`disconnection_reason` varchar(64),
	`transcript` mediumtext,
	`summary` text,
	`sentiment` varchar(16),
	`recording_url` varchar(1000),
	`dynamic_variables` json,
	`analysis_data` json,
	`booking_decision` varchar(16),
	`booking_reason` varchar(500),
	`booking_request` json,
	`appointment_id` bigint unsigned,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `calls_id` PRIMARY KEY(`id`),
	CONSTRAINT `calls_retell_call_id_uq` UNIQUE(`retell_call_id`)
);
--> statement-breakpoint
CREATE TABLE `companies` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`slug` varchar(64) NOT NULL,
	`name` varchar(200) NOT NULL,
	`language` varchar(8) NOT NULL DEFAULT 'de',
	`retell_api_key_enc` text,
	`calcom_api_key_enc` text,
	`calcom_webhook_secret_enc` text,
	`calcom_username` varchar(100),
	`retention_days` int NOT NULL DEFAULT 365,
	`operator_emails` json NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `companies_id` PRIMARY KEY(`id`),
	CONSTRAINT `companies_slug_uq` UNIQUE(`slug`)
);
--> statement-breakpoint
CREATE TABLE `customers` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned NOT NULL,
	`phone` varchar(20) NOT NULL,
	`name` varchar(200),
	`email` varchar(254),
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `customers_id` PRIMARY KEY(`id`),
	CONSTRAINT `customers_company_phone_uq` UNIQUE(`company_id`,`phone`)
);
--> statement-breakpoint
CREATE TABLE `phone_numbers` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`e164` varchar(20) NOT NULL,
	`company_id` bigint unsigned NOT NULL,
	`branch_id` bigint unsigned NOT NULL,
	`retell_agent_id` varchar(100),
	`nickname` varchar(200),
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `phone_numbers_id` PRIMARY KEY(`id`),
	CONSTRAINT `phone_numbers_e164_uq` UNIQUE(`e164`)
);
--> statement-breakpoint
CREATE TABLE `services` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`company_id` bigint unsigned NOT NULL,
	`branch_id` bigint unsigned,
	`slug` varchar(64) NOT NULL,
	`name` varchar(200) NOT NULL,
	`calcom_event_type_id` int NOT NULL,
	`calcom_team_id` int,
	`duration_minutes` int NOT NULL,
	`aliases` json NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `services_id` PRIMARY KEY(`id`),
	CONSTRAINT `services_company_slug_uq` UNIQUE(`company_id`,`slug`)
);
--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`provider` varchar(16) NOT NULL,
	`dedupe_key` varchar(191) NOT NULL,
	`company_id` bigint unsigned,
	`event_type` varchar(64) NOT NULL,
	`external_id` varchar(100),
	`status` varchar(16) NOT NULL,
	`error` varchar(1000),
	`attempts` int NOT NULL DEFAULT 1,
	`received_at` datetime(3) NOT NULL,
	`processed_at` datetime(3),
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `webhook_events_id` PRIMARY KEY(`id`),
	CONSTRAINT `webhook_events_provider_key_uq` UNIQUE(`provider`,`dedupe_key`)
);
--> statement-breakpoint
CREATE INDEX `appointments_company_customer_idx` ON `appointments` (`company_id`,`customer_id`);--> statement-breakpoint
CREATE INDEX `audit_log_company_idx` ON `audit_log` (`company_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `calls_company_idx` ON `calls` (`company_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `phone_numbers_company_idx` ON `phone_numbers` (`company_id`);--> statement-breakpoint
CREATE INDEX `webhook_events_status_idx` ON `webhook_events` (`status`);