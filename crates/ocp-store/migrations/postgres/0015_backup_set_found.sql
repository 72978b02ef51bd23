-- Sets the platform found in a storage (written by another platform, or by this one before
-- its metadb was lost) to restore them: `found_name` is the set's name there. NULL for the
-- platform's own sets, named backup_set_{id}; found sets are never listed as the cluster's
-- backups nor deleted by retention.
ALTER TABLE ob_backup_set ADD COLUMN found_name TEXT;
