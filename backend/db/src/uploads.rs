//! Uploads in flight into an assignment's resources folder, per tenant: publishing waits
//! until every file being attached is attached. Shared by all API instances.

use edu_domain::{TenantId, UserId};

use crate::{DbError, Exec};

/// An upload into an assignment's resources folder.
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// Random id of this upload.
    pub upload_id: &'a str,
    /// Class (Graph id).
    pub class_id: &'a str,
    /// Assignment (Graph id).
    pub assignment_id: &'a str,
    /// Who uploads.
    pub by: UserId,
    /// Start, unix ms.
    pub now: i64,
    /// When it stops counting even if never finished (a request that died), unix ms.
    pub expires_at: i64,
}

/// Records that an upload into an assignment started; it counts until [`finish`] or its
/// `expires_at`.
///
/// # Errors
/// Database errors.
pub async fn start(db: impl Exec, u: &Upload<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO assignment_uploads (tenant_id, upload_id, class_id, assignment_id, started_by, started_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(u.tenant.to_string())
    .bind(u.upload_id)
    .bind(u.class_id)
    .bind(u.assignment_id)
    .bind(u.by.to_string())
    .bind(u.now)
    .bind(u.expires_at)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// The upload ended (attached or failed).
///
/// # Errors
/// Database errors.
pub async fn finish(db: impl Exec, tenant: TenantId, upload_id: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM assignment_uploads WHERE tenant_id = ? AND upload_id = ?")
        .bind(tenant.to_string())
        .bind(upload_id)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// How many uploads into this assignment are still running at `now` (ms); expired rows of
/// the tenant are deleted on the way.
///
/// # Errors
/// Database errors.
pub async fn in_progress(
    db: impl Exec,
    tenant: TenantId,
    class_id: &str,
    assignment_id: &str,
    now: i64,
) -> Result<i64, DbError> {
    let mut conn = db.acquire().await?;
    sqlx::query("DELETE FROM assignment_uploads WHERE tenant_id = ? AND expires_at <= ?")
        .bind(tenant.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignment_uploads
         WHERE tenant_id = ? AND class_id = ? AND assignment_id = ? AND expires_at > ?",
    )
    .bind(tenant.to_string())
    .bind(class_id)
    .bind(assignment_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}
