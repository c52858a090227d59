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

/// The answer to [`reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt was counted as a failure up front: verify the password, then call
    /// [`settle_failure`] or [`release`].
    Granted,
    /// Refused without verifying: locked until this time (unix ms).
    Refused {
        /// Until when, unix ms.
        until: i64,
    },
}

/// Reserves one password verification for `key_hash` (R-A18, issue 17.3). The attempt is
/// counted as a failure *before* the hash runs, in one conditional `UPDATE` (a row lock on
/// MySQL, the single writer on SQLite), so however many requests arrive at once at most
/// `threshold` verifications run per window; after a lock has passed, exactly one more.
///
/// # Errors
/// Database errors.
pub async fn reserve(db: impl Exec, key_hash: &str, now: i64, policy: Policy) -> Result<Reservation, DbError> {
    let floor = now - policy.window_ms;
    let mut conn = db.acquire().await?;
    let insert = match dialect_of(&conn) {
        Dialect::MySql => {
            "INSERT IGNORE INTO login_throttle (key_hash, failures, window_start, locked_until) VALUES (?, 0, ?, 0)"
        }
        Dialect::Sqlite => {
            "INSERT OR IGNORE INTO login_throttle (key_hash, failures, window_start, locked_until) VALUES (?, 0, ?, 0)"
        }
    };
    sqlx::query(insert).bind(key_hash).bind(now).execute(&mut *conn).await?;
    // MySQL assigns left to right: `failures` and `locked_until` read the old `window_start`.
    let granted = sqlx::query(
        "UPDATE login_throttle SET
           failures = CASE WHEN window_start < ? THEN 1 ELSE failures + 1 END,
           locked_until = 0,
           window_start = CASE WHEN window_start < ? THEN ? ELSE window_start END
         WHERE key_hash = ? AND locked_until <= ?
           AND (window_start < ? OR failures < ? OR locked_until > 0)",
    )
    .bind(floor)
    .bind(floor)
    .bind(now)
    .bind(key_hash)
    .bind(now)
    .bind(floor)
    .bind(policy.threshold)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if granted {
        return Ok(Reservation::Granted);
    }
    let until: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE key_hash = ?")
        .bind(key_hash)
        .fetch_optional(&mut *conn)
        .await?;
    // Over the threshold while the last allowed attempts are still being verified: the
    // first lock's length.
    let until = until.filter(|u| *u > now).unwrap_or(now + policy.base_lock_ms.max(1000));
    Ok(Reservation::Refused { until })
}

/// The reserved attempt failed: it already counts; lock the key when the failures reached
/// the threshold (the lock doubles with each failure beyond it). Returns the lock expiry
/// (unix ms; 0 = not locked).
///
/// # Errors
/// Database errors.
pub async fn settle_failure(db: impl Exec, key_hash: &str, now: i64, policy: Policy) -> Result<i64, DbError> {
    let mut conn = db.acquire().await?;
    let failures: Option<i64> = sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key_hash = ?")
        .bind(key_hash)
        .fetch_optional(&mut *conn)
        .await?;
    let failures = failures.unwrap_or(0);
    if failures < policy.threshold {
        return Ok(0);
    }
    let doublings = u32::try_from((failures - policy.threshold).clamp(0, 20)).unwrap_or(20);
    let locked_until = now + policy.base_lock_ms.saturating_mul(1_i64 << doublings).min(policy.max_lock_ms);
    sqlx::query("UPDATE login_throttle SET locked_until = ? WHERE key_hash = ? AND locked_until < ?")
        .bind(locked_until)
        .bind(key_hash)
        .bind(locked_until)
        .execute(&mut *conn)
        .await?;
    Ok(locked_until)
}

/// The reserved attempt succeeded: its reservation is given back. The window's earlier
/// failures stay counted until the window ends, so a right password among simultaneous wrong
/// ones does not reopen the window for more guesses (issue 17.3).
///
/// # Errors
/// Database errors.
pub async fn release(db: impl Exec, key_hash: &str) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    sqlx::query("UPDATE login_throttle SET failures = failures - 1 WHERE key_hash = ? AND failures > 0")
        .bind(key_hash)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM login_throttle WHERE key_hash = ? AND failures <= 0 AND locked_until = 0")
        .bind(key_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
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
