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

/// The process can serve requests: the database answers and no stop signal has arrived.
#[utoipa::path(operation_id = "get_readyz", tag = "ops", responses(
    (status = 200, body = HealthResponse),
    (status = 503, description = "`service_unavailable` (the database is unreachable) or `shutting_down` (SIGTERM received; draining)", body = crate::error::ErrorBody),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<HealthResponse>, ApiError> {
    if state.is_draining() {
        return Err(ApiError::ShuttingDown);
    }
    state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed: database unreachable");
        ApiError::Unavailable
    })?;
    Ok(web::Json(HealthResponse { status: "ok" }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(operation_id = "get_metrics", tag = "ops", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.hasher.threads()))
}
