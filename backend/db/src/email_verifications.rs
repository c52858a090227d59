//! Email verification links (issue 17.5, R-B3). The caller hashes the token; only the hash is
//! stored, with the address the link was sent to: a link verifies that address and no other.
//! A link is used at most once: [`complete`] is one conditional UPDATE.

use edu_domain::UserId;

use crate::{DbError, Exec};

/// An outstanding (unused, unexpired) link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The person it was made for.
    pub user_id: UserId,
    /// The address it was sent to.
    pub email: String,
}

/// Stores a new link's token hash for `user` at `email`, valid until `expires_at` (unix ms).
///
/// # Errors
/// Database errors.
pub async fn create(
    db: impl Exec,
    token_hash: &str,
    user: UserId,
    email: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    sqlx::query(
        "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(email)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Looks a link up without using it: the person and address, if it is unused and unexpired.
///
/// # Errors
/// Database errors.
pub async fn find(db: impl Exec, token_hash: &str, now: i64) -> Result<Option<Pending>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT user_id, email FROM email_verifications WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(u, email)| {
        let user_id = UserId::parse(&u)
            .map_err(|_| DbError::Corrupt { table: "email_verifications", detail: "bad user id".into() })?;
        Ok(Pending { user_id, email })
    })
    .transpose()
}

/// Uses a link and marks the address verified, in one transaction: `true` when this call used
/// it (of simultaneous uses exactly one wins) and the person's sign-in email is still the one
/// the link was sent to. The person's other outstanding links are cancelled.
///
/// # Errors
/// Database errors.
pub async fn complete(db: impl Exec, token_hash: &str, link: &Pending, now: i64) -> Result<bool, DbError> {
    let u = link.user_id.to_string();
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    let used = sqlx::query(
        "UPDATE email_verifications SET used_at = ?
         WHERE token_hash = ? AND user_id = ? AND used_at IS NULL AND expires_at > ?",
    )
    .bind(now)
    .bind(token_hash)
    .bind(&u)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !used {
        return Ok(false);
    }
    let verified = sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ? AND email = ?",
    )
    .bind(now)
    .bind(now)
    .bind(&u)
    .bind(&link.email)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !verified {
        return Ok(false);
    }
    sqlx::query("UPDATE email_verifications SET used_at = ? WHERE user_id = ? AND used_at IS NULL")
        .bind(now)
        .bind(&u)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
