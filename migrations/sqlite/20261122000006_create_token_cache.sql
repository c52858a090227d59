-- OAuth tokens, AES-256-GCM encrypted; the associated data binds (tenant, subject, resource, kind),
-- so a row copied elsewhere fails to decrypt (R-A22). key_id allows key rotation.
CREATE TABLE token_cache (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    resource TEXT NOT NULL,
    kind TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject, resource, kind)
);
