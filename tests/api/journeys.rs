//! Issue 16: every classroom journey ends where the person meant to go. The server's part:
//! handouts carry their Microsoft 365 address (read in one `$batch`), a school's class list
//! marks the caller's classes, the audit log records names, an unlinked Microsoft account is
//! explained instead of becoming a second account, tenants are named by their organization,
//! "remember me" decides whether the sign-in page may name the last person, bulk lists take
//! sign-in names, and directory sync's managers are visible.

use edu_db::directory::{self, Manager, Member};
use edu_db::sync::{self, PageEnd};
use edu_tests::{Backend, Body, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    handouts_carry_their_microsoft_365_address_read_in_one_batch,
    a_schools_class_list_marks_the_callers_own_classes,
    audit_events_record_the_actor_and_target_names,
    signing_in_with_an_unlinked_microsoft_account_is_explained_not_a_second_account,
    a_new_tenant_is_named_by_its_organization_not_its_domain,
    the_sign_in_page_names_the_last_microsoft_account_only_when_remembered,
    bulk_lists_take_sign_in_names_and_refuse_unknown_ones_by_name,
    managers_from_directory_sync_are_visible_to_the_admin,
);

fn octets(data: Vec<u8>) -> Body {
    Body::Raw("application/octet-stream", data)
}

async fn handouts_carry_their_microsoft_365_address_read_in_one_batch(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Worksheets"})).await.body["id"].as_str().unwrap().to_owned();
    for name in ["sheet-1.txt", "sheet-2.txt"] {
        let r = teacher
            .send(Method::POST, &format!("{base}/{aid}/files?name={name}"), octets(b"fractions".to_vec()), &[])
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = teacher
        .post(&format!("{base}/{aid}/links"), json!({"display_name": "Video", "link": "https://example.org/v"}))
        .await;
    assert!(r.status < 300, "{}", r.text);

    app.emulator.reset_request_log();
    let r = teacher.get(&format!("{base}/{aid}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let resources = r.body["resources"].as_array().unwrap();
    let files: Vec<_> = resources.iter().filter(|x| x["kind"] == "file").collect();
    assert_eq!(files.len(), 2, "{resources:?}");
    for f in &files {
        let url = f["web_url"].as_str().unwrap_or_default();
        assert!(url.starts_with("http"), "a file opens at its Microsoft 365 address: {f}");
    }
    let link = resources.iter().find(|x| x["kind"] == "link").unwrap();
    assert_eq!((link["link"].as_str(), link["web_url"].as_str()), (Some("https://example.org/v"), None));
    // Both files' addresses in one `$batch` (the other `$batch` is the class access check),
    // never one call per file.
    let log = app.emulator.request_log();
    assert_eq!(app.emulator.request_count("GET", "/drives/{id}/items/{id}"), 2, "{log:?}");
    assert_eq!(app.emulator.request_count("POST", "/$batch"), 2, "{log:?}");
}

async fn a_schools_class_list_marks_the_callers_own_classes(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let r = teacher.get(&format!("/api/classes?scope=all&school_id={}", class.school_id)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let mine = items.iter().find(|c| c["id"] == class.id.as_str()).expect("the class is on its school's list");
    assert_eq!(mine["member"], true);
    let others: Vec<_> = items.iter().filter(|c| c["member"] == false).collect();
    let taught_by_someone_else = t
        .classes
        .iter()
        .filter(|c| c.school_id == class.school_id && !c.teacher_ids.contains(&class.teacher_ids[0]))
        .count();
    assert!(taught_by_someone_else == 0 || !others.is_empty(), "classes of others are marked as not yours: {items:?}");
    for c in &others {
        let demo = t.classes.iter().find(|d| d.id == c["id"].as_str().unwrap()).unwrap();
        assert!(!demo.teacher_ids.contains(&class.teacher_ids[0]), "{c}");
    }
    // "Mine" needs no mark.
    let r = teacher.get("/api/classes?scope=mine").await;
    assert!(r.body["items"].as_array().unwrap().iter().all(|c| c["member"].is_null()), "{}", r.text);
}

async fn audit_events_record_the_actor_and_target_names(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.sign_in(&t.admin).await;
    let upn = format!("nina.newcomer@{}", t.domain);
    let r = admin
        .post(
            "/api/admin/users",
            json!({"display_name": "Nina Newcomer", "user_principal_name": upn, "mail_nickname": "nina.newcomer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A person who signed in is named by their identity.
    let _teacher = app.sign_in(&t.teachers[0]).await;
    let r = admin.get("/api/admin/audit?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let created = items.iter().find(|e| e["action"] == "admin.user.create").expect("create audited");
    assert_eq!(created["actor_name"], t.admin.display_name.as_str(), "{created}");
    assert_eq!(created["target_name"], "Nina Newcomer", "{created}");
    let login = items
        .iter()
        .find(|e| e["action"] == "auth.microsoft.login" && e["actor_name"] == t.teachers[0].display_name.as_str());
    assert!(login.is_some(), "the teacher's sign-in names them: {items:?}");
}

async fn signing_in_with_an_unlinked_microsoft_account_is_explained_not_a_second_account(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let s = t.students[1].clone();
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    let ann_id = ann.get("/api/me").await.body["user"]["id"].as_str().unwrap().to_owned();
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &s.upn, &s.password).await;
    let local = app.client();
    local.login("ann@school.edu", "correct horse battery").await;
    assert_eq!(local.post("/api/me/link/microsoft/remove", json!({})).await.status, 200);

    // The unlinked Microsoft account signs in: explained, and no second account appears.
    let c = app.client();
    let r = app.browser_sign_in(&c, "/auth/microsoft/login", &s.upn, &s.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/signin?error=microsoft_unlinked"), "{}", r.text);
    assert_eq!(c.get("/api/me").await.status, 401);
    assert!(edu_db::identities::find(&app.state.db, &t.id, &s.id).await.unwrap().is_none(), "no new account");

    // Linking it again works, and Microsoft sign-in maps to the same account again.
    let r = app.browser_sign_in(&local, "/auth/microsoft/login?intent=link", &s.upn, &s.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/?notice=microsoft_linked"), "{}", r.text);
    let again = app.client();
    let r = app.browser_sign_in(&again, "/auth/microsoft/login", &s.upn, &s.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/"), "{}", r.text);
    assert_eq!(again.get("/api/me").await.body["user"]["id"], ann_id.as_str());
}

async fn a_new_tenant_is_named_by_its_organization_not_its_domain(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let f = app.tenant(1);
    assert!(edu_db::tenants::find_by_ms_id(&app.state.db, &f.id).await.unwrap().is_none());
    // The admin of a school EduGraph has never seen signs in (and consents on the way).
    let c = app.client();
    app.browser_sign_in(&c, "/auth/microsoft/login", &f.admin.upn, &f.admin.password).await;
    let tenant = edu_db::tenants::find_by_ms_id(&app.state.db, &f.id).await.unwrap().expect("tenant created");
    assert_eq!(tenant.display_name, f.display_name, "GET /organization's displayName, not {}", f.domain);
    assert_ne!(tenant.display_name, f.domain);
}

async fn the_sign_in_page_names_the_last_microsoft_account_only_when_remembered(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let hint_set = |cookies: Vec<String>| {
        cookies.iter().any(|c| c.starts_with("__Host-ms-hint=") && !c.starts_with("__Host-ms-hint=;"))
    };
    // Not ticked: no hint is kept (and a previous one would be removed).
    let c = app.client();
    let r = app.browser_sign_in(&c, "/auth/microsoft/login", &t.students[0].upn, &t.students[0].password).await;
    assert!(!hint_set(r.set_cookies()), "{:?}", r.set_cookies());
    assert!(r.set_cookies().iter().any(|c| c.starts_with("__Host-ms-hint=")), "the old hint is removed");
    assert_eq!(c.get("/api/auth/microsoft/hint").await.status, 404);
    // Ticked: the sign-in page may offer "Sign in again as …".
    let c = app.client();
    let r =
        app.browser_sign_in(&c, "/auth/microsoft/login?remember=1", &t.students[0].upn, &t.students[0].password).await;
    assert!(hint_set(r.set_cookies()), "{:?}", r.set_cookies());
    let hint = c.get("/api/auth/microsoft/hint").await;
    assert_eq!(hint.body["login_hint"], t.students[0].upn.as_str(), "{}", hint.text);
}

async fn bulk_lists_take_sign_in_names_and_refuse_unknown_ones_by_name(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.sign_in(&t.admin).await;
    let auth = edu_msgraph::GraphAuth::app_only(t.id.clone());
    let groups = app.state.graph.list_groups(&auth, Some("displayName eq 'All Teachers'"), &["id"]).await.unwrap();
    let group = groups[0].id.clone();
    let bulk = format!("/api/admin/groups/{group}/members/bulk");

    let unknown = format!("nobody.here@{}", t.domain);
    let r = admin.post(&bulk, json!({"member_ids": [t.students[0].upn, unknown]})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_id"), "{}", r.text);
    assert!(r.text.contains(&unknown), "the unknown name is named: {}", r.text);
    let r = admin.post(&bulk, json!({"member_ids": ["not an id or a name"]})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_id"), "{}", r.text);

    // Names (any case) and ids mix; the same person twice counts once.
    app.emulator.reset_request_log();
    let names = [t.students[0].upn.to_uppercase(), t.students[1].upn.clone(), t.students[1].id.clone()];
    let r = admin.post(&bulk, json!({"member_ids": names})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let mut done = serde_json::Value::Null;
    for _ in 0..100 {
        done = admin.get(&format!("/api/admin/jobs/{job}")).await.body;
        if done["status"] == "succeeded" || done["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!((done["status"].as_str(), done["total"].as_i64()), (Some("succeeded"), Some(2)), "{done}");
    let members = app
        .state
        .graph
        .fetch(
            &auth,
            edu_msgraph::GraphReq::<edu_msgraph::Page<edu_msgraph::models::User>>::get(format!(
                "/groups/{group}/members"
            ))
            .select(&["id"]),
        )
        .await
        .unwrap();
    for s in &t.students[..2] {
        assert!(members.value.iter().any(|m| m.id == s.id), "{} added", s.upn);
    }
}

async fn managers_from_directory_sync_are_visible_to_the_admin(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let t = app.tenant(0);
    let (boss, a, b) = (&t.teachers[0], &t.teachers[1], &t.teachers[2]);
    // What edugraph-sync stores after a round (seed 001): two members report to the first teacher.
    let db = &app.state.db;
    let lease = sync::acquire_lease(db, tenant, directory::STREAM, "test", 60_000, 1).await.unwrap().expect("lease");
    let cp = directory::begin_round(db, &lease, 60_000, 2).await.unwrap();
    let member = |p: &edu_ms_emulator::DemoUser, manager: Option<&edu_ms_emulator::DemoUser>| {
        (
            Member { ms_object_id: p.id.clone(), display_name: Some(p.display_name.clone()), ..Default::default() },
            manager.map(|m| Manager { ms_object_id: m.id.clone(), display_name: Some(m.display_name.clone()) }),
        )
    };
    let page = [member(boss, None), member(a, Some(boss)), member(b, Some(boss))];
    directory::commit_page(db, &lease, &cp, &page, &PageEnd::Done(String::new()), 60_000, 3).await.unwrap();
    sync::release_lease(db, lease, 4).await.unwrap();

    let admin = app.sign_in(&t.admin).await;
    let r = admin.get("/api/admin/directory-sync/members").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    let of_a = items.iter().find(|m| m["id"] == a.id.as_str()).unwrap();
    assert_eq!(of_a["manager"]["display_name"], boss.display_name.as_str(), "{of_a}");

    let r = admin.get(&format!("/api/admin/users/{}/directory", boss.id)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["in_directory"].as_bool(), r.body["manager"].is_null()), (Some(true), true), "{}", r.text);
    let reports: Vec<&str> = r.body["reports"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(reports.len(), 2, "{}", r.text);
    assert!(reports.contains(&a.id.as_str()) && reports.contains(&b.id.as_str()));
    let r = admin.get(&format!("/api/admin/users/{}/directory", a.id)).await;
    assert_eq!(r.body["manager"]["id"], boss.id.as_str(), "{}", r.text);
    // Admins only.
    let teacher = app.sign_in(a).await;
    assert_eq!(teacher.get("/api/admin/directory-sync/members").await.status, 403);
    assert_eq!(admin.get("/api/admin/users/..%2Fx/directory").await.status, 404);
}
