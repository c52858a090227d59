-- Email verification (issue 17.5, R-B3). `users.email_verified_at`: when the person proved they
-- read mail at their local sign-in email (unix ms); NULL = not yet, and such an account cannot
-- sign in locally nor be linked. Accounts that exist before this migration are grandfathered.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER NULL;
UPDATE users SET email_verified_at = created_at;
-- Verification links: only the SHA-256 of the token is kept; a link works once (`used_at` set by
-- one conditional UPDATE), for 24 hours, and only for the address it was sent to (`email`).
CREATE TABLE email_verifications (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER NULL
);
CREATE INDEX ix_email_verifications_user ON email_verifications (user_id);
