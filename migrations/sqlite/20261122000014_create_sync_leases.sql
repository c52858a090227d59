-- One sync runner per (tenant, stream): a fenced lease row. Every checkpoint write of a run
-- checks (owner, fencing_token), so a runner whose lease was taken over cannot commit (R-C6).
CREATE TABLE sync_leases (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stream TEXT NOT NULL,
    owner TEXT NULL,
    fencing_token INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0,
    beats INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, stream)
);
