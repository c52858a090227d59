-- Audit trail: who did what to which target, when, with what result. No secrets or tokens.
-- tenant_id is NULL only for events outside any tenant (e.g. a local registration).
CREATE TABLE audit_log (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NULL,
    actor_user_id TEXT NULL,
    action TEXT NOT NULL,
    target_type TEXT NULL,
    target_id TEXT NULL,
    result TEXT NOT NULL,
    detail TEXT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_audit_tenant_time ON audit_log (tenant_id, created_at);
CREATE INDEX ix_audit_actor ON audit_log (actor_user_id);
