//! Account linking from the signed-in side (R-B2..R-B5). Linking never matches by email:
//! a local account is linked only with its password, a Microsoft account only through a
//! fresh Microsoft sign-in (`/auth/microsoft/login?intent=link`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use edu_domain::{Email, FavoriteColor, Password};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::{self, Authenticated, SESSION_COOKIE};
use crate::auth::throttle::account_key;
use crate::error::{ApiError, ErrorCode};
use crate::routes::auth_local::{reserve_attempt, settle_failure};
use crate::services::me::{MeResponse, me_view};
use crate::state::AppState;

/// Create a local account for the signed-in Microsoft person.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLocalRequest {
    /// Sign-in email for the new local account.
    pub email: String,
    /// 8 to 256 characters (never empty).
    pub password: String,
    /// Palette name or `#rrggbb`.
    pub favorite_color: Option<String>,
}

/// Link an existing local account, proving it with its password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkExistingRequest {
    /// The local account's email.
    pub email: String,
    /// The local account's password.
    pub password: String,
}

/// Set the favourite colour.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FavoriteColorRequest {
    /// Palette name or `#rrggbb`.
    #[schema(pattern = "^(blue|green|grey|red|orange|purple|teal|pink|#[0-9a-fA-F]{6})$")]
    pub favorite_color: String,
}

/// The Microsoft identity of the session, required by these endpoints.
async fn microsoft_identity(
    state: &AppState,
    auth: &Authenticated,
) -> Result<edu_db::identities::IdentityRecord, ApiError> {
    edu_db::identities::of_user(&state.db, auth.user_id).await?.ok_or_else(|| {
        ApiError::conflict(
            ErrorCode::MicrosoftAccountRequired,
            "Sign in with Microsoft first; this links a Microsoft account.",
        )
    })
}

async fn rotated(
    state: &AppState,
    req: &HttpRequest,
    auth: &Authenticated,
    user: edu_domain::UserId,
) -> Result<HttpResponse, ApiError> {
    // A new session id after every change of who the session is (R-A11).
    let secret = session::start(
        state,
        req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()).as_deref(),
        user,
        auth.tenant_id,
        &auth.auth_method,
        auth.ms_auth_at,
    )
    .await?;
    let new_auth = Authenticated {
        user_id: user,
        tenant_id: auth.tenant_id,
        auth_method: auth.auth_method.clone(),
        ms_auth_at: auth.ms_auth_at,
        session_hash: session::hash_secret(&secret),
        expires_at: state.clock.now_ms()
            + i64::try_from(state.config.session.absolute_timeout.as_millis()).unwrap_or(0),
        secret: secret.clone(),
    };
    let body = me_view(state, &new_auth).await?;
    Ok(HttpResponse::Ok().cookie(session::cookie(SESSION_COOKIE, secret)).json(body))
}

async fn audit(state: &AppState, auth: &Authenticated, action: &str, result: &str) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: auth.tenant_id,
            actor: Some(auth.user_id),
            action,
            target_type: Some("user"),
            target_id: Some(auth.user_id.to_string()),
            result,
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// Signed in with Microsoft and no local account yet: create one (a real password is required).
/// A link to confirm the email is mailed; signing in with the password waits for it (R-B3).
#[utoipa::path(operation_id = "create_local_account_for_microsoft_user", tag = "linking", request_body = CreateLocalRequest, responses(
    (status = 200, description = "Created and linked; the session was rotated", body = MeResponse),
    (status = 409, description = "`microsoft_account_required`, `local_account_exists`, `email_taken`", body = crate::error::ErrorBody),
    (status = 422, description = "Invalid email, password or colour", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/me/link/local/create")]
pub async fn create_local_account_for_microsoft_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Authenticated,
    body: web::Json<CreateLocalRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let identity = microsoft_identity(&state, &auth).await?;
    if identity.user_has_password {
        return Err(ApiError::conflict(ErrorCode::LocalAccountExists, "You already have a local account."));
    }
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    let color = body.favorite_color.as_deref().map(FavoriteColor::parse).transpose()?;
    let hash = state.hasher.hash(password.expose().to_owned()).await.map_err(ApiError::internal)?;
    let now = state.clock.now_ms();
    match edu_db::users::set_local_credentials(&state.db, auth.user_id, &email, &hash, now).await {
        Ok(()) => {}
        Err(edu_db::DbError::Conflict(_)) => {
            return Err(ApiError::conflict(
                ErrorCode::EmailTaken,
                "A local account with this email exists. Link it with its password instead.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(c) = color {
        edu_db::users::set_favorite_color(&state.db, auth.user_id, c.as_str(), now).await?;
    }
    audit(&state, &auth, "link.local.create", "success").await?;
    // R-B3: the new local sign-in waits until the address is confirmed (Microsoft sign-in does not).
    crate::services::account_mail::send_verification(&state, auth.user_id, &email).await?;
    rotated(&state, &req, &auth, auth.user_id).await
}

/// Signed in with Microsoft: link an existing local account, proven by its password. Refused
/// when that local account is already linked to a Microsoft account.
#[utoipa::path(operation_id = "link_existing_local_account", tag = "linking", request_body = LinkExistingRequest, responses(
    (status = 200, description = "Linked; the session now belongs to the local account", body = MeResponse),
    (status = 401, description = "`invalid_credentials`", body = crate::error::ErrorBody),
    (status = 403, description = "`email_unverified`: the local account's email is not confirmed yet (a new link was mailed)", body = crate::error::ErrorBody),
    (status = 409, description = "`microsoft_account_required`, `local_account_exists`, `local_account_already_linked`", body = crate::error::ErrorBody),
    (status = 429, description = "Too many wrong passwords", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/me/link/local/existing")]
pub async fn link_existing_local_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Authenticated,
    body: web::Json<LinkExistingRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let identity = microsoft_identity(&state, &auth).await?;
    if identity.user_has_password {
        return Err(ApiError::conflict(
            ErrorCode::LocalAccountExists,
            "Your Microsoft account is already linked to a local account.",
        ));
    }
    let email = Email::parse(&body.email).map_err(|_| ApiError::InvalidCredentials)?;
    let key = account_key("login", email.as_str());
    reserve_attempt(&state, &key).await?;
    let now = state.clock.now_ms();
    let creds = edu_db::users::find_credentials(&state.db, &email).await?;
    let ok = body.password.len() <= Password::MAX_BYTES
        && state
            .hasher
            .verify(body.password, creds.as_ref().map(|c| c.password_hash.clone()))
            .await
            .map_err(ApiError::internal)?;
    let Some(local) = creds.filter(|_| ok) else {
        settle_failure(&state, &key).await?;
        audit(&state, &auth, "link.local.existing", "failure").await?;
        return Err(ApiError::InvalidCredentials);
    };
    edu_db::throttle::release(&state.db, &key).await?;
    if !local.email_verified {
        // R-B3: an unverified local account is never a link candidate (a squatter's account
        // cannot be attached to a Microsoft identity).
        audit(&state, &auth, "link.local.existing", "denied").await?;
        return Err(crate::routes::auth_local::email_unverified(&state, local.user_id, email.as_str()).await?);
    }
    if edu_db::identities::of_user(&state.db, local.user_id).await?.is_some() {
        audit(&state, &auth, "link.local.existing", "denied").await?;
        return Err(ApiError::conflict(
            ErrorCode::LocalAccountAlreadyLinked,
            "That local account is already linked to a Microsoft account. Unlink it there first.",
        ));
    }
    edu_db::identities::move_to(&state.db, &identity.id, auth.user_id, local.user_id, now).await.map_err(
        |e| match e {
            edu_db::DbError::Conflict(_) => {
                ApiError::conflict(ErrorCode::LocalAccountAlreadyLinked, "That local account is already linked.")
            }
            other => other.into(),
        },
    )?;
    audit(&state, &auth, "link.local.existing", "success").await?;
    rotated(&state, &req, &auth, local.user_id).await
}

/// Removes the link to the Microsoft account. Needs a local password (or the person could
/// no longer sign in). Microsoft data and the cached tokens are gone afterwards.
#[utoipa::path(operation_id = "unlink_microsoft_account", tag = "linking", responses(
    (status = 200, description = "Unlinked", body = MeResponse),
    (status = 204, description = "Unlinked; this session was a Microsoft sign-in and ended"),
    (status = 409, description = "`not_linked`, `local_password_required`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/me/link/microsoft/remove")]
pub async fn unlink_microsoft_account(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let identity = edu_db::identities::of_user(&state.db, auth.user_id)
        .await?
        .ok_or_else(|| ApiError::conflict(ErrorCode::NotLinked, "No Microsoft account is linked."))?;
    if !identity.user_has_password {
        return Err(ApiError::conflict(
            ErrorCode::LocalPasswordRequired,
            "Create a local account first, or you could no longer sign in.",
        ));
    }
    edu_db::identities::remove(&state.db, &identity).await?;
    audit(&state, &auth, "link.microsoft.remove", "success").await?;
    if auth.auth_method == "microsoft" {
        return Ok(HttpResponse::NoContent().cookie(session::removal(SESSION_COOKIE)).finish());
    }
    let local = Authenticated { tenant_id: None, ..auth };
    Ok(HttpResponse::Ok().json(me_view(&state, &local).await?))
}

/// Sets the favourite colour (palette or hex only: never free text into CSS).
#[utoipa::path(operation_id = "set_favorite_color", tag = "account", request_body = FavoriteColorRequest, responses(
    (status = 200, body = MeResponse),
    (status = 422, description = "`invalid_color`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/me/favorite-color")]
pub async fn set_favorite_color(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: web::Json<FavoriteColorRequest>,
) -> Result<web::Json<MeResponse>, ApiError> {
    let color = FavoriteColor::parse(&body.favorite_color)?;
    edu_db::users::set_favorite_color(&state.db, auth.user_id, color.as_str(), state.clock.now_ms()).await?;
    Ok(web::Json(me_view(&state, &auth).await?))
}

/// The person's Microsoft profile, read live from Graph with their delegated token.
#[derive(Debug, Serialize, ToSchema)]
pub struct MicrosoftProfileResponse {
    /// Display name.
    pub display_name: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// UPN.
    pub user_principal_name: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
}

/// The signed-in person's Microsoft profile (`GET /me` on Graph). 401
/// `microsoft_signin_required` when the cached Microsoft sign-in no longer works.
#[utoipa::path(operation_id = "get_my_microsoft_profile", tag = "account", responses(
    (status = 200, body = MicrosoftProfileResponse),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 403, description = "`school_account_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/me/microsoft")]
pub async fn get_my_microsoft_profile(
    state: web::Data<AppState>,
    caller: crate::auth::class_access::DelegatedGraph,
) -> Result<web::Json<MicrosoftProfileResponse>, ApiError> {
    let me =
        state.graph.me(&caller.auth, &["displayName", "mail", "userPrincipalName", "jobTitle", "department"]).await?;
    Ok(web::Json(MicrosoftProfileResponse {
        display_name: me.display_name,
        mail: me.mail,
        user_principal_name: me.user_principal_name,
        job_title: me.job_title,
        department: me.department,
    }))
}
