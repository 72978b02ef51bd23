-- Signed requests already accepted (access-key signatures, agents' nonces), kept until their
-- timestamp leaves the acceptance window, so that no restart and no other server sharing this
-- metadb accepts one again. `digest` is a SHA-256 of what identifies the request, never the
-- signature itself.
CREATE TABLE seen_signature (
    digest     TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX seen_signature_expiry ON seen_signature (expires_at);
