//! Account linking: the three paths and their refusals; never by email (R-B2..R-B5).

use edu_tests::{Backend, MicrosoftTestApp, both_backends};
use serde_json::json;

both_backends!(
    a_local_account_links_a_microsoft_account_through_a_fresh_sign_in,
    a_microsoft_account_linked_elsewhere_cannot_be_linked_again,
    a_microsoft_person_creates_a_local_account_with_a_real_password,
    a_microsoft_person_links_an_existing_local_account_only_with_its_password,
    an_already_linked_local_account_cannot_be_linked_again,
    unlinking_needs_a_local_password_and_removes_microsoft_access,
    linking_requires_being_signed_in,
);

async fn a_local_account_links_a_microsoft_account_through_a_fresh_sign_in(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    let local_id = c.get("/api/me").await.body["user"]["id"].clone();
    let before = c.session_cookie();

    let r =
        app.browser_sign_in(&c, "/auth/microsoft/login?intent=link", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(r.header("location").as_deref(), Some("/?notice=microsoft_linked"), "{}", r.text);
    assert_ne!(c.session_cookie(), before, "session rotated at link (R-A11)");
    let me = c.get("/api/me").await.body;
    assert_eq!(me["user"]["id"], local_id, "the same person");
    assert_eq!(me["link"]["local"], true);
    assert_eq!(me["link"]["microsoft"]["upn"], t.teachers[0].upn.as_str());
    assert!(me["roles"].as_array().unwrap().contains(&json!("teacher")));

    // Afterwards a Microsoft sign-in lands on the linked local account.
    let ms = app.client();
    app.browser_sign_in(&ms, "/auth/microsoft/login", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(ms.get("/api/me").await.body["user"]["id"], local_id);
    // And a local sign-in too, with the tenant and roles.
    let local = app.client();
    assert_eq!(local.login("ann@school.edu", "correct horse battery").await.status, 200);
    assert!(local.get("/api/me").await.body["roles"].as_array().unwrap().contains(&json!("teacher")));
}

async fn a_microsoft_account_linked_elsewhere_cannot_be_linked_again(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &t.students[0].upn, &t.students[0].password).await;

    let eve = app.registered("eve@school.edu", "eve's own long password").await;
    let r = app
        .browser_sign_in(&eve, "/auth/microsoft/login?intent=link", &t.students[0].upn, &t.students[0].password)
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=microsoft_account_already_linked"));
    assert_eq!(eve.get("/api/me").await.body["link"]["microsoft"], json!(null), "nothing changed");
    assert_eq!(ann.get("/api/me").await.body["link"]["microsoft"]["upn"], t.students[0].upn.as_str());
}

async fn a_microsoft_person_creates_a_local_account_with_a_real_password(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let c = app.client();
    app.browser_sign_in(&c, "/auth/microsoft/login", &t.students[0].upn, &t.students[0].password).await;
    let id = c.get("/api/me").await.body["user"]["id"].clone();

    let empty = c.post("/api/me/link/local/create", json!({"email": "liam@home.example", "password": ""})).await;
    assert_eq!(empty.status, 422, "never an empty password");
    let r = c
        .post(
            "/api/me/link/local/create",
            json!({"email": "liam@home.example", "password": "a real passphrase", "favorite_color": "teal"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["link"]["local"], true);
    assert_eq!(r.body["user"]["favorite_color"], "#00796b");
    let again =
        c.post("/api/me/link/local/create", json!({"email": "x@home.example", "password": "a real passphrase"})).await;
    assert_eq!(again.code(), "local_account_exists");

    // R-B3: the new local sign-in waits for the mailed link; the Microsoft session is unaffected.
    let local = app.client();
    let early = local.login("liam@home.example", "a real passphrase").await;
    assert_eq!((early.status, early.code()), (403, "email_unverified"), "{}", early.text);
    assert_eq!(c.get("/api/me").await.status, 200, "the Microsoft session goes on");
    let v = app.confirm_email(&local, "liam@home.example", "a real passphrase").await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(local.login("liam@home.example", "a real passphrase").await.status, 200);
    assert_eq!(local.get("/api/me").await.body["user"]["id"], id);
}

async fn a_microsoft_person_links_an_existing_local_account_only_with_its_password(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let local = app.registered("liam@home.example", "correct horse battery").await;
    let local_id = local.get("/api/me").await.body["user"]["id"].clone();

    let c = app.client();
    app.browser_sign_in(&c, "/auth/microsoft/login", &t.students[0].upn, &t.students[0].password).await;
    let r = c
        .post("/api/me/link/local/existing", json!({"email": "liam@home.example", "password": "wrong password"}))
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "invalid_credentials");
    assert_eq!(local.get("/api/me").await.body["link"]["microsoft"], json!(null));

    let r = c
        .post("/api/me/link/local/existing", json!({"email": "liam@home.example", "password": "correct horse battery"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["id"], local_id, "the session now belongs to the local account");
    assert_eq!(r.body["link"]["microsoft"]["upn"], t.students[0].upn.as_str());
    // Microsoft sign-in maps to the local account from now on.
    let again = app.client();
    app.browser_sign_in(&again, "/auth/microsoft/login", &t.students[0].upn, &t.students[0].password).await;
    assert_eq!(again.get("/api/me").await.body["user"]["id"], local_id);
}

async fn an_already_linked_local_account_cannot_be_linked_again(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &t.teachers[0].upn, &t.teachers[0].password).await;

    let c = app.client();
    app.browser_sign_in(&c, "/auth/microsoft/login", &t.students[0].upn, &t.students[0].password).await;
    let r = c
        .post("/api/me/link/local/existing", json!({"email": "ann@school.edu", "password": "correct horse battery"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "local_account_already_linked");
    assert_eq!(ann.get("/api/me").await.body["link"]["microsoft"]["upn"], t.teachers[0].upn.as_str());
}

async fn unlinking_needs_a_local_password_and_removes_microsoft_access(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let ms_only = app.client();
    app.browser_sign_in(&ms_only, "/auth/microsoft/login", &t.students[1].upn, &t.students[1].password).await;
    let r = ms_only.post("/api/me/link/microsoft/remove", json!({})).await;
    assert_eq!(r.code(), "local_password_required");

    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &t.teachers[0].upn, &t.teachers[0].password).await;
    assert_eq!(ann.get("/api/me/microsoft").await.status, 200);
    let local_session = app.client();
    local_session.login("ann@school.edu", "correct horse battery").await;
    let r = local_session.post("/api/me/link/microsoft/remove", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["link"]["microsoft"], json!(null));
    assert_eq!(r.body["roles"], json!([]));
    assert_eq!(local_session.get("/api/me/microsoft").await.code(), "school_account_required");
    // The session that came in through Microsoft ended.
    assert_eq!(ann.get("/api/me").await.status, 401);
    assert_eq!(local_session.post("/api/me/link/microsoft/remove", json!({})).await.code(), "not_linked");
}

async fn linking_requires_being_signed_in(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let c = app.client();
    let r = c.get("/auth/microsoft/login?intent=link").await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=signin_required_to_link"));
    let r = c.get("/auth/microsoft/login?intent=steal").await;
    assert_eq!(r.status, 400);
    c.fetch_csrf().await;
    let r = c.post("/api/me/link/local/existing", json!({"email": "a@b.cd", "password": "x"})).await;
    assert_eq!(r.status, 401);
    let local = app.registered("ann@school.edu", "correct horse battery").await;
    let r = local.post("/api/me/link/local/create", json!({"email": "a@b.cd", "password": "another long one"})).await;
    assert_eq!(r.code(), "microsoft_account_required");
}
