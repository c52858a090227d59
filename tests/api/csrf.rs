//! CSRF and origin checks on every state-changing request, 415 for non-JSON (R-A15).

use edu_tests::{Backend, Body, PUBLIC_ORIGIN, TestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    a_state_change_without_a_csrf_token_is_refused_and_changes_nothing,
    a_token_of_another_browser_is_refused,
    requests_from_another_site_are_refused,
    same_origin_requests_with_a_token_pass,
    a_non_json_body_gets_415,
    sign_out_needs_the_token_too,
);

async fn a_state_change_without_a_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    // No token at all (no pre-session either).
    let r = c
        .post("/api/auth/local/register", json!({"email": "ann@school.edu", "password": "correct horse battery"}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "csrf_failed");
    // A pre-session cookie but no header.
    c.get("/api/auth/csrf").await;
    *c.csrf.lock().unwrap() = None;
    let r = c
        .post("/api/auth/local/register", json!({"email": "ann@school.edu", "password": "correct horse battery"}))
        .await;
    assert_eq!(r.status, 403);
    // Nothing was created: the email is still free.
    app.registered("ann@school.edu", "correct horse battery").await;

    // Signed in: a password change without the header is refused and changes nothing.
    let signed_in = app.client();
    signed_in.login("ann@school.edu", "correct horse battery").await;
    let token = signed_in.csrf.lock().unwrap().take();
    let r = signed_in
        .post(
            "/api/me/password",
            json!({"current_password": "correct horse battery", "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(r.status, 403);
    *signed_in.csrf.lock().unwrap() = token;
    assert_eq!(app.client().login("ann@school.edu", "correct horse battery").await.status, 200);
}

async fn a_token_of_another_browser_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    let eve = app.registered("eve@school.edu", "eve's own long password").await;
    // Ann's browser sends Eve's token: bound to another session, refused.
    let eve_token = eve.csrf.lock().unwrap().clone();
    *ann.csrf.lock().unwrap() = eve_token;
    let r = ann.post("/api/auth/logout", json!({})).await;
    assert_eq!(r.status, 403);
    *ann.csrf.lock().unwrap() = Some("forged-token".into());
    assert_eq!(ann.post("/api/auth/logout", json!({})).await.status, 403);
    assert_eq!(ann.get("/api/me").await.status, 200, "still signed in");
}

async fn requests_from_another_site_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    let body = || Body::Json(json!({}));
    let r = c.send(Method::POST, "/api/auth/logout", body(), &[("origin", "https://evil.example")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "csrf_failed");
    let r = c.send(Method::POST, "/api/auth/logout", body(), &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(r.status, 403);
    let r = c
        .send(Method::POST, "/api/auth/logout", body(), &[("sec-fetch-site", "same-site"), ("origin", PUBLIC_ORIGIN)])
        .await;
    assert_eq!(r.status, 403, "Sec-Fetch-Site wins over Origin");
    assert_eq!(c.get("/api/me").await.status, 200, "still signed in");
}

async fn same_origin_requests_with_a_token_pass(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    let r = c.send(Method::POST, "/api/auth/logout", Body::Json(json!({})), &[("origin", PUBLIC_ORIGIN)]).await;
    assert_eq!(r.status, 204);
    let c = app.registered("bob@school.edu", "correct horse battery").await;
    let r = c.send(Method::POST, "/api/auth/logout", Body::Json(json!({})), &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(r.status, 204);
}

async fn a_non_json_body_gets_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    c.fetch_csrf().await;
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let r = c
            .send(Method::POST, "/api/auth/local/login", Body::Raw(ct, b"email=a@b.cd&password=x".to_vec()), &[])
            .await;
        assert_eq!(r.status, 415, "{ct}");
        assert_eq!(r.code(), "unsupported_media_type");
    }
}

async fn sign_out_needs_the_token_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    let token = c.csrf.lock().unwrap().take();
    assert_eq!(c.post("/api/auth/logout", json!({})).await.status, 403);
    assert_eq!(c.get("/api/me").await.status, 200);
    *c.csrf.lock().unwrap() = token;
    assert_eq!(c.post("/api/auth/logout", json!({})).await.status, 204);
}
