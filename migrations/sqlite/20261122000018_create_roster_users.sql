-- Education roster (issue 6): the tenant's education users as /education/users/delta reports
-- them, kept by edugraph-sync. `@removed` reason `changed` sets state 'removed' (restorable),
-- `deleted` clears the personal columns (state 'deleted'); a full round's sweep sets people
-- not seen to 'archived' (kept). sync_mark drives the mark-and-sweep.
CREATE TABLE roster_users (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_object_id TEXT NOT NULL,
    display_name TEXT NULL,
    primary_role TEXT NULL,
    user_principal_name TEXT NULL,
    mail TEXT NULL,
    external_id TEXT NULL,
    grade TEXT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    sync_mark INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id)
);
