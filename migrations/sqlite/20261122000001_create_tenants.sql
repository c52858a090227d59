-- A school tenant (one Microsoft Entra tenant). Our own id is used in every foreign key;
-- the Microsoft tenant id is a unique lookup key.
CREATE TABLE tenants (
    id TEXT NOT NULL PRIMARY KEY,
    ms_tenant_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    consent_state TEXT NOT NULL DEFAULT 'none',
    consented_scopes TEXT NULL,
    consented_by_user_id TEXT NULL,
    consented_at INTEGER NULL,
    sync_group_id TEXT NULL,
    editable_profile_fields TEXT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_tenants_ms_tenant_id ON tenants (ms_tenant_id);
