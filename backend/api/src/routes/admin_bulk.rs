//! Bulk operations of the tenant admin (issue 7): add many members to a group, assign a
//! licence to many people. Each is a background job like "enable user access"
//! (`admin_jobs`): 202 with the job, progress in `background_jobs` after every `$batch` of at
//! most 20 requests, one job of a kind per tenant at a time, throttled items retried by the
//! shared Graph client, and a per-item result (`done`, `already`, `failed` with Graph's code
//! and message) readable at `GET /api/admin/jobs/{id}/items`.

use std::collections::HashSet;

use actix_web::{HttpResponse, get, post, web};
use edu_db::jobs::{self, ItemResult, Progress};
use edu_domain::{TenantId, UserId};
use edu_msgraph::{BatchRequest, GraphAuth, GraphError, seg};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, admin_graph_error};
use crate::routes::admin_console::{admin_graph, audit, object_id};
use crate::routes::admin_groups::{is_already_member, require_group};
use crate::routes::admin_jobs::JobView;
use crate::routes::admin_licenses::{LicenseFailure, classify};
use crate::state::AppState;

/// Job kind: add many members to a group.
pub const BULK_ADD_MEMBERS: &str = "bulk_add_members";
/// Job kind: assign a licence to many people.
pub const BULK_ASSIGN_LICENSES: &str = "bulk_assign_licenses";
/// At most this many items per bulk request.
pub const MAX_ITEMS: usize = 1000;
const STALE_AFTER_MS: i64 = 15 * 60 * 1000;
const BATCH: usize = edu_msgraph::MAX_BATCH_SIZE;

/// Members to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAddMembersRequest {
    /// Graph ids of users (or groups) of the tenant, 1–1000 (duplicates are ignored).
    pub member_ids: Vec<String>,
}

/// People to license.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAssignLicenseRequest {
    /// The licence (SKU id) to assign.
    pub sku_id: String,
    /// Graph ids of users of the tenant, 1–1000 (duplicates are ignored).
    pub user_ids: Vec<String>,
}

/// What a bulk job does to each item.
#[derive(Clone)]
enum Op {
    AddMembers { group_id: String },
    AssignLicense { sku_id: String },
}

impl Op {
    fn kind(&self) -> &'static str {
        match self {
            Op::AddMembers { .. } => BULK_ADD_MEMBERS,
            Op::AssignLicense { .. } => BULK_ASSIGN_LICENSES,
        }
    }
    fn action(&self) -> &'static str {
        match self {
            Op::AddMembers { .. } => "admin.group.member.bulk_add",
            Op::AssignLicense { .. } => "admin.license.bulk_assign",
        }
    }
    fn request(&self, state: &AppState, i: usize, item: &str) -> Result<BatchRequest, GraphError> {
        Ok(match self {
            Op::AddMembers { group_id } => {
                let odata_id = state.graph.resolve(&format!("/directoryObjects/{}", seg(item)))?.to_string();
                BatchRequest::new(
                    i.to_string(),
                    reqwest::Method::POST,
                    format!("/groups/{}/members/$ref", seg(group_id)),
                )
                .with_json_body(serde_json::json!({ "@odata.id": odata_id }))
            }
            Op::AssignLicense { sku_id } => {
                BatchRequest::new(i.to_string(), reqwest::Method::POST, format!("/users/{}/assignLicense", seg(item)))
                    .with_json_body(serde_json::json!({
                        "addLicenses": [{"disabledPlans": [], "skuId": sku_id}],
                        "removeLicenses": [],
                    }))
            }
        })
    }
    /// Whether a failed item was in fact already done.
    fn already(&self, e: &GraphError) -> bool {
        matches!(self, Op::AddMembers { .. }) && is_already_member(e)
    }
}

fn item_ids(raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    if raw.is_empty() || raw.len() > MAX_ITEMS {
        return Err(ApiError::bad_request("invalid_body", format!("Send between 1 and {MAX_ITEMS} ids.")));
    }
    let mut seen = HashSet::new();
    let mut out = vec![];
    for id in raw {
        let ok = object_id(&id).is_ok();
        if !ok {
            return Err(ApiError::Validation422 { code: "invalid_id", message: format!("Not a valid id: {id:.40}") });
        }
        if seen.insert(id.to_lowercase()) {
            out.push(id);
        }
    }
    Ok(out)
}

async fn start(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    op: Op,
    target: (&str, &str),
    items: Vec<String>,
) -> Result<HttpResponse, ApiError> {
    let identity =
        edu_db::identities::of_user(&state.db, admin.0.auth.user_id).await?.ok_or(ApiError::MicrosoftSignInRequired)?;
    let now = state.clock.now_ms();
    let job = match jobs::create(
        &state.db,
        admin.0.tenant_id,
        op.kind(),
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
                "The same kind of bulk operation is already running for your school; wait for it to finish.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let detail = format!("started: {}={} items={}", target.0, target.1, items.len());
    if let Err(e) = audit(&state, &admin, op.action(), Some(("job", &job.id)), "success", Some(&detail)).await {
        let failed = Progress { last_error: Some("audit_failed".into()), ..Progress::default() };
        if let Err(db) = jobs::finish(&state.db, admin.0.tenant_id, &job.id, jobs::status::FAILED, &failed, now).await {
            tracing::error!(job.id = %job.id, error = %db, "could not record the end of a background job");
        }
        return Err(e);
    }
    tracing::info!(job.id = %job.id, job.kind = op.kind(), job.items = items.len(), "bulk job started");
    let run = Run {
        tenant: admin.0.tenant_id,
        admin: admin.0.auth.user_id,
        ms_tenant_id: identity.ms_tenant_id,
        admin_oid: identity.ms_object_id,
        job_id: job.id.clone(),
        op,
        items,
    };
    tokio::spawn(run_job(state.clone(), run));
    Ok(HttpResponse::Accepted().json(JobView::from(job)))
}

/// Adds many members to a group of the tenant, as a background job (`$batch`, 20 per request).
#[utoipa::path(operation_id = "bulk_add_admin_group_members", tag = "admin", params(("id" = String, Path, description = "Group id")),
    request_body = BulkAddMembersRequest, responses(
    (status = 202, description = "Started; poll `GET /api/admin/jobs/{id}`, results per item at `/items`", body = JobView),
    (status = 400, description = "`invalid_body`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (no such group in your school)", body = crate::error::ErrorBody),
    (status = 409, description = "`job_already_running`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_id`", body = crate::error::ErrorBody),
), security(("session" = []), ("csrf" = [])))]
#[post("/api/admin/groups/{id}/members/bulk")]
pub async fn bulk_add_admin_group_members(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
    body: web::Json<BulkAddMembersRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let id = object_id(&id)?.to_owned();
    let items = item_ids(body.into_inner().member_ids)?;
    let g = admin_graph(&state, &admin).await?;
    require_group(&state, &g.auth, &id).await?;
    let op = Op::AddMembers { group_id: id.clone() };
    start(state, admin, op, ("group", &id), items).await
}

/// Assigns one licence to many people of the tenant, as a background job (`$batch`, 20 per
/// request). People for whom no unit is left fail with `no_licenses_available`.
#[utoipa::path(operation_id = "bulk_assign_admin_licenses", tag = "admin",
    request_body = BulkAssignLicenseRequest, responses(
    (status = 202, description = "Started; poll `GET /api/admin/jobs/{id}`, results per item at `/items`", body = JobView),
    (status = 400, description = "`invalid_body`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 409, description = "`job_already_running`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_id`, `unknown_license`", body = crate::error::ErrorBody),
), security(("session" = []), ("csrf" = [])))]
#[post("/api/admin/licenses/bulk-assign")]
pub async fn bulk_assign_admin_licenses(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    body: web::Json<BulkAssignLicenseRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let items = item_ids(b.user_ids)?;
    let g = admin_graph(&state, &admin).await?;
    let sku = b.sku_id.to_lowercase();
    let skus = state.graph.subscribed_skus(&g.auth).await.map_err(admin_graph_error)?;
    if !skus.iter().any(|s| s.sku_id.eq_ignore_ascii_case(&sku)) {
        return Err(ApiError::Validation422 {
            code: "unknown_license",
            message: "This is not a licence of your school.".into(),
        });
    }
    let op = Op::AssignLicense { sku_id: sku.clone() };
    start(state, admin, op, ("license", &sku), items).await
}

/// The result of one item of a bulk job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobItemView {
    /// Position in the request (0-based).
    pub seq: i64,
    /// The id the item was about.
    pub item_id: String,
    /// `done`, `already` or `failed`.
    pub result: String,
    /// For a failure: the code (ours where we know it, e.g. `no_licenses_available`, else
    /// Graph's) and Graph's message.
    pub error: Option<String>,
}

/// A page of item results.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobItemsPage {
    /// Results in request order.
    pub items: Vec<JobItemView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// Paging of item results.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobItemsQuery {
    /// Only items after this `seq` (default: from the start).
    pub after: Option<i64>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<i64>,
}

/// Per-item results of a bulk job of the admin's tenant, as they are recorded.
#[utoipa::path(operation_id = "list_admin_job_items", tag = "admin",
    params(("id" = String, Path, description = "Job id"), JobItemsQuery), responses(
    (status = 200, body = JobItemsPage),
    (status = 400, description = "`invalid_query`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/jobs/{id}/items")]
pub async fn list_admin_job_items(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
    q: web::Query<JobItemsQuery>,
) -> Result<web::Json<JobItemsPage>, ApiError> {
    let id = path.into_inner();
    let job = jobs::get_in_tenant(&state.db, admin.0.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_found", "No such job in your tenant."))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", "limit must be between 1 and 500."));
    }
    let rows = jobs::items(&state.db, admin.0.tenant_id, &job.id, q.after.unwrap_or(-1), limit + 1).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let items: Vec<JobItemView> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|r| JobItemView { seq: r.seq, item_id: r.item_id, result: r.result, error: r.error })
        .collect();
    let next_after = if more { items.last().map(|i| i.seq) } else { None };
    Ok(web::Json(JobItemsPage { items, next_after }))
}

// ------------------------------------------------------------------ the job

struct Run {
    tenant: TenantId,
    admin: UserId,
    ms_tenant_id: String,
    admin_oid: String,
    job_id: String,
    op: Op,
    items: Vec<String>,
}

fn describe(op: &Op, e: &GraphError) -> String {
    let ours = match op {
        Op::AssignLicense { .. } => match classify(e) {
            LicenseFailure::NoneLeft => Some("no_licenses_available"),
            LicenseFailure::UsageLocation => Some("usage_location_required"),
            LicenseFailure::UnknownSku => Some("unknown_license"),
            LicenseFailure::NotFound => Some("not_found"),
            LicenseFailure::Other => None,
        },
        Op::AddMembers { .. } => e.is_not_found().then_some("not_found"),
    };
    let code = ours.or(e.code()).unwrap_or("error");
    match e.message() {
        Some(m) => format!("{code}: {m}"),
        None => code.to_owned(),
    }
}

async fn run_job(state: web::Data<AppState>, run: Run) {
    let started = std::time::Instant::now();
    let mut p = Progress { total: i64::try_from(run.items.len()).unwrap_or(i64::MAX), ..Progress::default() };
    let outcome = work(&state, &run, &mut p).await;
    let status = match outcome {
        Ok(()) => jobs::status::SUCCEEDED,
        Err(code) => {
            tracing::warn!(job.id = %run.job_id, error.code = %code, "bulk job failed");
            p.last_error = Some(code);
            jobs::status::FAILED
        }
    };
    if let Err(e) = jobs::finish(&state.db, run.tenant, &run.job_id, status, &p, state.clock.now_ms()).await {
        tracing::error!(job.id = %run.job_id, error = %e, "could not record the end of a background job");
    }
    let detail = format!("{status}: total={} done={} already={} failed={}", p.total, p.done, p.already, p.failed);
    let result = if status == jobs::status::SUCCEEDED { "success" } else { "failure" };
    let event = edu_db::audit::AuditEvent {
        tenant_id: Some(run.tenant),
        actor: Some(run.admin),
        action: run.op.action(),
        target_type: Some("job"),
        target_id: Some(run.job_id.clone()),
        result,
        detail: Some(&detail),
        at: state.clock.now_ms(),
    };
    if let Err(e) = edu_db::audit::record(&state.db, &event).await {
        tracing::error!(job.id = %run.job_id, error = %e, "could not audit the end of a background job");
    }
    tracing::info!(
        job.id = %run.job_id,
        job.kind = run.op.kind(),
        job.status = status,
        job.done = p.done,
        job.already = p.already,
        job.failed = p.failed,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "bulk job finished"
    );
}

async fn work(state: &AppState, run: &Run, p: &mut Progress) -> Result<(), String> {
    let progress = |p: Progress| async move {
        jobs::update_progress(&state.db, run.tenant, &run.job_id, &p, state.clock.now_ms()).await.map_err(|e| {
            tracing::error!(job.id = %run.job_id, error = %e, "could not record job progress");
            "database_error".to_owned()
        })
    };
    progress(p.clone()).await?;
    for (n, chunk) in run.items.chunks(BATCH).enumerate() {
        let base = n * BATCH;
        let requests = chunk
            .iter()
            .enumerate()
            .map(|(i, item)| run.op.request(state, base + i, item))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| admin_graph_error(e).code().to_owned())?;
        // The admin's token, refreshed between batches when it is about to expire.
        let token = crate::microsoft::tokens::access_token(state, run.tenant, &run.ms_tenant_id, &run.admin_oid)
            .await
            .map_err(|e| e.code().to_owned())?;
        let auth = GraphAuth::delegated(run.ms_tenant_id.clone(), token);
        let results = state.graph.batch(&auth, requests).await.map_err(|e| {
            let api = admin_graph_error(e);
            api.code().to_owned()
        })?;
        let mut rows = vec![];
        for item in results.items {
            let seq: usize = item.id.parse().unwrap_or(usize::MAX);
            let item_id = run.items.get(seq).cloned().unwrap_or_default();
            let (result, error) = match &item.result {
                Ok(_) => {
                    p.done += 1;
                    ("done", None)
                }
                Err(e) if run.op.already(e) => {
                    p.already += 1;
                    ("already", None)
                }
                Err(e) => {
                    p.failed += 1;
                    let d = describe(&run.op, e);
                    p.last_error = Some(d.split(':').next().unwrap_or_default().to_owned());
                    ("failed", Some(d))
                }
            };
            rows.push(ItemResult {
                seq: i64::try_from(seq).unwrap_or(i64::MAX),
                item_id,
                result: result.to_owned(),
                error,
            });
        }
        rows.sort_by_key(|r| r.seq);
        jobs::record_items(&state.db, run.tenant, &run.job_id, &rows).await.map_err(|e| {
            tracing::error!(job.id = %run.job_id, error = %e, "could not record item results");
            "database_error".to_owned()
        })?;
        progress(p.clone()).await?;
    }
    Ok(())
}
