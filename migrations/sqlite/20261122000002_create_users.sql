-- A person. Local credentials (email + argon2id PHC hash) are optional: a person who signed
-- in only with Microsoft has none until they create or link a local account.
CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NULL REFERENCES tenants (id) ON DELETE SET NULL,
    email TEXT NULL,
    password_hash TEXT NULL,
    display_name TEXT NOT NULL,
    favorite_color TEXT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    password_changed_at INTEGER NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_users_email ON users (email);
CREATE INDEX ix_users_tenant ON users (tenant_id);
