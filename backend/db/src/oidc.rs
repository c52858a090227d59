//! Pending OpenID Connect / admin-consent transactions: single use, short-lived.

use crate::{DbError, Exec};

/// A pending round trip to Microsoft.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
pub async fn create(db: impl Exec, state_hash: &str, t: &OidcTransaction, now: i64) -> Result<(), DbError> {
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
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// Takes (reads and deletes) a transaction: a state can be used once, even when two
/// callbacks race (only the one whose DELETE removes the row gets it).
///
/// # Errors
/// Database errors.
pub async fn take(db: impl Exec, state_hash: &str) -> Result<Option<OidcTransaction>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<OidcTransaction> = sqlx::query_as(
        "SELECT purpose, nonce, pkce_verifier, link_user_id, tenant_hint, return_to, expires_at
         FROM oidc_transactions WHERE state_hash = ?",
    )
    .bind(state_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(t) = row else { return Ok(None) };
    let deleted =
        sqlx::query("DELETE FROM oidc_transactions WHERE state_hash = ?").bind(state_hash).execute(&mut *conn).await?;
    if deleted.rows_affected() != 1 {
        return Ok(None);
    }
    Ok(Some(t))
}

/// Deletes expired transactions, and every one created at or before `created_before`
/// (its nonce and PKCE verifier are worth nothing to keep once the round trip is over).
///
/// # Errors
/// Database errors.
pub async fn purge_expired(db: impl Exec, now: i64, created_before: i64) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM oidc_transactions WHERE expires_at <= ? OR created_at <= ?")
        .bind(now)
        .bind(created_before)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(r.rows_affected())
}

/// How many transactions are stored (tests of the purge).
///
/// # Errors
/// Database errors.
pub async fn count(db: impl Exec) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM oidc_transactions").fetch_one(&mut *db.acquire().await?).await?)
}
