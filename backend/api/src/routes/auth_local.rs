//! Local accounts: register, sign in, sign out, change password.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use edu_domain::{Email, FavoriteColor, Password, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::{self, Authenticated, MaybeAuthenticated, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::auth::throttle::{account_key, account_policy};
use crate::error::{ApiError, ErrorCode};
use crate::services::me::{MeResponse, me_view};
use crate::state::AppState;

/// `POST /api/auth/local/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Sign-in email.
    #[schema(max_length = 254, pattern = r#"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"#)]
    pub email: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// A palette name (`blue`, `green`, `grey`, …) or `#rrggbb`.
    pub favorite_color: Option<String>,
    /// Defaults to the part of the email before `@`.
    pub display_name: Option<String>,
}

/// `POST /api/auth/local/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Sign-in email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /api/me/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password (re-authentication, ASVS 6.2.3).
    pub current_password: String,
    /// The new password, 8 to 256 characters.
    pub new_password: String,
}

/// A CSRF token for the next state-changing request.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrfResponse {
    /// Send as `X-CSRF-Token`.
    pub csrf_token: String,
}

/// The client address for throttling. Behind a trusted proxy (`EDUGRAPH_TRUST_FORWARDED_FOR`)
/// it is the LAST `X-Forwarded-For` entry: the address our proxy saw and appended. Entries to its
/// left come from the client and are forgeable, so a client cannot pick its own bucket (R-A18).
fn client_ip(req: &HttpRequest, state: &AppState) -> IpAddr {
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .last()
                .and_then(parse_ip)
        })
        .flatten();
    forwarded.or_else(|| req.peer_addr().map(|a| a.ip())).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

pub(crate) fn check_ip(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let ip = client_ip(req, state);
    state.ip_limiter.check(ip, state.clock.now_ms()).map_err(|retry_after| {
        state.metrics.observe_login("throttled");
        tracing::warn!("credential endpoint rate limit hit for a client address");
        ApiError::TooManyRequests { retry_after }
    })
}

/// Reserves one password verification for an account key before the hash runs (R-A18,
/// issue 17.3): at most the threshold's worth of verifications per window, however many
/// requests arrive at once. Settle with `settle_failure` or `release`.
pub(crate) async fn reserve_attempt(state: &AppState, key: &str) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    match edu_db::throttle::reserve(&state.db, key, now, account_policy(&state.config.throttle)).await? {
        edu_db::throttle::Reservation::Granted => Ok(()),
        edu_db::throttle::Reservation::Refused { until } => {
            state.metrics.observe_login("throttled");
            let ms = u64::try_from(until - now).unwrap_or(1000).max(1);
            Err(ApiError::TooManyRequests { retry_after: Duration::from_millis(ms) })
        }
    }
}

/// The reserved attempt failed; returns the lock expiry (0 = not locked).
pub(crate) async fn settle_failure(state: &AppState, key: &str) -> Result<i64, ApiError> {
    let now = state.clock.now_ms();
    Ok(edu_db::throttle::settle_failure(&state.db, key, now, account_policy(&state.config.throttle)).await?)
}

/// Signs a person in: a new session (the old one, if any, is deleted), its cookie, the
/// pre-session cookie removed, and the "who am I" body with the new CSRF token.
pub(crate) async fn signed_in_response(
    state: &AppState,
    req: &HttpRequest,
    user_id: UserId,
    auth_method: &str,
    ms_auth_at: Option<i64>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, ApiError> {
    let previous = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let user = edu_db::users::get(&state.db, user_id).await?.ok_or(ApiError::InvalidCredentials)?;
    let secret = session::start(state, previous.as_deref(), user_id, user.tenant_id, auth_method, ms_auth_at).await?;
    let auth = Authenticated {
        user_id,
        tenant_id: user.tenant_id,
        auth_method: auth_method.to_owned(),
        ms_auth_at,
        session_hash: session::hash_secret(&secret),
        expires_at: state.clock.now_ms()
            + i64::try_from(state.config.session.absolute_timeout.as_millis()).unwrap_or(i64::MAX / 2),
        secret: secret.clone(),
    };
    let body = me_view(state, &auth).await?;
    Ok(HttpResponse::build(status)
        .cookie(session::cookie(SESSION_COOKIE, secret))
        .cookie(session::removal(PRE_SESSION_COOKIE))
        .json(body))
}

pub(crate) async fn audit(
    state: &AppState,
    actor: Option<UserId>,
    tenant: Option<edu_domain::TenantId>,
    action: &str,
    result: &str,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: tenant,
            actor,
            action,
            target_type: actor.map(|_| "user"),
            target_id: actor.map(|a| a.to_string()),
            result,
            detail,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// A CSRF token for this browser. With a session it is bound to the session; without one a
/// pre-session cookie is set and the token is bound to it (protects sign-in and register).
#[utoipa::path(operation_id = "get_csrf_token", tag = "account", responses((status = 200, body = CsrfResponse)))]
#[get("/api/auth/csrf")]
pub async fn get_csrf_token(state: web::Data<AppState>, auth: MaybeAuthenticated) -> HttpResponse {
    if let Some(a) = auth.0 {
        return HttpResponse::Ok().json(CsrfResponse { csrf_token: a.csrf_token(&state) });
    }
    let pre = session::new_secret();
    let token = session::csrf_token(state.csrf_key(), "pre", &pre);
    HttpResponse::Ok().cookie(session::cookie(PRE_SESSION_COOKIE, pre)).json(CsrfResponse { csrf_token: token })
}

/// Creates a local account and mails a link to confirm its email (R-B3). Does not sign in:
/// the account can do nothing until the link is followed with the password
/// (`POST /api/auth/email/verify`).
#[utoipa::path(operation_id = "register_local_account", tag = "account", request_body = RegisterRequest, responses(
    (status = 202, description = "Registered; the confirmation link was mailed", body = crate::routes::account_recovery::VerificationSentResponse),
    (status = 409, description = "`email_taken`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_email`, `password_too_short`, `password_too_long`, `password_too_common`, `invalid_color`", body = crate::error::ErrorBody),
    (status = 429, description = "Too many attempts from this address", body = crate::error::ErrorBody),
), security(("csrf" = [])))]
#[post("/api/auth/local/register")]
pub async fn register_local_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    check_ip(&req, &state)?;
    let body = body.into_inner();
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    let color = body.favorite_color.as_deref().map(FavoriteColor::parse).transpose()?;
    let display_name = body
        .display_name
        .map(|d| d.trim().chars().take(256).collect::<String>())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default().to_owned());
    let hash = state.hasher.hash(password.expose().to_owned()).await.map_err(ApiError::internal)?;
    let id = UserId::new();
    let created = edu_db::users::create_local(
        &state.db,
        &edu_db::users::NewLocalUser {
            id,
            email: &email,
            password_hash: &hash,
            display_name: &display_name,
            favorite_color: color.as_ref().map(FavoriteColor::as_str),
            now: state.clock.now_ms(),
        },
    )
    .await;
    match created {
        Ok(()) => {}
        Err(edu_db::DbError::Conflict(_)) => {
            return Err(ApiError::conflict(
                ErrorCode::EmailTaken,
                "An account with this email already exists. Sign in instead, or use another email.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    audit(&state, Some(id), None, "auth.local.register", "success", None).await?;
    tracing::info!(user.id = %id, "local account registered; waiting for its email to be confirmed");
    crate::services::account_mail::send_verification(&state, id, &email).await?;
    Ok(HttpResponse::Accepted().json(crate::routes::account_recovery::VerificationSentResponse {
        status: "verification_sent".to_owned(),
        email: email.as_str().to_owned(),
    }))
}

/// The right password of an account whose email is not confirmed yet (R-B3): a new link is
/// mailed (at most 5 an hour) and the answer says so.
pub(crate) async fn email_unverified(state: &AppState, user: UserId, email: &str) -> Result<ApiError, ApiError> {
    if let Ok(email) = Email::parse(email) {
        crate::services::account_mail::send_verification(state, user, &email).await?;
    }
    Ok(ApiError::forbidden(
        ErrorCode::EmailUnverified,
        format!("Confirm your email first: we sent a new link to {email}. Open it and enter your password there."),
    ))
}

/// Signs in with email and password. An unknown email, a wrong password and a disabled
/// account's wrong password get the same answer in about the same time (R-A18).
#[utoipa::path(operation_id = "login_local", tag = "account", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in; sets the `__Host-sid` cookie", body = MeResponse),
    (status = 401, description = "`invalid_credentials`", body = crate::error::ErrorBody),
    (status = 403, description = "`account_disabled`; `email_unverified` (right password, email not confirmed yet: a new link was mailed)", body = crate::error::ErrorBody),
    (status = 429, description = "Too many attempts; see Retry-After", body = crate::error::ErrorBody),
), security(("csrf" = [])))]
#[post("/api/auth/local/login")]
pub async fn login_local(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    check_ip(&req, &state)?;
    let body = body.into_inner();
    // Over-long input is refused before hashing (hash-DoS), with the same answer as a wrong password.
    let too_long = body.password.len() > Password::MAX_BYTES || body.email.len() > 1024;
    let normalised = Email::parse(&body.email).ok();
    let key = account_key("login", normalised.as_ref().map_or(body.email.trim(), Email::as_str));
    reserve_attempt(&state, &key).await?;

    let creds = match (&normalised, too_long) {
        (Some(email), false) => edu_db::users::find_credentials(&state.db, email).await?,
        _ => None,
    };
    let ok = if too_long {
        false
    } else {
        let phc = creds.as_ref().map(|c| c.password_hash.clone());
        state.hasher.verify(body.password.clone(), phc).await.map_err(ApiError::internal)?
    };

    let now = state.clock.now_ms();
    let Some(creds) = creds.filter(|_| ok) else {
        let locked_until = settle_failure(&state, &key).await?;
        state.metrics.observe_login("failure");
        audit(&state, None, None, "auth.local.login", "failure", None).await?;
        if locked_until > now {
            tracing::warn!("account locked after repeated failed sign-ins");
        }
        return Err(ApiError::InvalidCredentials);
    };
    edu_db::throttle::release(&state.db, &key).await?;
    if creds.disabled {
        audit(&state, Some(creds.user_id), None, "auth.local.login", "denied", Some("account disabled")).await?;
        return Err(ApiError::forbidden(
            ErrorCode::AccountDisabled,
            "This account is disabled. Ask your school's administrator.",
        ));
    }
    if !creds.email_verified {
        audit(&state, Some(creds.user_id), None, "auth.local.login", "denied", Some("email unverified")).await?;
        let email = normalised.as_ref().map_or("", Email::as_str);
        return Err(email_unverified(&state, creds.user_id, email).await?);
    }
    if crate::auth::password::needs_rehash(&creds.password_hash) {
        // R-A14: upgrade hashes made with older parameters while we hold the password.
        let new_hash = state.hasher.hash(body.password).await.map_err(ApiError::internal)?;
        edu_db::users::set_password_hash(&state.db, creds.user_id, &new_hash, now).await?;
    }
    state.metrics.observe_login("success");
    audit(&state, Some(creds.user_id), None, "auth.local.login", "success", None).await?;
    tracing::info!(user.id = %creds.user_id, "signed in with a local account");
    signed_in_response(&state, &req, creds.user_id, "local", None, actix_web::http::StatusCode::OK).await
}

/// Signs out: the session is deleted on the server and the cookie removed.
#[utoipa::path(operation_id = "logout", tag = "account", responses((status = 204, description = "Signed out")), security(("csrf" = [])))]
#[post("/api/auth/logout")]
pub async fn logout(state: web::Data<AppState>, auth: MaybeAuthenticated) -> Result<HttpResponse, ApiError> {
    if let Some(a) = auth.0 {
        edu_db::sessions::delete(&state.db, &a.session_hash).await?;
        audit(&state, Some(a.user_id), a.tenant_id, "auth.logout", "success", None).await?;
    }
    Ok(HttpResponse::NoContent().cookie(session::removal(SESSION_COOKIE)).finish())
}

/// Signs out everywhere: every session of the person ends and their cached Microsoft tokens
/// are deleted (the next Microsoft call needs a fresh Microsoft sign-in).
#[utoipa::path(operation_id = "logout_everywhere", tag = "account", responses(
    (status = 204, description = "Every session ended"),
    (status = 401, description = "`unauthenticated`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/auth/logout-all")]
pub async fn logout_everywhere(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let ended = edu_db::sessions::delete_for_user(&state.db, auth.user_id, None).await?;
    if let Some(identity) = edu_db::identities::of_user(&state.db, auth.user_id).await? {
        edu_db::token_cache::delete_subject(&state.db, identity.tenant_id, &identity.ms_object_id).await?;
    }
    audit(&state, Some(auth.user_id), auth.tenant_id, "auth.logout_all", "success", None).await?;
    tracing::info!(user.id = %auth.user_id, sessions.ended = ended, "signed out everywhere");
    Ok(HttpResponse::NoContent().cookie(session::removal(SESSION_COOKIE)).finish())
}

/// Changes the local password. Needs the current one; ends every other session of the
/// person and rotates this one (a new cookie and CSRF token come back).
#[utoipa::path(operation_id = "change_password", tag = "account", request_body = ChangePasswordRequest, responses(
    (status = 200, description = "Changed; the session was rotated", body = MeResponse),
    (status = 401, description = "`unauthenticated` or `invalid_credentials` (wrong current password)", body = crate::error::ErrorBody),
    (status = 409, description = "`no_local_password`: the account has no local password", body = crate::error::ErrorBody),
    (status = 422, description = "The new password breaks the policy", body = crate::error::ErrorBody),
    (status = 429, description = "Too many wrong current passwords", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Authenticated,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let key = account_key("password", &auth.user_id.to_string());
    let Some(current) = edu_db::users::password_hash(&state.db, auth.user_id).await? else {
        return Err(ApiError::conflict(
            ErrorCode::NoLocalPassword,
            "This account has no local password yet. Create a local account from the linking page.",
        ));
    };
    let new_password = Password::parse(&body.new_password)?;
    reserve_attempt(&state, &key).await?;
    let ok = body.current_password.len() <= Password::MAX_BYTES
        && state.hasher.verify(body.current_password, Some(current)).await.map_err(ApiError::internal)?;
    let now = state.clock.now_ms();
    if !ok {
        settle_failure(&state, &key).await?;
        audit(&state, Some(auth.user_id), auth.tenant_id, "auth.password.change", "failure", None).await?;
        return Err(ApiError::InvalidCredentials);
    }
    edu_db::throttle::release(&state.db, &key).await?;
    let hash = state.hasher.hash(new_password.expose().to_owned()).await.map_err(ApiError::internal)?;
    edu_db::users::set_password_hash(&state.db, auth.user_id, &hash, now).await?;
    let ended = edu_db::sessions::delete_for_user(&state.db, auth.user_id, None).await?;
    // R-B4, issue 17.2: the cached Microsoft tokens go too; Microsoft confirms the person again.
    if let Some(identity) = edu_db::identities::of_user(&state.db, auth.user_id).await? {
        edu_db::token_cache::delete_subject(&state.db, identity.tenant_id, &identity.ms_object_id).await?;
    }
    audit(&state, Some(auth.user_id), auth.tenant_id, "auth.password.change", "success", None).await?;
    tracing::info!(user.id = %auth.user_id, sessions.ended = ended, "password changed; all sessions ended and this one rotated");
    signed_in_response(&state, &req, auth.user_id, &auth.auth_method, auth.ms_auth_at, actix_web::http::StatusCode::OK)
        .await
}
