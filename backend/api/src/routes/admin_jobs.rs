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

use std::collections::HashSet;

use actix_web::{HttpResponse, get, post, web};
use edu_db::jobs::{self, JobRecord, Progress};
use edu_domain::{TenantId, UserId};
use edu_msgraph::{BatchRequest, GraphAuth, GraphError, PageOptions, Query, seg};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, graph_error};
use crate::state::AppState;

/// The job kind of "Enable user access".
pub const ENABLE_USER_ACCESS: &str = "enable_user_access";
/// The default access role: the `appRoleId` that grants access to an app without app roles.
pub const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";
/// An active job that has not reported progress for this long is considered abandoned
/// (its instance stopped) and no longer blocks a new start.
const STALE_AFTER_MS: i64 = 15 * 60 * 1000;
/// Assignments per `$batch` request (Graph's limit).
const BATCH: usize = edu_msgraph::MAX_BATCH_SIZE;
const AUDIT_ACTION: &str = "admin.user_access.enable";

/// A background job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// `enable_user_access`.
    pub kind: String,
    /// `queued`, `running`, `succeeded` (per-item failures are in `failed`) or `failed`.
    pub status: String,
    /// Users of the tenant (known once the job has read them).
    pub total: i64,
    /// Users granted access by this job.
    pub done: i64,
    /// Users whose assignment failed.
    pub failed: i64,
    /// Users who already had access.
    pub already: i64,
    /// The last Microsoft Graph error code (no personal data).
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last progress.
    pub updated_at: i64,
    /// Unix ms, once finished.
    pub finished_at: Option<i64>,
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            total: j.total,
            done: j.done,
            failed: j.failed,
            already: j.already,
            last_error: j.last_error,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

async fn audit(
    state: &AppState,
    tenant: TenantId,
    actor: UserId,
    job_id: &str,
    result: &str,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(tenant),
            actor: Some(actor),
            action: AUDIT_ACTION,
            target_type: Some("job"),
            target_id: Some(job_id.to_owned()),
            result,
            detail,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// Starts "Enable user access" for the admin's tenant.
#[utoipa::path(operation_id = "enable_user_access", tag = "admin", responses(
    (status = 202, description = "The job was started; poll `GET /api/admin/jobs/{id}`", body = JobView),
    (status = 401, description = "`microsoft_signin_required`: sign in with Microsoft again", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 409, description = "`job_already_running`", body = crate::error::ErrorBody),
), security(("session" = []), ("csrf" = [])))]
#[post("/api/admin/user-access/enable")]
pub async fn enable_user_access(state: web::Data<AppState>, admin: TenantAdmin) -> Result<HttpResponse, ApiError> {
    let tenant = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_found", "No such tenant."))?;
    let identity =
        edu_db::identities::of_user(&state.db, admin.0.auth.user_id).await?.ok_or(ApiError::MicrosoftSignInRequired)?;
    // Fail now (401) rather than in the job when the admin's Microsoft sign-in is unusable.
    crate::microsoft::tokens::access_token(&state, tenant.id, &identity.ms_tenant_id, &identity.ms_object_id).await?;
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
                "job_already_running",
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
        ms_tenant_id: identity.ms_tenant_id,
        admin_oid: identity.ms_object_id,
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
        .ok_or_else(|| ApiError::not_found("not_found", "No such job in your tenant."))?;
    Ok(web::Json(job.into()))
}

/// Which jobs to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `enable_user_access`, `bulk_add_members` or `bulk_assign_licenses`.
    pub kind: String,
    /// At most this many, newest first (1–20, default 5).
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
    let kinds = [
        ENABLE_USER_ACCESS,
        crate::routes::admin_bulk::BULK_ADD_MEMBERS,
        crate::routes::admin_bulk::BULK_ASSIGN_LICENSES,
    ];
    let Some(kind) = kinds.iter().find(|k| **k == q.kind) else {
        return Err(ApiError::bad_request("invalid_query", format!("Unknown job kind; one of: {}.", kinds.join(", "))));
    };
    let limit = q.limit.unwrap_or(5);
    if !(1..=20).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", "limit must be between 1 and 20."));
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
        .ok_or_else(|| ApiError::not_found("not_found", "User access was never enabled from EduGraph."))?;
    Ok(web::Json(job.into()))
}

// ------------------------------------------------------------------ the job

struct JobRun {
    tenant: TenantId,
    ms_tenant_id: String,
    admin_oid: String,
    admin: UserId,
    job_id: String,
}

/// `id` and `displayName` of a user (`displayName` is read, never stored or logged).
#[derive(Debug, Deserialize)]
struct DirUser {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assignment {
    principal_id: Option<String>,
}

/// Why a run stopped: a code, kept in `last_error` (no personal data).
struct Stop(String);

fn graph_stop(e: GraphError) -> Stop {
    let graph_code = e.code().map(str::to_owned);
    let status = e.status();
    let api = graph_error(e);
    Stop(match (graph_code, status) {
        (Some(c), _) => format!("{}: {c}", api.code()),
        (None, Some(s)) => format!("{}: HTTP {s}", api.code()),
        (None, None) => api.code().to_owned(),
    })
}

fn api_stop(e: &ApiError) -> Stop {
    Stop(e.code().to_owned())
}

async fn run_job(state: web::Data<AppState>, run: JobRun) {
    let started = std::time::Instant::now();
    let mut p = Progress::default();
    let outcome = work(&state, &run, &mut p).await;
    let status = match outcome {
        Ok(()) => jobs::status::SUCCEEDED,
        Err(Stop(code)) => {
            tracing::warn!(job.id = %run.job_id, error.code = %code, "background job failed");
            p.last_error = Some(code);
            jobs::status::FAILED
        }
    };
    if let Err(e) = jobs::finish(&state.db, run.tenant, &run.job_id, status, &p, state.clock.now_ms()).await {
        tracing::error!(job.id = %run.job_id, error = %e, "could not record the end of a background job");
    }
    let detail = format!("{status}: total={} done={} already={} failed={}", p.total, p.done, p.already, p.failed);
    let result = if status == jobs::status::SUCCEEDED { "success" } else { "failure" };
    if let Err(e) = audit(&state, run.tenant, run.admin, &run.job_id, result, Some(&detail)).await {
        tracing::error!(job.id = %run.job_id, error = %e, "could not audit the end of a background job");
    }
    tracing::info!(
        job.id = %run.job_id,
        job.status = status,
        job.total = p.total,
        job.done = p.done,
        job.already = p.already,
        job.failed = p.failed,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "background job finished"
    );
}

async fn auth(state: &AppState, run: &JobRun) -> Result<GraphAuth, Stop> {
    let token = crate::microsoft::tokens::access_token(state, run.tenant, &run.ms_tenant_id, &run.admin_oid)
        .await
        .map_err(|e| api_stop(&e))?;
    Ok(GraphAuth::delegated(run.ms_tenant_id.clone(), token))
}

async fn progress(state: &AppState, run: &JobRun, p: &Progress) -> Result<(), Stop> {
    jobs::update_progress(&state.db, run.tenant, &run.job_id, p, state.clock.now_ms()).await.map_err(|e| {
        tracing::error!(job.id = %run.job_id, error = %e, "could not record job progress");
        Stop("database_error".into())
    })
}

/// A duplicate assignment: Graph answers 400 "Permission being assigned already exists on the object."
fn is_duplicate(e: &GraphError) -> bool {
    e.status() == Some(400) && e.message().is_some_and(|m| m.contains("already exists"))
}

async fn work(state: &AppState, run: &JobRun, p: &mut Progress) -> Result<(), Stop> {
    let graph = &state.graph;
    let auth0 = auth(state, run).await?;
    let sp = graph
        .service_principal_by_app_id(&auth0, &state.config.client_id)
        .await
        .map_err(graph_stop)?
        .ok_or_else(|| Stop("service_principal_not_found".into()))?;
    let users: Vec<DirUser> = graph
        .get_all_pages(
            &auth0,
            &Query::new().select(&["id", "displayName"]).top(999).apply("/users"),
            &PageOptions::default(),
        )
        .await
        .map_err(graph_stop)?;
    let assigned_path = format!("/servicePrincipals/{}/appRoleAssignedTo", seg(&sp.id));
    let assigned: Vec<Assignment> = graph
        .get_all_pages(
            &auth0,
            &Query::new().select(&["principalId", "appRoleId"]).top(999).apply(&assigned_path),
            &PageOptions::default(),
        )
        .await
        .map_err(graph_stop)?;
    // Any app role on the app grants access to it.
    let has_access: HashSet<String> = assigned.into_iter().filter_map(|a| a.principal_id).collect();
    let mut seen = HashSet::new();
    let missing: Vec<String> = users
        .into_iter()
        .map(|u| u.id)
        .filter(|id| seen.insert(id.clone()))
        .filter(|id| !has_access.contains(id))
        .collect();
    p.total = i64::try_from(seen.len()).unwrap_or(i64::MAX);
    p.already = p.total - i64::try_from(missing.len()).unwrap_or(0);
    progress(state, run, p).await?;

    for chunk in missing.chunks(BATCH) {
        let requests: Vec<BatchRequest> = chunk
            .iter()
            .enumerate()
            .map(|(i, user)| {
                BatchRequest::new(i.to_string(), reqwest::Method::POST, assigned_path.clone()).with_json_body(
                    serde_json::json!({"principalId": user, "resourceId": sp.id, "appRoleId": DEFAULT_ACCESS_ROLE}),
                )
            })
            .collect();
        // The access token is refreshed between batches when it is about to expire.
        let auth = auth(state, run).await?;
        let results = graph.batch(&auth, requests).await.map_err(graph_stop)?;
        for item in results.items {
            match item.result {
                Ok(_) => p.done += 1,
                Err(e) if is_duplicate(&e) => p.already += 1,
                Err(e) => {
                    p.failed += 1;
                    p.last_error = Some(match (e.code(), e.status()) {
                        (Some(c), Some(s)) => format!("{c} (HTTP {s})"),
                        (Some(c), None) => c.to_owned(),
                        (None, Some(s)) => format!("HTTP {s}"),
                        (None, None) => "unknown".to_owned(),
                    });
                }
            }
        }
        progress(state, run, p).await?;
    }
    Ok(())
}
