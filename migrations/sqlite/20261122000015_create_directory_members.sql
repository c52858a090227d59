-- Group-scoped directory (seed 001): the members of the group a tenant admin named
-- (tenants.sync_group_id), kept by edugraph-sync. People who leave the group are soft-deleted
-- (state 'left', left_at) and restored when they come back; sync_mark drives the mark-and-sweep.
CREATE TABLE directory_members (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_object_id TEXT NOT NULL,
    display_name TEXT NULL,
    mail TEXT NULL,
    user_principal_name TEXT NULL,
    job_title TEXT NULL,
    department TEXT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    left_at INTEGER NULL,
    sync_mark INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id)
);
