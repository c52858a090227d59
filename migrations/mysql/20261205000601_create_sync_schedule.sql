-- The fleet of sync workers: one row per consented tenant, claimed by one worker per round
-- (`SELECT … FOR UPDATE SKIP LOCKED`, then a conditional UPDATE). `synced_round` is the last
-- round that claimed the tenant (`prev_round` the one before, restored when a claim gives the
-- tenant back unfinished); a claim whose worker died expires at `claimed_until`.
CREATE TABLE sync_schedule (
    tenant_id CHAR(36) NOT NULL,
    synced_round BIGINT NOT NULL DEFAULT 0,
    prev_round BIGINT NOT NULL DEFAULT 0,
    claimed_by VARCHAR(128) NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    retry_at BIGINT NOT NULL DEFAULT 0,
    last_started_at BIGINT NOT NULL DEFAULT 0,
    last_finished_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id),
    KEY ix_sync_schedule_due (last_started_at, tenant_id),
    CONSTRAINT fk_sync_schedule_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
