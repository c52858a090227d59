//! Email that proves and recovers (issue 17.5): "forgot password" (R-B4) and email
//! verification (R-B3). Links are single use, stored hashed, and carry their token in the
//! URL fragment; see [`crate::services::account_mail`].

use actix_web::{HttpRequest, HttpResponse, post, web};
use edu_domain::{Email, Password};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::throttle::account_key;
use crate::error::{ApiError, ErrorCode};
use crate::routes::auth_local::{audit, check_ip, reserve_attempt, settle_failure, signed_in_response};
use crate::services::account_mail::{self, MailKind};
use crate::state::AppState;

/// `POST /api/auth/password/forgot`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    /// The sign-in email of the account.
    #[schema(max_length = 254, pattern = r#"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"#)]
    pub email: String,
}

/// The same answer whatever the address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForgotPasswordResponse {
    /// Always `link_sent_if_account_exists`.
    pub status: String,
}

/// `POST /api/auth/password/reset`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The token from the link's fragment (`#token=…`).
    #[schema(max_length = 128)]
    pub token: String,
    /// The new password, 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// A sign-in method linked to the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedIdentityDto {
    /// `microsoft`.
    pub provider: String,
    /// The Microsoft tenant id (`tid`).
    pub ms_tenant_id: String,
    /// The school's name, when known.
    pub tenant_name: Option<String>,
    /// The Microsoft sign-in name.
    pub upn: Option<String>,
    /// The Microsoft display name.
    pub display_name: Option<String>,
}

/// The account whose password was reset, and what it is linked to (R-B4).
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetPasswordResponse {
    /// The account's sign-in email.
    pub email: Option<String>,
    /// Sign-in methods linked to the account besides the password. Unlink one from the
    /// account page (`POST /api/me/link/microsoft/remove`) after signing in.
    pub linked_identities: Vec<LinkedIdentityDto>,
}

/// `POST /api/auth/email/verify`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token from the link's fragment (`#token=…`).
    #[schema(max_length = 128)]
    pub token: String,
    /// The password chosen at registration: only the account's owner confirms it.
    pub password: String,
}

/// Registration answer: the account exists; the link to confirm the address was mailed.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationSentResponse {
    /// `verification_sent`.
    pub status: String,
    /// Where the link went.
    pub email: String,
}

/// Asks for a password reset link. The answer is the same, in about the same time, whether
/// or not an account uses the address, has a password or is disabled; at most 5 mails per
/// address and hour (R-B4).
#[utoipa::path(operation_id = "forgot_password", tag = "account", request_body = ForgotPasswordRequest, responses(
    (status = 202, description = "If an account uses this address, a link was mailed", body = ForgotPasswordResponse),
    (status = 422, description = "`invalid_email`", body = crate::error::ErrorBody),
    (status = 429, description = "Too many requests from this address", body = crate::error::ErrorBody),
), security(("csrf" = [])))]
#[post("/api/auth/password/forgot")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    check_ip(&req, &state)?;
    let email = Email::parse(&body.email)?;
    // Counted for every address, known or not: over the limit nothing is sent, same answer.
    if account_mail::reserve_mail(&state, MailKind::Reset, &email).await? {
        account_mail::spawn_password_reset(&state, email);
    } else {
        tracing::warn!("password reset mail limit reached for an address; no mail sent");
    }
    Ok(HttpResponse::Accepted().json(ForgotPasswordResponse { status: "link_sent_if_account_exists".to_owned() }))
}

fn reset_link_invalid() -> ApiError {
    ApiError::bad_request(
        ErrorCode::ResetLinkInvalid,
        "This password reset link does not work any more (used, expired or incomplete). Request a new one.",
    )
}

/// Sets a new password with a reset link. The password is checked first (a refused password
/// does not use the link up); then the link is used (once), every session of the person ends,
/// their cached Microsoft tokens are deleted, their email counts as verified and their other
/// links are cancelled. Does not sign in. Answers with the account's linked identities (R-B4).
#[utoipa::path(operation_id = "reset_password", tag = "account", request_body = ResetPasswordRequest, responses(
    (status = 200, description = "Password changed; sign in with it", body = ResetPasswordResponse),
    (status = 400, description = "`reset_link_invalid`: unknown, expired or used link", body = crate::error::ErrorBody),
    (status = 422, description = "`password_too_short`, `password_too_long`, `password_too_common`", body = crate::error::ErrorBody),
    (status = 429, description = "Too many requests from this address", body = crate::error::ErrorBody),
), security(("csrf" = [])))]
#[post("/api/auth/password/reset")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    check_ip(&req, &state)?;
    let body = body.into_inner();
    let password = Password::parse(&body.new_password)?;
    let now = state.clock.now_ms();
    let hash = account_mail::token_hash(&body.token);
    let Some(user) = edu_db::password_resets::consume(&state.db, &hash, now).await? else {
        audit(&state, None, None, "auth.password.reset", "failure", Some("invalid link")).await?;
        return Err(reset_link_invalid());
    };
    let new_hash = state.hasher.hash(password.expose().to_owned()).await.map_err(ApiError::internal)?;
    let outcome = edu_db::password_resets::complete(&state.db, user, &new_hash, now).await?;
    let record = edu_db::users::get(&state.db, user).await?.ok_or_else(reset_link_invalid)?;
    audit(&state, Some(user), record.tenant_id, "auth.password.reset", "success", None).await?;
    tracing::info!(
        user.id = %user,
        sessions.ended = outcome.sessions_ended,
        tokens.deleted = outcome.tokens_deleted,
        "password reset with a mailed link; every session ended"
    );
    let mut linked_identities = Vec::new();
    if let Some(identity) = edu_db::identities::of_user(&state.db, user).await? {
        let tenant_name = edu_db::tenants::get(&state.db, identity.tenant_id).await?.map(|t| t.display_name);
        linked_identities.push(LinkedIdentityDto {
            provider: "microsoft".to_owned(),
            ms_tenant_id: identity.ms_tenant_id,
            tenant_name,
            upn: identity.upn,
            display_name: identity.display_name,
        });
    }
    Ok(HttpResponse::Ok().json(ResetPasswordResponse { email: record.email, linked_identities }))
}

fn verification_link_invalid() -> ApiError {
    ApiError::bad_request(
        ErrorCode::VerificationLinkInvalid,
        "This confirmation link does not work any more (used, expired or incomplete). Sign in to get a new one.",
    )
}

/// Confirms the email of a new local account with the link mailed to it AND the account's
/// password (so a mail the owner did not ask for cannot confirm someone else's registration),
/// then signs in. Wrong passwords count against the account's sign-in limit (R-A18, R-B3).
#[utoipa::path(operation_id = "verify_email", tag = "account", request_body = VerifyEmailRequest, responses(
    (status = 200, description = "Confirmed and signed in; sets the `__Host-sid` cookie", body = crate::services::me::MeResponse),
    (status = 400, description = "`verification_link_invalid`: unknown, expired or used link", body = crate::error::ErrorBody),
    (status = 401, description = "`invalid_credentials`: not the account's password", body = crate::error::ErrorBody),
    (status = 403, description = "`account_disabled`", body = crate::error::ErrorBody),
    (status = 429, description = "Too many attempts; see Retry-After", body = crate::error::ErrorBody),
), security(("csrf" = [])))]
#[post("/api/auth/email/verify")]
pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    check_ip(&req, &state)?;
    let body = body.into_inner();
    let hash = account_mail::token_hash(&body.token);
    let Some(link) = edu_db::email_verifications::find(&state.db, &hash, state.clock.now_ms()).await? else {
        return Err(verification_link_invalid());
    };
    let email = Email::parse(&link.email).map_err(|_| verification_link_invalid())?;
    let key = account_key("login", email.as_str());
    reserve_attempt(&state, &key).await?;
    let creds = edu_db::users::find_credentials(&state.db, &email).await?.filter(|c| c.user_id == link.user_id);
    let ok = body.password.len() <= Password::MAX_BYTES
        && state
            .hasher
            .verify(body.password, creds.as_ref().map(|c| c.password_hash.clone()))
            .await
            .map_err(ApiError::internal)?;
    let Some(creds) = creds.filter(|_| ok) else {
        settle_failure(&state, &key).await?;
        audit(&state, Some(link.user_id), None, "auth.email.verify", "failure", None).await?;
        return Err(ApiError::InvalidCredentials);
    };
    edu_db::throttle::release(&state.db, &key).await?;
    if creds.disabled {
        audit(&state, Some(creds.user_id), None, "auth.email.verify", "denied", Some("account disabled")).await?;
        return Err(ApiError::forbidden(
            ErrorCode::AccountDisabled,
            "This account is disabled. Ask your school's administrator.",
        ));
    }
    let now = state.clock.now_ms();
    if !edu_db::email_verifications::complete(&state.db, &hash, &link, now).await? {
        return Err(verification_link_invalid());
    }
    audit(&state, Some(creds.user_id), None, "auth.email.verify", "success", None).await?;
    state.metrics.observe_login("success");
    tracing::info!(user.id = %creds.user_id, "email verified; signed in");
    signed_in_response(&state, &req, creds.user_id, "local", None, actix_web::http::StatusCode::OK).await
}
