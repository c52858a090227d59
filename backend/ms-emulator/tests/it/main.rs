//! Integration tests: the emulator driven over HTTP like a real client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
mod graph;
mod oidc;

use edu_ms_emulator::{DemoTenant, EmulatorConfig, RunningEmulator, Seed};
use serde_json::Value;

pub const REDIRECT: &str = "http://localhost:5555/auth/callback";

pub async fn emu() -> RunningEmulator {
    edu_ms_emulator::start(EmulatorConfig { seed: Seed::Demo, workers: 1, ..Default::default() })
        .await
        .expect("start emulator")
}

/// A browser-like client: cookie jar, no redirect following.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub fn contoso(e: &RunningEmulator) -> DemoTenant {
    e.demo().tenants[0].clone()
}

pub fn fabrikam(e: &RunningEmulator) -> DemoTenant {
    e.demo().tenants[1].clone()
}

/// Extracts `name="ctx" value="..."` (or any hidden input) from a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let i = html.find(&needle)? + needle.len();
    let j = html[i..].find('"')? + i;
    Some(
        html[i..j]
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Query (or fragment) parameters of a redirect URL.
pub fn params(url: &str) -> Vec<(String, String)> {
    let part = url.split_once('#').map(|x| x.1).or_else(|| url.split_once('?').map(|x| x.1)).unwrap_or("");
    serde_urlencoded::from_str(part).unwrap_or_default()
}

pub fn param(url: &str, k: &str) -> Option<String> {
    params(url).into_iter().find(|(a, _)| a == k).map(|(_, v)| v)
}

pub fn authorize_url(base: &str, tenant: &str, extra: &[(&str, &str)]) -> String {
    let mut p: Vec<(&str, &str)> = vec![
        ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile offline_access https://graph.microsoft.com/.default"),
        ("state", "st-123"),
    ];
    for (k, v) in extra {
        p.retain(|(a, _)| a != k);
        p.push((k, v));
    }
    format!("{base}/{tenant}/oauth2/v2.0/authorize?{}", serde_urlencoded::to_string(&p).unwrap())
}

/// Posts the sign-in form of a page; returns the response.
pub async fn submit_login(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    page: &str,
    upn: &str,
    password: &str,
) -> reqwest::Response {
    let ctx = hidden(page, "ctx").expect("sign-in page has a ctx field");
    c.post(format!("{base}/{tenant}/login"))
        .form(&[("ctx", ctx.as_str()), ("action", "signin"), ("login", upn), ("passwd", password)])
        .send()
        .await
        .unwrap()
}

/// Full interactive sign-in with the demo app; returns the final redirect URL (query mode).
pub async fn sign_in(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    upn: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> String {
    let r = c.get(authorize_url(base, tenant, extra)).send().await.unwrap();
    assert_eq!(r.status(), 200, "expected the sign-in page");
    let page = r.text().await.unwrap();
    let r = submit_login(c, base, tenant, &page, upn, password).await;
    assert_eq!(r.status(), 302, "expected a redirect after sign-in");
    location(&r)
}

pub async fn redeem(base: &str, tenant: &str, code: &str, verifier: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID.to_string()),
        ("client_secret", edu_ms_emulator::DEMO_APP_SECRET.to_string()),
        ("code", code.to_string()),
        ("redirect_uri", REDIRECT.to_string()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v.to_string()));
    }
    let r = http().post(format!("{base}/{tenant}/oauth2/v2.0/token")).form(&form).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

/// Delegated Graph token for a demo user (interactive flow over HTTP).
pub async fn user_token(e: &RunningEmulator, tenant: &str, upn: &str, password: &str) -> String {
    let c = browser();
    let loc = sign_in(&c, &e.base_url(), tenant, upn, password, &[]).await;
    let code = param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"));
    let (s, body) = redeem(&e.base_url(), tenant, &code, None).await;
    assert_eq!(s, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

pub async fn app_token(e: &RunningEmulator, tenant: &str) -> String {
    let r = http()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", e.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID),
            ("client_secret", edu_ms_emulator::DEMO_APP_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

pub async fn get(e: &RunningEmulator, token: &str, path: &str) -> (u16, Value) {
    let r = http().get(format!("{}/v1.0{path}", e.graph_url())).bearer_auth(token).send().await.unwrap();
    let s = r.status().as_u16();
    let t = r.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

pub async fn send(
    e: &RunningEmulator,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = http().request(method, format!("{}/v1.0{path}", e.graph_url())).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    let t = r.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

pub fn decode_claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub fn assert_graph_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string());
    let inner = &body["error"]["innerError"];
    assert!(
        inner["date"].is_string() && inner["request-id"].is_string() && inner["client-request-id"].is_string(),
        "{body}"
    );
    assert!(!inner["date"].as_str().unwrap().ends_with('Z'));
}
