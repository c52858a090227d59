//! The audit trail: every security-relevant action, with no secrets in it.

use edu_domain::{TenantId, UserId};

use crate::{DbError, Exec};

/// The `result` of an action that succeeded: the value the audit log's readers filter on
/// (`success`, `failure`, `denied`; see `GET /api/admin/audit`).
pub const SUCCESS: &str = "success";
/// The `result` of an action that failed.
pub const FAILURE: &str = "failure";
/// The `result` of an action that was refused.
pub const DENIED: &str = "denied";

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
    /// [`SUCCESS`], [`FAILURE`] or [`DENIED`].
    pub result: &'a str,
    /// A short detail without personal data or secrets.
    pub detail: Option<&'a str>,
    /// Unix ms.
    pub at: i64,
}

/// A stored audit event.
#[derive(Debug, Clone, sqlx::FromRow)]
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
    /// The actor's name when the event was recorded.
    pub actor_name: Option<String>,
    /// The target's name when the event was recorded (a person, synced user or class).
    pub target_name: Option<String>,
}

/// Appends an event, on `db` — the pool, or the caller's transaction so that the event
/// commits (or rolls back) with the change it records. The detail is cut at 1000 characters.
///
/// # Errors
/// Database errors.
pub async fn record(db: impl Exec, e: &AuditEvent<'_>) -> Result<(), DbError> {
    record_named(db, e, None).await
}

/// [`record`], with the target's name when the caller has it (e.g. a user it just created);
/// otherwise the name is looked up as in [`record`].
///
/// # Errors
/// Database errors.
pub async fn record_named(db: impl Exec, e: &AuditEvent<'_>, target_name: Option<&str>) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let tenant = e.tenant_id.map(|t| t.to_string());
    let actor = e.actor.map(|u| u.to_string());
    // The names are read in the same statement (issue 16): the actor from `users`; the target
    // as given, else from `users` (a local id), else by Microsoft object id from the people who
    // signed in, the synced directory and roster (users and classes).
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_user_id, action, target_type, target_id, result, detail, created_at,
                                actor_name, target_name)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
                 (SELECT SUBSTR(display_name, 1, 256) FROM users WHERE id = ?),
                 SUBSTR(COALESCE(
                     ?,
                     (SELECT display_name FROM users WHERE id = ?),
                     (SELECT display_name FROM external_identities WHERE tenant_id = ? AND ms_object_id = ?),
                     (SELECT display_name FROM directory_members WHERE tenant_id = ? AND ms_object_id = ?),
                     (SELECT display_name FROM roster_users WHERE tenant_id = ? AND ms_object_id = ?),
                     (SELECT display_name FROM roster_classes WHERE tenant_id = ? AND ms_class_id = ?)
                 ), 1, 256))",
    )
    .bind(UserId::new().to_string())
    .bind(tenant.as_deref())
    .bind(actor.as_deref())
    .bind(e.action)
    .bind(e.target_type)
    .bind(e.target_id.as_deref())
    .bind(e.result)
    .bind(e.detail.map(|d| d.chars().take(1000).collect::<String>()))
    .bind(e.at)
    .bind(actor.as_deref())
    .bind(target_name.filter(|n| !n.trim().is_empty()))
    .bind(e.target_id.as_deref())
    .bind(tenant.as_deref())
    .bind(e.target_id.as_deref())
    .bind(tenant.as_deref())
    .bind(e.target_id.as_deref())
    .bind(tenant.as_deref())
    .bind(e.target_id.as_deref())
    .bind(tenant.as_deref())
    .bind(e.target_id.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A successful action of the sync job (no actor) on `target` of `target_type` in `tenant`.
pub(crate) async fn record_sync(
    db: impl Exec,
    tenant: TenantId,
    action: &str,
    target_type: &str,
    target: &str,
    detail: Option<&str>,
    at: i64,
) -> Result<(), DbError> {
    let event = AuditEvent {
        tenant_id: Some(tenant),
        actor: None,
        action,
        target_type: Some(target_type),
        target_id: Some(target.to_owned()),
        result: SUCCESS,
        detail,
        at,
    };
    record(db, &event).await
}

const SELECT: &str = "SELECT id, actor_user_id, action, target_type, target_id, result, detail, created_at, actor_name, target_name FROM audit_log";

/// The events whose actor is `user`, newest first (a person's own trail, for tests and "my activity").
///
/// # Errors
/// Database errors.
pub async fn for_actor(db: impl Exec, user: UserId, limit: i64) -> Result<Vec<AuditRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{SELECT} WHERE actor_user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?");
    Ok(sqlx::query_as(&sql).bind(user.to_string()).bind(limit).fetch_all(&mut *conn).await?)
}

/// How many events of `action` by `actor` happened at or after `since` (rate limits that hold
/// across every API instance).
///
/// # Errors
/// Database errors.
pub async fn count_since(db: impl Exec, actor: UserId, action: &str, since: i64) -> Result<i64, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor_user_id = ? AND action = ? AND created_at >= ?")
        .bind(actor.to_string())
        .bind(action)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?)
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
pub async fn for_tenant(db: impl Exec, tenant: TenantId, q: &TenantQuery<'_>) -> Result<Vec<AuditRecord>, DbError> {
    let mut sql = format!("{SELECT} WHERE tenant_id = ?");
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
    let mut query = sqlx::query_as(&sql).bind(tenant.to_string());
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
    let mut conn = db.acquire().await?;
    Ok(query.bind(q.limit).fetch_all(&mut *conn).await?)
}
