-- A standby cluster names the primary whose log it follows, and how it stands with it:
-- SYNCHRONIZING while it builds itself, VALID once it follows, DISABLED when it no longer
-- follows (the primary it was before a failover, fenced off).
ALTER TABLE ob_cluster ADD COLUMN primary_cluster_id BIGINT NULL;
ALTER TABLE ob_cluster ADD COLUMN sync_status TEXT NULL;
