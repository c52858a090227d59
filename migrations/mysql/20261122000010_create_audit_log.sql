-- Audit trail: who did what to which target, when, with what result. No secrets or tokens.
-- tenant_id is NULL only for events outside any tenant (e.g. a local registration).
CREATE TABLE audit_log (
    id CHAR(36) NOT NULL PRIMARY KEY,
    tenant_id CHAR(36) NULL,
    actor_user_id CHAR(36) NULL,
    action VARCHAR(64) NOT NULL,
    target_type VARCHAR(32) NULL,
    target_id VARCHAR(64) NULL,
    result VARCHAR(16) NOT NULL,
    detail VARCHAR(1000) NULL,
    created_at BIGINT NOT NULL,
    KEY ix_audit_tenant_time (tenant_id, created_at),
    KEY ix_audit_actor (actor_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
