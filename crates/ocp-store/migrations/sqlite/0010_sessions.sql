-- Console sessions: only a SHA-256 of the cookie's token is kept, so the table gives no one a
-- session. Every server sharing this metadb accepts them. A session ends when it has been
-- idle too long, when it reaches its lifetime, at logout, or when its user changes.
CREATE TABLE iam_session (
    token_hash     TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES iam_user(id) ON DELETE CASCADE,
    client_address TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX iam_session_user ON iam_session (user_id);

-- Every console login, as OCP's logon history shows them.
CREATE TABLE iam_login_record (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT NOT NULL,
    user_id        INTEGER,
    client_address TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    at             INTEGER NOT NULL,
    successful     INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    locked_out     INTEGER NOT NULL
);
CREATE INDEX iam_login_record_at ON iam_login_record (at);
