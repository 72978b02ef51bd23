-- S3-compatible backup storage. A set's `storage_access` is how its bucket is reached (JSON:
-- endpoint, region, access key id and the key's secret sealed with the master key), NULL for
-- a directory; a strategy's `storage_secret_sealed` is its S3 key's secret, sealed (the
-- strategy's body never holds it).
ALTER TABLE ob_backup_set ADD COLUMN storage_access TEXT;
ALTER TABLE ob_backup_strategy ADD COLUMN storage_secret_sealed TEXT;
