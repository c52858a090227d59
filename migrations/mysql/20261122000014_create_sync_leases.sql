-- One sync runner per (tenant, stream): a fenced lease row. Every checkpoint write of a run
-- checks (owner, fencing_token), so a runner whose lease was taken over cannot commit (R-C6).
-- On MySQL/MariaDB the job also holds GET_LOCK on a dedicated connection for the whole run.
CREATE TABLE sync_leases (
    tenant_id CHAR(36) NOT NULL,
    stream VARCHAR(96) NOT NULL,
    owner VARCHAR(128) NULL,
    fencing_token BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    beats BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, stream),
    CONSTRAINT fk_sync_leases_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
