-- OAuth tokens, AES-256-GCM encrypted; the associated data binds (tenant, subject, resource, kind),
-- so a row copied elsewhere fails to decrypt (R-A22). key_id allows key rotation.
CREATE TABLE token_cache (
    tenant_id CHAR(36) NOT NULL,
    subject VARCHAR(64) NOT NULL,
    resource VARCHAR(255) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    key_id VARCHAR(32) NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subject, resource, kind),
    CONSTRAINT fk_tokens_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
