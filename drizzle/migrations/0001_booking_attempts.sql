ALTER TABLE `appointments` ADD `calcom_request_sent_at` datetime(3);--> statement-breakpoint
ALTER TABLE `appointments` ADD `attempts` int DEFAULT 0 NOT NULL;