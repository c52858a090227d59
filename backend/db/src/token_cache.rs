//! Encrypted OAuth token rows. This module stores and returns ciphertext only; encryption
//! lives in the API (`edu_api::token_cache`), the key never reaches the database (R-A22).

use edu_domain::TenantId;

use crate::{DbError, Dialect, Exec, dialect_of};

/// Which token a row holds, for whom and for what.
#[derive(Debug, Clone, Copy)]
pub struct TokenKey<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// Whose token: a Microsoft object id, or `app` for app-only tokens.
    pub subject: &'a str,
    /// The resource (e.g. `https://graph.microsoft.com`).
    pub resource: &'a str,
    /// `access` or `refresh`.
    pub kind: &'a str,
}

/// One sealed token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedRow {
    /// Which key sealed it.
    pub key_id: String,
    /// The 96-bit nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext with the GCM tag.
    pub ciphertext: Vec<u8>,
    /// When the token expires, unix ms.
    pub expires_at: i64,
}

/// Stores (inserts or replaces) a sealed token.
///
/// # Errors
/// Database errors.
pub async fn put(db: impl Exec, key: &TokenKey<'_>, row: &SealedRow, now: i64) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let sql = match dialect_of(&conn) {
        Dialect::MySql => {
            "INSERT INTO token_cache (tenant_id, subject, resource, kind, key_id, nonce, ciphertext, expires_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE key_id = VALUES(key_id), nonce = VALUES(nonce), ciphertext = VALUES(ciphertext),
                                     expires_at = VALUES(expires_at), updated_at = VALUES(updated_at)"
        }
        Dialect::Sqlite => {
            "INSERT INTO token_cache (tenant_id, subject, resource, kind, key_id, nonce, ciphertext, expires_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, subject, resource, kind) DO UPDATE SET key_id = excluded.key_id,
               nonce = excluded.nonce, ciphertext = excluded.ciphertext, expires_at = excluded.expires_at,
               updated_at = excluded.updated_at"
        }
    };
    sqlx::query(sql)
        .bind(key.tenant.to_string())
        .bind(key.subject)
        .bind(key.resource)
        .bind(key.kind)
        .bind(&row.key_id)
        .bind(&row.nonce)
        .bind(&row.ciphertext)
        .bind(row.expires_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Reads a sealed token.
///
/// # Errors
/// Database errors.
pub async fn get(db: impl Exec, key: &TokenKey<'_>) -> Result<Option<SealedRow>, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_as(
        "SELECT key_id, nonce, ciphertext, expires_at FROM token_cache
         WHERE tenant_id = ? AND subject = ? AND resource = ? AND kind = ?",
    )
    .bind(key.tenant.to_string())
    .bind(key.subject)
    .bind(key.resource)
    .bind(key.kind)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A sealed token with the time it was stored (unix ms), so that its lifetime is known.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StampedRow {
    /// The token.
    #[sqlx(flatten)]
    pub sealed: SealedRow,
    /// When it was stored, unix ms.
    pub updated_at: i64,
}

/// Reads a sealed token with the time it was stored.
///
/// # Errors
/// Database errors.
pub async fn get_stamped(db: impl Exec, key: &TokenKey<'_>) -> Result<Option<StampedRow>, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_as(
        "SELECT key_id, nonce, ciphertext, expires_at, updated_at FROM token_cache
         WHERE tenant_id = ? AND subject = ? AND resource = ? AND kind = ?",
    )
    .bind(key.tenant.to_string())
    .bind(key.subject)
    .bind(key.resource)
    .bind(key.kind)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Deletes every token of one subject in a tenant (sign-out of all sessions, unlink).
///
/// # Errors
/// Database errors.
pub async fn delete_subject(db: impl Exec, tenant: TenantId, subject: &str) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM token_cache WHERE tenant_id = ? AND subject = ?")
        .bind(tenant.to_string())
        .bind(subject)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(r.rows_affected())
}

/// Deletes every token of a tenant (unconsent, "clear the token cache").
///
/// # Errors
/// Database errors.
pub async fn delete_tenant(db: impl Exec, tenant: TenantId) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM token_cache WHERE tenant_id = ?")
        .bind(tenant.to_string())
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(r.rows_affected())
}
