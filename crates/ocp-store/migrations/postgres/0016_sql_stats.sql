-- SQL diagnostics: what the agents sample of each statement and plan of their servers
-- (seekdb's sqlstat and plan cache), as sums per minute, ten minutes and hour; bucket is the
-- period's start in seconds since the epoch. Counters add up; max_elapsed_us is
-- the slowest execution the plan cache recorded in the bucket, NULL if none was.
--
-- sql_stat_sample records each (server, sample second) stored, so a resent sample adds
-- nothing.
CREATE TABLE sql_stat_sample (
    server_id  BIGINT NOT NULL,
    ts         BIGINT NOT NULL,
    PRIMARY KEY (server_id, ts)
);

-- Sums per minute, kept a day by default.
CREATE TABLE sql_stat_minute (
    cluster_id           BIGINT NOT NULL,
    server_id            BIGINT NOT NULL,
    bucket               BIGINT NOT NULL,
    sql_id               TEXT NOT NULL,
    plan_id              BIGINT NOT NULL,
    plan_hash            TEXT NOT NULL,
    db_name              TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    is_inner             INTEGER NOT NULL,
    plan_type            INTEGER NOT NULL,
    table_scan           INTEGER NOT NULL,
    executions           BIGINT NOT NULL,
    elapsed_us           BIGINT NOT NULL,
    cpu_us               BIGINT NOT NULL,
    rows_processed       BIGINT NOT NULL,
    disk_reads           BIGINT NOT NULL,
    buffer_gets          BIGINT NOT NULL,
    retries              BIGINT NOT NULL,
    application_wait_us  BIGINT NOT NULL,
    concurrency_wait_us  BIGINT NOT NULL,
    user_io_wait_us      BIGINT NOT NULL,
    memstore_read_rows   BIGINT NOT NULL,
    ssstore_read_rows    BIGINT NOT NULL,
    rpc_count            BIGINT NOT NULL,
    partitions           BIGINT NOT NULL,
    plan_cache_hits      BIGINT NOT NULL,
    timeouts             BIGINT NOT NULL,
    max_elapsed_us       BIGINT,
    PRIMARY KEY (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash)
);
CREATE INDEX sql_stat_minute_sql ON sql_stat_minute (cluster_id, sql_id, bucket);

-- Sums per ten minutes, kept as long as the minutes: a long range reads its edges from
-- them rather than from up to 118 minutes.
CREATE TABLE sql_stat_10min (
    cluster_id           BIGINT NOT NULL,
    server_id            BIGINT NOT NULL,
    bucket               BIGINT NOT NULL,
    sql_id               TEXT NOT NULL,
    plan_id              BIGINT NOT NULL,
    plan_hash            TEXT NOT NULL,
    db_name              TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    is_inner             INTEGER NOT NULL,
    plan_type            INTEGER NOT NULL,
    table_scan           INTEGER NOT NULL,
    executions           BIGINT NOT NULL,
    elapsed_us           BIGINT NOT NULL,
    cpu_us               BIGINT NOT NULL,
    rows_processed       BIGINT NOT NULL,
    disk_reads           BIGINT NOT NULL,
    buffer_gets          BIGINT NOT NULL,
    retries              BIGINT NOT NULL,
    application_wait_us  BIGINT NOT NULL,
    concurrency_wait_us  BIGINT NOT NULL,
    user_io_wait_us      BIGINT NOT NULL,
    memstore_read_rows   BIGINT NOT NULL,
    ssstore_read_rows    BIGINT NOT NULL,
    rpc_count            BIGINT NOT NULL,
    partitions           BIGINT NOT NULL,
    plan_cache_hits      BIGINT NOT NULL,
    timeouts             BIGINT NOT NULL,
    max_elapsed_us       BIGINT,
    PRIMARY KEY (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash)
);
CREATE INDEX sql_stat_10min_sql ON sql_stat_10min (cluster_id, sql_id, bucket);

-- Sums per hour, kept as long as SQL statistics are (7 days by default).
CREATE TABLE sql_stat_hour (
    cluster_id           BIGINT NOT NULL,
    server_id            BIGINT NOT NULL,
    bucket               BIGINT NOT NULL,
    sql_id               TEXT NOT NULL,
    plan_id              BIGINT NOT NULL,
    plan_hash            TEXT NOT NULL,
    db_name              TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    is_inner             INTEGER NOT NULL,
    plan_type            INTEGER NOT NULL,
    table_scan           INTEGER NOT NULL,
    executions           BIGINT NOT NULL,
    elapsed_us           BIGINT NOT NULL,
    cpu_us               BIGINT NOT NULL,
    rows_processed       BIGINT NOT NULL,
    disk_reads           BIGINT NOT NULL,
    buffer_gets          BIGINT NOT NULL,
    retries              BIGINT NOT NULL,
    application_wait_us  BIGINT NOT NULL,
    concurrency_wait_us  BIGINT NOT NULL,
    user_io_wait_us      BIGINT NOT NULL,
    memstore_read_rows   BIGINT NOT NULL,
    ssstore_read_rows    BIGINT NOT NULL,
    rpc_count            BIGINT NOT NULL,
    partitions           BIGINT NOT NULL,
    plan_cache_hits      BIGINT NOT NULL,
    timeouts             BIGINT NOT NULL,
    max_elapsed_us       BIGINT,
    PRIMARY KEY (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash)
);
CREATE INDEX sql_stat_hour_sql ON sql_stat_hour (cluster_id, sql_id, bucket);

-- The parameterized text of a statement, per cluster.
CREATE TABLE sql_text (
    cluster_id  BIGINT NOT NULL,
    sql_id      TEXT NOT NULL,
    text        TEXT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (cluster_id, sql_id)
);

-- Executions slower than the server's trace watermark, one row each, as its log recorded
-- them; request_time in ms. A resent one is stored once.
CREATE TABLE slow_query (
    cluster_id     BIGINT NOT NULL,
    server_id      BIGINT NOT NULL,
    request_time   BIGINT NOT NULL,
    trace_id       TEXT NOT NULL,
    session_id     BIGINT NOT NULL,
    client         TEXT NOT NULL,
    plan_id        BIGINT NOT NULL,
    sql_id         TEXT,
    db_name        TEXT,
    user_name      TEXT,
    statement      TEXT NOT NULL,
    elapsed_us     BIGINT NOT NULL,
    return_rows    BIGINT,
    affected_rows  BIGINT,
    PRIMARY KEY (server_id, trace_id, request_time)
);
CREATE INDEX slow_query_time ON slow_query (cluster_id, request_time);
