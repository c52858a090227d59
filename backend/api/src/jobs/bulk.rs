//! The bulk jobs of the tenant admin: add many members to a group, assign a licence to many
//! people, `$batch` by `$batch` (20 items each), recording per-item results and progress.
//! Started by `routes::admin_bulk`.

use actix_web::web;
use edu_db::jobs::{self, ItemResult, Progress};
use edu_domain::{TenantId, UserId};
use edu_msgraph::{BatchRequest, GraphError, seg};

use crate::error::admin_graph_error;
use crate::services::admin::{LicenseFailure, classify, is_already_member};
use crate::state::AppState;

/// Job kind: add many members to a group.
pub const BULK_ADD_MEMBERS: &str = "bulk_add_members";
/// Job kind: assign a licence to many people.
pub const BULK_ASSIGN_LICENSES: &str = "bulk_assign_licenses";
const BATCH: usize = edu_msgraph::MAX_BATCH_SIZE;

/// What a bulk job does to each item.
#[derive(Clone)]
pub(crate) enum Op {
    /// Add each item to the group.
    AddMembers {
        /// The group.
        group_id: String,
    },
    /// Assign the SKU to each item.
    AssignLicense {
        /// The licence.
        sku_id: String,
    },
}

impl Op {
    /// The job kind.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Op::AddMembers { .. } => BULK_ADD_MEMBERS,
            Op::AssignLicense { .. } => BULK_ASSIGN_LICENSES,
        }
    }
    /// The audit action.
    pub(crate) fn action(&self) -> &'static str {
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

/// One run of a bulk job, as the admin who started it.
pub(crate) struct Run {
    /// The tenant.
    pub tenant: TenantId,
    /// The admin.
    pub admin: UserId,
    /// The tenant's Microsoft id.
    pub ms_tenant_id: String,
    /// The admin's Microsoft object id (whose delegated token the job uses).
    pub admin_oid: String,
    /// The job.
    pub job_id: String,
    /// What to do to each item.
    pub op: Op,
    /// The items, in request order.
    pub items: Vec<String>,
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

/// Runs the job to its end, recording per-item results, progress, the outcome and its audit
/// event.
pub(crate) async fn run_job(state: web::Data<AppState>, run: Run) {
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
            .map_err(|e| admin_graph_error(e).code().as_str().to_owned())?;
        // The admin's token, refreshed between batches when it is about to expire.
        let auth = super::admin_auth(state, run.tenant, &run.ms_tenant_id, &run.admin_oid)
            .await
            .map_err(|e| e.code().as_str().to_owned())?;
        let results = state.graph.batch(&auth, requests).await.map_err(|e| {
            let api = admin_graph_error(e);
            api.code().as_str().to_owned()
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
