-- A person. Local credentials (email + argon2id PHC hash) are optional: a person who signed
-- in only with Microsoft has none until they create or link a local account.
CREATE TABLE users (
    id CHAR(36) NOT NULL PRIMARY KEY,
    tenant_id CHAR(36) NULL,
    email VARCHAR(254) NULL,
    password_hash VARCHAR(255) NULL,
    display_name VARCHAR(256) NOT NULL,
    favorite_color VARCHAR(7) NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY uq_users_email (email),
    KEY ix_users_tenant (tenant_id),
    CONSTRAINT fk_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
