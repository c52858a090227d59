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
