-- Issue 16 (unlink is not a trap): a Microsoft identity that was unlinked from an account
-- with a local password. Signing in with it again is explained ("no longer linked; link it
-- again") instead of silently creating a second, Microsoft-only account. Linking it again
-- (or the account's deletion) clears the row.
CREATE TABLE unlinked_identities (
    ms_tenant_id CHAR(36) NOT NULL,
    ms_object_id CHAR(36) NOT NULL,
    user_id CHAR(36) NOT NULL,
    last_sign_in_at BIGINT NULL,
    PRIMARY KEY (ms_tenant_id, ms_object_id),
    KEY ix_unlinked_user (user_id),
    CONSTRAINT fk_unlinked_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
