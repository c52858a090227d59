//! Sign-in with Microsoft through the emulator, as a browser does it (R-A1..R-A7, R-B1).

use edu_tests::{Backend, MicrosoftBrowser, MicrosoftTestApp, both_backends};
use serde_json::json;

both_backends!(
    a_teacher_a_student_and_an_admin_sign_in_with_their_roles,
    a_school_that_has_not_onboarded_sends_people_to_a_clear_error,
    a_tenant_that_never_consented_at_microsoft_lands_on_consent_required,
    a_replayed_or_foreign_state_is_refused,
    a_replayed_authorization_code_is_refused,
    identities_are_keyed_by_tenant_and_object_id_never_by_email,
    sign_in_again_as_remembers_the_last_account,
    one_sign_in_costs_one_graph_call,
);

async fn a_teacher_a_student_and_an_admin_sign_in_with_their_roles(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    for (person, role) in [(&t.teachers[0], "teacher"), (&t.students[0], "student"), (&t.admin, "admin")] {
        let c = app.client();
        let r = app.browser_sign_in(&c, "/auth/microsoft/login", &person.upn, &person.password).await;
        assert_eq!(r.status, 302, "{}", r.text);
        assert_eq!(r.header("location").as_deref(), Some("/"));
        let sid = r.set_cookies().into_iter().find(|s| s.starts_with("__Host-sid=")).expect("session cookie");
        assert!(sid.contains("HttpOnly") && sid.contains("Secure") && sid.contains("SameSite=Lax"));
        let me = c.get("/api/me").await;
        assert_eq!(me.status, 200);
        assert!(me.body["roles"].as_array().unwrap().contains(&json!(role)), "{}: {}", person.upn, me.body);
        assert_eq!(me.body["auth_method"], "microsoft");
        assert_eq!(me.body["tenant"]["ms_tenant_id"], t.id);
        assert_eq!(me.body["link"]["microsoft"]["upn"], person.upn.as_str());
        assert_eq!(me.body["link"]["local"], false);
        // R-A16: no Microsoft token reaches the browser.
        assert!(!me.text.contains("eyJ"), "{}", me.text);
        // The Graph call with the cached delegated token works.
        let profile = c.get("/api/me/microsoft").await;
        assert_eq!(profile.status, 200, "{}", profile.text);
        assert_eq!(profile.body["user_principal_name"], person.upn.as_str());
    }
}

async fn a_school_that_has_not_onboarded_sends_people_to_a_clear_error(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let t = app.tenant(0);
    let c = app.client();
    let r = app.browser_sign_in(&c, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=tenant_not_onboarded"));
    assert_eq!(c.get("/api/me").await.status, 401);
    // The tenant's admin may still sign in (to grant consent).
    let admin = app.client();
    let r = app.browser_sign_in(&admin, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/"));
    let me = admin.get("/api/me").await;
    assert_eq!(me.body["tenant"]["consent_state"], "none");
    assert!(me.body["roles"].as_array().unwrap().contains(&json!("admin")));
}

async fn a_tenant_that_never_consented_at_microsoft_lands_on_consent_required(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let f = app.tenant(1);
    let c = app.client();
    let r = app.browser_sign_in(&c, "/auth/microsoft/login", &f.students[0].upn, &f.students[0].password).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=consent_required"));
    assert_eq!(c.get("/api/me").await.status, 401);
}

async fn a_replayed_or_foreign_state_is_refused(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.client();
    let r = c.get("/auth/microsoft/login").await;
    let authorize = r.header("location").unwrap();
    assert!(
        authorize.contains("code_challenge_method=S256")
            && authorize.contains("nonce=")
            && authorize.contains("state=")
    );
    let callback = MicrosoftBrowser::new().sign_in(&authorize, &t.students[0].upn, &t.students[0].password).await;
    let path = callback.strip_prefix("http://edugraph.test").unwrap().to_owned();
    let oidc_cookie = c.cookies.lock().unwrap().get("__Host-oidc").cloned().unwrap();

    // Another browser (without the state cookie) cannot complete this sign-in.
    let attacker = app.client();
    let r = attacker.get(&path).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=state_mismatch"));

    // The right browser completes it once…
    assert_eq!(c.get(&path).await.header("location").as_deref(), Some("/"));
    // …and a replay (even with the state cookie put back) is refused.
    let replay = app.client();
    replay.cookies.lock().unwrap().insert("__Host-oidc".into(), oidc_cookie);
    let r = replay.get(&path).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=state_invalid"));
    assert_eq!(replay.get("/api/me").await.status, 401);
}

async fn a_replayed_authorization_code_is_refused(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.client();
    let r = c.get("/auth/microsoft/login").await;
    let callback = MicrosoftBrowser::new()
        .sign_in(&r.header("location").unwrap(), &t.students[0].upn, &t.students[0].password)
        .await;
    let code = reqwest::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    assert_eq!(
        c.get(callback.strip_prefix("http://edugraph.test").unwrap()).await.header("location").as_deref(),
        Some("/")
    );

    // A new round trip (fresh state) presenting the old code.
    let c2 = app.client();
    let r = c2.get("/auth/microsoft/login").await;
    let state = reqwest::Url::parse(&r.header("location").unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let r = c2.get(&format!("/auth/microsoft/callback?code={code}&state={state}")).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=code_invalid"));
    assert_eq!(c2.get("/api/me").await.status, 401);
}

// R-B1: a local account with the same email as the Microsoft account is never taken over.
async fn identities_are_keyed_by_tenant_and_object_id_never_by_email(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let teacher = &t.teachers[0];
    let squatter = app.registered(&teacher.upn, "the squatter's password").await;
    let squatter_id = squatter.get("/api/me").await.body["user"]["id"].clone();

    let c = app.client();
    app.browser_sign_in(&c, "/auth/microsoft/login", &teacher.upn, &teacher.password).await;
    let me = c.get("/api/me").await.body;
    assert_ne!(me["user"]["id"], squatter_id, "a different person");
    assert_eq!(me["link"]["local"], false);
    // The local account is untouched and unlinked.
    let s = squatter.get("/api/me").await.body;
    assert_eq!(s["link"]["microsoft"], json!(null));
    assert_eq!(s["roles"], json!([]));

    // Signing in again maps to the same person.
    let again = app.client();
    app.browser_sign_in(&again, "/auth/microsoft/login", &teacher.upn, &teacher.password).await;
    assert_eq!(again.get("/api/me").await.body["user"]["id"], me["user"]["id"]);
}

async fn sign_in_again_as_remembers_the_last_account(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.client();
    assert_eq!(c.get("/api/auth/microsoft/hint").await.status, 404);
    // Only with "remember me on this device" ticked (issue 16; journeys.rs checks the default).
    app.browser_sign_in(&c, "/auth/microsoft/login?remember=1", &t.teachers[0].upn, &t.teachers[0].password).await;
    let hint = c.get("/api/auth/microsoft/hint").await;
    assert_eq!(hint.status, 200);
    assert_eq!(hint.body["login_hint"], t.teachers[0].upn.as_str());
    assert_eq!(hint.body["name"], t.teachers[0].display_name.as_str());
    // One click: the hint goes to Microsoft; "use a different account" asks to pick one.
    let r = c.get(&format!("/auth/microsoft/login?login_hint={}", t.teachers[0].upn)).await;
    assert!(r.header("location").unwrap().contains("login_hint="));
    let r = c.get("/auth/microsoft/login?prompt=select_account").await;
    let loc = r.header("location").unwrap();
    assert!(loc.contains("prompt=select_account") && !loc.contains("login_hint"));
}

async fn one_sign_in_costs_one_graph_call(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    app.emulator.reset_request_log();
    let c = app.client();
    app.browser_sign_in(&c, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;
    let graph_calls: u64 = app
        .emulator
        .request_log()
        .into_iter()
        .filter(|((_, route), _)| {
            !route.starts_with("/{tenant}") && !route.starts_with("/common") && !route.starts_with("/organizations")
        })
        .map(|(_, n)| n)
        .sum();
    // The original made 5; we read only the education profile (roles come from the ID token's wids).
    assert_eq!(graph_calls, 1, "{:?}", app.emulator.request_log());
}

/// R-A1: the one-time state, nonce and PKCE verifier are short-lived secrets:
/// a pending sign-in's transaction is purged 10 minutes after it was created, used or not, and
/// its callback is refused after that.
async fn pending_sign_ins_are_purged_ten_minutes_after_creation(backend: Backend) {
    use edu_api::startup::purge_oidc_transactions;
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let db = &app.state.db;
    let c = app.client();
    let authorize = c.get("/auth/microsoft/login").await.header("location").unwrap();
    let callback = MicrosoftBrowser::new().sign_in(&authorize, &t.students[0].upn, &t.students[0].password).await;
    let path = callback.strip_prefix("http://edugraph.test").unwrap().to_owned();
    let other = app.client();
    other.get("/auth/microsoft/login").await;
    assert_eq!(edu_db::oidc::count(db).await.unwrap(), 2);

    app.clock.advance(std::time::Duration::from_secs(9 * 60 + 59));
    assert_eq!(purge_oidc_transactions(&app.state).await.unwrap(), 0, "younger than 10 minutes: kept");
    app.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(purge_oidc_transactions(&app.state).await.unwrap(), 2, "10 minutes old: purged");
    assert_eq!(edu_db::oidc::count(db).await.unwrap(), 0);
    let r = c.get(&path).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=state_invalid"));
    assert_eq!(c.get("/api/me").await.status, 401);
}

mod oidc_purge {
    use super::*;
    both_backends!(pending_sign_ins_are_purged_ten_minutes_after_creation);
}
