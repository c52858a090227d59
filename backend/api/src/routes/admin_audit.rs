//! The tenant's audit log for its admins: every admin action, consent, sign-in,
//! link, unlink and profile change of the tenant — who, what, target, when, result — newest
//! first, filtered and paged. Details never hold secrets, tokens or passwords (they are never
//! written; see `edu_db::audit`).

use actix_web::{get, web};
use base64::Engine as _;
use edu_domain::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Event id.
    pub id: String,
    /// When, unix ms.
    pub at: i64,
    /// Who (our user id), if known.
    pub actor_user_id: Option<String>,
    /// What, e.g. `admin.user.create`, `tenant.consent`, `link.microsoft`, `profile.update`.
    pub action: String,
    /// Kind of target, e.g. `user`, `group`, `job`.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub result: String,
    /// Short detail (no personal data or secrets).
    pub detail: Option<String>,
    /// Who acted, by name, as recorded with the event (issue 16).
    pub actor_name: Option<String>,
    /// The target's name, as recorded with the event, when it is a person or a class.
    pub target_name: Option<String>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for older events; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An action (`admin.user.create`) or a prefix ending with a dot (`admin.`).
    pub action: Option<String>,
    /// Only events by this person (our user id).
    pub actor: Option<String>,
    /// `success`, `failure` or `denied`.
    #[param(pattern = "^(success|failure|denied)$")]
    pub result: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidCursor, "This \"older events\" link is not valid. Reload the log.")
}

fn encode_cursor(at: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at}:{id}"))
}

fn decode_cursor(c: &str) -> Result<(i64, String), ApiError> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad_cursor())?;
    let s = String::from_utf8(raw).map_err(|_| bad_cursor())?;
    let (at, id) = s.split_once(':').ok_or_else(bad_cursor)?;
    let at = at.parse().map_err(|_| bad_cursor())?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(bad_cursor());
    }
    Ok((at, id.to_owned()))
}

/// The tenant's audit log, newest first.
#[utoipa::path(operation_id = "list_admin_audit", tag = "admin", params(AuditQuery), responses(
    (status = 200, body = AuditPage),
    (status = 400, description = "`invalid_query`, `invalid_cursor`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/audit")]
pub async fn list_admin_audit(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    q: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "limit must be between 1 and 200."));
    }
    let action = q.action.as_deref().filter(|a| !a.is_empty());
    if action.is_some_and(|a| a.len() > 64 || !a.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "action is a dotted name such as admin.user.create.",
        ));
    }
    let actor = match q.actor.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => {
            Some(UserId::parse(a).map_err(|_| ApiError::bad_request(ErrorCode::InvalidQuery, "actor is a user id."))?)
        }
        None => None,
    };
    let result = q.result.as_deref().filter(|r| !r.is_empty());
    if result.is_some_and(|r| !["success", "failure", "denied"].contains(&r)) {
        return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "result is success, failure or denied."));
    }
    let before = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = edu_db::audit::for_tenant(
        &state.db,
        admin.0.tenant_id,
        &edu_db::audit::TenantQuery { action, actor, result, before, limit: limit + 1 },
    )
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let items: Vec<AuditEntry> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|r| AuditEntry {
            id: r.id,
            at: r.created_at,
            actor_user_id: r.actor_user_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            result: r.result,
            detail: r.detail,
            actor_name: r.actor_name,
            target_name: r.target_name,
        })
        .collect();
    let next_cursor = if more { items.last().map(|e| encode_cursor(e.at, &e.id)) } else { None };
    Ok(web::Json(AuditPage { items, next_cursor }))
}
