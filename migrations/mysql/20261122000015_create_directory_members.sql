-- Group-scoped directory (seed 001): the members of the group a tenant admin named
-- (tenants.sync_group_id), kept by edugraph-sync. People who leave the group are soft-deleted
-- (state 'left', left_at) and restored when they come back; sync_mark drives the mark-and-sweep.
CREATE TABLE directory_members (
    tenant_id CHAR(36) NOT NULL,
    ms_object_id CHAR(36) NOT NULL,
    display_name VARCHAR(256) NULL,
    mail VARCHAR(320) NULL,
    user_principal_name VARCHAR(320) NULL,
    job_title VARCHAR(128) NULL,
    department VARCHAR(128) NULL,
    state VARCHAR(16) NOT NULL DEFAULT 'active',
    left_at BIGINT NULL,
    sync_mark BIGINT NOT NULL DEFAULT 0,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id),
    CONSTRAINT fk_directory_members_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
