ALTER TABLE `calls` MODIFY COLUMN `from_number` varchar(512);--> statement-breakpoint
ALTER TABLE `calls` MODIFY COLUMN `to_number` varchar(512);--> statement-breakpoint
ALTER TABLE `calls` MODIFY COLUMN `recording_url` varchar(2048);--> statement-breakpoint
ALTER TABLE `customers` MODIFY COLUMN `phone` varchar(512) NOT NULL;--> statement-breakpoint
ALTER TABLE `customers` MODIFY COLUMN `name` varchar(1536);--> statement-breakpoint
ALTER TABLE `customers` MODIFY COLUMN `email` varchar(1536);--> statement-breakpoint
ALTER TABLE `calls` ADD `caller_index` varchar(64);--> statement-breakpoint
ALTER TABLE `companies` ADD `pii_encryption` boolean;--> statement-breakpoint
ALTER TABLE `customers` ADD `phone_index` varchar(64);--> statement-breakpoint
-- Existing rows get the plain index (the E.164 itself, what lib/pii uses without BLIND_INDEX_KEY);
-- with BLIND_INDEX_KEY set, lookups also match it and `callbook keys rotate` replaces it by the HMAC.
UPDATE `customers` SET `phone_index` = `phone`;--> statement-breakpoint
UPDATE `calls` JOIN `customers` ON `customers`.`id` = `calls`.`customer_id` SET `calls`.`caller_index` = `customers`.`phone_index`;--> statement-breakpoint
ALTER TABLE `customers` MODIFY COLUMN `phone_index` varchar(64) NOT NULL;--> statement-breakpoint
ALTER TABLE `customers` ADD CONSTRAINT `customers_company_phone_index_uq` UNIQUE(`company_id`,`phone_index`);--> statement-breakpoint
ALTER TABLE `customers` DROP INDEX `customers_company_phone_uq`;--> statement-breakpoint
CREATE INDEX `calls_caller_index_idx` ON `calls` (`company_id`,`caller_index`);
