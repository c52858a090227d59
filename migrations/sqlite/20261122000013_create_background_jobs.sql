-- Background jobs started by a tenant admin (e.g. `enable_user_access`), with their progress.
-- `active` is 1 while the job is queued or running and NULL once it finished: the unique key
-- (tenant_id, kind, active) allows one active job per tenant and kind across every instance,
-- and any number of finished ones (NULLs are distinct). `last_error` holds a Graph error
-- code, never personal data.
CREATE TABLE background_jobs (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    already INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    started_by TEXT NULL,
    active INTEGER NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER NULL
);
CREATE UNIQUE INDEX uq_background_jobs_active ON background_jobs (tenant_id, kind, active);
CREATE INDEX ix_background_jobs_tenant_time ON background_jobs (tenant_id, created_at);
