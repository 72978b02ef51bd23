-- Backup sets the platform made, one a "back up now" task, and the restores made from them.
-- A set outlives its cluster (so no foreign key): a deleted cluster can still be restored.
-- A restore keeps its record when its set is deleted (no foreign key either).
-- The status of a set or restore whose task failed is read through the task: a set is DONE
-- only once its task's last step verified its manifest.
CREATE TABLE ob_backup_set (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id           INTEGER NOT NULL,
    cluster_name         TEXT NOT NULL,
    server_id            INTEGER NOT NULL,
    task_id              INTEGER NOT NULL,
    mode                 TEXT NOT NULL,
    storage_type         TEXT NOT NULL,
    storage_url          TEXT NOT NULL,
    status               TEXT NOT NULL,
    size                 INTEGER,
    ob_version           TEXT NOT NULL,
    -- root's password when the set was taken, sealed: what a restored server will know.
    root_password_sealed TEXT NOT NULL,
    error_msg            TEXT NOT NULL DEFAULT '',
    start_time           INTEGER NOT NULL,
    finish_time          INTEGER
);
CREATE INDEX ob_backup_set_cluster ON ob_backup_set (cluster_id);

CREATE TABLE ob_restore (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id              INTEGER NOT NULL,
    backup_set_id        INTEGER NOT NULL,
    backup_cluster_id    INTEGER NOT NULL,
    backup_cluster_name  TEXT NOT NULL,
    restore_cluster_id   INTEGER NOT NULL,
    restore_cluster_name TEXT NOT NULL,
    restore_uri          TEXT NOT NULL,
    mode                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    error_msg            TEXT NOT NULL DEFAULT '',
    create_time          INTEGER NOT NULL,
    finish_time          INTEGER
);
CREATE INDEX ob_restore_cluster ON ob_restore (restore_cluster_id);
CREATE INDEX ob_restore_backup_cluster ON ob_restore (backup_cluster_id);
