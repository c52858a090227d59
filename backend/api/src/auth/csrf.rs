//! CSRF protection for every state-changing request (R-A15).
//!
//! A request that is not GET/HEAD/OPTIONS must (a) come from an allowed origin when the
//! browser says where it comes from (`Sec-Fetch-Site`, else `Origin`), and (b) carry an
//! `X-CSRF-Token` header equal to the HMAC bound to its session cookie, or for anonymous
//! requests (sign-in, register) to its pre-session cookie. Both cookies are HttpOnly, so
//! another site can neither read nor compute the token.

use actix_web::ResponseError as _;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use subtle::ConstantTimeEq;

use crate::auth::session::{PRE_SESSION_COOKIE, SESSION_COOKIE, csrf_token};
use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying the token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Paths reached by a cross-site POST on purpose, protected by their own one-time `state`
/// instead (the Microsoft sign-in callback with `response_mode=form_post`).
const EXEMPT: &[&str] = &["/auth/microsoft/callback", "/auth/microsoft/consent/callback"];

fn origin_allowed(req: &ServiceRequest, state: &AppState) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) {
        return state.allowed_origins.iter().any(|o| o == origin);
    }
    // Neither header: not a browser (browsers send Origin on every cross-origin POST).
    // The token below is still required.
    true
}

fn token_valid(req: &ServiceRequest, state: &AppState) -> bool {
    let Some(sent) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let key = state.csrf_key();
    let candidates = [("sid", SESSION_COOKIE), ("pre", PRE_SESSION_COOKIE)];
    candidates.iter().any(|(purpose, name)| {
        req.cookie(name).is_some_and(|c| {
            let expected = csrf_token(key, purpose, c.value());
            expected.as_bytes().ct_eq(sent.as_bytes()).into()
        })
    })
}

fn check(req: &ServiceRequest) -> Result<(), ApiError> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || EXEMPT.contains(&req.path()) {
        return Ok(());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(ApiError::internal(anyhow::anyhow!("no state")));
    };
    if !origin_allowed(req, state) {
        tracing::warn!(http.path = req.path(), "state-changing request from a foreign origin refused");
        return Err(ApiError::Csrf("This request came from another site and was refused."));
    }
    if !token_valid(req, state) {
        tracing::warn!(http.path = req.path(), "state-changing request without a valid CSRF token refused");
        return Err(ApiError::Csrf(
            "The request is missing a valid X-CSRF-Token header. Reload the page and try again.",
        ));
    }
    Ok(())
}

/// The middleware. A refusal is answered here (403 `csrf_failed`) as a response, not an
/// error, so the outer middleware still add their headers to it.
///
/// # Errors
/// Errors of the inner service (passed through).
pub async fn csrf_protect(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match check(&req) {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
}
