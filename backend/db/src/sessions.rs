//! Server-side sessions, shared by every API instance through the database.

use edu_domain::{TenantId, UserId};

use crate::{DbError, Exec};

/// A new session row. `id_hash` is the SHA-256 (hex) of the cookie value; the value itself is never stored.
#[derive(Debug)]
pub struct NewSession<'a> {
    /// SHA-256 hex of the session secret.
    pub id_hash: &'a str,
    /// The person.
    pub user_id: UserId,
    /// Their tenant, if any.
    pub tenant_id: Option<TenantId>,
    /// `local` or `microsoft`.
    pub auth_method: &'a str,
    /// Unix ms.
    pub now: i64,
    /// Absolute expiry, unix ms.
    pub expires_at: i64,
    /// When Microsoft last confirmed the person (unix ms); `None` for a local-password session.
    pub ms_auth_at: Option<i64>,
}

/// A stored session.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The person.
    pub user_id: UserId,
    /// Their tenant, if any.
    pub tenant_id: Option<TenantId>,
    /// `local` or `microsoft`.
    pub auth_method: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last request (updated at most once a minute).
    pub last_seen_at: i64,
    /// Absolute expiry, unix ms.
    pub expires_at: i64,
    /// When Microsoft last confirmed the person (unix ms); `None` for a local-password session.
    pub ms_auth_at: Option<i64>,
}

/// Stores a new session.
///
/// # Errors
/// Database errors.
pub async fn create(db: impl Exec, s: &NewSession<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, tenant_id, auth_method, external_identity_id, created_at, last_seen_at,
           expires_at, ms_auth_at)
         VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)",
    )
    .bind(s.id_hash)
    .bind(s.user_id.to_string())
    .bind(s.tenant_id.map(|t| t.to_string()))
    .bind(s.auth_method)
    .bind(s.now)
    .bind(s.now)
    .bind(s.expires_at)
    .bind(s.ms_auth_at)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// Looks a session up by the hash of its secret.
///
/// # Errors
/// Database errors.
pub async fn get(db: impl Exec, id_hash: &str) -> Result<Option<SessionRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT user_id, tenant_id, auth_method, created_at, last_seen_at, expires_at, ms_auth_at FROM sessions
         WHERE id_hash = ?",
    )
    .bind(id_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(SessionRecord::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: String,
    tenant_id: Option<String>,
    auth_method: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ms_auth_at: Option<i64>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = DbError;

    fn try_from(r: SessionRow) -> Result<Self, DbError> {
        let bad = |_| DbError::Corrupt { table: "sessions", detail: "bad id".into() };
        Ok(Self {
            user_id: UserId::parse(&r.user_id).map_err(bad)?,
            tenant_id: r.tenant_id.as_deref().map(TenantId::parse).transpose().map_err(bad)?,
            auth_method: r.auth_method,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ms_auth_at: r.ms_auth_at,
        })
    }
}

/// Records activity on a session (for the idle timeout).
///
/// # Errors
/// Database errors.
pub async fn touch(db: impl Exec, id_hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
        .bind(now)
        .bind(id_hash)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Deletes one session (sign-out, expiry).
///
/// # Errors
/// Database errors.
pub async fn delete(db: impl Exec, id_hash: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = ?").bind(id_hash).execute(&mut *db.acquire().await?).await?;
    Ok(())
}

/// Deletes every session of a person except `keep` (password change, disable).
/// Returns how many were deleted.
///
/// # Errors
/// Database errors.
pub async fn delete_for_user(db: impl Exec, user: UserId, keep: Option<&str>) -> Result<u64, DbError> {
    let res = sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?")
        .bind(user.to_string())
        .bind(keep.unwrap_or(""))
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(res.rows_affected())
}

/// Deletes sessions past their absolute expiry or idle for longer than `idle_ms`.
///
/// # Errors
/// Database errors.
pub async fn purge_expired(db: impl Exec, now: i64, idle_ms: i64) -> Result<u64, DbError> {
    let res = sqlx::query("DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?")
        .bind(now)
        .bind(now - idle_ms)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(res.rows_affected())
}

/// Ends a Microsoft person's access to EduGraph (issue 17.2, R-A27): every session of the
/// EduGraph person linked to `(ms_tenant_id, oid)` and their cached tokens in `tenant` are
/// deleted in one transaction (a savepoint inside the caller's). Returns the sessions ended.
/// See [`end_microsoft_sessions`] for the Microsoft-backed sessions only.
///
/// # Errors
/// Database errors.
pub async fn end_microsoft_access(
    db: impl Exec,
    tenant: TenantId,
    ms_tenant_id: &str,
    oid: &str,
) -> Result<u64, DbError> {
    end_access(db, tenant, ms_tenant_id, oid, "").await
}

/// Microsoft refused the person's refresh token (`invalid_grant`, issue 17.2): their cached
/// tokens and the sessions that Microsoft had confirmed end, in one transaction; a session
/// that began with the local password stays (it never was Microsoft's).
///
/// # Errors
/// Database errors.
pub async fn end_microsoft_sessions(
    db: impl Exec,
    tenant: TenantId,
    ms_tenant_id: &str,
    oid: &str,
) -> Result<u64, DbError> {
    end_access(db, tenant, ms_tenant_id, oid, " AND ms_auth_at IS NOT NULL").await
}

async fn end_access(
    db: impl Exec,
    tenant: TenantId,
    ms_tenant_id: &str,
    oid: &str,
    which: &str,
) -> Result<u64, DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    sqlx::query("DELETE FROM token_cache WHERE tenant_id = ? AND subject = ?")
        .bind(tenant.to_string())
        .bind(oid)
        .execute(&mut *tx)
        .await?;
    let ended = sqlx::query(&format!(
        "DELETE FROM sessions WHERE user_id IN
           (SELECT user_id FROM external_identities WHERE ms_tenant_id = ? AND ms_object_id = ?){which}"
    ))
    .bind(ms_tenant_id)
    .bind(oid)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(ended)
}
