//! Brute-force protection: per-account lock and per-IP bucket, 429 with Retry-After (R-A18).

use std::time::Duration;

use edu_tests::{Backend, Body, TestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    five_failures_lock_the_account_with_retry_after_and_the_lock_expires,
    unknown_accounts_lock_exactly_like_known_ones,
    one_address_hammering_the_sign_in_gets_429,
    behind_a_trusted_proxy_forged_forwarded_for_entries_do_not_escape_the_address_limit,
);

async fn five_failures_lock_the_account_with_retry_after_and_the_lock_expires(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", "correct horse battery").await;
    let c = app.client();
    c.fetch_csrf().await;
    for _ in 0..5 {
        let r = c.post("/api/auth/local/login", json!({"email": "ann@school.edu", "password": "guess guess"})).await;
        assert_eq!(r.status, 401);
    }
    // Locked: even the right password gets 429 now (soft lock), with Retry-After.
    let r =
        c.post("/api/auth/local/login", json!({"email": "ann@school.edu", "password": "correct horse battery"})).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "too_many_requests");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    // Another account is not affected.
    app.registered("bob@school.edu", "correct horse battery").await;
    // After the lock, the right password works and clears the counter.
    app.clock.advance(Duration::from_secs(31));
    let r =
        c.post("/api/auth/local/login", json!({"email": "ann@school.edu", "password": "correct horse battery"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn unknown_accounts_lock_exactly_like_known_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    c.fetch_csrf().await;
    for _ in 0..5 {
        assert_eq!(
            c.post("/api/auth/local/login", json!({"email": "ghost@school.edu", "password": "guess guess"}))
                .await
                .status,
            401
        );
    }
    let r = c.post("/api/auth/local/login", json!({"email": "ghost@school.edu", "password": "guess guess"})).await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    // Locks double: after the first lock passes, one more failure locks for longer.
    app.clock.advance(Duration::from_secs(31));
    assert_eq!(
        c.post("/api/auth/local/login", json!({"email": "ghost@school.edu", "password": "x"})).await.status,
        401
    );
    let r = c.post("/api/auth/local/login", json!({"email": "ghost@school.edu", "password": "x"})).await;
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 30 && retry <= 60, "{retry}");
}

async fn one_address_hammering_the_sign_in_gets_429(backend: Backend) {
    let app = TestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_LOGIN_IP_BURST".into(), "4".into());
        v.insert("EDUGRAPH_LOGIN_IP_PER_MINUTE".into(), "6".into());
    })
    .await;
    let c = app.client();
    c.fetch_csrf().await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = c
            .post("/api/auth/local/login", json!({"email": format!("u{i}@school.edu"), "password": "guess guess"}))
            .await;
        statuses.push(r.status);
        if r.status == 429 {
            assert_eq!(r.header("retry-after").as_deref(), Some("10"));
        }
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 429, 429]);
    // The bucket refills with time.
    app.clock.advance(Duration::from_secs(10));
    let r = c.post("/api/auth/local/login", json!({"email": "u9@school.edu", "password": "guess guess"})).await;
    assert_eq!(r.status, 401);
}

/// R-A18 behind a proxy: the proxy appends the address it saw to `X-Forwarded-For`; a client
/// that sends its own (changing) entries in front must still land in its real address's bucket,
/// while two real clients behind the same proxy get separate buckets.
async fn behind_a_trusted_proxy_forged_forwarded_for_entries_do_not_escape_the_address_limit(backend: Backend) {
    let app = TestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_LOGIN_IP_BURST".into(), "4".into());
        v.insert("EDUGRAPH_LOGIN_IP_PER_MINUTE".into(), "6".into());
        v.insert("EDUGRAPH_TRUST_FORWARDED_FOR".into(), "true".into());
    })
    .await;
    let c = app.client();
    c.fetch_csrf().await;
    let login = |i: usize, xff: String| {
        let c = &c;
        async move {
            let body = Body::Json(json!({"email": format!("u{i}@school.edu"), "password": "guess guess"}));
            c.send(Method::POST, "/api/auth/local/login", body, &[("x-forwarded-for", xff.as_str())]).await.status
        }
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        // A new forged address each time; the proxy's entry (last) stays 203.0.113.7.
        statuses.push(login(i, format!("198.51.100.{i}, 203.0.113.7")).await);
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 429, 429], "forged entries picked a fresh bucket");
    // Another real client behind the same proxy has its own bucket.
    assert_eq!(login(7, "203.0.113.8".to_owned()).await, 401);
}
