//! Per-account sign-in throttling state (R-A18), shared by all API instances.

use crate::{DbError, Dialect, Exec, dialect_of};

/// The throttling policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures counted within this window, ms.
    pub window_ms: i64,
    /// Failures in a window before the account is locked.
    pub threshold: i64,
    /// First lock duration, ms; it doubles with each further failure.
    pub base_lock_ms: i64,
    /// Longest lock, ms.
    pub max_lock_ms: i64,
}

/// Until when (unix ms) the key is locked; 0 when it is not.
///
/// # Errors
/// Database errors.
pub async fn locked_until(db: impl Exec, key_hash: &str) -> Result<i64, DbError> {
    let mut conn = db.acquire().await?;
    let until: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE key_hash = ?")
        .bind(key_hash)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(until.unwrap_or(0))
}

/// Counts a failed sign-in and returns the new lock expiry (unix ms; 0 = not locked).
///
/// The increment is an atomic upsert, so concurrent failures on several instances all count.
///
/// # Errors
/// Database errors.
pub async fn record_failure(db: impl Exec, key_hash: &str, now: i64, policy: Policy) -> Result<i64, DbError> {
    let window_floor = now - policy.window_ms;
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    let upsert = match dialect_of(&tx) {
        Dialect::MySql => {
            "INSERT INTO login_throttle (key_hash, failures, window_start, locked_until) VALUES (?, 1, ?, 0)
             ON DUPLICATE KEY UPDATE
               failures = IF(window_start < ?, 1, failures + 1),
               window_start = IF(window_start < ?, VALUES(window_start), window_start)"
        }
        Dialect::Sqlite => {
            "INSERT INTO login_throttle (key_hash, failures, window_start, locked_until) VALUES (?, 1, ?, 0)
             ON CONFLICT (key_hash) DO UPDATE SET
               failures = CASE WHEN window_start < ? THEN 1 ELSE failures + 1 END,
               window_start = CASE WHEN window_start < ? THEN excluded.window_start ELSE window_start END"
        }
    };
    sqlx::query(upsert).bind(key_hash).bind(now).bind(window_floor).bind(window_floor).execute(&mut *tx).await?;
    let failures: i64 = sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key_hash = ?")
        .bind(key_hash)
        .fetch_one(&mut *tx)
        .await?;
    let locked_until = if failures >= policy.threshold {
        let doublings = u32::try_from((failures - policy.threshold).clamp(0, 20)).unwrap_or(20);
        let lock = policy.base_lock_ms.saturating_mul(1_i64 << doublings).min(policy.max_lock_ms);
        now + lock
    } else {
        0
    };
    sqlx::query("UPDATE login_throttle SET locked_until = ? WHERE key_hash = ?")
        .bind(locked_until)
        .bind(key_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(locked_until)
}

/// Forgets the failures of a key after a successful sign-in.
///
/// # Errors
/// Database errors.
pub async fn clear(db: impl Exec, key_hash: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_throttle WHERE key_hash = ?")
        .bind(key_hash)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}
