-- Delta sync checkpoints: the nextLink of the last committed page, or the final deltaLink.
CREATE TABLE sync_checkpoints (
    tenant_id CHAR(36) NOT NULL,
    stream VARCHAR(96) NOT NULL,
    next_link BLOB NULL,
    delta_link BLOB NULL,
    run_mark BIGINT NOT NULL DEFAULT 0,
    pages BIGINT NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL DEFAULT 'idle',
    last_error VARCHAR(1000) NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, stream),
    CONSTRAINT fk_checkpoints_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
