//! The "Enable user access" job: grants the app's default access role to every user of the
//! tenant who lacks it, with the admin's delegated token (refreshed between batches), through
//! `$batch`, 20 per batch, recording progress after every batch. Started by
//! `routes::admin_jobs::enable_user_access`.

use std::collections::HashSet;

use actix_web::web;
use edu_db::jobs::{self, Progress};
use edu_domain::{TenantId, UserId};
use edu_msgraph::{BatchRequest, GraphAuth, GraphError, PageOptions, Query, seg};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// The job kind of "Enable user access".
pub const ENABLE_USER_ACCESS: &str = "enable_user_access";
/// The default access role: the `appRoleId` that grants access to an app without app roles.
pub const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";
/// Assignments per `$batch` request (Graph's limit).
const BATCH: usize = edu_msgraph::MAX_BATCH_SIZE;
pub(crate) const AUDIT_ACTION: &str = "admin.user_access.enable";

/// Records an event of the job in the audit log.
pub(crate) async fn audit(
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

/// One run of "Enable user access" for a tenant, as the admin who started it.
pub(crate) struct JobRun {
    /// The tenant.
    pub tenant: TenantId,
    /// Its Microsoft tenant id.
    pub ms_tenant_id: String,
    /// The admin's Microsoft object id (whose delegated token the job uses).
    pub admin_oid: String,
    /// The admin.
    pub admin: UserId,
    /// The job.
    pub job_id: String,
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
    let api = ApiError::from(e);
    Stop(match (graph_code, status) {
        (Some(c), _) => format!("{}: {c}", api.code()),
        (None, Some(s)) => format!("{}: HTTP {s}", api.code()),
        (None, None) => api.code().as_str().to_owned(),
    })
}

fn api_stop(e: &ApiError) -> Stop {
    Stop(e.code().as_str().to_owned())
}

/// Runs the job to its end, recording progress, the outcome and its audit event.
pub(crate) async fn run_job(state: web::Data<AppState>, run: JobRun) {
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
    super::admin_auth(state, run.tenant, &run.ms_tenant_id, &run.admin_oid).await.map_err(|e| api_stop(&e))
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
