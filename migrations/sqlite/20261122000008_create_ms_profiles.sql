-- Profile data synced from Microsoft (users delta). Keyed by (tenant, object id).
CREATE TABLE ms_profiles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_object_id TEXT NOT NULL,
    display_name TEXT NULL,
    mail TEXT NULL,
    user_principal_name TEXT NULL,
    job_title TEXT NULL,
    department TEXT NULL,
    mobile_phone TEXT NULL,
    office_location TEXT NULL,
    account_enabled INTEGER NOT NULL DEFAULT 1,
    manager_object_id TEXT NULL,
    primary_role TEXT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    sync_mark INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id)
);
