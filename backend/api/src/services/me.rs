//! Who am I: the view of a session the SPA starts from (also the answer of sign-in,
//! registration and linking).

use edu_domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::session::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in person.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    /// Id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Local sign-in email, if they have a local account.
    pub email: Option<String>,
    /// `#rrggbb`.
    pub favorite_color: Option<String>,
    /// Whether a local password is set.
    pub has_local_password: bool,
    /// Must change the password now.
    pub must_change_password: bool,
}

/// The person's school tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDto {
    /// Our id.
    pub id: String,
    /// Microsoft tenant id.
    pub ms_tenant_id: String,
    /// Name.
    pub display_name: String,
    /// `none`, `consented` or `revoked`.
    pub consent_state: String,
}

/// Link state between the local account and a Microsoft account.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDto {
    /// A local account (email + password) exists.
    pub local: bool,
    /// The linked Microsoft account, if any.
    pub microsoft: Option<MicrosoftAccountDto>,
}

/// A linked Microsoft account (for display only).
#[derive(Debug, Serialize, ToSchema)]
pub struct MicrosoftAccountDto {
    /// User principal name.
    pub upn: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// `GET /api/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// The person.
    pub user: UserDto,
    /// Their tenant.
    pub tenant: Option<TenantDto>,
    /// Roles in that tenant.
    pub roles: Vec<Role>,
    /// How this session signed in: `local` or `microsoft`.
    pub auth_method: String,
    /// Link state.
    pub link: LinkDto,
    /// Send as `X-CSRF-Token` on every state-changing request of this session.
    pub csrf_token: String,
    /// When the session ends at the latest (unix ms).
    pub session_expires_at: i64,
}

/// Builds the "who am I" view of a session.
///
/// # Errors
/// Database errors; 401 if the person no longer exists.
pub async fn me_view(state: &AppState, auth: &Authenticated) -> Result<MeResponse, ApiError> {
    let user = edu_db::users::get(&state.db, auth.user_id).await?.ok_or(ApiError::Unauthenticated)?;
    let tenant = match auth.tenant_id.or(user.tenant_id) {
        Some(t) => edu_db::tenants::get(&state.db, t).await?,
        None => None,
    };
    let roles = match &tenant {
        Some(t) => edu_db::users::roles(&state.db, t.id, user.id).await?,
        None => Vec::new(),
    };
    let linked = edu_db::users::linked_identity(&state.db, user.id).await?;
    Ok(MeResponse {
        user: UserDto {
            id: user.id.to_string(),
            display_name: user.display_name,
            email: user.email,
            favorite_color: user.favorite_color,
            has_local_password: user.has_password,
            must_change_password: user.must_change_password,
        },
        tenant: tenant.map(|t| TenantDto {
            id: t.id.to_string(),
            ms_tenant_id: t.ms_tenant_id,
            display_name: t.display_name,
            consent_state: t.consent_state,
        }),
        roles,
        auth_method: auth.auth_method.clone(),
        link: LinkDto {
            local: user.has_password,
            microsoft: linked.map(|l| MicrosoftAccountDto { upn: l.upn, display_name: l.display_name }),
        },
        csrf_token: auth.csrf_token(state),
        session_expires_at: auth.expires_at,
    })
}
