-- Per-item results of a tenant admin's bulk job (add many members, assign many licences):
-- one row per requested item, written after every $batch. `error` holds Graph's code and
-- message for a failed item (about the tenant's own directory objects), never a token.
CREATE TABLE background_job_items (
    job_id TEXT NOT NULL REFERENCES background_jobs (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    result TEXT NOT NULL,
    error TEXT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX ix_background_job_items_tenant ON background_job_items (tenant_id, job_id);
