-- Background jobs started by a tenant admin (e.g. `enable_user_access`), with their progress.
-- `active` is 1 while the job is queued or running and NULL once it finished: the unique key
-- (tenant_id, kind, active) allows one active job per tenant and kind across every instance,
-- and any number of finished ones (NULLs are distinct). `last_error` holds a Graph error
-- code, never personal data.
CREATE TABLE background_jobs (
    id CHAR(36) NOT NULL PRIMARY KEY,
    tenant_id CHAR(36) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    status VARCHAR(16) NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    already BIGINT NOT NULL DEFAULT 0,
    last_error VARCHAR(1000) NULL,
    started_by CHAR(36) NULL,
    active BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT NULL,
    UNIQUE KEY uq_background_jobs_active (tenant_id, kind, active),
    KEY ix_background_jobs_tenant_time (tenant_id, created_at),
    CONSTRAINT fk_background_jobs_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
