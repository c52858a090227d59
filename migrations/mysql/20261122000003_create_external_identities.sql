-- A Microsoft identity, keyed by (Microsoft tenant id, object id), never by email (R-B1).
-- user_id is the link to the person; one identity per person.
CREATE TABLE external_identities (
    id CHAR(36) NOT NULL PRIMARY KEY,
    tenant_id CHAR(36) NOT NULL,
    ms_tenant_id CHAR(36) NOT NULL,
    ms_object_id CHAR(36) NOT NULL,
    user_id CHAR(36) NOT NULL,
    upn VARCHAR(320) NULL,
    display_name VARCHAR(256) NULL,
    created_at BIGINT NOT NULL,
    last_sign_in_at BIGINT NULL,
    UNIQUE KEY uq_ext_ms (ms_tenant_id, ms_object_id),
    UNIQUE KEY uq_ext_user (user_id),
    UNIQUE KEY uq_ext_tenant_id (tenant_id, id),
    CONSTRAINT fk_ext_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT fk_ext_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
