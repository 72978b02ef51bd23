-- SQL diagnostics: what the agents sample of each statement and plan of their servers
-- (seekdb's sqlstat and plan cache), as sums per minute, ten minutes and hour; bucket is the
-- period's start in seconds since the epoch. Counters add up; max_elapsed_us is
-- the slowest execution the plan cache recorded in the bucket, NULL if none was.
--
-- sql_stat_sample records each (server, sample second) stored, so a resent sample adds
-- nothing.
CREATE TABLE sql_stat_sample (
    server_id  INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    PRIMARY KEY (server_id, ts)
) WITHOUT ROWID;

-- Sums per minute, kept a day by default.
CREATE TABLE sql_stat_minute (
    cluster_id           INTEGER NOT NULL,
    server_id            INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,
    sql_id               TEXT NOT NULL,
    plan_id              INTEGER NOT NULL,
    plan_hash            TEXT NOT NULL,
    db_name              TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    is_inner             INTEGER NOT NULL,
    plan_type            INTEGER NOT NULL,
    table_scan           INTEGER NOT NULL,
    executions           INTEGER NOT NULL,
    elapsed_us           INTEGER NOT NULL,
    cpu_us               INTEGER NOT NULL,
    rows_processed       INTEGER NOT NULL,
    disk_reads           INTEGER NOT NULL,
    buffer_gets          INTEGER NOT NULL,
    retries              INTEGER NOT NULL,
    application_wait_us  INTEGER NOT NULL,
    concurrency_wait_us  INTEGER NOT NULL,
    user_io_wait_us      INTEGER NOT NULL,
    memstore_read_rows   INTEGER NOT NULL,
    ssstore_read_rows    INTEGER NOT NULL,
    rpc_count            INTEGER NOT NULL,
    partitions           INTEGER NOT NULL,
    plan_cache_hits      INTEGER NOT NULL,
    timeouts             INTEGER NOT NULL,
    max_elapsed_us       INTEGER,
    PRIMARY KEY (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash)
) WITHOUT ROWID;
CREATE INDEX sql_stat_minute_sql ON sql_stat_minute (cluster_id, sql_id, bucket);

-- Sums per ten minutes, kept as long as the minutes: a long range reads its edges from
-- them rather than from up to 118 minutes.
CREATE TABLE sql_stat_10min (
    cluster_id           INTEGER NOT NULL,
    server_id            INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,
    sql_id               TEXT NOT NULL,
    plan_id              INTEGER NOT NULL,
    plan_hash            TEXT NOT NULL,
    db_name              TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    is_inner             INTEGER NOT NULL,
    plan_type            INTEGER NOT NULL,
    table_scan           INTEGER NOT NULL,
    executions           INTEGER NOT NULL,
    elapsed_us           INTEGER NOT NULL,
    cpu_us               INTEGER NOT NULL,
    rows_processed       INTEGER NOT NULL,
    disk_reads           INTEGER NOT NULL,
    buffer_gets          INTEGER NOT NULL,
    retries              INTEGER NOT NULL,
    application_wait_us  INTEGER NOT NULL,
    concurrency_wait_us  INTEGER NOT NULL,
    user_io_wait_us      INTEGER NOT NULL,
    memstore_read_rows   INTEGER NOT NULL,
    ssstore_read_rows    INTEGER NOT NULL,
    rpc_count            INTEGER NOT NULL,
    partitions           INTEGER NOT NULL,
    plan_cache_hits      INTEGER NOT NULL,
    timeouts             INTEGER NOT NULL,
    max_elapsed_us       INTEGER,
    PRIMARY KEY (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash)
) WITHOUT ROWID;
CREATE INDEX sql_stat_10min_sql ON sql_stat_10min (cluster_id, sql_id, bucket);

-- Sums per hour, kept as long as SQL statistics are (7 days by default).
CREATE TABLE sql_stat_hour (
    cluster_id           INTEGER NOT NULL,
    server_id            INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,
    sql_id               TEXT NOT NULL,
    plan_id              INTEGER NOT NULL,
    plan_hash            TEXT NOT NULL,
    db_name              TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    is_inner             INTEGER NOT NULL,
    plan_type            INTEGER NOT NULL,
    table_scan           INTEGER NOT NULL,
    executions           INTEGER NOT NULL,
    elapsed_us           INTEGER NOT NULL,
    cpu_us               INTEGER NOT NULL,
    rows_processed       INTEGER NOT NULL,
    disk_reads           INTEGER NOT NULL,
    buffer_gets          INTEGER NOT NULL,
    retries              INTEGER NOT NULL,
    application_wait_us  INTEGER NOT NULL,
    concurrency_wait_us  INTEGER NOT NULL,
    user_io_wait_us      INTEGER NOT NULL,
    memstore_read_rows   INTEGER NOT NULL,
    ssstore_read_rows    INTEGER NOT NULL,
    rpc_count            INTEGER NOT NULL,
    partitions           INTEGER NOT NULL,
    plan_cache_hits      INTEGER NOT NULL,
    timeouts             INTEGER NOT NULL,
    max_elapsed_us       INTEGER,
    PRIMARY KEY (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash)
) WITHOUT ROWID;
CREATE INDEX sql_stat_hour_sql ON sql_stat_hour (cluster_id, sql_id, bucket);

-- The parameterized text of a statement, per cluster.
CREATE TABLE sql_text (
    cluster_id  INTEGER NOT NULL,
    sql_id      TEXT NOT NULL,
    text        TEXT NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, sql_id)
) WITHOUT ROWID;

-- Executions slower than the server's trace watermark, one row each, as its log recorded
-- them; request_time in ms. A resent one is stored once.
CREATE TABLE slow_query (
    cluster_id     INTEGER NOT NULL,
    server_id      INTEGER NOT NULL,
    request_time   INTEGER NOT NULL,
    trace_id       TEXT NOT NULL,
    session_id     INTEGER NOT NULL,
    client         TEXT NOT NULL,
    plan_id        INTEGER NOT NULL,
    sql_id         TEXT,
    db_name        TEXT,
    user_name      TEXT,
    statement      TEXT NOT NULL,
    elapsed_us     INTEGER NOT NULL,
    return_rows    INTEGER,
    affected_rows  INTEGER,
    PRIMARY KEY (server_id, trace_id, request_time)
) WITHOUT ROWID;
CREATE INDEX slow_query_time ON slow_query (cluster_id, request_time);
