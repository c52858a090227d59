//! Background jobs of a tenant (e.g. the admin's "enable user access"), with their progress.
//!
//! At most one job of a kind is active (queued or running) per tenant, across every instance:
//! the `active` column is 1 while a job is active and NULL afterwards, under a unique key
//! `(tenant_id, kind, active)`. A job whose instance died stops blocking once it has not
//! reported progress for the caller's staleness window (see [`create`]).

use edu_domain::{TenantId, UserId};

use crate::{DbError, Exec};

/// Job statuses.
pub mod status {
    /// Accepted, not started yet.
    pub const QUEUED: &str = "queued";
    /// Working.
    pub const RUNNING: &str = "running";
    /// Finished (per-item failures are in the counts).
    pub const SUCCEEDED: &str = "succeeded";
    /// Stopped by an error (see `last_error`).
    pub const FAILED: &str = "failed";
}

/// A stored job.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// Job id.
    pub id: String,
    /// The tenant.
    pub tenant_id: TenantId,
    /// What it does, e.g. `enable_user_access`.
    pub kind: String,
    /// See [`status`].
    pub status: String,
    /// Items to look at.
    pub total: i64,
    /// Items done by this job.
    pub done: i64,
    /// Items that failed.
    pub failed: i64,
    /// Items that needed nothing (already done before).
    pub already: i64,
    /// The last error code (no personal data).
    pub last_error: Option<String>,
    /// Who started it.
    pub started_by: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last progress.
    pub updated_at: i64,
    /// Unix ms, once finished.
    pub finished_at: Option<i64>,
}

/// Counters reported by a running job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Items to look at.
    pub total: i64,
    /// Items done.
    pub done: i64,
    /// Items failed.
    pub failed: i64,
    /// Items already done before.
    pub already: i64,
    /// The last error code (no personal data), at most 1000 characters are kept.
    pub last_error: Option<String>,
}

const SELECT: &str = "SELECT id, tenant_id, kind, status, total, done, failed, already, last_error, started_by,
                             created_at, updated_at, finished_at FROM background_jobs";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    tenant_id: String,
    kind: String,
    status: String,
    total: i64,
    done: i64,
    failed: i64,
    already: i64,
    last_error: Option<String>,
    started_by: Option<String>,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = DbError;

    fn try_from(r: JobRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id,
            tenant_id: TenantId::parse(&r.tenant_id)
                .map_err(|_| DbError::Corrupt { table: "background_jobs", detail: "bad tenant id".into() })?,
            kind: r.kind,
            status: r.status,
            total: r.total,
            done: r.done,
            failed: r.failed,
            already: r.already,
            last_error: r.last_error,
            started_by: r.started_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        })
    }
}

fn clip(s: Option<&str>) -> Option<String> {
    s.map(|s| s.chars().take(1000).collect())
}

/// Creates a queued job of `kind` for the tenant, unless one is already active.
///
/// An active job that has not reported progress since `stale_before` (unix ms) is considered
/// abandoned (its instance stopped): it is marked failed (`abandoned`) first.
///
/// # Errors
/// [`DbError::Conflict`]`("active_job")` when another job of this kind is active in the tenant.
pub async fn create(
    db: impl Exec,
    tenant: TenantId,
    kind: &str,
    started_by: Option<UserId>,
    now: i64,
    stale_before: i64,
) -> Result<JobRecord, DbError> {
    let mut conn = db.acquire().await?;
    sqlx::query(
        "UPDATE background_jobs SET status = 'failed', active = NULL, last_error = 'abandoned', finished_at = ?,
                updated_at = ?
         WHERE tenant_id = ? AND kind = ? AND active IS NOT NULL AND updated_at < ?",
    )
    .bind(now)
    .bind(now)
    .bind(tenant.to_string())
    .bind(kind)
    .bind(stale_before)
    .execute(&mut *conn)
    .await?;
    let id = UserId::new().to_string();
    sqlx::query(
        "INSERT INTO background_jobs (id, tenant_id, kind, status, total, done, failed, already, last_error, started_by,
                                      active, created_at, updated_at, finished_at)
         VALUES (?, ?, ?, 'queued', 0, 0, 0, 0, NULL, ?, 1, ?, ?, NULL)",
    )
    .bind(&id)
    .bind(tenant.to_string())
    .bind(kind)
    .bind(started_by.map(|u| u.to_string()))
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| DbError::unique_as(e, "active_job"))?;
    get_in_tenant(&mut *conn, tenant, &id)
        .await?
        .ok_or(DbError::Corrupt { table: "background_jobs", detail: "vanished".into() })
}

/// Records progress of an active job (and marks it running).
///
/// # Errors
/// Database errors.
pub async fn update_progress(db: impl Exec, tenant: TenantId, id: &str, p: &Progress, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE background_jobs SET status = 'running', total = ?, done = ?, failed = ?, already = ?, last_error = ?,
                updated_at = ?
         WHERE tenant_id = ? AND id = ? AND active IS NOT NULL",
    )
    .bind(p.total)
    .bind(p.done)
    .bind(p.failed)
    .bind(p.already)
    .bind(clip(p.last_error.as_deref()))
    .bind(now)
    .bind(tenant.to_string())
    .bind(id)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// Finishes an active job with `status` (`succeeded` or `failed`) and its final counts; a
/// new job of its kind can start afterwards.
///
/// # Errors
/// Database errors.
pub async fn finish(
    db: impl Exec,
    tenant: TenantId,
    id: &str,
    status: &str,
    p: &Progress,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE background_jobs SET status = ?, total = ?, done = ?, failed = ?, already = ?, last_error = ?,
                active = NULL, updated_at = ?, finished_at = ?
         WHERE tenant_id = ? AND id = ? AND active IS NOT NULL",
    )
    .bind(status)
    .bind(p.total)
    .bind(p.done)
    .bind(p.failed)
    .bind(p.already)
    .bind(clip(p.last_error.as_deref()))
    .bind(now)
    .bind(now)
    .bind(tenant.to_string())
    .bind(id)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// One job of the tenant; `None` for another tenant's id (no existence oracle).
///
/// # Errors
/// Database errors.
pub async fn get_in_tenant(db: impl Exec, tenant: TenantId, id: &str) -> Result<Option<JobRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{SELECT} WHERE tenant_id = ? AND id = ?");
    let row: Option<JobRow> = sqlx::query_as(&sql).bind(tenant.to_string()).bind(id).fetch_optional(&mut *conn).await?;
    row.map(JobRecord::try_from).transpose()
}

/// The tenant's most recent job of `kind`, if any.
///
/// # Errors
/// Database errors.
pub async fn latest_for_tenant(db: impl Exec, tenant: TenantId, kind: &str) -> Result<Option<JobRecord>, DbError> {
    Ok(recent_for_tenant(db, tenant, kind, 1).await?.into_iter().next())
}

/// The tenant's most recent jobs of `kind`, newest first, at most `limit`.
///
/// # Errors
/// Database errors.
pub async fn recent_for_tenant(
    db: impl Exec,
    tenant: TenantId,
    kind: &str,
    limit: i64,
) -> Result<Vec<JobRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{SELECT} WHERE tenant_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT ?");
    let rows: Vec<JobRow> = sqlx::query_as(&sql)
        .bind(tenant.to_string())
        .bind(kind)
        .bind(limit.clamp(1, 100))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(JobRecord::try_from).collect()
}

/// The result of one item of a bulk job.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemResult {
    /// Position in the request (0-based).
    pub seq: i64,
    /// What the item was about (a Graph object id).
    pub item_id: String,
    /// `done`, `already` or `failed`.
    pub result: String,
    /// For a failure: Graph's code and message (no tokens); at most 1000 characters are kept.
    pub error: Option<String>,
}

/// Records per-item results of a job of the tenant (after each batch). Nothing is written for
/// another tenant's job.
///
/// # Errors
/// Database errors.
pub async fn record_items(db: impl Exec, tenant: TenantId, job_id: &str, items: &[ItemResult]) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    let owned: Option<String> = sqlx::query_scalar("SELECT id FROM background_jobs WHERE tenant_id = ? AND id = ?")
        .bind(tenant.to_string())
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
    if owned.is_none() {
        return Ok(());
    }
    for i in items {
        sqlx::query(
            "INSERT INTO background_job_items (job_id, tenant_id, seq, item_id, result, error) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(job_id)
        .bind(tenant.to_string())
        .bind(i.seq)
        .bind(i.item_id.chars().take(64).collect::<String>())
        .bind(&i.result)
        .bind(clip(i.error.as_deref()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Per-item results of a job of the tenant, in request order, from `after_seq` (exclusive).
///
/// # Errors
/// Database errors.
pub async fn items(
    db: impl Exec,
    tenant: TenantId,
    job_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<ItemResult>, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_as(
        "SELECT seq, item_id, result, error FROM background_job_items
         WHERE tenant_id = ? AND job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(tenant.to_string())
    .bind(job_id)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}
