//! One-time "forgot password" links (issue 17.5, R-B4). The caller hashes the token; only the
//! hash is stored. A link is used at most once: [`consume`] is one conditional UPDATE.

use edu_domain::UserId;

use crate::{DbError, Exec};

/// Stores a new link's token hash for `user`, valid until `expires_at` (unix ms).
///
/// # Errors
/// Database errors.
pub async fn create(db: impl Exec, token_hash: &str, user: UserId, now: i64, expires_at: i64) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(token_hash)
        .bind(user.to_string())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Uses a link: the person it was made for, if the link exists, has not expired and was not
/// used before. Of simultaneous uses of one link, exactly one gets the person.
///
/// # Errors
/// Database errors.
pub async fn consume(db: impl Exec, token_hash: &str, now: i64) -> Result<Option<UserId>, DbError> {
    let mut conn = db.acquire().await?;
    let done = sqlx::query(
        "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
    )
    .bind(now)
    .bind(token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    let user: Option<String> = sqlx::query_scalar("SELECT user_id FROM password_resets WHERE token_hash = ?")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    user.map(|u| {
        UserId::parse(&u).map_err(|_| DbError::Corrupt { table: "password_resets", detail: "bad user id".into() })
    })
    .transpose()
}

/// What a used reset link changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetOutcome {
    /// Sessions of the person that ended.
    pub sessions_ended: u64,
    /// Cached Microsoft tokens of the person's linked identities that were deleted.
    pub tokens_deleted: u64,
}

/// Finishes a password reset in one transaction (R-B4): the new hash, the email counted as
/// verified (the link proved the mailbox), every session of the person ended, the cached
/// Microsoft tokens of their linked identities deleted, and their other outstanding reset and
/// verification links cancelled.
///
/// # Errors
/// Database errors.
pub async fn complete(db: impl Exec, user: UserId, hash: &str, now: i64) -> Result<ResetOutcome, DbError> {
    let u = user.to_string();
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    sqlx::query(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change_password = 0,
                email_verified_at = COALESCE(email_verified_at, ?), updated_at = ?
         WHERE id = ?",
    )
    .bind(hash)
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(&u)
    .execute(&mut *tx)
    .await?;
    let sessions_ended =
        sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(&u).execute(&mut *tx).await?.rows_affected();
    let tokens_deleted = sqlx::query(
        "DELETE FROM token_cache WHERE EXISTS (SELECT 1 FROM external_identities e
           WHERE e.user_id = ? AND e.tenant_id = token_cache.tenant_id AND e.ms_object_id = token_cache.subject)",
    )
    .bind(&u)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL")
        .bind(now)
        .bind(&u)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE email_verifications SET used_at = ? WHERE user_id = ? AND used_at IS NULL")
        .bind(now)
        .bind(&u)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ResetOutcome { sessions_ended, tokens_deleted })
}
