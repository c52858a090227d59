//! Health, readiness, metrics, OpenAPI and the offline docs page.

use edu_tests::{Backend, TestApp, both_backends};

both_backends!(
    healthz_and_readyz_answer_ok,
    readyz_says_503_when_the_database_is_gone,
    metrics_count_requests_per_route,
    the_openapi_document_is_3_1_and_lists_every_endpoint,
    the_docs_page_is_self_hosted,
);

async fn healthz_and_readyz_answer_ok(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    let h = c.get("/healthz").await;
    assert_eq!((h.status, h.body["status"].as_str()), (200, Some("ok")));
    let r = c.get("/readyz").await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ok")));
}

async fn readyz_says_503_when_the_database_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.state.db.close().await;
    let c = app.client();
    let r = c.get("/readyz").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.code(), "database_unavailable");
    assert_eq!(c.get("/healthz").await.status, 200, "liveness does not depend on the database");
    // A request needing the database fails cleanly, not with a panic or a hang.
    let me = c.get("/api/auth/csrf").await;
    assert_eq!(me.status, 200, "no database needed for an anonymous token");
}

async fn metrics_count_requests_per_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    for _ in 0..3 {
        c.get("/healthz").await;
    }
    c.login("nobody@school.edu", "wrong password").await;
    // R-D8: not on the public port; on the metrics listener (EDUGRAPH_METRICS_BIND).
    let public = c.get("/metrics").await;
    assert_eq!(public.status, 404, "{}", public.text);
    assert!(!public.text.contains("edugraph_"), "{}", public.text);
    assert_ne!(app.metrics_address, app.address);
    let m = app.metrics_client().get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    assert!(
        m.text.contains("edugraph_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3"),
        "{}",
        m.text
    );
    assert!(m.text.contains("edugraph_logins_total{outcome=\"failure\"} 1"));
    assert!(m.text.contains("edugraph_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3"));
    assert!(!m.text.contains("nobody"), "no personal data in metrics");
}

async fn the_openapi_document_is_3_1_and_lists_every_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let spec = app.client().get("/api/openapi.json").await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/api/auth/csrf", "get"),
        ("/api/auth/local/register", "post"),
        ("/api/auth/local/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/me", "get"),
        ("/api/me/password", "post"),
    ] {
        assert!(spec.body["paths"][path][method].is_object(), "{method} {path} missing");
        assert!(spec.body["paths"][path][method]["operationId"].is_string());
    }
    assert!(spec.body["components"]["schemas"]["ErrorBody"].is_object());
}

async fn the_docs_page_is_self_hosted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    let redirect = c.get("/api/docs").await;
    assert_eq!(redirect.status, 302);
    let page = c.get("/api/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger"), "{}", &page.text[..page.text.len().min(300)]);
    // Offline: every script and stylesheet is served by us, none from a CDN.
    for needle in ["src=\"http", "href=\"http", "cdn.", "unpkg", "jsdelivr"] {
        assert!(!page.text.contains(needle), "external reference {needle}");
    }
    let init = c.get("/api/docs/swagger-initializer.js").await;
    assert_eq!(init.status, 200);
    assert!(init.text.contains("/api/openapi.json"));
}
