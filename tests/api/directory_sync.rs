//! The admin's side of the group-scoped directory sync (seed 001): naming the group (by name
//! or id, checked against Graph), the status view, turning it off; audited (R-A23), admins
//! only, another tenant's group is not found (R-A20).

use edu_tests::{Backend, Body, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    an_admin_names_checks_and_clears_the_directory_group,
    only_admins_manage_the_directory_sync,
    metrics_show_how_stale_each_tenants_sync_is,
    the_admin_sees_each_sync_stream_with_its_rows,
);

async fn all_teachers_id(app: &MicrosoftTestApp) -> String {
    let auth = edu_msgraph::GraphAuth::app_only(app.tenant(0).id);
    let groups = app.state.graph.list_groups(&auth, Some("displayName eq 'All Teachers'"), &["id"]).await.unwrap();
    groups[0].id.clone()
}

async fn an_admin_names_checks_and_clears_the_directory_group(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.sign_in(&t.admin).await;
    let put = |body: serde_json::Value| {
        let admin = admin.clone();
        async move { admin.send(Method::PUT, "/api/admin/directory-sync", Body::Json(body), &[]).await }
    };

    let r = admin.get("/api/admin/directory-sync").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["group_id"], serde_json::Value::Null);
    assert_eq!((r.body["active_members"].as_i64(), r.body["last_progress_at"].as_i64()), (Some(0), None));

    // By display name, as the original tool's setting.
    let group = all_teachers_id(&app).await;
    let r = put(json!({"group_name": "All Teachers"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["group_id"], group.as_str());
    assert_eq!(edu_db::directory::group(&app.state.db, tenant).await.unwrap().as_deref(), Some(group.as_str()));

    // Refusals change nothing.
    let unknown = "00000000-0000-0000-0000-0000000000aa";
    let fabrikam_class = app.tenant(1).classes[0].id.clone();
    for (body, status, code) in [
        (json!({"group_name": "No Such Group"}), 422, "group_not_found"),
        (json!({"group_id": unknown}), 422, "group_not_found"),
        (json!({"group_id": "../users"}), 422, "group_not_found"),
        // Another tenant's group: not visible from this tenant (R-A20).
        (json!({"group_id": fabrikam_class}), 422, "group_not_found"),
        (json!({}), 400, "invalid_body"),
        (json!({"group_id": group, "group_name": "All Teachers"}), 400, "invalid_body"),
        (json!({"group_name": "  "}), 400, "invalid_body"),
        (json!({"group": "x"}), 400, "invalid_json"),
    ] {
        let r = put(body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.text);
    }
    assert_eq!(edu_db::directory::group(&app.state.db, tenant).await.unwrap().as_deref(), Some(group.as_str()));

    // Two groups with one name: ambiguous, name it by id.
    let auth = edu_msgraph::GraphAuth::app_only(t.id.clone());
    let class = &t.classes[0];
    app.state
        .graph
        .patch(&auth, &format!("/groups/{}", class.id), &json!({"displayName": "All Teachers"}))
        .await
        .unwrap();
    let r = put(json!({"group_name": "All Teachers"})).await;
    assert_eq!((r.status, r.code()), (422, "group_name_ambiguous"), "{}", r.text);
    let r = put(json!({"group_id": class.id.to_uppercase()})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["group_id"], class.id.as_str());

    // Off: the group is cleared, the stored directory stays.
    let r = admin.send(Method::DELETE, "/api/admin/directory-sync", Body::None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(admin.get("/api/admin/directory-sync").await.body["group_id"], serde_json::Value::Null);

    let me = admin.get("/api/me").await.body;
    let uid = edu_domain::UserId::parse(me["user"]["id"].as_str().unwrap()).unwrap();
    let trail = edu_db::audit::for_actor(&app.state.db, uid, 50).await.unwrap();
    let sets = trail.iter().filter(|e| e.action == "admin.directory_sync.set").count();
    assert_eq!(sets, 2, "the two accepted choices, not the refusals");
    let clear = trail.iter().find(|e| e.action == "admin.directory_sync.clear").expect("clear audited");
    assert_eq!(clear.target_id.as_deref(), Some(class.id.as_str()));
}

async fn only_admins_manage_the_directory_sync(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let t = app.tenant(0);
    let group = all_teachers_id(&app).await;
    edu_db::directory::set_group(&app.state.db, tenant, Some(&group), None, 1).await.unwrap();
    let anonymous = app.client();
    anonymous.fetch_csrf().await;
    assert_eq!(anonymous.get("/api/admin/directory-sync").await.status, 401);
    for p in [&t.teachers[0], &t.students[0]] {
        let c = app.sign_in(p).await;
        let r = c.get("/api/admin/directory-sync").await;
        assert_eq!((r.status, r.code()), (403, "role_required"), "{}", p.upn);
        let r = c.send(Method::PUT, "/api/admin/directory-sync", Body::Json(json!({"group_id": group})), &[]).await;
        assert_eq!((r.status, r.code()), (403, "role_required"), "{}", p.upn);
        let r = c.send(Method::DELETE, "/api/admin/directory-sync", Body::None, &[]).await;
        assert_eq!((r.status, r.code()), (403, "role_required"), "{}", p.upn);
    }
    // A state change without the CSRF token is refused even for the admin.
    let admin = app.sign_in(&t.admin).await;
    *admin.csrf.lock().unwrap() = None;
    let r = admin.send(Method::DELETE, "/api/admin/directory-sync", Body::None, &[]).await;
    assert_eq!((r.status, r.code()), (403, "csrf_failed"));
    assert_eq!(edu_db::directory::group(&app.state.db, tenant).await.unwrap().as_deref(), Some(group.as_str()));
}

/// R-C5: the age of each consented tenant's last sync progress, per stream, on /metrics (an
/// alert on "> 1 day" catches a job that keeps failing or is stuck), and whether its last
/// attempt failed.
async fn metrics_show_how_stale_each_tenants_sync_is(backend: Backend) {
    use edu_api::clock::Clock as _;
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let ms = app.tenant(0).id;
    let c = app.metrics_client();
    assert!(!c.get("/metrics").await.text.contains(&format!("tenant=\"{ms}\"")), "never synced: no series yet");

    let db = &app.state.db;
    let synced_at = app.clock.now_ms();
    let lease = edu_db::sync::acquire_lease(db, tenant, "users", "test", 60_000, synced_at).await.unwrap().unwrap();
    edu_db::sync::begin_full_round(db, &lease, 60_000, synced_at).await.unwrap();
    app.clock.advance(std::time::Duration::from_secs(90_000));
    let m = c.get("/metrics").await.text;
    assert!(m.contains("# TYPE edugraph_sync_last_progress_age_seconds gauge"), "{m}");
    assert!(
        m.contains(&format!("edugraph_sync_last_progress_age_seconds{{tenant=\"{ms}\",stream=\"users\"}} 90000")),
        "{m}"
    );
    assert!(m.contains(&format!("edugraph_sync_last_round_failed{{tenant=\"{ms}\",stream=\"users\"}} 0")), "{m}");

    // A failed attempt does not count as progress: the age keeps growing, the flag is set.
    edu_db::sync::record_error(db, &lease, "graph: 503", app.clock.now_ms()).await.unwrap();
    app.clock.advance(std::time::Duration::from_secs(10));
    let m = c.get("/metrics").await.text;
    assert!(
        m.contains(&format!("edugraph_sync_last_progress_age_seconds{{tenant=\"{ms}\",stream=\"users\"}} 90010")),
        "{m}"
    );
    assert!(m.contains(&format!("edugraph_sync_last_round_failed{{tenant=\"{ms}\",stream=\"users\"}} 1")), "{m}");
    assert!(!m.contains("graph: 503"), "no error text in metrics");
}

/// R-C5 for the school's own admin: every stream of the sync job (users, education classes
/// and users, directory) with its round, last progress, last error and rows; admins only; each
/// admin sees only their own school's (R-A20).
async fn the_admin_sees_each_sync_stream_with_its_rows(backend: Backend) {
    use edu_api::clock::Clock as _;
    use edu_db::roster::{RosterChange, RosterKind, RosterPatch};
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    app.onboard(1).await;
    let (t, f) = (app.tenant(0), app.tenant(1));
    let admin = app.sign_in(&t.admin).await;

    let r = admin.get("/api/admin/sync-status").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<&str> =
        r.body["streams"].as_array().unwrap().iter().map(|s| s["stream"].as_str().unwrap()).collect();
    assert_eq!(names, ["users", "edu_classes", "edu_users", "edu_members", "directory"]);
    assert!(
        r.body["streams"].as_array().unwrap().iter().all(|s| s["round"].is_null() && s["active"] == 0),
        "{}",
        r.body
    );

    // The job's work, as edugraph-sync commits it: a users round in progress that failed, and a
    // finished classes round with two classes.
    let db = &app.state.db;
    let now = app.clock.now_ms();
    let users = edu_db::sync::acquire_lease(db, tenant, "users", "test", 60_000, now).await.unwrap().unwrap();
    edu_db::sync::begin_full_round(db, &users, 60_000, now).await.unwrap();
    edu_db::sync::record_error(db, &users, "graph: server error (generalException)", now).await.unwrap();
    let classes = edu_db::sync::acquire_lease(db, tenant, "edu_classes", "test", 60_000, now).await.unwrap().unwrap();
    let cp = edu_db::roster::begin_full_round(db, RosterKind::Classes, &classes, 60_000, now).await.unwrap();
    let class = |id: &str| {
        RosterChange::Upsert(RosterPatch {
            id: id.into(),
            values: vec![Some(Some(format!("Class {id}"))); edu_db::roster::CLASS_COLUMNS.len()],
        })
    };
    let end =
        edu_db::sync::PageEnd::Done("https://graph.microsoft.com/v1.0/education/classes/delta?$deltatoken=x".into());
    edu_db::roster::commit_page(
        db,
        RosterKind::Classes,
        &classes,
        &cp,
        &[class("c-1"), class("c-2")],
        &end,
        60_000,
        now,
    )
    .await
    .unwrap();

    let r = admin.get("/api/admin/sync-status").await;
    let s = &r.body["streams"];
    assert_eq!(
        (s[0]["round"].as_str(), s[0]["last_error"].as_str()),
        (Some("full"), Some("graph: server error (generalException)")),
        "{}",
        r.body
    );
    assert_eq!(
        (s[1]["round"].as_str(), s[1]["active"].as_i64(), s[1]["inactive"].as_i64()),
        (Some("idle"), Some(2), Some(0)),
        "{}",
        r.body
    );
    assert_eq!(s[1]["last_progress_at"].as_i64(), Some(now));
    assert!(s[1]["last_error"].is_null());
    assert!(s[2]["round"].is_null() && s[3]["round"].is_null());

    // Another school's admin sees only their own school's streams; teachers and students are refused.
    let other = app.sign_in(&f.admin).await;
    let r = other.get("/api/admin/sync-status").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body["streams"].as_array().unwrap().iter().all(|s| s["round"].is_null() && s["active"] == 0),
        "{}",
        r.body
    );
    for p in [&t.teachers[0], &t.students[0]] {
        let c = app.sign_in(p).await;
        let r = c.get("/api/admin/sync-status").await;
        assert_eq!((r.status, r.code()), (403, "role_required"), "{}", p.upn);
    }
}
