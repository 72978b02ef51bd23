-- Users, roles and access keys.
CREATE TABLE iam_role (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    description   TEXT,
    built_in      INTEGER NOT NULL DEFAULT 0,
    permissions   TEXT NOT NULL,
    create_time   INTEGER NOT NULL,
    update_time   INTEGER NOT NULL
);

CREATE TABLE iam_user (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT NOT NULL UNIQUE,
    password_hash      TEXT NOT NULL,
    email              TEXT,
    description        TEXT,
    enabled            INTEGER NOT NULL DEFAULT 1,
    locked             INTEGER NOT NULL DEFAULT 0,
    rate_limit         INTEGER,
    rate_limit_window  INTEGER,
    create_time        INTEGER NOT NULL,
    update_time        INTEGER NOT NULL
);

CREATE TABLE iam_user_role (
    user_id  INTEGER NOT NULL REFERENCES iam_user(id) ON DELETE CASCADE,
    role_id  INTEGER NOT NULL REFERENCES iam_role(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE iam_access_key (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES iam_user(id) ON DELETE CASCADE,
    access_key_id   TEXT NOT NULL UNIQUE,
    sealed_secret   TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1,
    create_time     INTEGER NOT NULL,
    last_used_time  INTEGER
);

-- Tasks: a DAG of subtasks each.
CREATE TABLE task_instance (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL,
    task_type           TEXT NOT NULL,
    status              TEXT NOT NULL,
    operation           TEXT NOT NULL,
    creator_id          INTEGER NOT NULL,
    creator_name        TEXT NOT NULL,
    executor            TEXT NOT NULL,
    context             TEXT NOT NULL,
    cluster_id          INTEGER,
    tenant_id           INTEGER,
    host_id             INTEGER,
    prohibit_rollback   INTEGER NOT NULL DEFAULT 0,
    task_definition_id  INTEGER NOT NULL DEFAULT -1,
    create_time         INTEGER NOT NULL,
    start_time          INTEGER,
    finish_time         INTEGER
);
CREATE INDEX task_instance_status ON task_instance(status);

CREATE TABLE subtask_instance (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id            INTEGER NOT NULL REFERENCES task_instance(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    class_name         TEXT NOT NULL,
    series_id          INTEGER NOT NULL,
    parallel_idx       INTEGER NOT NULL,
    timeout_secs       INTEGER NOT NULL,
    status             TEXT NOT NULL,
    operation          TEXT NOT NULL,
    executor           TEXT,
    run_time           INTEGER NOT NULL DEFAULT 0,
    context            TEXT,
    node_type          TEXT NOT NULL,
    prohibit_rollback  INTEGER NOT NULL DEFAULT 0,
    upstreams          TEXT NOT NULL,
    downstreams        TEXT NOT NULL,
    lease_owner        TEXT,
    lease_expiry       INTEGER,
    create_time        INTEGER NOT NULL,
    start_time         INTEGER,
    finish_time        INTEGER
);
CREATE INDEX subtask_instance_task ON subtask_instance(task_id);
CREATE INDEX subtask_instance_status ON subtask_instance(status);

CREATE TABLE subtask_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    subtask_id  INTEGER NOT NULL REFERENCES subtask_instance(id) ON DELETE CASCADE,
    line        TEXT NOT NULL
);
CREATE INDEX subtask_log_subtask ON subtask_log(subtask_id, id);
