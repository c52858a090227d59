-- Profile data synced from Microsoft (users delta). Keyed by (tenant, object id).
CREATE TABLE ms_profiles (
    tenant_id CHAR(36) NOT NULL,
    ms_object_id CHAR(36) NOT NULL,
    display_name VARCHAR(256) NULL,
    mail VARCHAR(320) NULL,
    user_principal_name VARCHAR(320) NULL,
    job_title VARCHAR(128) NULL,
    department VARCHAR(128) NULL,
    mobile_phone VARCHAR(64) NULL,
    office_location VARCHAR(128) NULL,
    account_enabled BIGINT NOT NULL DEFAULT 1,
    manager_object_id CHAR(36) NULL,
    primary_role VARCHAR(16) NULL,
    state VARCHAR(16) NOT NULL DEFAULT 'active',
    sync_mark BIGINT NOT NULL DEFAULT 0,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id),
    CONSTRAINT fk_profiles_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
