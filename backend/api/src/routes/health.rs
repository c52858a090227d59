//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// Health status.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up (no dependency is checked).
#[utoipa::path(operation_id = "get_healthz", tag = "ops", responses((status = 200, body = HealthResponse)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<HealthResponse> {
    web::Json(HealthResponse { status: "ok" })
}

/// How long `/readyz` waits for the database.
const READYZ_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(900);

/// The process can serve requests: the database answers and no stop signal has arrived.
#[utoipa::path(operation_id = "get_readyz", tag = "ops", responses(
    (status = 200, body = HealthResponse),
    (status = 503, description = "`database_unavailable` (the database does not answer within 900 ms) or `shutting_down` (SIGTERM received; draining)", body = crate::error::ErrorBody),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<HealthResponse>, ApiError> {
    if state.is_draining() {
        return Err(ApiError::ShuttingDown);
    }
    // Within 1 s whatever the database does (a probe with a 2 s timeout must see a 503).
    match tokio::time::timeout(READYZ_DB_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed: database unreachable");
            return Err(ApiError::DatabaseUnavailable);
        }
        Err(_) => {
            tracing::warn!("readiness check failed: the database did not answer in time");
            return Err(ApiError::DatabaseUnavailable);
        }
    }
    Ok(web::Json(HealthResponse { status: "ok" }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(operation_id = "get_metrics", tag = "ops", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut body = state.metrics.render(state.hasher.threads());
    sync_staleness(&state, &mut body).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body)
}

/// The sync job's freshness per consented tenant and stream (R-C5: alert when a tenant's
/// last progress is older than a day): the age of the last committed page or completed round,
/// read from the shared database at scrape time (one small query), so every replica reports
/// the same values. Labels are Microsoft tenant ids and stream names, nothing personal.
async fn sync_staleness(state: &AppState, out: &mut String) {
    use std::fmt::Write as _;
    let statuses = match edu_db::sync::stream_statuses(&state.db, None).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: sync status unavailable");
            return;
        }
    };
    let now = state.clock.now_ms();
    out.push_str(
        "# HELP edugraph_sync_last_progress_age_seconds Seconds since edugraph-sync last committed progress \
         (a page or a completed round) for a tenant's stream.\n",
    );
    out.push_str("# TYPE edugraph_sync_last_progress_age_seconds gauge\n");
    for s in &statuses {
        let age = (now - s.updated_at).max(0) / 1000;
        let _ = writeln!(
            out,
            "edugraph_sync_last_progress_age_seconds{{tenant=\"{}\",stream=\"{}\"}} {age}",
            s.ms_tenant_id, s.stream
        );
    }
    out.push_str("# HELP edugraph_sync_last_round_failed 1 when the stream's last recorded attempt failed.\n");
    out.push_str("# TYPE edugraph_sync_last_round_failed gauge\n");
    for s in &statuses {
        let _ = writeln!(
            out,
            "edugraph_sync_last_round_failed{{tenant=\"{}\",stream=\"{}\"}} {}",
            s.ms_tenant_id,
            s.stream,
            u8::from(s.last_error.is_some())
        );
    }
}
