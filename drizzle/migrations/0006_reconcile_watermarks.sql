CREATE TABLE `reconcile_watermarks` (
	`account` varchar(64) NOT NULL,
	`company_id` bigint unsigned,
	`watermark` datetime(3) NOT NULL,
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `reconcile_watermarks_account` PRIMARY KEY(`account`)
);
