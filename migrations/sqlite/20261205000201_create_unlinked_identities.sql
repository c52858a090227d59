-- Issue 16 (unlink is not a trap): a Microsoft identity that was unlinked from an account
-- with a local password. Signing in with it again is explained ("no longer linked; link it
-- again") instead of silently creating a second, Microsoft-only account. Linking it again
-- (or the account's deletion) clears the row.
CREATE TABLE unlinked_identities (
    ms_tenant_id TEXT NOT NULL,
    ms_object_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_sign_in_at INTEGER NULL,
    PRIMARY KEY (ms_tenant_id, ms_object_id)
);
CREATE INDEX ix_unlinked_user ON unlinked_identities (user_id);
