//! The audit trail: every security-relevant action, with no secrets in it.

use edu_domain::{TenantId, UserId};
use sqlx::Row;

use crate::{Db, DbError};

/// One audit event.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// The tenant the action belongs to, if any.
    pub tenant_id: Option<TenantId>,
    /// Who acted (none for an anonymous attempt).
    pub actor: Option<UserId>,
    /// What, as a stable dotted name, e.g. `auth.local.login`.
    pub action: &'a str,
    /// The kind of target, e.g. `user`.
    pub target_type: Option<&'a str>,
    /// The target's id.
    pub target_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub result: &'a str,
    /// A short detail without personal data or secrets.
    pub detail: Option<&'a str>,
    /// Unix ms.
    pub at: i64,
}

/// A stored audit event.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// Event id (UUIDv7, time-ordered).
    pub id: String,
    /// Actor.
    pub actor_user_id: Option<String>,
    /// Action.
    pub action: String,
    /// Target kind.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Result.
    pub result: String,
    /// Detail.
    pub detail: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// Appends an event.
///
/// # Errors
/// Database errors.
pub async fn record(db: &Db, e: &AuditEvent<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_user_id, action, target_type, target_id, result, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(UserId::new().to_string())
    .bind(e.tenant_id.map(|t| t.to_string()))
    .bind(e.actor.map(|u| u.to_string()))
    .bind(e.action)
    .bind(e.target_type)
    .bind(e.target_id.as_deref())
    .bind(e.result)
    .bind(e.detail.map(|d| d.chars().take(1000).collect::<String>()))
    .bind(e.at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The events whose actor is `user`, newest first (a person's own trail, for tests and "my activity").
///
/// # Errors
/// Database errors.
pub async fn for_actor(db: &Db, user: UserId, limit: i64) -> Result<Vec<AuditRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT id, actor_user_id, action, target_type, target_id, result, detail, created_at
         FROM audit_log WHERE actor_user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(user.to_string())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditRecord {
                id: r.try_get("id")?,
                actor_user_id: r.try_get("actor_user_id")?,
                action: r.try_get("action")?,
                target_type: r.try_get("target_type")?,
                target_id: r.try_get("target_id")?,
                result: r.try_get("result")?,
                detail: r.try_get("detail")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The events of a tenant, newest first (for tests and an admin's audit view).
///
/// # Errors
/// Database errors.
pub async fn for_tenant(db: &Db, tenant: TenantId, limit: i64) -> Result<Vec<AuditRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT id, actor_user_id, action, target_type, target_id, result, detail, created_at
         FROM audit_log WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(tenant.to_string())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditRecord {
                id: r.try_get("id")?,
                actor_user_id: r.try_get("actor_user_id")?,
                action: r.try_get("action")?,
                target_type: r.try_get("target_type")?,
                target_id: r.try_get("target_id")?,
                result: r.try_get("result")?,
                detail: r.try_get("detail")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// How many events of `action` by `actor` happened at or after `since` (rate limits that hold
/// across every API instance).
///
/// # Errors
/// Database errors.
pub async fn count_since(db: &Db, actor: UserId, action: &str, since: i64) -> Result<i64, DbError> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE actor_user_id = ? AND action = ? AND created_at >= ?")
            .bind(actor.to_string())
            .bind(action)
            .bind(since)
            .fetch_one(db.pool())
            .await?;
    Ok(row.try_get("n")?)
}
