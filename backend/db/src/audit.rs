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

/// A filter over a tenant's audit trail.
#[derive(Debug, Clone, Default)]
pub struct TenantQuery<'a> {
    /// Only actions equal to this, or starting with it when it ends with `.` (e.g. `admin.`).
    pub action: Option<&'a str>,
    /// Only events by this person.
    pub actor: Option<UserId>,
    /// Only events with this result.
    pub result: Option<&'a str>,
    /// Keyset paging: only events older than this `(created_at, id)`.
    pub before: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

/// The tenant's audit trail, newest first, filtered and paged (keyset on `(created_at, id)`).
///
/// # Errors
/// Database errors.
pub async fn for_tenant(db: &Db, tenant: TenantId, q: &TenantQuery<'_>) -> Result<Vec<AuditRecord>, DbError> {
    let mut sql = String::from(
        "SELECT id, actor_user_id, action, target_type, target_id, result, detail, created_at
         FROM audit_log WHERE tenant_id = ?",
    );
    let action_prefix = q.action.filter(|a| a.ends_with('.'));
    if q.action.is_some() {
        sql.push_str(if action_prefix.is_some() { " AND action LIKE ?" } else { " AND action = ?" });
    }
    if q.actor.is_some() {
        sql.push_str(" AND actor_user_id = ?");
    }
    if q.result.is_some() {
        sql.push_str(" AND result = ?");
    }
    if q.before.is_some() {
        sql.push_str(" AND (created_at < ? OR (created_at = ? AND id < ?))");
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    let mut query = sqlx::query(&sql).bind(tenant.to_string());
    if let Some(a) = q.action {
        query = match action_prefix {
            // Action names are dotted snake_case: no LIKE wildcards to escape besides `_`,
            // which matches itself too (a superset only if a name differed just there).
            Some(p) => query.bind(format!("{p}%")),
            None => query.bind(a.to_owned()),
        };
    }
    if let Some(u) = q.actor {
        query = query.bind(u.to_string());
    }
    if let Some(r) = q.result {
        query = query.bind(r.to_owned());
    }
    if let Some((at, id)) = &q.before {
        query = query.bind(*at).bind(*at).bind(id.clone());
    }
    let rows = query.bind(q.limit).fetch_all(db.pool()).await?;
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
