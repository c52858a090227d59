//! Sign-in with Microsoft (authorization code + PKCE + state + nonce, R-A1..R-A7), linking a
//! Microsoft account to a local one (R-B2, R-B3), and tenant admin consent (R-A28).
//!
//! These are browser navigations, not JSON calls: they answer with redirects. Every failure
//! lands on the SPA's sign-in page with `?error=<code>` (see `backend/API.md`), never a 500.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine as _;
use edu_domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;
use utoipa::ToSchema;

use crate::auth::session::{self, MaybeAuthenticated, SESSION_COOKIE};
use crate::error::{ApiError, ErrorCode};
use crate::microsoft::id_token::IdClaims;
use crate::microsoft::{roles, tokens};
use crate::state::AppState;

/// Binds a pending round trip to the browser that started it.
pub const OIDC_COOKIE: &str = "__Host-oidc";
/// "Sign in again as <name>": the last Microsoft account used in this browser.
pub const HINT_COOKIE: &str = "__Host-ms-hint";
/// Set for the round trip when "remember me on this device" was ticked.
const REMEMBER_COOKIE: &str = "__Host-ms-remember";
/// The tenant of personal Microsoft accounts (outlook.com, hotmail.com, live.com).
const PERSONAL_ACCOUNTS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
/// How long a round trip may take.
const TRANSACTION_TTL_MS: i64 = 10 * 60 * 1000;

/// `GET /auth/microsoft/login` parameters.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    /// `signin` (default) or `link` (signed in locally: link a Microsoft account).
    intent: Option<String>,
    /// Pre-fills the account ("sign in again as").
    login_hint: Option<String>,
    /// `select_account` ("use a different account") or `login`.
    prompt: Option<String>,
    /// A path of ours to go to afterwards.
    return_to: Option<String>,
    /// `1`: "remember me on this device" was ticked: the sign-in page may name this account
    /// after sign-out (the hint cookie); otherwise it is not kept (issue 16, shared computers).
    remember: Option<String>,
}

/// The callback's parameters (success or error).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    admin_consent: Option<String>,
    tenant: Option<String>,
    scope: Option<String>,
}

/// The last Microsoft account used in this browser.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountHint {
    /// Sign-in name to pass as `login_hint`.
    pub login_hint: String,
    /// Display name.
    pub name: String,
}

fn random_b64(bytes: usize) -> String {
    let v: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Percent-decodes once (invalid escapes stay as they are).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A path that stays on `base`'s origin when a browser resolves it (WHATWG URL parsing, as
/// the `url` crate does), also after one more round of percent-decoding (a client router that
/// decodes before it navigates): no control characters, spaces or backslashes anywhere, no
/// scheme-relative `//`, nothing that resolves elsewhere. Returns the path as the parser
/// serialised it (R-A2, issue 17.4).
pub(crate) fn safe_return_to(base: &Url, r: Option<&str>) -> Option<String> {
    let p = r?;
    let plain = |s: &[u8]| {
        s.first() == Some(&b'/')
            && s.get(1) != Some(&b'/')
            && !s.iter().any(|c| c.is_ascii_control() || c.is_ascii_whitespace() || *c == b'\\')
    };
    if p.len() > 512 || !plain(p.as_bytes()) || !plain(&percent_decode(p)) {
        return None;
    }
    let joined = base.join(p).ok()?;
    if joined.origin() != base.origin() || !joined.username().is_empty() || joined.password().is_some() {
        return None;
    }
    let out = &joined[url::Position::BeforePath..];
    plain(out.as_bytes()).then(|| out.to_owned())
}

fn authority(state: &AppState) -> String {
    state.config.ms_authority.as_str().trim_end_matches('/').to_owned()
}

fn public(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.config.public_url.as_str().trim_end_matches('/'))
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, to.to_owned())).finish()
}

/// Records an audit event. These routes answer with redirects whatever happens, so a failed
/// write is logged rather than turned into an error page.
async fn audit(
    state: &AppState,
    tenant: Option<TenantId>,
    actor: Option<UserId>,
    action: &str,
    result: &str,
    detail: Option<&str>,
) {
    let event = edu_db::audit::AuditEvent {
        tenant_id: tenant,
        actor,
        action,
        target_type: actor.map(|_| "user"),
        target_id: actor.map(|a| a.to_string()),
        result,
        detail,
        at: state.clock.now_ms(),
    };
    if let Err(e) = edu_db::audit::record(&state.db, &event).await {
        tracing::error!(error = %e, audit.action = action, "audit event could not be written");
    }
}

/// Sends the browser to the SPA's sign-in page with an error code.
fn fail(code: &str) -> HttpResponse {
    tracing::info!(signin.error = code, "Microsoft sign-in ended with an error");
    let mut r = redirect(&format!("/signin?error={code}"));
    let _ = r.add_cookie(&session::removal(OIDC_COOKIE));
    r
}

async fn begin(
    state: &AppState,
    purpose: &str,
    link_user: Option<UserId>,
    tenant_hint: Option<String>,
    return_to: Option<String>,
) -> Result<(String, String, String), ApiError> {
    let st = random_b64(32);
    let nonce = random_b64(32);
    let verifier = random_b64(48);
    let now = state.clock.now_ms();
    edu_db::oidc::create(
        &state.db,
        &sha256_hex(&st),
        &edu_db::oidc::OidcTransaction {
            purpose: purpose.to_owned(),
            nonce: nonce.clone(),
            pkce_verifier: verifier.clone(),
            link_user_id: link_user.map(|u| u.to_string()),
            tenant_hint,
            return_to,
            expires_at: now + TRANSACTION_TTL_MS,
        },
        now,
    )
    .await?;
    Ok((st, nonce, verifier))
}

fn oidc_cookie(state_value: String) -> actix_web::cookie::Cookie<'static> {
    let mut c = session::cookie(OIDC_COOKIE, state_value);
    c.set_max_age(CookieDuration::minutes(10));
    c
}

fn authorize_url(state: &AppState, st: &str, nonce: &str, verifier: &str, q: &LoginQuery) -> Result<String, ApiError> {
    let mut url =
        Url::parse(&format!("{}/organizations/oauth2/v2.0/authorize", authority(state))).map_err(ApiError::internal)?;
    {
        let mut p = url.query_pairs_mut();
        p.append_pair("client_id", &state.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &public(state, "/auth/microsoft/callback"))
            .append_pair("response_mode", "query")
            .append_pair("scope", &tokens::SIGN_IN_SCOPES.join(" "))
            .append_pair("state", st)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &pkce_challenge(verifier))
            .append_pair("code_challenge_method", "S256");
        // Microsoft: login_hint and select_account cannot be combined.
        match q.prompt.as_deref() {
            Some(prompt @ ("select_account" | "login" | "consent")) => {
                p.append_pair("prompt", prompt);
            }
            Some("none") => {
                // A silent confirmation of the person we expect (issue 17.1).
                p.append_pair("prompt", "none");
                if let Some(h) = q.login_hint.as_deref().filter(|h| !h.is_empty() && h.len() <= 320) {
                    p.append_pair("login_hint", h);
                }
            }
            _ => {
                if let Some(h) = q.login_hint.as_deref().filter(|h| !h.is_empty() && h.len() <= 320) {
                    p.append_pair("login_hint", h);
                }
            }
        }
    }
    Ok(url.into())
}

/// Starts sign-in with Microsoft (or, with `intent=link`, linking a Microsoft account to the
/// signed-in local account).
#[get("/auth/microsoft/login")]
pub async fn microsoft_login(
    state: web::Data<AppState>,
    auth: MaybeAuthenticated,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut q = q.into_inner();
    let (purpose, link_user) = match q.intent.as_deref() {
        None | Some("signin") => ("signin", None),
        Some("link") => match &auth.0 {
            Some(a) => ("link", Some(a.user_id)),
            None => return Ok(fail("signin_required_to_link")),
        },
        // A session that began with the local password asks Microsoft to confirm the person
        // (issue 17.1): silently when Microsoft still has a session, interactively otherwise.
        Some("confirm") => match &auth.0 {
            Some(a) => {
                let identity = edu_db::identities::of_user(&state.db, a.user_id).await?;
                q.login_hint = identity.and_then(|i| i.upn);
                q.prompt = Some(if q.login_hint.is_some() { "none" } else { "select_account" }.into());
                ("confirm", Some(a.user_id))
            }
            None => ("signin", None),
        },
        Some(_) => {
            return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "intent must be signin, link or confirm"));
        }
    };
    if purpose == "link" {
        // Linking asks which Microsoft account, never silently takes the browser's (issue 17.8).
        q.prompt = Some("select_account".into());
    }
    let (st, nonce, verifier) =
        begin(&state, purpose, link_user, None, safe_return_to(&state.config.public_url, q.return_to.as_deref()))
            .await?;
    let to = authorize_url(&state, &st, &nonce, &verifier, &q)?;
    let remember = if q.remember.as_deref() == Some("1") {
        let mut c = session::cookie(REMEMBER_COOKIE, "1".to_owned());
        c.set_max_age(CookieDuration::minutes(10));
        c
    } else {
        session::removal(REMEMBER_COOKIE)
    };
    Ok(HttpResponse::Found().insert_header((header::LOCATION, to)).cookie(oidc_cookie(st)).cookie(remember).finish())
}

/// Checks the callback's `state` against the browser's cookie and takes the transaction
/// (single use, unexpired).
async fn take_transaction(
    state: &AppState,
    req: &HttpRequest,
    q: &CallbackQuery,
) -> Result<edu_db::oidc::OidcTransaction, &'static str> {
    let Some(st) = q.state.as_deref().filter(|s| !s.is_empty()) else { return Err("state_missing") };
    let cookie = req.cookie(OIDC_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if !bool::from(cookie.as_bytes().ct_eq(st.as_bytes())) {
        return Err("state_mismatch");
    }
    let taken = edu_db::oidc::take(&state.db, &sha256_hex(st)).await.map_err(|e| {
        tracing::error!(error = %e, "reading a sign-in transaction failed");
        "temporarily_unavailable"
    })?;
    match taken {
        Some(t) if t.expires_at > state.clock.now_ms() => Ok(t),
        _ => Err("state_invalid"),
    }
}

fn error_code_of(microsoft_error: &str) -> &'static str {
    match microsoft_error {
        "consent_required" => "consent_required",
        "access_denied" => "access_denied",
        "interaction_required" | "login_required" => "interaction_required",
        "temporarily_unavailable" | "server_error" => "microsoft_unavailable",
        _ => "microsoft_error",
    }
}

/// Where Microsoft sends the browser back after sign-in.
#[get("/auth/microsoft/callback")]
pub async fn microsoft_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthenticated,
    q: web::Query<CallbackQuery>,
) -> HttpResponse {
    let q = q.into_inner();
    let txn = match take_transaction(&state, &req, &q).await {
        Ok(t) => t,
        Err(code) => return fail(code),
    };
    if let Some(e) = q.error.as_deref() {
        if txn.purpose == "confirm" && matches!(e, "login_required" | "interaction_required" | "consent_required") {
            // Microsoft has no session for this person here: its sign-in page, then (issue 17.1).
            return match interactive_confirmation(&state, auth.0.as_ref(), &txn).await {
                Ok(resp) => resp,
                Err(_) => fail("temporarily_unavailable"),
            };
        }
        return fail(error_code_of(e));
    }
    let Some(code) = q.code.as_deref() else { return fail("microsoft_error") };
    match complete_sign_in(&state, &req, auth.0.as_ref(), &txn, code).await {
        Ok(resp) => resp,
        Err(code) => {
            audit(&state, None, None, "auth.microsoft.login", "failure", Some(code)).await;
            fail(code)
        }
    }
}

/// The silent confirmation failed: the same confirmation with Microsoft's sign-in page.
async fn interactive_confirmation(
    state: &AppState,
    current: Option<&session::Authenticated>,
    txn: &edu_db::oidc::OidcTransaction,
) -> Result<HttpResponse, ApiError> {
    let hint = match current {
        Some(a) => edu_db::identities::of_user(&state.db, a.user_id).await?.and_then(|i| i.upn),
        None => None,
    };
    let q = LoginQuery { intent: None, login_hint: hint, prompt: None, return_to: None, remember: None };
    let link_user = current.map(|a| a.user_id);
    let (st, nonce, verifier) = begin(state, "confirm_ui", link_user, None, txn.return_to.clone()).await?;
    let to = authorize_url(state, &st, &nonce, &verifier, &q)?;
    Ok(HttpResponse::Found().insert_header((header::LOCATION, to)).cookie(oidc_cookie(st)).finish())
}

async fn complete_sign_in(
    state: &AppState,
    req: &HttpRequest,
    current: Option<&session::Authenticated>,
    txn: &edu_db::oidc::OidcTransaction,
    code: &str,
) -> Result<HttpResponse, &'static str> {
    let db_err = |e: edu_db::DbError| {
        tracing::error!(error = %e, "database error during Microsoft sign-in");
        "temporarily_unavailable"
    };
    let tokens = state
        .graph
        .tokens()
        .exchange_code(
            "organizations",
            code,
            &public(state, "/auth/microsoft/callback"),
            &txn.pkce_verifier,
            tokens::SIGN_IN_SCOPES,
        )
        .await
        .map_err(|e| match e {
            edu_msgraph::TokenError::OAuth(o) if o.is_consent_required() => "consent_required",
            edu_msgraph::TokenError::OAuth(o) if o.is_invalid_grant() => "code_invalid",
            edu_msgraph::TokenError::OAuth(_) => "microsoft_error",
            _ => "microsoft_unavailable",
        })?;
    let raw_id = tokens.id_token.as_deref().ok_or("id_token_missing")?;
    let claims: IdClaims = state.id_tokens.validate(raw_id, &txn.nonce).await.map_err(|e| {
        tracing::warn!(error = %e, "ID token refused");
        e.code()
    })?;
    // School data needs a school account: a personal Microsoft account is explained (issue 16).
    if claims.tid == PERSONAL_ACCOUNTS_TENANT {
        return Err("personal_account");
    }
    let is_admin = roles::is_tenant_admin(&claims.wids);
    let now = state.clock.now_ms();

    // The tenant: known and consented, or an admin signing in to consent / onboard.
    let tenant = edu_db::tenants::find_by_ms_id(&state.db, &claims.tid).await.map_err(db_err)?;
    let consented = tenant.as_ref().is_some_and(|t| t.consent_state == "consented");
    let onboarding = txn.purpose == "onboard" && txn.tenant_hint.as_deref() == Some(claims.tid.as_str());
    if !consented && !is_admin {
        return Err("tenant_not_onboarded");
    }
    let graph_auth = edu_msgraph::GraphAuth::delegated(claims.tid.clone(), tokens.access_token.clone());
    let tenant_id = match tenant {
        // An admin's sign-in refreshes the organization's name (a rename in Microsoft 365 shows).
        Some(t) if is_admin => {
            let name = organization_name(state, &graph_auth).await.unwrap_or(t.display_name);
            edu_db::tenants::upsert_by_ms_id(&state.db, &claims.tid, &name, now).await.map_err(db_err)?
        }
        Some(t) => t.id,
        None => {
            let domain =
                claims.preferred_username.as_deref().and_then(|u| u.split_once('@')).map_or("School", |(_, d)| d);
            let name = organization_name(state, &graph_auth).await.unwrap_or_else(|| domain.to_owned());
            edu_db::tenants::upsert_by_ms_id(&state.db, &claims.tid, &name, now).await.map_err(db_err)?
        }
    };
    if onboarding && is_admin {
        edu_db::tenants::set_consented(&state.db, tenant_id, "https://graph.microsoft.com/.default", None, now)
            .await
            .map_err(db_err)?;
    }

    let person_roles = roles::detect(&state.graph, &graph_auth, &claims.wids).await.map_err(|e| {
        tracing::warn!(error = %e, "reading the education profile failed");
        "microsoft_unavailable"
    })?;

    let profile = edu_db::identities::MsProfile {
        ms_tenant_id: &claims.tid,
        ms_object_id: &claims.oid,
        upn: claims.preferred_username.as_deref(),
        display_name: claims.name.as_deref(),
    };
    let existing = edu_db::identities::find(&state.db, &claims.tid, &claims.oid).await.map_err(db_err)?;
    let user_id = if txn.purpose == "link" {
        link_identity(state, current, txn, existing, tenant_id, &profile, now).await?
    } else {
        match existing {
            Some(identity) => {
                edu_db::identities::touch(&state.db, &identity.id, &profile, now).await.map_err(db_err)?;
                identity.user_id
            }
            None => {
                // Unlinked from an account with a password: say so and offer to link it again,
                // never a silent second account (issue 16).
                if edu_db::identities::unlinked_from(&state.db, &claims.tid, &claims.oid)
                    .await
                    .map_err(db_err)?
                    .is_some()
                {
                    return Err("microsoft_unlinked");
                }
                edu_db::identities::create_person(&state.db, tenant_id, &profile, now).await.map_err(db_err)?
            }
        }
    };
    edu_db::users::set_roles(&state.db, tenant_id, user_id, &person_roles, now).await.map_err(db_err)?;
    tokens::store(state, tenant_id, &claims.oid, &tokens).await.map_err(|_| "temporarily_unavailable")?;

    let previous = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let secret = session::start(state, previous.as_deref(), user_id, Some(tenant_id), "microsoft", Some(now))
        .await
        .map_err(|_| "temporarily_unavailable")?;
    let action = if txn.purpose == "link" { "link.microsoft" } else { "auth.microsoft.login" };
    let roles_detail = format!("roles={}", person_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","));
    audit(state, Some(tenant_id), Some(user_id), action, "success", Some(&roles_detail)).await;
    tracing::info!(user.id = %user_id, tenant.id = %tenant_id, roles = person_roles.len(), "signed in with Microsoft");

    let hint = AccountHint {
        login_hint: claims.preferred_username.clone().unwrap_or_default(),
        name: claims.name.clone().unwrap_or_default(),
    };
    let hint_value =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&hint).unwrap_or_default());
    // Kept only when "remember me on this device" was ticked; otherwise the previous one goes
    // too, so a shared computer never shows who used it last (issue 16).
    let hint_cookie = if req.cookie(REMEMBER_COOKIE).is_some_and(|c| c.value() == "1") {
        let mut c = session::cookie(HINT_COOKIE, hint_value);
        c.set_max_age(CookieDuration::days(90));
        c
    } else {
        session::removal(HINT_COOKIE)
    };
    let to = txn
        .return_to
        .clone()
        .unwrap_or_else(|| if txn.purpose == "link" { "/?notice=microsoft_linked".into() } else { "/".into() });
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .cookie(session::cookie(SESSION_COOKIE, secret))
        .cookie(session::removal(OIDC_COOKIE))
        .cookie(session::removal(session::PRE_SESSION_COOKIE))
        .cookie(hint_cookie)
        .cookie(session::removal(REMEMBER_COOKIE))
        .finish())
}

/// The organization's display name from Graph `GET /organization` (issue 16: tenants are named
/// by their organization, not their domain); `None` when Microsoft does not say (logged).
async fn organization_name(state: &AppState, auth: &edu_msgraph::GraphAuth) -> Option<String> {
    match state.graph.fetch(auth, crate::services::graph::organization()).await {
        Ok(page) => page.value.into_iter().find_map(|o| o.display_name).filter(|n| !n.trim().is_empty()),
        Err(e) => {
            tracing::warn!(error = %e, "reading the organization's name failed");
            None
        }
    }
}

/// Links the signed-in Microsoft identity to the local account that asked for it (R-B2):
/// never by email; refused when the identity belongs to another local account.
async fn link_identity(
    state: &AppState,
    current: Option<&session::Authenticated>,
    txn: &edu_db::oidc::OidcTransaction,
    existing: Option<edu_db::identities::IdentityRecord>,
    tenant_id: TenantId,
    profile: &edu_db::identities::MsProfile<'_>,
    now: i64,
) -> Result<UserId, &'static str> {
    let db_err = |e: edu_db::DbError| {
        tracing::error!(error = %e, "database error while linking");
        "temporarily_unavailable"
    };
    let link_user = txn.link_user_id.as_deref().and_then(|u| UserId::parse(u).ok()).ok_or("state_invalid")?;
    // The browser must still be signed in as the person who started the link.
    if current.map(|c| c.user_id) != Some(link_user) {
        return Err("signin_required_to_link");
    }
    if let Some(mine) = edu_db::identities::of_user(&state.db, link_user).await.map_err(db_err)? {
        return if mine.ms_tenant_id == profile.ms_tenant_id && mine.ms_object_id == profile.ms_object_id {
            Ok(link_user)
        } else {
            Err("already_linked")
        };
    }
    match existing {
        Some(identity) if identity.user_has_password => Err("microsoft_account_already_linked"),
        Some(identity) => {
            // The Microsoft account was used alone before: its person merges into this one.
            edu_db::identities::move_to(&state.db, &identity.id, identity.user_id, link_user, now)
                .await
                .map_err(|_| "microsoft_account_already_linked")?;
            Ok(link_user)
        }
        None => {
            edu_db::identities::attach(&state.db, tenant_id, profile, link_user, now).await.map_err(|e| match e {
                edu_db::DbError::Conflict(_) => "microsoft_account_already_linked",
                other => db_err(other),
            })?;
            Ok(link_user)
        }
    }
}

/// The last Microsoft account used in this browser, for "sign in again as <name>" (404 if none).
#[utoipa::path(operation_id = "get_microsoft_account_hint", tag = "account", responses(
    (status = 200, body = AccountHint),
    (status = 404, description = "`not_found`: no Microsoft sign-in in this browser yet", body = crate::error::ErrorBody),
))]
#[get("/api/auth/microsoft/hint")]
pub async fn get_microsoft_account_hint(req: HttpRequest) -> Result<web::Json<AccountHint>, ApiError> {
    req.cookie(HINT_COOKIE)
        .and_then(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c.value()).ok())
        .and_then(|b| serde_json::from_slice::<AccountHint>(&b).ok())
        .filter(|h| !h.login_hint.is_empty())
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No Microsoft account has signed in in this browser."))
}

/// Admin consent from inside the app: a signed-in tenant admin grants the app's permissions.
#[get("/auth/microsoft/consent")]
pub async fn microsoft_consent(
    state: web::Data<AppState>,
    admin: crate::auth::roles::TenantAdmin,
) -> Result<HttpResponse, ApiError> {
    let tenant = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "Your tenant is not known."))?;
    let (st, _, _) =
        begin(&state, "consent", Some(admin.0.auth.user_id), Some(tenant.ms_tenant_id.clone()), None).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, admin_consent_url(&state, &tenant.ms_tenant_id, &st)?))
        .cookie(oidc_cookie(st))
        .finish())
}

/// Public onboarding: the admin of a school that has never used EduGraph grants consent,
/// then signs in (which proves they are that tenant's admin) to finish.
#[get("/auth/microsoft/onboard")]
pub async fn microsoft_onboard(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (st, _, _) = begin(&state, "onboard", None, None, None).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, admin_consent_url(&state, "organizations", &st)?))
        .cookie(oidc_cookie(st))
        .finish())
}

fn admin_consent_url(state: &AppState, tenant: &str, st: &str) -> Result<String, ApiError> {
    let mut url =
        Url::parse(&format!("{}/{tenant}/v2.0/adminconsent", authority(state))).map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("client_id", &state.config.client_id)
        .append_pair("scope", "https://graph.microsoft.com/.default")
        .append_pair("redirect_uri", &public(state, "/auth/microsoft/consent/callback"))
        .append_pair("state", st);
    Ok(url.into())
}

/// Where Microsoft sends the admin back after the consent prompt. The `tenant` parameter can
/// be forged, so it is only trusted together with the signed-in admin of that tenant (in-app
/// consent) or after the admin signs in (onboarding).
#[get("/auth/microsoft/consent/callback")]
pub async fn microsoft_consent_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: MaybeAuthenticated,
    q: web::Query<CallbackQuery>,
) -> HttpResponse {
    let q = q.into_inner();
    let txn = match take_transaction(&state, &req, &q).await {
        Ok(t) => t,
        Err(code) => return fail(code),
    };
    if q.error.is_some() || q.admin_consent.as_deref().map(str::to_ascii_lowercase).as_deref() != Some("true") {
        return fail("consent_declined");
    }
    let Some(tid) = q.tenant.as_deref().filter(|t| uuid::Uuid::parse_str(t).is_ok()) else {
        return fail("consent_declined");
    };
    let now = state.clock.now_ms();
    match txn.purpose.as_str() {
        "consent" => {
            let admin = txn.link_user_id.as_deref().and_then(|u| UserId::parse(u).ok());
            let same_admin = auth.0.as_ref().map(|a| a.user_id) == admin && admin.is_some();
            if !same_admin || txn.tenant_hint.as_deref() != Some(tid) {
                return fail("consent_tenant_mismatch");
            }
            let Ok(Some(tenant)) = edu_db::tenants::find_by_ms_id(&state.db, tid).await else {
                return fail("consent_tenant_mismatch");
            };
            let scopes = q.scope.as_deref().unwrap_or("https://graph.microsoft.com/.default");
            if edu_db::tenants::set_consented(&state.db, tenant.id, scopes, admin, now).await.is_err() {
                return fail("temporarily_unavailable");
            }
            audit(&state, Some(tenant.id), admin, "tenant.consent", "success", None).await;
            let mut r = redirect("/?notice=tenant_consented");
            let _ = r.add_cookie(&session::removal(OIDC_COOKIE));
            r
        }
        "onboard" => {
            // Now prove it: the admin signs in; the sign-in callback marks the tenant consented
            // only if the ID token's tid is this tenant and the person is its admin.
            let Ok((st, nonce, verifier)) = begin(&state, "onboard", None, Some(tid.to_owned()), None).await else {
                return fail("temporarily_unavailable");
            };
            let login = LoginQuery {
                intent: None,
                login_hint: None,
                prompt: Some("select_account".into()),
                return_to: None,
                remember: None,
            };
            match authorize_url(&state, &st, &nonce, &verifier, &login) {
                Ok(to) => HttpResponse::Found().insert_header((header::LOCATION, to)).cookie(oidc_cookie(st)).finish(),
                Err(_) => fail("temporarily_unavailable"),
            }
        }
        _ => fail("state_invalid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://edugraph.example/").unwrap()
    }

    /// R-A2, issue 17.4: hostile `return_to` forms, parsed the way browsers parse URLs.
    #[test]
    fn return_to_refuses_every_path_that_could_leave_the_site() {
        let hostile = [
            "//evil.example/x",
            "/\\evil.example/x",
            "\\/evil.example/x",
            "/\tevil.example",
            "/\t/evil.example/x",
            "/%09/evil.example/x",
            "/%0d/evil.example/x",
            "/%0a/evil.example/x",
            "/%2f/evil.example/x",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "/%5C%5Cevil.example",
            "/\r/evil.example/x",
            "/\n/evil.example/x",
            "\t//evil.example/x",
            " //evil.example/x",
            "https://evil.example/x",
            "http:evil.example",
            "javascript:alert(1)",
            "//user@evil.example",
            "/\\/evil.example",
            "/ /evil.example",
            "/%20/evil.example",
            "%2F%2Fevil.example",
            "evil.example/x",
            "",
            "/%00/x",
            "/\u{7f}/evil.example",
            "//%09evil.example",
        ];
        for h in hostile {
            let got = safe_return_to(&base(), Some(h));
            assert!(got.is_none(), "{h:?} was accepted as {got:?}");
        }
        assert!(safe_return_to(&base(), Some(&format!("/{}", "a".repeat(600)))).is_none());
    }

    #[test]
    fn return_to_keeps_our_own_paths() {
        for (p, want) in [
            ("/", "/"),
            ("/classes/abc?tab=seating", "/classes/abc?tab=seating"),
            ("/classes/abc#seat", "/classes/abc#seat"),
            ("/a/../b", "/b"),
            ("/search?q=Zo%C3%AB", "/search?q=Zo%C3%AB"),
        ] {
            assert_eq!(safe_return_to(&base(), Some(p)).as_deref(), Some(want), "{p}");
        }
    }
}
