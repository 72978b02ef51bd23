-- Alerts. A rule (OCP's "alert item") says what to evaluate and when it fires; an event is
-- one rule firing on one target, from active to resolved; a notification is one event
-- (or its resolution) for one channel, and every attempt to deliver it is kept.
CREATE TABLE alarm_rule (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    app_type             TEXT NOT NULL,
    scope                TEXT NOT NULL,
    level                INTEGER NOT NULL,
    description          TEXT NOT NULL,
    -- JSON: {metric, aggregation, groupBy, labels, comparator, threshold}; NULL for items
    -- that other components raise.
    expression           TEXT,
    duration_secs        INTEGER NOT NULL,
    interval_secs        INTEGER NOT NULL,
    clear_secs           INTEGER NOT NULL,
    summary_template     TEXT NOT NULL,
    description_template TEXT NOT NULL,
    builtin              INTEGER NOT NULL,
    enabled              INTEGER NOT NULL,
    create_time          INTEGER NOT NULL,
    update_time          INTEGER NOT NULL
);

CREATE TABLE alarm_event (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id           INTEGER NOT NULL REFERENCES alarm_rule(id) ON DELETE CASCADE,
    alarm_type        TEXT NOT NULL,
    app_type          TEXT NOT NULL,
    scope             TEXT NOT NULL,
    level             INTEGER NOT NULL,
    target            TEXT NOT NULL,
    -- Active, Silenced (a blocking condition matches) or Inactive (resolved).
    status            TEXT NOT NULL,
    summary           TEXT NOT NULL,
    description       TEXT NOT NULL,
    labels            TEXT NOT NULL,
    value             REAL,
    active_at         INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    resolved_at       INTEGER,
    last_seen_at      INTEGER NOT NULL,
    last_notified_at  INTEGER
);
-- One open event per rule and target, whichever server evaluates.
CREATE UNIQUE INDEX alarm_event_open ON alarm_event (rule_id, target) WHERE resolved_at IS NULL;
CREATE INDEX alarm_event_active_at ON alarm_event (active_at);

CREATE TABLE alarm_channel (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    -- HTTP or SCRIPT.
    channel_type    TEXT NOT NULL,
    -- JSON of the type's settings (URL, method, header and body templates; or the command).
    config          TEXT NOT NULL,
    message_template           TEXT NOT NULL,
    resolved_message_template  TEXT NOT NULL,
    rate_limit_per_minute  INTEGER NOT NULL,
    max_attempts    INTEGER NOT NULL,
    create_time     INTEGER NOT NULL,
    update_time     INTEGER NOT NULL
);

CREATE TABLE alarm_subscription (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES alarm_channel(id) ON DELETE CASCADE,
    user_id         INTEGER,
    -- JSON array of alarm types; empty: every type.
    alarm_types     TEXT NOT NULL,
    -- Events of this level or a more severe one (a smaller number).
    max_level       INTEGER NOT NULL,
    send_resolved   INTEGER NOT NULL,
    repeat_secs     INTEGER NOT NULL,
    enabled         INTEGER NOT NULL,
    create_time     INTEGER NOT NULL,
    update_time     INTEGER NOT NULL
);

-- A blocking condition ("shield"): events matching it are Silenced and notify nobody.
CREATE TABLE alarm_silencer (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    app_type     TEXT,
    alarm_types  TEXT NOT NULL,
    -- JSON object: every label named must have the value given.
    matchers     TEXT NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    -- Minutes of the day (server local time) of a daily window, or NULL for all day.
    daily_start  INTEGER,
    daily_end    INTEGER,
    comment      TEXT NOT NULL,
    creator      TEXT NOT NULL,
    create_time  INTEGER NOT NULL
);

CREATE TABLE alarm_notification (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id         INTEGER NOT NULL REFERENCES alarm_event(id) ON DELETE CASCADE,
    channel_id       INTEGER NOT NULL REFERENCES alarm_channel(id) ON DELETE CASCADE,
    subscription_id  INTEGER,
    recipient_uid    TEXT NOT NULL,
    -- ALERT, REPEAT or RESOLVED.
    kind             TEXT NOT NULL,
    -- Pending, Sending, Success, Failed or Limited.
    status           TEXT NOT NULL,
    message          TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    claimed_until    INTEGER,
    channel_response TEXT NOT NULL,
    generated_at     INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX alarm_notification_due ON alarm_notification (status, next_attempt_at);

CREATE TABLE alarm_notification_attempt (
    notification_id  INTEGER NOT NULL REFERENCES alarm_notification(id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    successful       INTEGER NOT NULL,
    response         TEXT NOT NULL,
    PRIMARY KEY (notification_id, attempt)
);
