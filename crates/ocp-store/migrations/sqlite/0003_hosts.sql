-- Hosts, the agent of each, the agent's processes as last reported, and join tokens.
CREATE TABLE compute_host (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    name                      TEXT NOT NULL,
    alias                     TEXT,
    description               TEXT,
    inner_ip_address          TEXT NOT NULL UNIQUE,
    ssh_port                  INTEGER NOT NULL,
    kind                      TEXT NOT NULL,
    publish_ports             TEXT,
    serial_number             TEXT,
    idc_id                    INTEGER NOT NULL REFERENCES compute_idc(id),
    type_id                   INTEGER NOT NULL REFERENCES compute_host_type(id),
    status                    TEXT NOT NULL,
    operating_system          TEXT,
    operating_system_release  TEXT,
    architecture              TEXT,
    facts                     TEXT,
    agent_port                INTEGER NOT NULL,
    create_time               INTEGER NOT NULL,
    update_time               INTEGER NOT NULL
);

CREATE TABLE host_agent (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id              INTEGER NOT NULL UNIQUE REFERENCES compute_host(id) ON DELETE CASCADE,
    version              TEXT,
    secret_sealed        TEXT NOT NULL,
    install_home         TEXT,
    log_home             TEXT,
    status               TEXT NOT NULL,
    manager_running      INTEGER NOT NULL,
    last_heartbeat       INTEGER,
    last_available_time  INTEGER,
    create_time          INTEGER NOT NULL,
    update_time          INTEGER NOT NULL
);
CREATE INDEX host_agent_heartbeat ON host_agent (status, last_heartbeat);

CREATE TABLE host_agent_process (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id           INTEGER NOT NULL REFERENCES compute_host(id) ON DELETE CASCADE,
    alias             TEXT NOT NULL,
    report            TEXT NOT NULL,
    last_active_time  INTEGER,
    create_time       INTEGER NOT NULL,
    update_time       INTEGER NOT NULL,
    UNIQUE (host_id, alias)
);

CREATE TABLE agent_join_token (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    idc_id       INTEGER NOT NULL REFERENCES compute_idc(id),
    type_id      INTEGER NOT NULL REFERENCES compute_host_type(id),
    expire_time  INTEGER NOT NULL,
    used_time    INTEGER,
    host_id      INTEGER,
    creator      TEXT NOT NULL,
    create_time  INTEGER NOT NULL
);
