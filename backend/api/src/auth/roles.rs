//! Role extractors: a handler's signature states who may call it; everyone else is refused
//! before the handler runs (deny by default). Roles are those of the session's tenant.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use edu_domain::{Role, TenantId};

use crate::auth::session::Authenticated;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// A signed-in person of a tenant, with their roles there.
#[derive(Debug, Clone)]
pub struct TenantMember {
    /// The session.
    pub auth: Authenticated,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Roles in it.
    pub roles: Vec<Role>,
}

impl TenantMember {
    /// Whether the person holds `role`.
    #[must_use]
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

async fn member(req: HttpRequest) -> Result<TenantMember, ApiError> {
    if let Some(m) = req.extensions().get::<TenantMember>() {
        return Ok(m.clone());
    }
    let auth = Authenticated::extract(&req).await?;
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal(anyhow::anyhow!("no state")))?;
    let Some(tenant_id) = auth.tenant_id else {
        return Err(ApiError::forbidden(
            ErrorCode::SchoolAccountRequired,
            "This needs your school's Microsoft 365 account. Sign in with Microsoft or link your account.",
        ));
    };
    let roles = edu_db::users::roles(&state.db, tenant_id, auth.user_id).await?;
    let m = TenantMember { auth, tenant_id, roles };
    req.extensions_mut().insert(m.clone());
    Ok(m)
}

impl FromRequest for TenantMember {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(member(req))
    }
}

/// How recent a Microsoft sign-in an admin-console write needs (issue 17.1).
pub const ADMIN_WRITE_MAX_AGE_MS: i64 = 60 * 60 * 1000;

/// Admin-console writes need a Microsoft sign-in no older than an hour (issue 17.1): a tenant
/// admin's powers are Microsoft's to grant, with its MFA and Conditional Access, not a local
/// password's. Reads and other roles are unaffected here.
fn recent_microsoft_sign_in(req: &HttpRequest, m: &TenantMember, role: Role) -> Result<(), ApiError> {
    if role != Role::Admin || matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD) {
        return Ok(());
    }
    let now = req.app_data::<web::Data<AppState>>().map_or(0, |s| s.clock.now_ms());
    match m.auth.ms_auth_at {
        Some(at) if now - at <= ADMIN_WRITE_MAX_AGE_MS => Ok(()),
        _ => Err(ApiError::MicrosoftSignInRequired),
    }
}

macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident, $role:expr, $message:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(pub TenantMember);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    let m = member(req.clone()).await?;
                    if m.has($role) {
                        recent_microsoft_sign_in(&req, &m, $role)?;
                        Ok(Self(m))
                    } else {
                        tracing::warn!(user.id = %m.auth.user_id, required = %$role, "request refused: missing role");
                        Err(ApiError::forbidden(ErrorCode::RoleRequired, $message))
                    }
                })
            }
        }
    };
}

role_extractor!(
    /// The tenant's administrator.
    TenantAdmin,
    Role::Admin,
    "Only your school's Microsoft 365 administrator can do this."
);
role_extractor!(
    /// A teacher of the tenant (class-level checks come after, in the handler).
    Teacher,
    Role::Teacher,
    "Only teachers can do this."
);
role_extractor!(
    /// A student of the tenant.
    Student,
    Role::Student,
    "Only students can do this."
);
