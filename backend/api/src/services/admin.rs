//! Shared pieces of the tenant admin console: the admin's Graph access, the audit
//! helper, opaque paging cursors, id checks and the reading of Graph's refusals. Route
//! modules: `admin_users`, `admin_groups`, `admin_licenses`, `admin_bulk`,
//! `admin_local_accounts`, `admin_audit`; the bulk jobs in `crate::jobs`.
//!
//! Which token: the admin's own **delegated** token (as `admin_jobs` does). The consent grants
//! the app delegated `User.ReadWrite.All`, `Group.ReadWrite.All`, `GroupMember.ReadWrite.All`
//! and `Directory.Read.All`, and Microsoft then also checks the signed-in person's directory
//! role: every write is done *as the admin*, limited to what that admin may do in Entra ID,
//! and only ever in the admin's own tenant (the token's tenant). Another tenant's ids are
//! simply not found by Graph (404).

use edu_msgraph::models::Group;
use edu_msgraph::{GraphAuth, GraphError};

use crate::auth::class_access::DelegatedGraph;
use crate::auth::roles::TenantAdmin;
use crate::cursor::{self, CursorScope};
use crate::error::{ApiError, ErrorCode, admin_graph_error};
use crate::state::AppState;

/// The admin's delegated Graph access and their Microsoft object id.
pub(crate) struct AdminGraph {
    /// For Graph calls.
    pub auth: GraphAuth,
    /// The admin's own object id in the directory.
    pub oid: String,
}

/// The signed-in admin's delegated Graph token (refreshed when needed).
pub(crate) async fn admin_graph(state: &AppState, admin: &TenantAdmin) -> Result<AdminGraph, ApiError> {
    let d = DelegatedGraph::for_member(state, &admin.0).await?;
    Ok(AdminGraph { auth: d.auth, oid: d.oid })
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
    audit_named(state, admin, action, target, None, result, detail).await
}

/// [`audit`] with the target's name, when the handler has it (issue 16: the log speaks people).
pub(crate) async fn audit_named(
    state: &AppState,
    admin: &TenantAdmin,
    action: &str,
    target: Option<(&str, &str)>,
    target_name: Option<&str>,
    result: &str,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    edu_db::audit::record_named(
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
        target_name,
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
    if let Err(e) = audit(state, admin, action, target, "failure", Some(err.code().as_str())).await {
        tracing::error!(error = %e, audit.action = action, "audit event could not be written");
    }
    err
}

/// A Graph object id from a path: GUID-like characters only; anything else is not found.
pub(crate) fn object_id(id: &str) -> Result<&str, ApiError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok { Ok(id) } else { Err(ApiError::not_found(ErrorCode::NotFound, "There is no such object in your school.")) }
}

/// An opaque cursor: a Graph nextLink signed for this admin and list, so a client never hands
/// us a URL of its own (the same scheme as the class list's cursors).
pub(crate) fn seal_cursor(state: &AppState, admin: &TenantAdmin, purpose: &str, link: &str) -> String {
    cursor::seal(state, CursorScope::Admin, admin.0.auth.user_id, purpose, link)
}

/// The Graph link inside a cursor made by [`seal_cursor`] for this admin and list.
pub(crate) fn open_cursor(
    state: &AppState,
    admin: &TenantAdmin,
    purpose: &str,
    cursor: &str,
) -> Result<String, ApiError> {
    cursor::open(state, CursorScope::Admin, admin.0.auth.user_id, purpose, cursor)
}

/// A search term for Graph's `$search="property:term"`: quotes and backslashes removed,
/// trimmed, at most 100 characters; empty → none.
pub(crate) fn search_term(s: Option<&str>) -> Option<String> {
    let t: String = s?.chars().filter(|c| !matches!(c, '"' | '\\')).take(100).collect();
    let t = t.trim().to_owned();
    (!t.is_empty()).then_some(t)
}

/// 404 for a group that is not the admin's tenant's.
pub(crate) fn no_group() -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, "There is no such group in your school.")
}

/// Checks that the group exists in the admin's tenant (404 otherwise).
pub(crate) async fn require_group(state: &AppState, auth: &GraphAuth, id: &str) -> Result<Group, ApiError> {
    state
        .graph
        .get_group(auth, id, &["id", "displayName"])
        .await
        .map_err(|e| if e.is_not_found() { no_group() } else { admin_graph_error(e) })
}

/// Whether Graph's 400 says the reference already exists ("One or more added object
/// references already exist for the following modified properties: 'members'.").
pub(crate) fn is_already_member(e: &GraphError) -> bool {
    e.status() == Some(400) && e.message().is_some_and(|m| m.contains("already exist"))
}

/// What a failed licence assignment means for the admin.
pub(crate) enum LicenseFailure {
    /// No unit of the SKU is left.
    NoneLeft,
    /// The person has no usage location.
    UsageLocation,
    /// Not a SKU of the tenant.
    UnknownSku,
    /// No such person.
    NotFound,
    /// Anything else: Graph's own error.
    Other,
}

/// Reads Graph's refusal of a licence assignment.
pub(crate) fn classify(e: &GraphError) -> LicenseFailure {
    let m = e.message().unwrap_or_default();
    if e.is_not_found() {
        LicenseFailure::NotFound
    } else if e.status() != Some(400) {
        LicenseFailure::Other
    } else if m.contains("does not have any available licenses") {
        LicenseFailure::NoneLeft
    } else if m.contains("usage location") {
        LicenseFailure::UsageLocation
    } else if m.contains("does not correspond to a valid company License") {
        LicenseFailure::UnknownSku
    } else {
        LicenseFailure::Other
    }
}
