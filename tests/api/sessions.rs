//! Sessions: cookie flags, rotation, idle and absolute expiry (R-A11, R-A12, R-A17).

use std::time::Duration;

use edu_tests::{Backend, TestApp, both_backends};

both_backends!(
    the_session_cookie_is_host_prefixed_secure_httponly_lax,
    signing_in_rotates_the_session_so_a_planted_id_is_useless,
    an_idle_session_ends_after_thirty_minutes,
    a_used_session_still_ends_after_twelve_hours,
    sessions_are_stored_hashed,
);

async fn the_session_cookie_is_host_prefixed_secure_httponly_lax(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    let csrf = c.get("/api/auth/csrf").await;
    let pre = csrf.set_cookies();
    assert!(pre.iter().any(|s| s.starts_with("__Host-pre=")), "{pre:?}");
    assert_eq!(c.register("ann@school.edu", "correct horse battery").await.status, 202);
    let r = app.confirm_email(&c, "ann@school.edu", "correct horse battery").await;
    let sid = r.set_cookies().into_iter().find(|s| s.starts_with("__Host-sid=")).expect("session cookie");
    let value = sid.split(';').next().unwrap().trim_start_matches("__Host-sid=");
    assert_eq!(value.len(), 43, "256-bit base64url value");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(sid.split(';').any(|p| p.trim() == flag), "{flag} missing in {sid}");
    }
    assert!(!sid.contains("Domain"), "{sid}");
    assert!(sid.len() < 4096);
    for cookie in pre.iter().chain(std::iter::once(&sid)) {
        assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"));
    }
}

async fn signing_in_rotates_the_session_so_a_planted_id_is_useless(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", "correct horse battery").await;
    let attacker = app.registered("eve@school.edu", "eve's own long password").await;
    let planted = attacker.session_cookie().unwrap();

    // The victim's browser carries the attacker's session id, then signs in.
    let victim = app.client();
    victim.cookies.lock().unwrap().insert("__Host-sid".into(), planted.clone());
    let r = victim.login("ann@school.edu", "correct horse battery").await;
    assert_eq!(r.status, 200);
    let fresh = victim.session_cookie().unwrap();
    assert_ne!(fresh, planted);
    assert_eq!(victim.get("/api/me").await.body["user"]["email"], "ann@school.edu");
    // The planted id was deleted at sign-in: it no longer works for anyone.
    assert_eq!(attacker.get("/api/me").await.status, 401);
}

async fn an_idle_session_ends_after_thirty_minutes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    app.clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(c.get("/api/me").await.status, 200, "used within the idle window");
    app.clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(c.get("/api/me").await.status, 200, "the last use restarted the idle window");
    app.clock.advance(Duration::from_secs(30 * 60));
    let r = c.get("/api/me").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthenticated");
}

async fn a_used_session_still_ends_after_twelve_hours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    // Used every 20 minutes, so never idle…
    for _ in 0..(12 * 3) - 1 {
        app.clock.advance(Duration::from_secs(20 * 60));
        assert_eq!(c.get("/api/me").await.status, 200);
    }
    // …but 12 hours after sign-in it ends.
    app.clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(c.get("/api/me").await.status, 401);
}

async fn sessions_are_stored_hashed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    let secret = c.session_cookie().unwrap();
    // The raw cookie value is not a key in the sessions table; its SHA-256 is.
    assert!(edu_db::sessions::get(&app.state.db, &secret).await.unwrap().is_none());
    let hashed = edu_api::auth::session::hash_secret(&secret);
    assert!(edu_db::sessions::get(&app.state.db, &hashed).await.unwrap().is_some());
}
