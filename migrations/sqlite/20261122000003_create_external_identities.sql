-- A Microsoft identity, keyed by (Microsoft tenant id, object id), never by email (R-B1).
-- user_id is the link to the person; one identity per person.
CREATE TABLE external_identities (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_tenant_id TEXT NOT NULL,
    ms_object_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upn TEXT NULL,
    display_name TEXT NULL,
    created_at INTEGER NOT NULL,
    last_sign_in_at INTEGER NULL
);
CREATE UNIQUE INDEX uq_ext_ms ON external_identities (ms_tenant_id, ms_object_id);
CREATE UNIQUE INDEX uq_ext_user ON external_identities (user_id);
CREATE UNIQUE INDEX uq_ext_tenant_id ON external_identities (tenant_id, id);
