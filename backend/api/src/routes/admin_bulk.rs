//! Bulk operations of the tenant admin: add many members to a group, assign a
//! licence to many people. Each is a background job like "enable user access"
//! (`admin_jobs`): 202 with the job, progress in `background_jobs` after every `$batch` of at
//! most 20 requests, one job of a kind per tenant at a time, throttled items retried by the
//! shared Graph client, and a per-item result (`done`, `already`, `failed` with Graph's code
//! and message) readable at `GET /api/admin/jobs/{id}/items`.

use std::collections::HashSet;

use actix_web::{HttpResponse, get, post, web};
use edu_db::jobs::{self, Progress};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::class_access::DelegatedGraph;
use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode, admin_graph_error};
use crate::jobs::bulk::{Op, Run, run_job};
use crate::jobs::{JobView, STALE_AFTER_MS};
use crate::services::admin::{admin_graph, audit, object_id, require_group};
use crate::state::AppState;

/// At most this many items per bulk request.
pub const MAX_ITEMS: usize = 1000;

/// Members to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAddMembersRequest {
    /// People (or groups) of the tenant, 1–1000: Graph ids, or sign-in names (UPNs, e.g.
    /// pasted emails), looked up with `$batch`es (duplicates are ignored).
    #[schema(min_items = 1, max_items = 1000, value_type = Vec<PersonRef>)]
    pub member_ids: Vec<String>,
}

/// A person (or group) given by Graph id or sign-in name (`name@domain`): documentation of the
/// accepted shape of `member_ids` / `user_ids` items.
#[derive(ToSchema)]
#[schema(value_type = String, max_length = 320, pattern = r#"^\s*([A-Za-z0-9-]{1,64}|[A-Za-z0-9'._!#^~+-]*[A-Za-z0-9'._!#^~+-]@[A-Za-z0-9-]*\.[A-Za-z0-9.-]*)\s*$"#)]
#[allow(dead_code)]
pub struct PersonRef(String);

/// People to license.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAssignLicenseRequest {
    /// The licence (SKU id) to assign.
    pub sku_id: String,
    /// People of the tenant, 1–1000: Graph ids, or sign-in names (UPNs, e.g. pasted emails),
    /// looked up with `$batch`es (duplicates are ignored).
    #[schema(min_items = 1, max_items = 1000, value_type = Vec<PersonRef>)]
    pub user_ids: Vec<String>,
}

/// A sign-in name (`name@domain`) that may be looked up as `/users/{upn}` (issue 16: people are
/// given by name or email, never only by object id).
fn is_upn(v: &str) -> bool {
    let Some((name, domain)) = v.split_once('@') else { return false };
    !name.is_empty()
        && domain.contains('.')
        && v.len() <= 320
        && !name.starts_with('$')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~+".contains(c))
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
}

fn item_ids(raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    if raw.is_empty() || raw.len() > MAX_ITEMS {
        return Err(ApiError::bad_request(ErrorCode::InvalidBody, format!("Send between 1 and {MAX_ITEMS} people.")));
    }
    let mut seen = HashSet::new();
    let mut out = vec![];
    for id in raw {
        let id = id.trim().to_owned();
        if object_id(&id).is_err() && !is_upn(&id) {
            return Err(ApiError::Validation422 {
                code: ErrorCode::InvalidId,
                message: format!("Neither an id nor a sign-in name (name@school): {id:.60}"),
            });
        }
        if seen.insert(id.to_lowercase()) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Sign-in names replaced by the people's ids: one `GET /users/{upn}` per name, in `$batch`es
/// of 20 (never one round trip per person). Names nobody in the school has are refused
/// together, by name, so the admin can correct the list; nothing starts then.
async fn resolve_upns(
    state: &AppState,
    auth: &edu_msgraph::GraphAuth,
    items: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let names: Vec<&String> = items.iter().filter(|i| is_upn(i)).collect();
    if names.is_empty() {
        return Ok(items);
    }
    let mut batch = edu_msgraph::Batch::new();
    let parts: Vec<_> = names
        .iter()
        .map(|n| {
            batch.add(
                edu_msgraph::GraphReq::<edu_msgraph::models::User>::get(format!("/users/{}", edu_msgraph::seg(n)))
                    .select(&["id"]),
            )
        })
        .collect();
    let mut answers = state.graph.send_batch(auth, batch).await.map_err(admin_graph_error)?;
    let mut found = std::collections::HashMap::new();
    let mut unknown = vec![];
    for (name, part) in names.iter().zip(parts) {
        match answers.take(part) {
            Ok(u) if !u.id.is_empty() => {
                found.insert(name.to_lowercase(), u.id);
            }
            _ => unknown.push(name.as_str()),
        }
    }
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown.iter().take(5).copied().collect();
        let more = if unknown.len() > 5 { format!(" and {} more", unknown.len() - 5) } else { String::new() };
        return Err(ApiError::Validation422 {
            code: ErrorCode::InvalidId,
            message: format!("Nobody in your school signs in as {}{more}. Check the spelling.", shown.join(", ")),
        });
    }
    let mut seen = HashSet::new();
    Ok(items
        .into_iter()
        .map(|i| if is_upn(&i) { found.get(&i.to_lowercase()).cloned().unwrap_or(i) } else { i })
        .filter(|i| seen.insert(i.to_lowercase()))
        .collect())
}

async fn start(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    op: Op,
    target: (&str, &str),
    items: Vec<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = DelegatedGraph::for_member(&state, &admin.0).await?;
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
                ErrorCode::JobAlreadyRunning,
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
        ms_tenant_id: caller.auth.tenant_id().to_owned(),
        admin_oid: caller.oid,
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
), security(("session" = [], "csrf" = [])))]
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
    let items = resolve_upns(&state, &g.auth, items).await?;
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
), security(("session" = [], "csrf" = [])))]
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
            code: ErrorCode::UnknownLicense,
            message: "This is not a licence of your school.".into(),
        });
    }
    let items = resolve_upns(&state, &g.auth, items).await?;
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
    #[param(minimum = 1, maximum = 500)]
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
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such job in your tenant."))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "limit must be between 1 and 500."));
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
