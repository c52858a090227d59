//! Identity platform v2.0: discovery, JWKS, authorize (sign-in page), token, admin consent, logout.

use crate::Shared;
use crate::model::*;
use crate::util::*;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sha2::Digest as _;

pub const SESSION_COOKIE: &str = "ESTSAUTH_EMU";
const PENDING_TTL: u64 = 3600;
const CODE_TTL: u64 = 600;
const RT_TTL: u64 = 90 * 86_400;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// Delegated scopes granted for `https://graph.microsoft.com/.default` in an interactive flow.
pub const DEFAULT_DELEGATED: &[&str] = &[
    "User.Read",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "EduRoster.ReadBasic",
    "EduRoster.Read",
    "EduRoster.ReadWrite",
    "Mail.Read",
    "EduAssignments.ReadWrite",
    "Mail.Send",
    "Files.ReadWrite.All",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/common/discovery/instance", web::get().to(instance_discovery))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", web::get().to(discovery))
        .route("/{tenant}/discovery/v2.0/keys", web::get().to(jwks))
        .route("/{tenant}/discovery/keys", web::get().to(jwks))
        .route("/{tenant}/oauth2/v2.0/authorize", web::get().to(authorize))
        .route("/{tenant}/oauth2/v2.0/authorize", web::post().to(authorize_post))
        .route("/{tenant}/login", web::post().to(login_post))
        .route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
        .route("/{tenant}/oauth2/v2.0/logout", web::get().to(logout))
        .route("/{tenant}/v2.0/adminconsent", web::get().to(adminconsent_v2))
        .route("/{tenant}/adminconsent", web::get().to(adminconsent_v1));
}

// ---------------------------------------------------------------- tenant segments

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Common,
    Organizations,
    Consumers,
    Tenant(String),
}

fn resolve(st: &Store, seg: &str) -> Option<Seg> {
    match seg.to_ascii_lowercase().as_str() {
        "common" => Some(Seg::Common),
        "organizations" => Some(Seg::Organizations),
        "consumers" | "9188040d-6c67-4c5b-b112-36a304b66dad" => Some(Seg::Consumers),
        _ => st.tenant(seg).map(|t| Seg::Tenant(t.id.clone())),
    }
}

fn seg_allows(seg: &Seg, tenant_id: &str) -> bool {
    match seg {
        Seg::Common | Seg::Organizations => true,
        Seg::Consumers => false,
        Seg::Tenant(t) => t == tenant_id,
    }
}

// ---------------------------------------------------------------- discovery + keys

async fn instance_discovery(shared: web::Data<Shared>) -> HttpResponse {
    let host = shared.base_url.trim_start_matches("http://").trim_start_matches("https://").to_string();
    let body = json!({
        "tenant_discovery_endpoint": format!("{}/common/v2.0/.well-known/openid-configuration", shared.base_url),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    });
    json_cached(body)
}

fn json_cached(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "max-age=86400, private"))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .insert_header(("Access-Control-Allow-Methods", "GET, OPTIONS"))
        .insert_header(("x-ms-request-id", new_id()))
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

pub fn discovery_document(base: &str, seg: &str, tenant_id: Option<&str>) -> Value {
    let (issuer, region) = match tenant_id {
        Some(t) => (format!("{base}/{t}/v2.0"), json!("WW")),
        None => (format!("{base}/{{tenantid}}/v2.0"), Value::Null),
    };
    let s = tenant_id.unwrap_or(seg);
    let graph_host = format!("{}/graph", base.trim_start_matches("http://").trim_start_matches("https://"));
    json!({
        "token_endpoint": format!("{base}/{s}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{s}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/graph/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{s}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{s}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{s}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{s}/kerberos"),
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": graph_host,
        "rbac_url": "https://pas.windows.net",
    })
}

async fn discovery(shared: web::Data<Shared>, path: web::Path<String>) -> HttpResponse {
    let seg = path.into_inner();
    let st = shared.read();
    match resolve(&st, &seg) {
        Some(Seg::Tenant(t)) => json_cached(discovery_document(&shared.base_url, &seg, Some(&t))),
        Some(Seg::Common) | Some(Seg::Organizations) => {
            json_cached(discovery_document(&shared.base_url, &seg.to_ascii_lowercase(), None))
        }
        _ => tenant_not_found_json(&seg),
    }
}

fn tenant_not_found_json(seg: &str) -> HttpResponse {
    let mut r = oauth_error_response(
        400,
        "invalid_tenant",
        90002,
        &format!(
            "Tenant '{seg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    );
    r.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("max-age=86400, private"),
    );
    r
}

async fn jwks(shared: web::Data<Shared>, path: web::Path<String>) -> HttpResponse {
    let seg = path.into_inner();
    let st = shared.read();
    let issuer = match resolve(&st, &seg) {
        Some(Seg::Tenant(t)) => format!("{}/{t}/v2.0", shared.base_url),
        Some(Seg::Common) | Some(Seg::Organizations) => {
            format!("{}/{{tenantid}}/v2.0", shared.base_url)
        }
        _ => return tenant_not_found_json(&seg),
    };
    let keys: Vec<Value> = st.keys.iter().rev().map(|k| k.jwk(&issuer)).collect();
    json_cached(json!({"keys": keys}))
}

// ---------------------------------------------------------------- errors

pub struct OAuthErr {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub msg: String,
    pub suberror: Option<&'static str>,
}

fn err(status: u16, error: &'static str, code: u32, msg: impl Into<String>) -> OAuthErr {
    OAuthErr { status, error, code, msg: msg.into(), suberror: None }
}

fn described(code: u32, msg: &str) -> (String, String, String, String) {
    let trace = new_id();
    let corr = new_id();
    let ts = oauth_timestamp();
    (format!("AADSTS{code}: {msg}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"), trace, corr, ts)
}

pub fn oauth_error_response(status: u16, error: &str, code: u32, msg: &str) -> HttpResponse {
    oauth_err_resp(&OAuthErr { status, error: "", code, msg: msg.into(), suberror: None }, error)
}

fn oauth_err_resp(e: &OAuthErr, error: &str) -> HttpResponse {
    let (desc, trace, corr, ts) = described(e.code, &e.msg);
    let mut body = json!({
        "error": error, "error_description": desc, "error_codes": [e.code], "timestamp": ts,
        "trace_id": trace, "correlation_id": corr,
        "error_uri": format!("https://login.microsoftonline.com/error?code={}", e.code),
    });
    if let (Some(s), Some(o)) = (e.suberror, body.as_object_mut()) {
        o.insert("suberror".into(), json!(s));
    }
    HttpResponse::build(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST))
        .insert_header(("Cache-Control", "no-store, no-cache"))
        .insert_header(("Pragma", "no-cache"))
        .insert_header(("Expires", "-1"))
        .insert_header(("x-ms-request-id", trace))
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

impl OAuthErr {
    fn resp(&self) -> HttpResponse {
        oauth_err_resp(self, self.error)
    }
}

/// Error rendered on the sign-in page (no redirect: the redirect target can't be trusted).
fn error_page(status: u16, code: u32, msg: &str) -> HttpResponse {
    let (desc, trace, corr, ts) = described(code, msg);
    let _ = desc;
    let html = format!(
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>\
<h1>Sorry, but we're having trouble signing you in.</h1>\
<p id=\"error\" data-error-code=\"AADSTS{code}\">AADSTS{code}: {}</p>\
<p>Request Id: {trace}<br>Correlation Id: {corr}<br>Timestamp: {ts}</p></body></html>",
        html_escape(msg)
    );
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("text/html; charset=utf-8")
        .body(html)
}

// ---------------------------------------------------------------- redirects

fn append_params(base: &str, sep: char, params: &[(&str, String)]) -> String {
    let enc = serde_urlencoded::to_string(params).unwrap_or_default();
    if sep == '#' {
        format!("{base}#{enc}")
    } else if base.contains('?') {
        format!("{base}&{enc}")
    } else {
        format!("{base}?{enc}")
    }
}

fn respond(redirect_uri: &str, mode: &str, params: Vec<(&str, String)>) -> HttpResponse {
    match mode {
        "form_post" => {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\" />", html_escape(k), html_escape(v))
                })
                .collect();
            let html = format!(
                "<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}\
<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form>\
<script language=\"javascript\">document.forms[0].submit();</script></body></html>",
                html_escape(redirect_uri)
            );
            HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html)
        }
        "fragment" => found(&append_params(redirect_uri, '#', &params)),
        _ => found(&append_params(redirect_uri, '?', &params)),
    }
}

fn found(loc: &str) -> HttpResponse {
    HttpResponse::Found().insert_header(("Location", loc)).finish()
}

fn redirect_error(p: &AuthParams, error: &str, code: u32, msg: &str) -> HttpResponse {
    let (desc, _, _, _) = described(code, msg);
    let mut params: Vec<(&str, String)> = vec![];
    if p.admin_consent && p.v2_adminconsent && !p.legacy_adminconsent {
        params.push(("admin_consent", "True".into()));
    }
    params.push(("error", error.into()));
    params.push(("error_description", desc));
    if let Some(s) = &p.state {
        params.push(("state", s.clone()));
    }
    let mode = if p.v2_adminconsent { "query" } else { p.response_mode.as_str() };
    respond(&p.redirect_uri, mode, params)
}

// ---------------------------------------------------------------- authorize

fn query_map(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

async fn authorize(shared: web::Data<Shared>, path: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let q = query_map(&req);
    authorize_inner(&shared, &path.into_inner(), &q, &req, false, false)
}

async fn authorize_post(
    shared: web::Data<Shared>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let q: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    authorize_inner(&shared, &path.into_inner(), &q, &req, false, false)
}

async fn adminconsent_v2(shared: web::Data<Shared>, path: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let q = query_map(&req);
    authorize_inner(&shared, &path.into_inner(), &q, &req, true, true)
}

async fn adminconsent_v1(shared: web::Data<Shared>, path: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let q = query_map(&req);
    authorize_inner(&shared, &path.into_inner(), &q, &req, true, false)
}

fn session_accounts(st: &Store, req: &HttpRequest) -> (Option<String>, Vec<(String, String)>) {
    let Some(c) = req.cookie(SESSION_COOKIE) else {
        return (None, vec![]);
    };
    let sid = c.value().to_string();
    let accts = st.sessions.get(&sid).cloned().unwrap_or_default();
    (Some(sid), accts)
}

fn authorize_inner(
    shared: &Shared,
    seg_s: &str,
    q: &[(String, String)],
    req: &HttpRequest,
    admin_consent: bool,
    v2_admin: bool,
) -> HttpResponse {
    let mut st = shared.write();
    let Some(seg) = resolve(&st, seg_s) else {
        return error_page(
            400,
            90002,
            &format!(
                "Tenant '{seg_s}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    };
    if seg == Seg::Consumers {
        return error_page(400, 50020, "Personal Microsoft accounts are not supported by this emulator.");
    }
    if admin_consent && seg == Seg::Common && v2_admin {
        return error_page(
            400,
            90130,
            "The 'common' endpoint can't be used for admin consent. Use 'organizations' or a tenant-specific endpoint.",
        );
    }
    let Some(client_id) = get(q, "client_id") else {
        return error_page(400, 900144, "The request body must contain the following parameter: 'client_id'.");
    };
    let Some(app) = st.apps.get(client_id).cloned() else {
        return error_page(
            400,
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{seg_s}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        );
    };
    let redirect_uri = match get(q, "redirect_uri") {
        Some(r) => r.to_string(),
        None => match app.redirect_uris.first() {
            Some(r) => r.clone(),
            None => {
                return error_page(400, 500113, "No reply address is registered for the application.");
            }
        },
    };
    if !app.redirect_ok(&redirect_uri) {
        return error_page(
            400,
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        );
    }
    let response_type =
        get(q, "response_type").unwrap_or(if admin_consent && !v2_admin { "code" } else { "" }).to_string();
    let mut rt_parts: Vec<&str> = response_type.split(' ').filter(|s| !s.is_empty()).collect();
    rt_parts.sort_unstable();
    let wants_id = rt_parts.contains(&"id_token");
    let default_mode = if wants_id { "fragment" } else { "query" };
    let mut p = AuthParams {
        client_id: client_id.to_string(),
        redirect_uri,
        response_type: rt_parts.join(" "),
        response_mode: get(q, "response_mode").unwrap_or(default_mode).to_string(),
        scope: get(q, "scope").unwrap_or("").to_string(),
        state: q.iter().find(|(k, _)| k == "state").map(|(_, v)| v.clone()),
        nonce: get(q, "nonce").map(str::to_string),
        prompt: get(q, "prompt").map(str::to_string),
        login_hint: get(q, "login_hint").map(str::to_string),
        domain_hint: get(q, "domain_hint").map(str::to_string),
        code_challenge: get(q, "code_challenge").map(str::to_string),
        code_challenge_method: get(q, "code_challenge_method").map(str::to_string),
        admin_consent: admin_consent || get(q, "prompt") == Some("admin_consent"),
        v2_adminconsent: admin_consent,
        legacy_adminconsent: admin_consent && !v2_admin,
    };
    if !matches!(p.response_mode.as_str(), "query" | "fragment" | "form_post") {
        p.response_mode = default_mode.into();
        return redirect_error(
            &p,
            "invalid_request",
            900144,
            "The provided value for the input parameter 'response_mode' is not valid.",
        );
    }
    if admin_consent {
        if v2_admin && p.scope.is_empty() {
            return redirect_error(
                &p,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        }
    } else {
        if response_type.is_empty() {
            return redirect_error(
                &p,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'response_type'.",
            );
        }
        let ok = matches!(p.response_type.as_str(), "code" | "id_token" | "code id_token");
        if !ok {
            return redirect_error(
                &p,
                "unsupported_response_type",
                700054,
                &format!("response_type '{}' is not enabled for the application.", p.response_type),
            );
        }
        if wants_id && p.response_mode == "query" {
            return redirect_error(
                &p,
                "invalid_request",
                900144,
                "The provided value for the input parameter 'response_mode' is not valid: 'query' is not allowed when an id_token is requested.",
            );
        }
        if p.scope.is_empty() {
            return redirect_error(
                &p,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        }
        if wants_id && !p.scope.split(' ').any(|s| s == "openid") {
            return redirect_error(
                &p,
                "invalid_request",
                900144,
                "The request must contain the 'openid' scope when an id_token is requested.",
            );
        }
        if wants_id && p.nonce.is_none() {
            return redirect_error(&p, "invalid_request", 90014, "The required field 'nonce' is missing.");
        }
        if let Some(m) = &p.code_challenge_method {
            if m != "S256" && m != "plain" {
                return redirect_error(
                    &p,
                    "invalid_request",
                    5001,
                    &format!("Invalid code_challenge_method '{m}'. Expected 'S256' or 'plain'."),
                );
            }
            if p.code_challenge.is_none() {
                return redirect_error(
                    &p,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'code_challenge'.",
                );
            }
        }
        if let Some(pr) = &p.prompt
            && !matches!(pr.as_str(), "login" | "none" | "consent" | "select_account" | "admin_consent")
        {
            return redirect_error(
                &p,
                "invalid_request",
                90023,
                &format!(
                    "Invalid prompt value '{pr}'. The only valid values are 'login', 'none', 'consent' and 'select_account'."
                ),
            );
        }
    }
    // Accounts already signed in (sign-in cookie) that fit the request.
    let (_sid, accounts) = session_accounts(&st, req);
    let fitting: Vec<(String, String)> = accounts
        .into_iter()
        .filter(|(tid, uid)| {
            let Some(t) = st.tenant(tid) else {
                return false;
            };
            let Some(u) = t.users.get(uid) else {
                return false;
            };
            seg_allows(&seg, tid)
                && u.enabled()
                && p.login_hint.as_deref().is_none_or(|h| h.eq_ignore_ascii_case(u.upn()))
                && p.domain_hint
                    .as_deref()
                    .is_none_or(|h| matches!(h, "organizations") || h.eq_ignore_ascii_case(&t.domain) || h == t.id)
        })
        .collect();
    let ctx = random_token(18);
    st.pending.retain(|_, v| v.created + PENDING_TTL > now_secs());
    let pending = Pending { tenant_segment: seg_s.to_string(), params: p.clone(), created: now_secs(), user: None };
    let prompt = p.prompt.clone().unwrap_or_default();
    if prompt == "none" {
        return match fitting.as_slice() {
            [] => redirect_error(
                &p,
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            ),
            [(tid, uid)] => {
                let (tid, uid) = (tid.clone(), uid.clone());
                let Some(t) = st.tenant(&tid) else {
                    return error_page(500, 90000, "internal");
                };
                if !t.consented(&p.client_id, Some(&uid)) {
                    return redirect_error(
                        &p,
                        "consent_required",
                        65001,
                        &format!(
                            "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                            app.client_id, app.display_name
                        ),
                    );
                }
                complete(&mut st, shared, &p, &tid, &uid)
            }
            _ => redirect_error(
                &p,
                "interaction_required",
                16000,
                "Multiple user identities are available for the current request. Specify a login_hint or use an interactive request.",
            ),
        };
    }
    st.pending.insert(ctx.clone(), pending);
    if prompt == "login" || fitting.is_empty() {
        return sign_in_page(&st, seg_s, &ctx, &p, None);
    }
    if prompt == "select_account" || fitting.len() > 1 {
        return picker_page(&st, seg_s, &ctx, &fitting);
    }
    let (tid, uid) = fitting[0].clone();
    after_auth(&mut st, shared, &ctx, &tid, &uid)
}

/// The user is authenticated: handle consent, then complete.
fn after_auth(st: &mut Store, shared: &Shared, ctx: &str, tid: &str, uid: &str) -> HttpResponse {
    let Some(pending) = st.pending.get_mut(ctx) else {
        return error_page(400, 90117, "The sign-in request has expired. Go back to the application and try again.");
    };
    pending.user = Some((tid.to_string(), uid.to_string()));
    let pending = pending.clone();
    let p = &pending.params;
    let Some(t) = st.tenant(tid) else {
        return error_page(500, 90000, "tenant vanished");
    };
    let Some(u) = t.users.get(uid) else {
        return error_page(500, 90000, "user vanished");
    };
    let app_name = st.apps.get(&p.client_id).map(|a| a.display_name.clone()).unwrap_or_default();
    if p.admin_consent {
        if !u.is_global_admin() {
            st.pending.remove(ctx);
            return redirect_error(
                p,
                "consent_required",
                90094,
                "Administrator consent is required. The signed-in user is not an administrator of the tenant.",
            );
        }
        return consent_page(&pending.tenant_segment, ctx, &app_name, &p.scope, u, true);
    }
    let consented = t.consented(&p.client_id, Some(uid));
    if !consented {
        if u.is_global_admin() {
            return consent_page(&pending.tenant_segment, ctx, &app_name, &p.scope, u, true);
        }
        return need_approval_page(&pending.tenant_segment, ctx, &app_name);
    }
    if p.prompt.as_deref() == Some("consent") {
        return consent_page(&pending.tenant_segment, ctx, &app_name, &p.scope, u, false);
    }
    st.pending.remove(ctx);
    let p = pending.params.clone();
    complete(st, shared, &p, tid, uid)
}

fn complete(st: &mut Store, shared: &Shared, p: &AuthParams, tid: &str, uid: &str) -> HttpResponse {
    if p.v2_adminconsent || (p.admin_consent && p.response_type.is_empty()) {
        // Admin consent endpoints.
        let mut params: Vec<(&str, String)> = vec![("admin_consent", "True".into()), ("tenant", tid.into())];
        if !p.scope.is_empty() {
            params.push(("scope", p.scope.clone()));
        }
        if let Some(s) = &p.state {
            params.push(("state", s.clone()));
        }
        return respond(&p.redirect_uri, "query", params);
    }
    let Some(t) = st.tenant(tid) else {
        return error_page(500, 90000, "tenant vanished");
    };
    let Some(u) = t.users.get(uid).cloned() else {
        return error_page(500, 90000, "user vanished");
    };
    let Some(app) = st.apps.get(&p.client_id).cloned() else {
        return error_page(400, 700016, "application vanished");
    };
    let mut params: Vec<(&str, String)> = vec![];
    let mut code_val = None;
    if p.response_type.split(' ').any(|x| x == "code") {
        let code = format!("1.{}", random_token(48));
        st.codes.retain(|_, c| c.created + CODE_TTL > now_secs());
        st.codes.insert(
            code.clone(),
            AuthCode {
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                tenant_id: tid.into(),
                user_id: uid.into(),
                scope: p.scope.clone(),
                nonce: p.nonce.clone(),
                code_challenge: p.code_challenge.clone(),
                code_challenge_method: p.code_challenge_method.clone(),
                created: now_secs(),
                used: false,
            },
        );
        params.push(("code", code.clone()));
        code_val = Some(code);
    }
    if p.response_type.split(' ').any(|x| x == "id_token") {
        let c_hash = code_val.as_deref().map(half_hash);
        match id_token(st, &shared.base_url, tid, &u, &app, p.nonce.as_deref(), c_hash) {
            Ok(t) => params.push(("id_token", t)),
            Err(e) => return error_page(500, 90000, &e.to_string()),
        }
    }
    if let Some(s) = &p.state {
        params.push(("state", s.clone()));
    }
    params.push(("session_state", det_id(&format!("session/{uid}"))));
    respond(&p.redirect_uri, &p.response_mode, params)
}

fn half_hash(v: &str) -> String {
    let h = sha2::Sha256::digest(v.as_bytes());
    b64url(&h[..16])
}

// ---------------------------------------------------------------- pages

const STYLE: &str = "<style>body{font-family:Segoe UI,Arial,sans-serif;background:#f2f2f2}main{background:#fff;max-width:440px;margin:40px auto;padding:32px;box-shadow:0 2px 6px rgba(0,0,0,.2)}input[type=text],input[type=password],input[type=email]{width:100%;padding:6px;margin:6px 0 14px;box-sizing:border-box}button{background:#0067b8;color:#fff;border:0;padding:8px 20px;margin-right:6px}.err{color:#e81123}.acct{display:block;width:100%;text-align:left;background:#fff;color:#000;border:1px solid #ccc;margin:4px 0}small{color:#595959}h1.brand{font-size:1rem;font-weight:normal;margin:0}</style>";

fn page(title: &str, inner: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store, no-cache"))
        .body(format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>{STYLE}</head><body><main><h1 class=\"brand\"><b>Microsoft</b> <small>(EduGraph local emulator)</small></h1>{inner}</main></body></html>", html_escape(title)))
}

fn sign_in_page(st: &Store, seg: &str, ctx: &str, p: &AuthParams, error: Option<&str>) -> HttpResponse {
    let login = p.login_hint.clone().unwrap_or_default();
    let err =
        error.map(|e| format!("<p class=\"err\" id=\"passwordError\">{}</p>", html_escape(e))).unwrap_or_default();
    // Demo accounts a person can pick (admin, teachers, a few students per tenant).
    let mut demo = String::new();
    for t in &st.demo.tenants {
        let mut rows = vec![&t.admin];
        rows.extend(t.teachers.iter().take(3));
        rows.extend(t.students.iter().take(3));
        for u in rows.into_iter().filter(|u| !u.upn.is_empty()) {
            demo.push_str(&format!(
                "<li><a href=\"#\" onclick=\"document.getElementById('i0116').value='{0}';document.getElementById('i0118').value='{1}';return false;\">{0}</a> <small>{2} — {3} — password <code>{1}</code></small></li>",
                html_escape(&u.upn), html_escape(&u.password), html_escape(&u.role), html_escape(&t.display_name)
            ));
        }
    }
    let inner = format!(
        "<h2>Sign in</h2>{err}<form method=\"post\" action=\"/{}/login\" id=\"signin\">\
<input type=\"hidden\" name=\"ctx\" value=\"{}\"/><input type=\"hidden\" name=\"action\" value=\"signin\"/>\
<label for=\"i0116\">Email, phone, or Skype</label><input type=\"email\" id=\"i0116\" name=\"login\" value=\"{}\" autocomplete=\"username\"/>\
<label for=\"i0118\">Password</label><input type=\"password\" id=\"i0118\" name=\"passwd\" autocomplete=\"current-password\"/>\
<button type=\"submit\" id=\"idSIButton9\">Sign in</button></form>\
<details><summary>Demo accounts</summary><ul>{demo}</ul></details>",
        html_escape(seg),
        html_escape(ctx),
        html_escape(&login)
    );
    page("Sign in to your account", &inner)
}

fn picker_page(st: &Store, seg: &str, ctx: &str, accounts: &[(String, String)]) -> HttpResponse {
    let mut list = String::new();
    for (tid, uid) in accounts {
        if let Some(u) = st.tenant(tid).and_then(|t| t.users.get(uid)) {
            list.push_str(&format!(
                "<form method=\"post\" action=\"/{0}/login\"><input type=\"hidden\" name=\"ctx\" value=\"{1}\"/><input type=\"hidden\" name=\"action\" value=\"pick\"/><input type=\"hidden\" name=\"account\" value=\"{2}\"/><button class=\"acct\" type=\"submit\">{3}<br><small>{4}</small></button></form>",
                html_escape(seg), html_escape(ctx), html_escape(uid), html_escape(u.display_name()), html_escape(u.upn())
            ));
        }
    }
    let inner = format!(
        "<h2>Pick an account</h2>{list}<form method=\"post\" action=\"/{0}/login\"><input type=\"hidden\" name=\"ctx\" value=\"{1}\"/><input type=\"hidden\" name=\"action\" value=\"other\"/><button class=\"acct\" type=\"submit\">Use another account</button></form>",
        html_escape(seg),
        html_escape(ctx)
    );
    page("Pick an account", &inner)
}

fn consent_page(seg: &str, ctx: &str, app_name: &str, scope: &str, u: &User, org: bool) -> HttpResponse {
    let scopes: String =
        scope.split(' ').filter(|s| !s.is_empty()).map(|s| format!("<li>{}</li>", html_escape(s))).collect();
    let org_box = if org {
        "<p><label><input type=\"checkbox\" name=\"consent_org\" value=\"on\" checked/> Consent on behalf of your organization</label></p>"
    } else {
        ""
    };
    let inner = format!(
        "<h2>Permissions requested</h2><p>{} ({})</p><p><b>{}</b> would like to:</p><ul>{scopes}</ul>\
<form method=\"post\" action=\"/{}/login\" id=\"consent\"><input type=\"hidden\" name=\"ctx\" value=\"{}\"/>{org_box}\
<button type=\"submit\" name=\"action\" value=\"accept\" id=\"idBtn_Accept\">Accept</button>\
<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"idBtn_Back\">Cancel</button></form>",
        html_escape(u.display_name()),
        html_escape(u.upn()),
        html_escape(app_name),
        html_escape(seg),
        html_escape(ctx)
    );
    page("Permissions requested", &inner)
}

fn need_approval_page(seg: &str, ctx: &str, app_name: &str) -> HttpResponse {
    let inner = format!(
        "<h2>Need admin approval</h2><p><b>{}</b> needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>\
<form method=\"post\" action=\"/{}/login\"><input type=\"hidden\" name=\"ctx\" value=\"{}\"/>\
<button type=\"submit\" name=\"action\" value=\"return\" id=\"idBtn_Back\">Return to the application without granting consent</button>\
<button type=\"submit\" name=\"action\" value=\"other\">Sign in with another account</button></form>",
        html_escape(app_name),
        html_escape(seg),
        html_escape(ctx)
    );
    page("Need admin approval", &inner)
}

// ---------------------------------------------------------------- sign-in form post

async fn login_post(
    shared: web::Data<Shared>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let seg_s = path.into_inner();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let f = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let ctx = f("ctx");
    let action = f("action");
    let mut st = shared.write();
    let Some(pending) = st.pending.get(&ctx).cloned() else {
        return error_page(
            400,
            90117,
            "The sign-in request has expired or is unknown. Go back to the application and try again.",
        );
    };
    let p = pending.params.clone();
    let Some(seg) = resolve(&st, &pending.tenant_segment) else {
        return error_page(400, 90002, "Tenant not found.");
    };
    match action.as_str() {
        "signin" | "" => {
            let login = f("login");
            let pass = f("passwd");
            let found = st
                .find_upn(&login)
                .map(|(t, u)| (t.id.clone(), t.name.clone(), u.id.clone(), u.password.clone(), u.enabled()));
            let Some((tid, tname, uid, pw, enabled)) = found else {
                let tn = match &seg {
                    Seg::Tenant(t) => st.tenant(t).map(|t| t.name.clone()).unwrap_or_default(),
                    _ => "this".into(),
                };
                let msg = format!(
                    "AADSTS50034: The user account {} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
                    login, tn
                );
                return sign_in_page(&st, &seg_s, &ctx, &p, Some(&msg));
            };
            if !seg_allows(&seg, &tid) {
                let msg = format!(
                    "AADSTS50020: User account '{login}' from identity provider '{}/{tid}/' does not exist in tenant and cannot access the application '{}' in that tenant. The account needs to be added as an external user in the tenant first.",
                    shared.base_url, p.client_id
                );
                let _ = tname;
                return sign_in_page(&st, &seg_s, &ctx, &p, Some(&msg));
            }
            if pw != pass {
                return sign_in_page(
                    &st,
                    &seg_s,
                    &ctx,
                    &p,
                    Some("AADSTS50126: Error validating credentials due to invalid username or password."),
                );
            }
            if !enabled {
                return sign_in_page(&st, &seg_s, &ctx, &p, Some("AADSTS50057: The user account is disabled."));
            }
            // Sign-in cookie: add the account to the browser session.
            let (sid, _) = session_accounts(&st, &req);
            let sid = sid.filter(|s| st.sessions.contains_key(s)).unwrap_or_else(|| random_token(24));
            let accts = st.sessions.entry(sid.clone()).or_default();
            accts.retain(|(t, u)| !(t == &tid && u == &uid));
            accts.insert(0, (tid.clone(), uid.clone()));
            let mut resp = after_auth(&mut st, &shared, &ctx, &tid, &uid);
            let _ = resp.add_cookie(&Cookie::build(SESSION_COOKIE, sid).path("/").http_only(true).finish());
            resp
        }
        "pick" => {
            let account = f("account");
            let (_, accts) = session_accounts(&st, &req);
            let Some((tid, uid)) = accts.into_iter().find(|(_, u)| *u == account) else {
                return sign_in_page(&st, &seg_s, &ctx, &p, None);
            };
            if !seg_allows(&seg, &tid) {
                return sign_in_page(&st, &seg_s, &ctx, &p, None);
            }
            after_auth(&mut st, &shared, &ctx, &tid, &uid)
        }
        "other" => sign_in_page(&st, &seg_s, &ctx, &p, None),
        "accept" => {
            let Some((tid, uid)) = pending.user else {
                return sign_in_page(&st, &seg_s, &ctx, &p, None);
            };
            let org = f("consent_org") == "on" || p.admin_consent;
            let is_admin = st.tenant(&tid).and_then(|t| t.users.get(&uid)).is_some_and(|u| u.is_global_admin());
            if let Some(t) = st.tenant_mut(&tid) {
                if org && is_admin {
                    let sp = det_id(&format!("sp/{}/{}", t.id, p.client_id));
                    t.service_principals.insert(p.client_id.clone(), sp);
                } else {
                    t.user_consents.insert((uid.clone(), p.client_id.clone()));
                }
            }
            if org
                && is_admin
                && st.demo.app_client_id == p.client_id
                && let Some(d) = st.demo.tenants.iter_mut().find(|d| d.id == tid)
            {
                d.consented = true;
            }
            st.pending.remove(&ctx);
            complete(&mut st, &shared, &p, &tid, &uid)
        }
        "cancel" => {
            st.pending.remove(&ctx);
            if p.v2_adminconsent && !p.legacy_adminconsent {
                redirect_error(
                    &p,
                    "consent_required",
                    65004,
                    "The resource owner or authorization server denied the request.",
                )
            } else if p.legacy_adminconsent {
                let params = vec![
                    ("error", "permission_denied".to_string()),
                    ("error_description", "The admin canceled the request".to_string()),
                ];
                respond(&p.redirect_uri, "query", params)
            } else {
                redirect_error(&p, "access_denied", 65004, "User declined to consent to access the app.")
            }
        }
        "return" => {
            st.pending.remove(&ctx);
            let app_name = st.apps.get(&p.client_id).map(|a| a.display_name.clone()).unwrap_or_default();
            redirect_error(
                &p,
                "consent_required",
                65001,
                &format!(
                    "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                    p.client_id, app_name
                ),
            )
        }
        other => error_page(400, 900144, &format!("Unknown action '{other}'.")),
    }
}

async fn logout(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let q = query_map(&req);
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        shared.write().sessions.remove(c.value());
    }
    let mut resp = match get(&q, "post_logout_redirect_uri") {
        Some(u) => found(u),
        None => page(
            "Sign out",
            "<h2>You signed out of your account</h2><p>It's a good idea to close all browser windows.</p>",
        ),
    };
    let mut c = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    c.make_removal();
    let _ = resp.add_cookie(&c);
    resp
}

// ---------------------------------------------------------------- tokens

fn lifetime(st: &Store) -> u64 {
    match st.token_lifetime {
        Some(d) => d.as_secs().max(1),
        None => {
            use rand::Rng as _;
            rand::rng().random_range(3600..=5400)
        }
    }
}

fn sign(st: &Store, claims: &Value) -> anyhow::Result<String> {
    let key = st.active_key().ok_or_else(|| anyhow::anyhow!("no signing key"))?;
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some(key.kid.clone());
    Ok(jsonwebtoken::encode(&h, claims, &key.encoding)?)
}

pub fn sub_for(app: &str, user: &str) -> String {
    let h = sha2::Sha256::digest(format!("{app}/{user}").as_bytes());
    b64url(&h[..32])
}

fn id_token(
    st: &Store,
    base: &str,
    tid: &str,
    u: &User,
    app: &App,
    nonce: Option<&str>,
    c_hash: Option<String>,
) -> anyhow::Result<String> {
    let now = now_secs();
    let mut c = json!({
        "ver": "2.0", "iss": format!("{base}/{tid}/v2.0"), "sub": sub_for(&app.client_id, &u.id), "aud": app.client_id,
        "exp": now + 3600, "iat": now, "nbf": now, "name": u.display_name(), "preferred_username": u.upn(),
        "oid": u.id, "tid": tid, "aio": random_token(24), "rh": "0.emu.", "uti": random_token(16), "sid": det_id(&format!("session/{}", u.id)),
    });
    let o = c.as_object_mut().ok_or_else(|| anyhow::anyhow!("claims"))?;
    if let Some(n) = nonce {
        o.insert("nonce".into(), json!(n));
    }
    if let Some(h) = c_hash {
        o.insert("c_hash".into(), json!(h));
    }
    if let Some(m) = u.props.get("mail").filter(|m| !m.is_null()) {
        o.insert("email".into(), m.clone());
    }
    o.insert("wids".into(), json!(u.wids));
    sign(st, &c)
}

/// Graph scopes (short names) and OIDC scopes from a requested scope string.
fn split_scopes(scope: &str) -> Result<(Vec<String>, Vec<String>), OAuthErr> {
    let mut graph = vec![];
    let mut oidc = vec![];
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        match s {
            "openid" | "profile" | "email" | "offline_access" => oidc.push(s.to_string()),
            _ => {
                let short = if let Some(x) = s.strip_prefix("https://graph.microsoft.com/") {
                    x
                } else if let Some(x) = s.strip_prefix(&format!("{GRAPH_APP_ID}/")) {
                    x
                } else if s.contains("://") || s.starts_with("api://") {
                    return Err(err(
                        400,
                        "invalid_resource",
                        500011,
                        format!(
                            "The resource principal named {} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                            s.rsplit_once('/').map(|x| x.0).unwrap_or(s)
                        ),
                    ));
                } else {
                    s
                };
                if short == ".default" {
                    graph.extend(DEFAULT_DELEGATED.iter().map(|x| x.to_string()));
                } else {
                    graph.push(short.to_string());
                }
            }
        }
    }
    graph.sort();
    graph.dedup();
    Ok((graph, oidc))
}

#[allow(clippy::too_many_arguments)]
fn user_tokens(
    st: &mut Store,
    base: &str,
    app: &App,
    tid: &str,
    uid: &str,
    scope: &str,
    nonce: Option<&str>,
    azpacr: &str,
    client_info: bool,
) -> Result<Value, OAuthErr> {
    let (mut graph, oidc) = split_scopes(scope)?;
    if graph.is_empty() {
        graph.push("User.Read".into());
    }
    let t = st.tenant(tid).ok_or_else(|| err(400, "invalid_grant", 90002, "Tenant not found."))?;
    let u = t
        .users
        .get(uid)
        .cloned()
        .ok_or_else(|| err(400, "invalid_grant", 50034, "The user account does not exist in the directory."))?;
    if !u.enabled() {
        return Err(err(400, "invalid_grant", 50057, "The user account is disabled."));
    }
    if !t.consented(&app.client_id, Some(uid)) {
        let mut e = err(
            400,
            "invalid_grant",
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                app.client_id, app.display_name
            ),
        );
        e.suberror = Some("consent_required");
        return Err(e);
    }
    let life = lifetime(st);
    let now = now_secs();
    let claims = json!({
        "aud": GRAPH_RESOURCE, "iss": format!("{base}/{tid}/v2.0"), "iat": now, "nbf": now, "exp": now + life,
        "aio": random_token(24), "app_displayname": app.display_name, "azp": app.client_id, "azpacr": azpacr,
        "idtyp": "user", "name": u.display_name(), "oid": u.id, "preferred_username": u.upn(), "rh": "0.emu.",
        "scp": graph.join(" "), "sub": sub_for(GRAPH_APP_ID, &u.id), "tid": tid, "uti": random_token(16), "ver": "2.0",
        "wids": u.wids,
    });
    let at = sign(st, &claims).map_err(|e| err(500, "server_error", 90000, e.to_string()))?;
    let mut full: Vec<String> = oidc.clone();
    full.sort();
    full.extend(graph.iter().map(|g| format!("https://graph.microsoft.com/{g}")));
    let mut body = json!({"token_type": "Bearer", "scope": full.join(" "), "expires_in": life, "ext_expires_in": life, "access_token": at});
    let o = body.as_object_mut().ok_or_else(|| err(500, "server_error", 90000, "json"))?;
    if oidc.iter().any(|s| s == "offline_access") {
        let rt = format!("1.{}", random_token(64));
        st.refresh.insert(
            rt.clone(),
            RefreshGrant {
                client_id: app.client_id.clone(),
                tenant_id: tid.into(),
                user_id: uid.into(),
                scope: scope.into(),
                created: now,
            },
        );
        o.insert("refresh_token".into(), json!(rt));
    }
    if oidc.iter().any(|s| s == "openid") {
        let it = id_token(st, base, tid, &u, app, nonce, None)
            .map_err(|e| err(500, "server_error", 90000, e.to_string()))?;
        o.insert("id_token".into(), json!(it));
    }
    if client_info {
        o.insert("client_info".into(), json!(b64url(json!({"uid": uid, "utid": tid}).to_string().as_bytes())));
    }
    Ok(body)
}

fn token_success(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store, no-cache"))
        .insert_header(("Pragma", "no-cache"))
        .insert_header(("Expires", "-1"))
        .insert_header(("x-ms-request-id", new_id()))
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

async fn token(shared: web::Data<Shared>, path: web::Path<String>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let seg_s = path.into_inner();
    match token_inner(&shared, &seg_s, &req, &body) {
        Ok(v) => token_success(v),
        Err(e) => e.resp(),
    }
}

fn token_inner(shared: &Shared, seg_s: &str, req: &HttpRequest, body: &[u8]) -> Result<Value, OAuthErr> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        err(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
    })?;
    let f = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let mut st = shared.write();
    let seg = resolve(&st, seg_s).ok_or_else(|| err(400, "invalid_request", 90002, format!("Tenant '{seg_s}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")))?;
    let grant = f("grant_type").ok_or_else(|| {
        err(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
    })?;
    // Client identification: body or HTTP Basic.
    let mut client_id = f("client_id");
    let mut secret = f("client_secret");
    if let Some(h) = req.headers().get("authorization").and_then(|v| v.to_str().ok())
        && let Some(b) = h.strip_prefix("Basic ")
        && let Some(dec) = b64std_decode(b).and_then(|d| String::from_utf8(d).ok())
        && let Some((u, p)) = dec.split_once(':')
    {
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        client_id = client_id.or(Some(dec(u)));
        secret = Some(dec(p));
    }
    let client_id = client_id.ok_or_else(|| {
        err(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
    })?;
    let app = st.apps.get(&client_id).cloned().ok_or_else(|| {
        err(400, "unauthorized_client", 700016, format!("Application with identifier '{client_id}' was not found in the directory '{seg_s}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."))
    })?;
    let assertion = f("client_assertion");
    let assertion_type = f("client_assertion_type");
    let tenant_for_aud = match &seg {
        Seg::Tenant(t) => Some(t.clone()),
        _ => None,
    };
    let azpacr = authenticate_client(
        &mut st,
        &shared.base_url,
        seg_s,
        tenant_for_aud.as_deref(),
        &app,
        secret.as_deref(),
        assertion.as_deref(),
        assertion_type.as_deref(),
        &grant,
    )?;
    let client_info = f("client_info").as_deref() == Some("1");
    match grant.as_str() {
        "authorization_code" => {
            let code = f("code").ok_or_else(|| {
                err(400, "invalid_request", 900144, "The request body must contain the following parameter: 'code'.")
            })?;
            let c = st.codes.get(&code).cloned().ok_or_else(|| {
                err(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
            })?;
            if c.used {
                return Err(err(
                    400,
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                ));
            }
            if c.created + CODE_TTL < now_secs() {
                return Err(err(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                ));
            }
            if c.client_id != app.client_id {
                return Err(err(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided authorization code was issued to a different client.",
                ));
            }
            if let Seg::Tenant(t) = &seg
                && *t != c.tenant_id
            {
                return Err(err(
                    400,
                    "invalid_grant",
                    700005,
                    "Provided Authorization Code is intended to use against other tenant, thus rejected.",
                ));
            }
            if f("redirect_uri").as_deref() != Some(c.redirect_uri.as_str()) {
                return Err(err(
                    400,
                    "invalid_grant",
                    50148,
                    "The redirect_uri does not match the redirect URI used to obtain the authorization code.",
                ));
            }
            if let Some(ch) = &c.code_challenge {
                let verifier = f("code_verifier").ok_or_else(|| {
                    err(
                        400,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    )
                })?;
                let computed = if c.code_challenge_method.as_deref() == Some("S256") {
                    b64url(&sha2::Sha256::digest(verifier.as_bytes()))
                } else {
                    verifier
                };
                if computed != *ch {
                    return Err(err(
                        400,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    ));
                }
            }
            if let Some(cc) = st.codes.get_mut(&code) {
                cc.used = true;
            }
            let scope = f("scope").unwrap_or_else(|| c.scope.clone());
            let scope = merge_oidc(&c.scope, &scope);
            user_tokens(
                &mut st,
                &shared.base_url,
                &app,
                &c.tenant_id,
                &c.user_id,
                &scope,
                c.nonce.as_deref(),
                azpacr,
                client_info,
            )
        }
        "refresh_token" => {
            let rt = f("refresh_token").ok_or_else(|| {
                err(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'refresh_token'.",
                )
            })?;
            let g = st.refresh.get(&rt).cloned().ok_or_else(|| {
                err(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
            })?;
            if g.created + RT_TTL < now_secs() {
                return Err(err(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity."));
            }
            if g.client_id != app.client_id {
                return Err(err(400, "invalid_grant", 70000, "The refresh token was issued to a different client."));
            }
            if let Seg::Tenant(t) = &seg
                && *t != g.tenant_id
            {
                return Err(err(
                    400,
                    "invalid_grant",
                    700005,
                    "Provided refresh token is intended to use against other tenant, thus rejected.",
                ));
            }
            let scope = match f("scope") {
                Some(s) => {
                    let (orig, _) = split_scopes(&g.scope)?;
                    let (req_g, _) = split_scopes(&s)?;
                    if let Some(bad) = req_g.iter().find(|x| !orig.contains(x)) {
                        return Err(err(
                            400,
                            "invalid_grant",
                            65001,
                            format!(
                                "The user or administrator has not consented to use the application with ID '{}' named '{}' for scope '{bad}'. Send an interactive authorization request for this user and resource.",
                                app.client_id, app.display_name
                            ),
                        ));
                    }
                    merge_oidc(&g.scope, &s)
                }
                None => g.scope.clone(),
            };
            user_tokens(&mut st, &shared.base_url, &app, &g.tenant_id, &g.user_id, &scope, None, azpacr, client_info)
        }
        "client_credentials" => {
            let tid = match &seg {
                Seg::Tenant(t) => t.clone(),
                _ => {
                    return Err(err(
                        400,
                        "invalid_request",
                        9001023,
                        "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
                    ));
                }
            };
            let scope = f("scope").ok_or_else(|| {
                err(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
            })?;
            let parts: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
            if parts.len() > 1 {
                return Err(err(400, "invalid_scope", 700022, "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {} is not valid.".replace("{}", &scope)));
            }
            let s = parts.first().copied().unwrap_or_default();
            let resource = s.strip_suffix("/.default").ok_or_else(|| err(400, "invalid_scope", 1002012, format!("The provided value for scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")))?;
            if resource != GRAPH_RESOURCE && resource != GRAPH_APP_ID && resource != "https://graph.microsoft.com/" {
                return Err(err(
                    400,
                    "invalid_resource",
                    500011,
                    format!(
                        "The resource principal named {resource} was not found in the tenant named {tid}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
                    ),
                ));
            }
            let t = st.tenant(&tid).ok_or_else(|| err(400, "invalid_request", 90002, "Tenant not found."))?;
            let Some(sp) = t.service_principals.get(&app.client_id).cloned() else {
                return Err(err(
                    400,
                    "unauthorized_client",
                    700016,
                    format!(
                        "Application with identifier '{}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                        app.client_id, t.name
                    ),
                ));
            };
            let life = lifetime(&st);
            let now = now_secs();
            let claims = json!({
                "aud": GRAPH_RESOURCE, "iss": format!("{}/{tid}/v2.0", shared.base_url), "iat": now, "nbf": now, "exp": now + life,
                "aio": random_token(24), "app_displayname": app.display_name, "azp": app.client_id, "azpacr": azpacr,
                "idtyp": "app", "oid": sp, "rh": "0.emu.", "roles": app.app_permissions, "sub": sp, "tid": tid,
                "uti": random_token(16), "ver": "2.0", "wids": ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"],
            });
            let at = sign(&st, &claims).map_err(|e| err(500, "server_error", 90000, e.to_string()))?;
            Ok(json!({"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": at}))
        }
        other => Err(err(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// Keeps the OIDC scopes of the original request when the redeem request narrows resource scopes.
fn merge_oidc(original: &str, requested: &str) -> String {
    let mut v: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
    for s in original.split(' ') {
        if matches!(s, "openid" | "profile" | "email" | "offline_access") && !v.contains(&s) {
            v.push(s);
        }
    }
    v.join(" ")
}

#[allow(clippy::too_many_arguments)]
fn authenticate_client(
    st: &mut Store,
    base: &str,
    seg_s: &str,
    tenant_id: Option<&str>,
    app: &App,
    secret: Option<&str>,
    assertion: Option<&str>,
    assertion_type: Option<&str>,
    grant: &str,
) -> Result<&'static str, OAuthErr> {
    if !app.confidential() {
        if secret.is_some() || assertion.is_some() {
            return Err(err(
                401,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        if grant == "client_credentials" {
            return Err(err(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            ));
        }
        return Ok("0");
    }
    if let Some(a) = assertion {
        if assertion_type != Some(ASSERTION_TYPE) {
            return Err(err(
                400,
                "invalid_request",
                50027,
                "JWT token is invalid or malformed: client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
            ));
        }
        verify_assertion(st, base, seg_s, tenant_id, app, a)?;
        return Ok("2");
    }
    if let Some(s) = secret {
        if app.secret.as_deref() == Some(s) {
            return Ok("1");
        }
        return Err(err(
            401,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ));
    }
    if grant == "client_credentials" {
        return Err(err(
            401,
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        ));
    }
    Err(err(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ))
}

fn verify_assertion(
    st: &mut Store,
    base: &str,
    seg_s: &str,
    tenant_id: Option<&str>,
    app: &App,
    assertion: &str,
) -> Result<(), OAuthErr> {
    let malformed = || err(401, "invalid_client", 50027, "JWT token is invalid or malformed.");
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    let cert = app.certificate_der.as_deref().ok_or_else(|| {
        err(
            401,
            "invalid_client",
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found.]",
        )
    })?;
    let sha1 = crate::keys::sha1_thumbprint_b64url(cert);
    let sha256 = crate::keys::sha256_thumbprint_b64url(cert);
    let alg = header.alg;
    let thumb_ok = match alg {
        jsonwebtoken::Algorithm::RS256 => {
            header.x5t.as_deref() == Some(&sha1) || header.x5t_s256.as_deref() == Some(&sha256)
        }
        jsonwebtoken::Algorithm::PS256 => {
            header.x5t_s256.as_deref() == Some(&sha256) || header.x5t.as_deref() == Some(&sha1)
        }
        _ => {
            return Err(err(
                401,
                "invalid_client",
                5002738,
                format!(
                    "Invalid JWT token. '{alg:?}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, RS384, RS512, PS256, PS384, PS512'"
                ),
            ));
        }
    };
    if !thumb_ok {
        let used = header.x5t_s256.or(header.x5t).unwrap_or_default();
        return Err(err(
            401,
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{used}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                app.client_id
            ),
        ));
    }
    let pk = crate::keys::cert_public_key(cert).ok_or_else(|| {
        err(
            401,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. The registered certificate could not be read.",
        )
    })?;
    use rsa::traits::PublicKeyParts as _;
    let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(&pk.n().to_bytes_be(), &pk.e().to_bytes_be());
    let mut auds = vec![
        format!("{base}/{seg_s}/oauth2/v2.0/token"),
        format!("{base}/{seg_s}/oauth2/token"),
        format!("{base}/{seg_s}/v2.0"),
    ];
    if let Some(t) = tenant_id {
        auds.push(format!("{base}/{t}/oauth2/v2.0/token"));
        auds.push(format!("{base}/{t}/oauth2/token"));
        auds.push(format!("{base}/{t}/v2.0"));
    }
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_audience(&auds);
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    v.validate_nbf = true;
    v.leeway = 300;
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::ExpiredSignature | K::ImmatureSignature => err(401, "invalid_client", 700024, format!("Client assertion is not within its valid time range. Current time: {}.", iso(now_secs()))),
            K::InvalidAudience => err(401, "invalid_client", 700212, format!("The audience of the client assertion is not valid. Expected the token endpoint, e.g. '{base}/{seg_s}/oauth2/v2.0/token'.")),
            K::InvalidSignature => err(401, "invalid_client", 700027, "Client assertion failed signature validation."),
            K::MissingRequiredClaim(c) => err(401, "invalid_client", 50027, format!("JWT token is invalid or malformed: the '{c}' claim is required.")),
            _ => malformed(),
        }
    })?;
    let c = data.claims;
    let iss = c.get("iss").and_then(Value::as_str).unwrap_or_default();
    let sub = c.get("sub").and_then(Value::as_str).unwrap_or_default();
    if sub != iss {
        return Err(err(401, "invalid_client", 50048, "Subject mismatches Issuer claim in the client assertion."));
    }
    if iss != app.client_id {
        return Err(err(
            401,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let jti = c.get("jti").and_then(Value::as_str).ok_or_else(|| {
        err(401, "invalid_client", 50027, "JWT token is invalid or malformed: the 'jti' claim is required.")
    })?;
    if !st.used_jti.insert(format!("{}/{jti}", app.client_id)) {
        return Err(err(
            401,
            "invalid_client",
            7000228,
            "The client assertion (jti) has already been used. Each client assertion can be used only once.",
        ));
    }
    Ok(())
}
