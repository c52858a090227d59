-- The fleet of sync workers: one row per consented tenant, claimed by one worker per round
-- (a conditional UPDATE; SQLite serialises writers). `synced_round` is the last round that
-- claimed the tenant (`prev_round` the one before, restored when a claim gives the tenant
-- back unfinished); a claim whose worker died expires at `claimed_until`.
CREATE TABLE sync_schedule (
    tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    synced_round INTEGER NOT NULL DEFAULT 0,
    prev_round INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    retry_at INTEGER NOT NULL DEFAULT 0,
    last_started_at INTEGER NOT NULL DEFAULT 0,
    last_finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_sync_schedule_due ON sync_schedule (last_started_at, tenant_id);
