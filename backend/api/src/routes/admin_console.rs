//! Shared pieces of the tenant admin console (issue 7): the admin's Graph access, the audit
//! helper, opaque paging cursors and id checks. Route modules: `admin_users`, `admin_groups`,
//! `admin_licenses`, `admin_bulk`, `admin_local_accounts`, `admin_audit`.
//!
//! Which token: the admin's own **delegated** token (as `admin_jobs` does). The consent grants
//! the app delegated `User.ReadWrite.All`, `Group.ReadWrite.All`, `GroupMember.ReadWrite.All`
//! and `Directory.Read.All`, and Microsoft then also checks the signed-in person's directory
//! role: every write is done *as the admin*, limited to what that admin may do in Entra ID,
//! and only ever in the admin's own tenant (the token's tenant). Another tenant's ids are
//! simply not found by Graph (404).

use base64::Engine as _;
use edu_msgraph::GraphAuth;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::auth::roles::TenantAdmin;
use crate::error::ApiError;
use crate::state::{AppState, derive_key};

/// The admin's delegated Graph access and their Microsoft object id.
pub(crate) struct AdminGraph {
    /// For Graph calls.
    pub auth: GraphAuth,
    /// The admin's own object id in the directory.
    pub oid: String,
}

/// The signed-in admin's delegated Graph token (refreshed when needed).
pub(crate) async fn admin_graph(state: &AppState, admin: &TenantAdmin) -> Result<AdminGraph, ApiError> {
    let identity =
        edu_db::identities::of_user(&state.db, admin.0.auth.user_id).await?.ok_or(ApiError::MicrosoftSignInRequired)?;
    let token = crate::microsoft::tokens::access_token(
        state,
        admin.0.tenant_id,
        &identity.ms_tenant_id,
        &identity.ms_object_id,
    )
    .await?;
    Ok(AdminGraph { auth: GraphAuth::delegated(identity.ms_tenant_id.clone(), token), oid: identity.ms_object_id })
}

/// Records an admin action of the tenant. `detail` never holds secrets, tokens or passwords.
pub(crate) async fn audit(
    state: &AppState,
    admin: &TenantAdmin,
    action: &str,
    target: Option<(&str, &str)>,
    result: &str,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(admin.0.tenant_id),
            actor: Some(admin.0.auth.user_id),
            action,
            target_type: target.map(|t| t.0),
            target_id: target.map(|t| t.1.chars().take(64).collect()),
            result,
            detail,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// Records a refused or failed admin action, then returns the error (the failure is what the
/// admin sees; a failing audit write is logged, not shown instead).
pub(crate) async fn audit_failure(
    state: &AppState,
    admin: &TenantAdmin,
    action: &str,
    target: Option<(&str, &str)>,
    err: ApiError,
) -> ApiError {
    if let Err(e) = audit(state, admin, action, target, "failure", Some(err.code())).await {
        tracing::error!(error = %e, audit.action = action, "audit event could not be written");
    }
    err
}

/// A Graph object id from a path: GUID-like characters only; anything else is not found.
pub(crate) fn object_id(id: &str) -> Result<&str, ApiError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok { Ok(id) } else { Err(ApiError::not_found("not_found", "There is no such object in your school.")) }
}

fn cursor_mac(state: &AppState, admin: &TenantAdmin, purpose: &str, link: &str) -> Vec<u8> {
    let key = derive_key(state.config.token_key.expose(), b"edugraph admin cursor v1");
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { return Vec::new() };
    mac.update(admin.0.auth.user_id.to_string().as_bytes());
    mac.update(b"\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(link.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// An opaque cursor: a Graph nextLink signed for this admin and list, so a client never hands
/// us a URL of its own (the same scheme as the class list's cursors).
pub(crate) fn seal_cursor(state: &AppState, admin: &TenantAdmin, purpose: &str, link: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}", b64.encode(link), b64.encode(cursor_mac(state, admin, purpose, link)))
}

/// The Graph link inside a cursor made by [`seal_cursor`] for this admin and list.
pub(crate) fn open_cursor(
    state: &AppState,
    admin: &TenantAdmin,
    purpose: &str,
    cursor: &str,
) -> Result<String, ApiError> {
    let bad =
        || ApiError::bad_request("invalid_cursor", "This \"next page\" link is not valid any more. Reload the list.");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (link, mac) = cursor.split_once('.').ok_or_else(bad)?;
    let link = String::from_utf8(b64.decode(link).map_err(|_| bad())?).map_err(|_| bad())?;
    let mac = b64.decode(mac).map_err(|_| bad())?;
    if bool::from(cursor_mac(state, admin, purpose, &link).ct_eq(&mac)) { Ok(link) } else { Err(bad()) }
}

/// A search term for Graph's `$search="property:term"`: quotes and backslashes removed,
/// trimmed, at most 100 characters; empty → none.
pub(crate) fn search_term(s: Option<&str>) -> Option<String> {
    let t: String = s?.chars().filter(|c| !matches!(c, '"' | '\\')).take(100).collect();
    let t = t.trim().to_owned();
    (!t.is_empty()).then_some(t)
}
