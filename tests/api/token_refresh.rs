//! Delegated tokens: refresh ahead of expiry, one refresh under a stampede, sign-in again
//! when the refresh token no longer works (R-A24..R-A27).

use std::time::Duration;

use edu_tests::{Backend, MicrosoftTestApp, both_backends};

both_backends!(
    fifty_concurrent_calls_with_an_expired_access_token_cause_exactly_one_refresh,
    a_dead_refresh_token_means_sign_in_again_not_500,
    signing_out_everywhere_ends_every_session_and_deletes_the_tokens,
    a_local_sign_in_to_a_linked_account_does_not_use_the_cached_microsoft_tokens,
    with_five_minute_tokens_fifty_concurrent_calls_cause_at_most_one_refresh,
);

/// R-A24, issue 18 §5: the refresh margin is relative to the token's lifetime. With access
/// tokens that live 5 minutes, a fixed 5-minute margin refreshed at every request (50
/// concurrent requests, 50 token calls).
async fn with_five_minute_tokens_fifty_concurrent_calls_cause_at_most_one_refresh(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_DATABASE_MAX_CONNECTIONS".into(), "10".into());
        v.insert("EDUGRAPH_SESSION_IDLE_SECS".into(), "86400".into());
    })
    .await;
    app.emulator.set_token_lifetime(Duration::from_secs(300));
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.sign_in(&t.teachers[0]).await;
    let token_calls = || app.emulator.request_count("POST", "/{tenant}/oauth2/v2.0/token");
    let fifty = || async {
        let mut calls = Vec::new();
        for _ in 0..50 {
            let c = c.clone();
            calls.push(tokio::spawn(async move { c.get("/api/me/microsoft").await.status }));
        }
        for call in calls {
            assert_eq!(call.await.unwrap(), 200);
        }
    };

    // A fresh 5-minute token: no refresh at all.
    let before = token_calls();
    fifty().await;
    assert_eq!(token_calls() - before, 0, "a fresh 5-minute token is used, not refreshed");

    // 4.5 minutes later (30 s left, below a fifth of the lifetime): one refresh.
    app.clock.advance(Duration::from_secs(270));
    let before = token_calls();
    fifty().await;
    assert_eq!(token_calls() - before, 1, "one refresh for 50 concurrent requests");

    // The new token is fresh again: no further refresh.
    let before = token_calls();
    fifty().await;
    assert_eq!(token_calls() - before, 0);
}

async fn signing_out_everywhere_ends_every_session_and_deletes_the_tokens(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let laptop = app.sign_in(&t.teachers[0]).await;
    let phone = app.sign_in(&t.teachers[0]).await;
    assert_eq!(phone.post("/api/auth/logout-all", serde_json::json!({})).await.status, 204);
    assert_eq!(laptop.get("/api/me").await.status, 401);
    assert_eq!(phone.get("/api/me").await.status, 401);
    let tenant = edu_db::tenants::find_by_ms_id(&app.state.db, &t.id).await.unwrap().unwrap();
    let key = edu_db::token_cache::TokenKey {
        tenant: tenant.id,
        subject: &t.teachers[0].id,
        resource: "https://graph.microsoft.com",
        kind: "refresh",
    };
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_none());
}

async fn a_local_sign_in_to_a_linked_account_does_not_use_the_cached_microsoft_tokens(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_SESSION_IDLE_SECS".into(), "86400".into());
    })
    .await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &t.teachers[0].upn, &t.teachers[0].password).await;
    let local = app.client();
    local.login("ann@school.edu", "correct horse battery").await;
    // Issue 17.1 (flaw S4): the tokens are cached and valid, but a password is not Microsoft's sign-in.
    let r = local.get("/api/me/microsoft").await;
    assert_eq!(
        (r.status, r.code()),
        (401, "microsoft_signin_required"),
        "a local password alone grants no Microsoft data"
    );
}

async fn fifty_concurrent_calls_with_an_expired_access_token_cause_exactly_one_refresh(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_DATABASE_MAX_CONNECTIONS".into(), "10".into());
        v.insert("EDUGRAPH_SESSION_IDLE_SECS".into(), "86400".into());
    })
    .await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.sign_in(&t.teachers[0]).await;
    assert_eq!(c.get("/api/me/microsoft").await.status, 200);
    let token_calls_before = app.emulator.request_count("POST", "/{tenant}/oauth2/v2.0/token");

    // Our clock says the access token (60–90 min) has expired.
    app.clock.advance(Duration::from_secs(2 * 3600));
    let mut calls = Vec::new();
    for _ in 0..50 {
        let c = c.clone();
        calls.push(tokio::spawn(async move { c.get("/api/me/microsoft").await.status }));
    }
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
    assert_eq!(app.state.metrics.token_refreshes(), 1);
    assert_eq!(app.emulator.request_count("POST", "/{tenant}/oauth2/v2.0/token") - token_calls_before, 1);
}

async fn a_dead_refresh_token_means_sign_in_again_not_500(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_SESSION_IDLE_SECS".into(), "86400".into());
    })
    .await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.sign_in(&t.teachers[0]).await;
    // Consent withdrawn at Microsoft behind our back. Issued access tokens stay valid until
    // they expire (as at Microsoft); the refresh then fails.
    app.emulator.revoke_consent(&t.id, &app.emulator.demo().app_client_id);
    assert_eq!(c.get("/api/me/microsoft").await.status, 200, "the cached access token still works");
    app.clock.advance(Duration::from_secs(2 * 3600));
    let r = c.get("/api/me/microsoft").await;
    assert_eq!((r.status, r.code()), (401, "microsoft_signin_required"), "{}", r.text);
    // Microsoft refused the refresh with `invalid_grant`: the Microsoft-backed session ended
    // with the tokens (issue 17.2, R-A27), and nothing tries the dead refresh token again.
    assert_eq!(c.get("/api/me").await.status, 401, "the Microsoft-backed session ended");
    let before = app.emulator.request_count("POST", "/{tenant}/oauth2/v2.0/token");
    assert_eq!(c.get("/api/me/microsoft").await.status, 401);
    assert_eq!(app.emulator.request_count("POST", "/{tenant}/oauth2/v2.0/token"), before);
}
