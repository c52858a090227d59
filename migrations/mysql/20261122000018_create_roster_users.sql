-- Education roster (issue 6): the tenant's education users as /education/users/delta reports
-- them, kept by edugraph-sync. `@removed` reason `changed` sets state 'removed' (restorable),
-- `deleted` clears the personal columns (state 'deleted'); a full round's sweep sets people
-- not seen to 'archived' (kept). sync_mark drives the mark-and-sweep.
CREATE TABLE roster_users (
    tenant_id CHAR(36) NOT NULL,
    ms_object_id CHAR(36) NOT NULL,
    display_name VARCHAR(256) NULL,
    primary_role VARCHAR(32) NULL,
    user_principal_name VARCHAR(320) NULL,
    mail VARCHAR(320) NULL,
    external_id VARCHAR(256) NULL,
    grade VARCHAR(64) NULL,
    state VARCHAR(16) NOT NULL DEFAULT 'active',
    sync_mark BIGINT NOT NULL DEFAULT 0,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id),
    CONSTRAINT fk_roster_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
