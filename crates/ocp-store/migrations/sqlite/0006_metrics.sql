-- Time series: a series is a metric with its labels (canonical JSON, keys sorted); a sample
-- is one value of a series at one second. The primary key makes a resent point a no-op.
CREATE TABLE metric_series (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    metric  TEXT NOT NULL,
    labels  TEXT NOT NULL,
    UNIQUE (metric, labels)
);

CREATE TABLE metric_sample (
    series_id  INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    ts         INTEGER NOT NULL,
    value      REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

-- Samples older than `rolled_until` (seconds) are one per series and rollup step.
CREATE TABLE metric_rollup (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    rolled_until  INTEGER NOT NULL
);
INSERT INTO metric_rollup (id, rolled_until) VALUES (1, 0);
