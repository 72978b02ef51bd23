-- Where hosts stand: regions, their IDCs, and host types (models).
CREATE TABLE compute_region (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT,
    region_id    INTEGER,
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL
);

CREATE TABLE compute_idc (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT,
    region_id    INTEGER NOT NULL REFERENCES compute_region(id),
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL
);

CREATE TABLE compute_host_type (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT,
    region_id    INTEGER,
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL
);
