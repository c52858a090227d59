-- A school tenant (one Microsoft Entra tenant). Our own id is used in every foreign key;
-- the Microsoft tenant id is a unique lookup key.
CREATE TABLE tenants (
    id CHAR(36) NOT NULL PRIMARY KEY,
    ms_tenant_id CHAR(36) NOT NULL,
    display_name VARCHAR(256) NOT NULL,
    consent_state VARCHAR(16) NOT NULL DEFAULT 'none',
    consented_scopes VARCHAR(2000) NULL,
    consented_by_user_id CHAR(36) NULL,
    consented_at BIGINT NULL,
    sync_group_id VARCHAR(64) NULL,
    editable_profile_fields VARCHAR(1000) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY uq_tenants_ms_tenant_id (ms_tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
