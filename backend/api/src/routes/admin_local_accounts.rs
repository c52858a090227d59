//! The tenant's local accounts: people with an EduGraph email + password whose
//! tenant is the admin's (they signed in with, or linked, a Microsoft account of the tenant)
//! and who have no Microsoft identity in another tenant. Local accounts that never touched a
//! tenant belong to no school and are not listed. Deleting one removes, in one transaction,
//! its Microsoft link, that link's cached tokens, its roles and its sessions.

use actix_web::{HttpResponse, delete, get, web};
use edu_domain::UserId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode};
use crate::services::admin::audit;
use crate::state::AppState;

/// A local account of the tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminLocalAccount {
    /// The person (use it to delete).
    pub user_id: String,
    /// Local sign-in email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Disabled.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
    /// The Microsoft link's id, if linked.
    pub link_id: Option<String>,
    /// The linked Microsoft sign-in name, if linked.
    pub microsoft_upn: Option<String>,
}

/// The tenant's local accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminLocalAccountsResponse {
    /// The accounts, by email.
    pub items: Vec<AdminLocalAccount>,
}

/// The tenant's local accounts.
#[utoipa::path(operation_id = "list_admin_local_accounts", tag = "admin", responses(
    (status = 200, body = AdminLocalAccountsResponse),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/local-accounts")]
pub async fn list_admin_local_accounts(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<AdminLocalAccountsResponse>, ApiError> {
    let items = edu_db::users::local_accounts_of_tenant(&state.db, admin.0.tenant_id)
        .await?
        .into_iter()
        .map(|a| AdminLocalAccount {
            user_id: a.user_id.to_string(),
            email: a.email,
            display_name: a.display_name,
            disabled: a.disabled,
            created_at: a.created_at,
            link_id: a.link_id,
            microsoft_upn: a.ms_upn,
        })
        .collect();
    Ok(web::Json(AdminLocalAccountsResponse { items }))
}

/// Deletes a local account of the tenant with its link, cached tokens, roles and sessions
/// (one transaction). You cannot delete yourself.
#[utoipa::path(operation_id = "delete_admin_local_account", tag = "admin", params(("id" = String, Path, description = "User id")), responses(
    (status = 204, description = "Deleted"),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's accounts)", body = crate::error::ErrorBody),
    (status = 409, description = "`cannot_delete_self`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[delete("/api/admin/local-accounts/{id}")]
pub async fn delete_admin_local_account(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found(ErrorCode::NotFound, "There is no such local account in your school.");
    let user = UserId::parse(&path.into_inner()).map_err(|_| not_found())?;
    if user == admin.0.auth.user_id {
        return Err(ApiError::conflict(ErrorCode::CannotDeleteSelf, "You cannot delete your own account here."));
    }
    let deleted =
        edu_db::users::delete_local_account(&state.db, admin.0.tenant_id, user).await?.ok_or_else(not_found)?;
    let detail = if deleted.link_id.is_some() { "linked" } else { "not linked" };
    audit(&state, &admin, "admin.local_account.delete", Some(("user", &user.to_string())), "success", Some(detail))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
