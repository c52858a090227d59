//! Cross-cutting middleware: security headers (R-A19), metrics, request id header.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing_actix_web::RequestId;

use crate::state::AppState;

/// CSP for JSON responses: nothing may load, nothing may frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// CSP for the self-hosted API docs page (Swagger UI needs inline styles; scripts are files).
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                        connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// Adds the security headers to every response, and `Cache-Control: no-store` under `/api`.
///
/// # Errors
/// Errors of the inner service (passed through).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.is_https());
    let path = req.path().to_owned();
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    // Inner middleware answer refusals as responses (not errors), so they get these headers too.
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin"));
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    let is_docs = path == "/api/docs" || path.starts_with("/api/docs/");
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(if is_docs { DOCS_CSP } else { API_CSP }));
    }
    // API answers are never cached, unless a handler chose otherwise (photos: private, 1 h).
    if (path.starts_with("/api/") && !is_docs || path == "/metrics") && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        h.insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}

/// How long the Graph calls of one user request may keep retrying throttled or failed calls
/// (429 `Retry-After`, 503/504, connection failures) before the request answers 503
/// `microsoft_unavailable`: bounded by time, not by a count of retries (issue 18 §5).
pub const GRAPH_RETRY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Counts requests and their latency per route pattern and status, and runs the request
/// within its Graph retry deadline.
///
/// # Errors
/// Errors of the inner service (passed through).
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    // Every Graph call of this request retries within one time budget (issue 18 §5).
    let res = edu_msgraph::with_deadline(GRAPH_RETRY_DEADLINE, next.call(req)).await?;
    if let Some(state) = state {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.observe_request(&method, &route, res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// An empty query parameter (`?cursor=&q=`) is the same as an absent one, as in an HTML form
/// left blank: it is removed before any handler reads the query (issue 17.12: a schema-valid
/// request is not refused). Parameters with a value keep their order and spelling.
///
/// # Errors
/// Errors of the inner service (passed through).
pub async fn drop_empty_query_params(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(uri) = without_empty_params(req.uri()) {
        req.head_mut().uri = uri;
    }
    next.call(req).await
}

/// The URI without its empty query parameters, or `None` when it has none.
fn without_empty_params(uri: &actix_web::http::Uri) -> Option<actix_web::http::Uri> {
    let query = uri.query()?;
    let is_empty_param = |p: &&str| p.is_empty() || p.ends_with('=') && !p[..p.len() - 1].contains('=');
    if !query.split('&').any(|p| is_empty_param(&p)) {
        return None;
    }
    let kept: Vec<&str> = query.split('&').filter(|p| !is_empty_param(p)).collect();
    let path = uri.path();
    let path_and_query = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    actix_web::http::Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod empty_query_tests {
    use super::without_empty_params;

    fn strip(s: &str) -> Option<String> {
        without_empty_params(&s.parse().unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn empty_parameters_are_dropped_and_others_kept_in_order() {
        assert_eq!(strip("/api/classes?q=&cursor=").as_deref(), Some("/api/classes"));
        assert_eq!(strip("/api/x?a=1&b=&c=3").as_deref(), Some("/api/x?a=1&c=3"));
        assert_eq!(strip("/api/x?a=1&&c=%20").as_deref(), Some("/api/x?a=1&c=%20"));
        assert_eq!(strip("/api/x?a=1&c=3"), None);
        assert_eq!(strip("/api/x"), None);
        // `a==` has the value "=": kept.
        assert_eq!(strip("/api/x?a=="), None);
    }
}
