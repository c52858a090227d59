//! API conventions: one error envelope, 4xx for bad input (never 500), headers (R-A19).

use edu_tests::{Backend, Body, TestApp, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

both_backends!(
    malformed_and_wrongly_typed_json_get_400_in_the_envelope,
    oversized_bodies_get_413,
    unknown_addresses_get_404_in_the_envelope,
    every_documented_route_sends_the_security_headers,
    hsts_is_sent_when_the_public_url_is_https,
    unlisted_methods_answer_405_with_allow,
);

async fn malformed_and_wrongly_typed_json_get_400_in_the_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    c.fetch_csrf().await;
    let cases: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"not json".to_vec(),
        b"[]".to_vec(),
        br#"{"email": 5, "password": "x"}"#.to_vec(),
        br#"{"email": "a@b.cd"}"#.to_vec(),
        br#"{"email": "a@b.cd", "password": "correct horse", "admin": true}"#.to_vec(),
        b"\xff\xfe".to_vec(),
    ];
    for raw in cases {
        let r = c.send(Method::POST, "/api/auth/local/login", Body::Raw("application/json", raw.clone()), &[]).await;
        assert_eq!(r.status, 400, "{:?} -> {}", String::from_utf8_lossy(&raw), r.text);
        assert_eq!(r.code(), "invalid_json");
        assert!(r.body["error"]["message"].is_string());
        assert_eq!(r.body.as_object().map(|o| o.len()), Some(1), "only the envelope");
    }
}

async fn oversized_bodies_get_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    c.fetch_csrf().await;
    let huge = json!({"email": "a@b.cd", "password": "x".repeat(200_000)});
    let r = c.post("/api/auth/local/login", huge).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "payload_too_large");
}

async fn unknown_addresses_get_404_in_the_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    // (GET on a POST-only path is a 405: `unlisted_methods_answer_405_with_allow`.)
    for path in ["/api/nope", "/api/me/nope", "/definitely/not/here"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.code(), "not_found", "{path}");
    }
}

fn assert_security_headers(path: &str, r: &edu_tests::Resp) {
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"), "{path}");
    assert!(r.header("content-security-policy").is_some_and(|c| c.contains("frame-ancestors 'none'")), "{path}");
    assert!(r.header("x-request-id").is_some(), "{path}");
    if path.starts_with("/api/") {
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{path}");
    }
}

// R-A19: iterate over every route in the OpenAPI document and check the headers.
async fn every_documented_route_sends_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    let spec = c.get("/api/openapi.json").await.body;
    let paths: &serde_json::Map<String, Value> = spec["paths"].as_object().expect("paths");
    assert!(paths.len() >= 9, "{paths:?}");
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // Without a CSRF token: state-changing requests are refused, and the refusal
            // must carry the headers too.
            let anon = app.client();
            let r = anon
                .send(m.clone(), path, if m == Method::GET { Body::None } else { Body::Json(json!({})) }, &[])
                .await;
            assert_security_headers(path, &r);
            assert!(r.status < 500, "{method} {path}: {}", r.status);
            if m == Method::GET {
                let r = c.get(path).await;
                assert_security_headers(path, &r);
                assert!(r.status < 500, "{method} {path}: {}", r.status);
            }
        }
    }
    assert_security_headers("/nope", &c.get("/nope").await);
}

async fn hsts_is_sent_when_the_public_url_is_https(backend: Backend) {
    let plain = TestApp::spawn(backend).await;
    assert!(plain.client().get("/healthz").await.header("strict-transport-security").is_none());
    let https = TestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_PUBLIC_URL".into(), "https://school.example".into());
    })
    .await;
    let hsts = https.client().get("/healthz").await.header("strict-transport-security").expect("HSTS");
    let max_age: u64 = hsts.split(';').next().unwrap().trim_start_matches("max-age=").parse().unwrap();
    assert!(max_age >= 31_536_000, "{hsts}");
}

/// Every stable error code the API can send (the variants of `edu_api::error::ErrorCode`) is
/// listed in backend/API.md and has a human message in the SPA's frontend/src/api/errors.ts,
/// so a new code cannot ship undocumented or reach a person as a bare code.
#[test]
fn every_error_code_in_the_source_is_documented_and_has_a_message() {
    // The codes are one enum (`edu_api::error::ErrorCode`, the OpenAPI `ErrorCode`); every
    // handler answers with one of them.
    let codes: Vec<&str> = edu_api::error::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert!(codes.len() > 30 && codes.contains(&"already_a_teacher"), "too few codes: {codes:?}");
    for c in edu_api::error::ErrorCode::ALL {
        assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()), "wire name of {c:?}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let api_md = std::fs::read_to_string(root.join("backend/API.md")).unwrap();
    let errors_ts = std::fs::read_to_string(root.join("frontend/src/api/errors.ts")).unwrap();
    let undocumented: Vec<_> = codes.iter().filter(|c| !api_md.contains(&format!("`{c}`"))).collect();
    assert!(undocumented.is_empty(), "not in backend/API.md: {undocumented:?}");
    // Opaque 5xx answers, and the answer of a server whose SPA is not built (no SPA to show it).
    let no_message_needed = ["internal_error", "service_unavailable", "frontend_not_built"];
    let no_message: Vec<_> =
        codes.iter().filter(|c| !no_message_needed.contains(c) && !errors_ts.contains(&format!("{c}:"))).collect();
    assert!(no_message.is_empty(), "no message in frontend/src/api/errors.ts: {no_message:?}");
}

/// Issue 17 item 12: a method the API does not serve at an existing path is a 405
/// `method_not_allowed` naming the methods it does serve; an unknown path stays a 404.
async fn unlisted_methods_answer_405_with_allow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    c.fetch_csrf().await;
    let r = c.send(reqwest::Method::GET, "/api/auth/local/login", Body::None, &[]).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(r.code(), "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    let r = c.send(reqwest::Method::PUT, "/api/me", Body::None, &[]).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD"));
    let r = c.send(reqwest::Method::PUT, "/api/nothing-here", Body::None, &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}
