-- Packed time series. `metric_sample` becomes the head: points as they arrive, until the
-- pack job moves a finished hour of each series into `metric_chunk` (its times and values
-- compressed, see tsdb.rs) and folds it into `metric_tier`: count, sum, min and max per
-- bucket of 60, 300 and 3600 s, 360 buckets to a row. Old raw chunks go first (the raw
-- window), tier rows at retention.
CREATE TABLE metric_chunk (
    id         INTEGER PRIMARY KEY,
    series_id  INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    start      INTEGER NOT NULL,
    data       BLOB NOT NULL,
    UNIQUE (series_id, start)
);
CREATE INDEX metric_chunk_start ON metric_chunk (start);

CREATE TABLE metric_tier (
    id         INTEGER PRIMARY KEY,
    series_id  INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    start      INTEGER NOT NULL,
    data       BLOB NOT NULL,
    UNIQUE (series_id, step, start)
);
CREATE INDEX metric_tier_start ON metric_tier (start);

-- Raw points are kept from `raw_from` (seconds): before it only the tiers answer.
-- (`rolled_until` of the former layout is no longer used.)
CREATE TABLE metric_pack (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    raw_from  INTEGER NOT NULL
);
INSERT INTO metric_pack (id, raw_from) VALUES (1, 0);
