//! Pending OpenID Connect / admin-consent transactions: single use, short-lived.

use sqlx::Row;

use crate::{Db, DbError};

/// A pending round trip to Microsoft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcTransaction {
    /// `signin`, `link` or `consent`.
    pub purpose: String,
    /// The nonce expected in the ID token.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// For `link`: the person who asked to link.
    pub link_user_id: Option<String>,
    /// For `consent`: the Microsoft tenant the admin consented for (if known at start).
    pub tenant_hint: Option<String>,
    /// A same-site path to go to afterwards.
    pub return_to: Option<String>,
    /// Unix ms.
    pub expires_at: i64,
}

/// Stores a transaction under the hash of its state.
///
/// # Errors
/// Database errors.
pub async fn create(db: &Db, state_hash: &str, t: &OidcTransaction, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO oidc_transactions (state_hash, purpose, nonce, pkce_verifier, link_user_id, tenant_hint, return_to, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(state_hash)
    .bind(&t.purpose)
    .bind(&t.nonce)
    .bind(&t.pkce_verifier)
    .bind(t.link_user_id.as_deref())
    .bind(t.tenant_hint.as_deref())
    .bind(t.return_to.as_deref())
    .bind(now)
    .bind(t.expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes (reads and deletes) a transaction: a state can be used once, even when two
/// callbacks race (only the one whose DELETE removes the row gets it).
///
/// # Errors
/// Database errors.
pub async fn take(db: &Db, state_hash: &str) -> Result<Option<OidcTransaction>, DbError> {
    let row = sqlx::query(
        "SELECT purpose, nonce, pkce_verifier, link_user_id, tenant_hint, return_to, expires_at
         FROM oidc_transactions WHERE state_hash = ?",
    )
    .bind(state_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let deleted =
        sqlx::query("DELETE FROM oidc_transactions WHERE state_hash = ?").bind(state_hash).execute(db.pool()).await?;
    if deleted.rows_affected() != 1 {
        return Ok(None);
    }
    Ok(Some(OidcTransaction {
        purpose: r.try_get("purpose")?,
        nonce: r.try_get("nonce")?,
        pkce_verifier: r.try_get("pkce_verifier")?,
        link_user_id: r.try_get("link_user_id")?,
        tenant_hint: r.try_get("tenant_hint")?,
        return_to: r.try_get("return_to")?,
        expires_at: r.try_get("expires_at")?,
    }))
}

/// Deletes expired transactions.
///
/// # Errors
/// Database errors.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM oidc_transactions WHERE expires_at <= ?").bind(now).execute(db.pool()).await?;
    Ok(r.rows_affected())
}
