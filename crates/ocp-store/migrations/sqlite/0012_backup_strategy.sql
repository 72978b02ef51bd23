-- A cluster's backup strategy (the API's shape, as JSON). `last_due` is the last scheduled
-- time a set was started for: a server starts a scheduled set only by moving it forward, in
-- the transaction that writes the set and its task, so each due time fires once whatever
-- number of servers share the metadb.
CREATE TABLE ob_backup_strategy (
    cluster_id   INTEGER PRIMARY KEY REFERENCES ob_cluster(id) ON DELETE CASCADE,
    body         TEXT NOT NULL,
    creator_id   INTEGER NOT NULL,
    creator_name TEXT NOT NULL,
    last_due     INTEGER NOT NULL,
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL
);
