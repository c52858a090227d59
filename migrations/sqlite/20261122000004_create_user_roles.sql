-- Roles inside a tenant, refreshed from Microsoft at every sign-in.
CREATE TABLE user_roles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role)
);
CREATE INDEX ix_roles_user ON user_roles (user_id);
