-- One-time "forgot password" links (issue 17.5, R-B4): only the SHA-256 of the token is kept;
-- a link works once (`used_at` set by one conditional UPDATE) and for 15 minutes.
CREATE TABLE password_resets (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER NULL
);
CREATE INDEX ix_password_resets_user ON password_resets (user_id);
