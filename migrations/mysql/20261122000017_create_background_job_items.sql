-- Per-item results of a tenant admin's bulk job (add many members, assign many licences):
-- one row per requested item, written after every $batch. `error` holds Graph's code and
-- message for a failed item (about the tenant's own directory objects), never a token.
CREATE TABLE background_job_items (
    job_id CHAR(36) NOT NULL,
    tenant_id CHAR(36) NOT NULL,
    seq BIGINT NOT NULL,
    item_id VARCHAR(64) NOT NULL,
    result VARCHAR(16) NOT NULL,
    error VARCHAR(1000) NULL,
    PRIMARY KEY (job_id, seq),
    KEY ix_background_job_items_tenant (tenant_id, job_id),
    CONSTRAINT fk_background_job_items_job FOREIGN KEY (job_id) REFERENCES background_jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_background_job_items_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
