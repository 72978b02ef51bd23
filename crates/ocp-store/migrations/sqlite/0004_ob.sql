-- Software packages, and the OceanBase clusters, zones and servers the platform manages.
CREATE TABLE software_package (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    file_name        TEXT NOT NULL UNIQUE,
    extension        TEXT NOT NULL,
    size             INTEGER NOT NULL,
    sha1             TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    package_type     TEXT NOT NULL,
    version          TEXT NOT NULL,
    build_number     TEXT NOT NULL,
    operating_system TEXT NOT NULL,
    architecture     TEXT NOT NULL,
    binary_path      TEXT,
    create_time      INTEGER NOT NULL
);

CREATE TABLE ob_cluster (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT NOT NULL UNIQUE,
    kind                  TEXT NOT NULL,
    cluster_type          TEXT NOT NULL,
    status                TEXT NOT NULL,
    ob_version            TEXT NOT NULL,
    package_id            INTEGER REFERENCES software_package(id),
    root_user             TEXT NOT NULL,
    root_password_sealed  TEXT NOT NULL,
    startup_parameters    TEXT NOT NULL,
    creator               TEXT NOT NULL,
    create_time           INTEGER NOT NULL,
    update_time           INTEGER NOT NULL
);

CREATE TABLE ob_zone (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id  INTEGER NOT NULL REFERENCES ob_cluster(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    idc_id      INTEGER REFERENCES compute_idc(id),
    status      TEXT NOT NULL,
    UNIQUE (cluster_id, name)
);

CREATE TABLE ob_server (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id  INTEGER NOT NULL REFERENCES ob_cluster(id) ON DELETE CASCADE,
    zone_id     INTEGER NOT NULL REFERENCES ob_zone(id) ON DELETE CASCADE,
    host_id     INTEGER NOT NULL REFERENCES compute_host(id),
    ip          TEXT NOT NULL,
    rpc_port    INTEGER NOT NULL,
    sql_port    INTEGER NOT NULL,
    home_path   TEXT NOT NULL,
    status      TEXT NOT NULL,
    version     TEXT NOT NULL,
    start_time  INTEGER,
    stop_time   INTEGER,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    UNIQUE (host_id, sql_port)
);
CREATE INDEX ob_server_cluster ON ob_server (cluster_id);
