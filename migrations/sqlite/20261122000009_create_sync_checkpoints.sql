-- Delta sync checkpoints: the nextLink of the last committed page, or the final deltaLink.
CREATE TABLE sync_checkpoints (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stream TEXT NOT NULL,
    next_link BLOB NULL,
    delta_link BLOB NULL,
    run_mark INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'idle',
    last_error TEXT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, stream)
);
