//! Tenant admin consent and link management; tenant isolation (R-A20, R-A28).

use edu_tests::{Backend, MicrosoftBrowser, MicrosoftTestApp, both_backends};
use serde_json::json;

both_backends!(
    an_admin_consents_from_inside_the_app,
    a_new_school_onboards_through_the_public_page,
    unconsent_removes_the_service_principal_links_tokens_and_sessions,
    admins_list_and_unlink_their_tenants_accounts_only,
    teachers_and_students_cannot_reach_admin_endpoints,
    clearing_the_token_cache_makes_people_sign_in_with_microsoft_again,
    a_declined_or_forged_consent_callback_changes_nothing,
);

async fn a_declined_or_forged_consent_callback_changes_nothing(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let t = app.tenant(0);
    let admin = app.client();
    app.browser_sign_in(&admin, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    let state_of =
        |loc: &str| reqwest::Url::parse(loc).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    // Declined.
    let r = admin.get("/auth/microsoft/consent").await;
    let st = state_of(&r.header("location").unwrap());
    let r = admin
        .get(&format!("/auth/microsoft/consent/callback?admin_consent=True&error=consent_required&state={st}"))
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=consent_declined"));
    // A `tenant` parameter naming another tenant (it can be forged) is not believed.
    let r = admin.get("/auth/microsoft/consent").await;
    let st = state_of(&r.header("location").unwrap());
    let other = app.tenant(1).id;
    let r = admin.get(&format!("/auth/microsoft/consent/callback?admin_consent=True&tenant={other}&state={st}")).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=consent_tenant_mismatch"));
    assert_eq!(admin.get("/api/admin/tenant").await.body["consent_state"], "none");
    assert!(edu_db::tenants::find_by_ms_id(&app.state.db, &other).await.unwrap().is_none());
}

async fn an_admin_consents_from_inside_the_app(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let t = app.tenant(0);
    let admin = app.client();
    let ms = MicrosoftBrowser::new();
    app.browser_sign_in_with(&admin, &ms, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    assert_eq!(admin.get("/api/admin/tenant").await.body["consent_state"], "none");
    let r = app.browser_sign_in_with(&admin, &ms, "/auth/microsoft/consent", &t.admin.upn, &t.admin.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/?notice=tenant_consented"), "{}", r.text);
    assert_eq!(admin.get("/api/admin/tenant").await.body["consent_state"], "consented");
    // Teachers can sign in now.
    let teacher = app.client();
    let r = app.browser_sign_in(&teacher, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(r.header("location").as_deref(), Some("/"));
}

async fn a_new_school_onboards_through_the_public_page(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let f = app.tenant(1); // Fabrikam: never consented at Microsoft either.
    let admin = app.client();
    let ms = MicrosoftBrowser::new();
    // Consent (the emulator's consent page is accepted), then the admin signs in to prove who they are.
    let r = admin.get("/auth/microsoft/onboard").await;
    assert!(r.header("location").unwrap().contains("/organizations/v2.0/adminconsent"));
    let back = ms.sign_in(&r.header("location").unwrap(), &f.admin.upn, &f.admin.password).await;
    let r = admin.get(back.strip_prefix("http://edugraph.test").unwrap()).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let back = ms.sign_in(&r.header("location").unwrap(), &f.admin.upn, &f.admin.password).await;
    let r = admin.get(back.strip_prefix("http://edugraph.test").unwrap()).await;
    assert_eq!(r.header("location").as_deref(), Some("/"), "{}", r.text);
    let me = admin.get("/api/me").await.body;
    assert_eq!(me["tenant"]["consent_state"], "consented");
    // Fabrikam's students can sign in now.
    let s = app.client();
    let r = app.browser_sign_in(&s, "/auth/microsoft/login", &f.students[0].upn, &f.students[0].password).await;
    assert_eq!(r.header("location").as_deref(), Some("/"), "{}", r.text);
}

async fn unconsent_removes_the_service_principal_links_tokens_and_sessions(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.client();
    app.browser_sign_in(&admin, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    let teacher = app.client();
    app.browser_sign_in(&teacher, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;

    // A GET never unconsents (the original's flaw).
    assert_eq!(admin.get("/api/admin/tenant/unconsent").await.status, 405);
    let r = admin.post("/api/admin/tenant/unconsent", json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.emulator.request_count("DELETE", "/servicePrincipals/{id}"), 1);
    assert_eq!(admin.get("/api/me").await.status, 401);
    assert_eq!(teacher.get("/api/me").await.status, 401);
    // The teacher cannot sign in again: consent is gone at Microsoft too.
    let again = app.client();
    let r = app.browser_sign_in(&again, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=consent_required"));
}

async fn admins_list_and_unlink_their_tenants_accounts_only(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.client();
    app.browser_sign_in(&admin, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &t.teachers[0].upn, &t.teachers[0].password).await;

    let list = admin.get("/api/admin/linked-accounts").await;
    assert_eq!(list.status, 200);
    let items = list.body["items"].as_array().unwrap().clone();
    let ann_link = items.iter().find(|i| i["local_email"] == "ann@school.edu").expect("ann listed").clone();
    assert_eq!(ann_link["upn"], t.teachers[0].upn.as_str());

    // Another tenant's admin (Fabrikam, onboarded) sees none of it and cannot unlink it.
    app.onboard(1).await;
    let f = app.tenant(1);
    let other = app.client();
    // Fabrikam is not consented at Microsoft: its admin consents during sign-in.
    app.browser_sign_in(&other, "/auth/microsoft/login", &f.admin.upn, &f.admin.password).await;
    let theirs = other.get("/api/admin/linked-accounts").await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert!(!theirs.text.contains("ann@school.edu"));
    let id = ann_link["id"].as_str().unwrap();
    let r = other.post(&format!("/api/admin/linked-accounts/{id}/unlink"), json!({})).await;
    assert_eq!(r.status, 404);
    assert_eq!(ann.get("/api/me").await.body["link"]["microsoft"]["upn"], t.teachers[0].upn.as_str(), "unchanged");
    assert_eq!(admin.post("/api/admin/linked-accounts/not-an-id/unlink", json!({})).await.status, 404);

    // Not their own account: it would end the admin's session mid-task (found by schemathesis).
    let me = items.iter().find(|i| i["upn"] == t.admin.upn.as_str()).expect("the admin is listed").clone();
    let r = admin.post(&format!("/api/admin/linked-accounts/{}/unlink", me["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((r.status, r.code()), (409, "cannot_unlink_self"));
    assert_eq!(admin.get("/api/me").await.status, 200, "still signed in");

    // Its own admin can.
    let r = admin.post(&format!("/api/admin/linked-accounts/{id}/unlink"), json!({})).await;
    assert_eq!(r.status, 204);
    let local = app.client();
    local.login("ann@school.edu", "correct horse battery").await;
    assert_eq!(local.get("/api/me").await.body["link"]["microsoft"], json!(null));
}

async fn teachers_and_students_cannot_reach_admin_endpoints(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let local = app.registered("ann@school.edu", "correct horse battery").await;
    for (who, c) in [("local", Some(local)), ("anonymous", None)] {
        let c = c.unwrap_or_else(|| app.client());
        for path in ["/api/admin/tenant", "/api/admin/linked-accounts"] {
            let r = c.get(path).await;
            assert!(r.status == 401 || r.status == 403, "{who} {path}: {}", r.status);
        }
    }
    for person in [&t.teachers[0], &t.students[0]] {
        let c = app.client();
        app.browser_sign_in(&c, "/auth/microsoft/login", &person.upn, &person.password).await;
        for path in ["/api/admin/tenant", "/api/admin/linked-accounts"] {
            let r = c.get(path).await;
            assert_eq!((r.status, r.code()), (403, "role_required"), "{} {path}", person.upn);
        }
        for path in ["/api/admin/tenant/unconsent", "/api/admin/token-cache/clear"] {
            let r = c.post(path, json!({})).await;
            assert_eq!(r.status, 403, "{} {path}", person.upn);
        }
        assert_eq!(c.get("/auth/microsoft/consent").await.status, 403);
    }
    assert_eq!(app.emulator.request_count("DELETE", "/servicePrincipals/{id}"), 0);
}

async fn clearing_the_token_cache_makes_people_sign_in_with_microsoft_again(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.client();
    app.browser_sign_in(&admin, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    let teacher = app.client();
    app.browser_sign_in(&teacher, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(teacher.get("/api/me/microsoft").await.status, 200);
    let r = admin.post("/api/admin/token-cache/clear", json!({})).await;
    assert_eq!(r.status, 200);
    assert!(r.body["deleted"].as_u64().unwrap() >= 4);
    let r = teacher.get("/api/me/microsoft").await;
    assert_eq!((r.status, r.code()), (401, "microsoft_signin_required"));
    assert_eq!(teacher.get("/api/me").await.status, 200, "the session itself is fine");
}
