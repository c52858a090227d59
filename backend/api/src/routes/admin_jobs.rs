//! The tenant admin's "Enable user access": grants the app's default access role (an
//! `appRoleAssignment` on the app's service principal) to every user of the tenant who lacks
//! it, as a background job with progress (R-A20: tenant-scoped; another tenant's job ids
//! answer 404).
//!
//! The job acts with the admin's delegated token (refreshed as needed between batches), reads
//! the users and the existing assignments once, then posts the missing assignments through
//! `$batch`, 20 per batch, recording progress after every batch. Per-item failures are counted
//! (`failed`, with Graph's code in `last_error`); an assignment that already exists counts as
//! `already`; throttled items are retried by the Graph client. A failure of the whole run
//! (token, Graph outage) ends the job as `failed` with the code.

use actix_web::{HttpResponse, get, post, web};
use edu_db::jobs::{self, Progress};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::class_access::DelegatedGraph;
use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode};
use crate::jobs::user_access::{ENABLE_USER_ACCESS, JobRun, audit, run_job};
use crate::jobs::{JobView, KINDS, STALE_AFTER_MS};
use crate::state::AppState;

/// Starts "Enable user access" for the admin's tenant.
#[utoipa::path(operation_id = "enable_user_access", tag = "admin", responses(
    (status = 202, description = "The job was started; poll `GET /api/admin/jobs/{id}`", body = JobView),
    (status = 401, description = "`microsoft_signin_required`: sign in with Microsoft again", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 409, description = "`job_already_running`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/user-access/enable")]
pub async fn enable_user_access(state: web::Data<AppState>, admin: TenantAdmin) -> Result<HttpResponse, ApiError> {
    let tenant = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such tenant."))?;
    // Fail now (401) rather than in the job when the admin's Microsoft sign-in is unusable.
    let caller = DelegatedGraph::for_member(&state, &admin.0).await?;
    let now = state.clock.now_ms();
    let job = match jobs::create(
        &state.db,
        tenant.id,
        ENABLE_USER_ACCESS,
        Some(admin.0.auth.user_id),
        now,
        now - STALE_AFTER_MS,
    )
    .await
    {
        Ok(j) => j,
        Err(edu_db::DbError::Conflict(_)) => {
            return Err(ApiError::conflict(
                ErrorCode::JobAlreadyRunning,
                "Enabling user access is already running for your school; wait for it to finish.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = audit(&state, tenant.id, admin.0.auth.user_id, &job.id, "success", Some("started")).await {
        // Not audited, not run: release the tenant's slot at once.
        let failed = Progress { last_error: Some("audit_failed".into()), ..Progress::default() };
        if let Err(db) = jobs::finish(&state.db, tenant.id, &job.id, jobs::status::FAILED, &failed, now).await {
            tracing::error!(job.id = %job.id, error = %db, "could not record the end of a background job");
        }
        return Err(e);
    }
    tracing::info!(job.id = %job.id, job.kind = ENABLE_USER_ACCESS, "background job started");
    let run = JobRun {
        tenant: tenant.id,
        ms_tenant_id: caller.auth.tenant_id().to_owned(),
        admin_oid: caller.oid,
        admin: admin.0.auth.user_id,
        job_id: job.id.clone(),
    };
    tokio::spawn(run_job(state.clone(), run));
    Ok(HttpResponse::Accepted().json(JobView::from(job)))
}

/// One background job of the admin's tenant.
#[utoipa::path(operation_id = "get_admin_job", tag = "admin", params(("id" = String, Path, description = "Job id")), responses(
    (status = 200, body = JobView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/jobs/{id}")]
pub async fn get_admin_job(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<web::Json<JobView>, ApiError> {
    let job = jobs::get_in_tenant(&state.db, admin.0.tenant_id, &path.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such job in your tenant."))?;
    Ok(web::Json(job.into()))
}

/// Which jobs to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `enable_user_access`, `bulk_add_members` or `bulk_assign_licenses`.
    #[param(pattern = "^(enable_user_access|bulk_add_members|bulk_assign_licenses)$")]
    pub kind: String,
    /// At most this many, newest first (1–20, default 5).
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<i64>,
}

/// Recent jobs of a kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobsPage {
    /// Newest first. At most one of a kind is `queued` or `running` at a time.
    pub items: Vec<JobView>,
}

/// The tenant's recent background jobs of one kind, newest first: a page that starts jobs
/// shows a running one again when the admin comes back.
#[utoipa::path(operation_id = "list_admin_jobs", tag = "admin", params(JobsQuery), responses(
    (status = 200, body = JobsPage),
    (status = 400, description = "`invalid_query`: unknown kind or limit out of range", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/jobs")]
pub async fn list_admin_jobs(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    q: web::Query<JobsQuery>,
) -> Result<web::Json<JobsPage>, ApiError> {
    let kinds = KINDS;
    let Some(kind) = kinds.iter().find(|k| **k == q.kind) else {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("Unknown job kind; one of: {}.", kinds.join(", ")),
        ));
    };
    let limit = q.limit.unwrap_or(5);
    if !(1..=20).contains(&limit) {
        return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "limit must be between 1 and 20."));
    }
    let items = jobs::recent_for_tenant(&state.db, admin.0.tenant_id, kind, limit).await?;
    Ok(web::Json(JobsPage { items: items.into_iter().map(JobView::from).collect() }))
}

/// The tenant's most recent "Enable user access" job.
#[utoipa::path(operation_id = "get_latest_user_access_job", tag = "admin", responses(
    (status = 200, body = JobView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: it never ran", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/user-access/latest")]
pub async fn get_latest_user_access_job(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<JobView>, ApiError> {
    let job = jobs::latest_for_tenant(&state.db, admin.0.tenant_id, ENABLE_USER_ACCESS)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "User access was never enabled from EduGraph."))?;
    Ok(web::Json(job.into()))
}
