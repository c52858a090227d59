//! The tenant admin's consent and link management (tenant-scoped: an admin acts only on
//! their own tenant; another tenant's ids answer 404 and change nothing, R-A20).

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::roles::TenantAdmin;
use crate::auth::session::{self, SESSION_COOKIE};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The tenant as its admin sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantAdminView {
    /// Our id.
    pub id: String,
    /// Microsoft tenant id.
    pub ms_tenant_id: String,
    /// Name.
    pub display_name: String,
    /// `none`, `consented` or `revoked`.
    pub consent_state: String,
}

/// A linked account of the tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedAccount {
    /// Id of the link (use it to unlink).
    pub id: String,
    /// The person.
    pub user_id: String,
    /// Microsoft sign-in name.
    pub upn: Option<String>,
    /// Microsoft display name.
    pub display_name: Option<String>,
    /// The linked local account's email, if any.
    pub local_email: Option<String>,
    /// Last Microsoft sign-in, unix ms.
    pub last_sign_in_at: Option<i64>,
}

/// Linked accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedAccountsResponse {
    /// The accounts.
    pub items: Vec<LinkedAccount>,
}

async fn audit(state: &AppState, admin: &TenantAdmin, action: &str, target: Option<String>) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(admin.0.tenant_id),
            actor: Some(admin.0.auth.user_id),
            action,
            target_type: target.as_ref().map(|_| "link"),
            target_id: target,
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// The admin's tenant and its consent state.
#[utoipa::path(operation_id = "get_admin_tenant", tag = "admin", responses(
    (status = 200, body = TenantAdminView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/tenant")]
pub async fn get_admin_tenant(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<TenantAdminView>, ApiError> {
    let t = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such tenant."))?;
    Ok(web::Json(TenantAdminView {
        id: t.id.to_string(),
        ms_tenant_id: t.ms_tenant_id,
        display_name: t.display_name,
        consent_state: t.consent_state,
    }))
}

/// Withdraws the tenant's consent: deletes the app's service principal in the tenant through
/// Graph (with the admin's own delegated token), then every link, role, cached token and
/// session of the tenant.
#[utoipa::path(operation_id = "unconsent_tenant", tag = "admin", responses(
    (status = 204, description = "Consent withdrawn; the admin's session ended too"),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/tenant/unconsent")]
pub async fn unconsent_tenant(state: web::Data<AppState>, admin: TenantAdmin) -> Result<HttpResponse, ApiError> {
    let tenant = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such tenant."))?;
    // The admin's own delegated token: deleting the service principal is the admin's act
    // (it needs an admin with Application.ReadWrite.All, as Microsoft requires).
    let auth = crate::auth::class_access::DelegatedGraph::for_member(&state, &admin.0).await?.auth;
    match state.graph.service_principal_by_app_id(&auth, &state.config.client_id).await? {
        Some(sp) => state.graph.delete_service_principal(&auth, &sp.id).await?,
        None => tracing::info!("no service principal to delete: consent was already withdrawn at Microsoft"),
    }
    audit(&state, &admin, "tenant.unconsent", None).await?;
    edu_db::tenants::revoke(&state.db, tenant.id, state.clock.now_ms()).await?;
    // Nothing of a tenant that withdrew its consent is served from our copy (R-C9).
    edu_db::roster_cache::delete_tenant(&state.db, tenant.id).await?;
    Ok(HttpResponse::NoContent().cookie(session::removal(SESSION_COOKIE)).finish())
}

/// The tenant's linked accounts.
#[utoipa::path(operation_id = "list_linked_accounts", tag = "admin", responses(
    (status = 200, body = LinkedAccountsResponse),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/linked-accounts")]
pub async fn list_linked_accounts(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<LinkedAccountsResponse>, ApiError> {
    let items = edu_db::identities::list_for_tenant(&state.db, admin.0.tenant_id)
        .await?
        .into_iter()
        .map(|i| LinkedAccount {
            id: i.id,
            user_id: i.user_id.to_string(),
            upn: i.upn,
            display_name: i.display_name,
            local_email: i.local_email,
            last_sign_in_at: i.last_sign_in_at,
        })
        .collect();
    Ok(web::Json(LinkedAccountsResponse { items }))
}

/// Unlinks one account of the tenant (its cached tokens go too).
#[utoipa::path(operation_id = "unlink_account", tag = "admin", params(("id" = String, Path, description = "Link id")), responses(
    (status = 204, description = "Unlinked"),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
    (status = 409, description = "`cannot_unlink_self`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/linked-accounts/{id}/unlink")]
pub async fn unlink_account(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let identity = edu_db::identities::get_in_tenant(&state.db, admin.0.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such linked account in your tenant."))?;
    // Unlinking oneself ends one's own sessions mid-task: the Account page does it, with its
    // own confirmation and the last-sign-in-method check (R-B5).
    if identity.user_id == admin.0.auth.user_id {
        return Err(ApiError::conflict(
            ErrorCode::CannotUnlinkSelf,
            "You cannot unlink your own account here: use your Account page.",
        ));
    }
    edu_db::identities::remove(&state.db, &identity).await?;
    audit(&state, &admin, "admin.unlink", Some(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes every cached Microsoft token of the tenant; people sign in with Microsoft again.
#[utoipa::path(operation_id = "clear_token_cache", tag = "admin", responses(
    (status = 200, body = ClearedResponse),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/token-cache/clear")]
pub async fn clear_token_cache(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<ClearedResponse>, ApiError> {
    let deleted = edu_db::token_cache::delete_tenant(&state.db, admin.0.tenant_id).await?;
    audit(&state, &admin, "admin.token_cache.clear", None).await?;
    Ok(web::Json(ClearedResponse { deleted }))
}

/// How many rows were deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClearedResponse {
    /// Token rows deleted.
    pub deleted: u64,
}
