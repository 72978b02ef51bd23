-- What the storage of a cluster's strategy held when it was last looked at (bytes, and
-- when, in ms): read by the backup_storage_capacity_over_threshold alert item.
ALTER TABLE ob_backup_strategy ADD COLUMN storage_total_bytes BIGINT;
ALTER TABLE ob_backup_strategy ADD COLUMN storage_used_bytes BIGINT;
ALTER TABLE ob_backup_strategy ADD COLUMN storage_checked_at BIGINT;
