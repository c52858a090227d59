//! The tenant admin's "Enable user access": a batched background job with progress (R-A20).

use std::time::{Duration, Instant};

use edu_db::jobs::{self, Progress};
use edu_ms_emulator::{Fault, FaultKind};
use edu_tests::{Backend, Client, MicrosoftTestApp, TestApp, both_backends};
use serde_json::{Value, json};

both_backends!(
    an_admin_enables_access_for_every_user_in_batches,
    a_second_start_while_running_is_refused,
    throttled_items_are_retried_not_failed,
    teachers_and_students_cannot_start_it,
    another_tenants_admin_cannot_see_the_job,
    a_run_that_cannot_proceed_fails_with_its_code,
    storage_allows_one_active_job_per_tenant,
);

const ENABLE: &str = "/api/admin/user-access/enable";
const SP_ASSIGN: &str = "/servicePrincipals/{id}/appRoleAssignedTo";

/// Polls the job until it is finished (bounded).
async fn wait_for(client: &Client, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client.get(&format!("/api/admin/jobs/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.body["status"] == "succeeded" || r.body["status"] == "failed" {
            return r.body;
        }
        assert!(Instant::now() < deadline, "job did not finish in time: {}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The users of Contoso and the ids holding the demo app's access role, as the emulator sees them.
async fn emulator_view(app: &MicrosoftTestApp) -> (Vec<String>, Vec<String>) {
    let t = app.tenant(0);
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", app.emulator.base_url(), t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID),
            ("client_secret", edu_ms_emulator::DEMO_APP_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let all = |first: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let mut out = vec![];
            let mut next = Some(first);
            while let Some(url) = next {
                let page: Value = http.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
                out.extend(page["value"].as_array().unwrap().iter().cloned());
                next = page["@odata.nextLink"].as_str().map(str::to_owned);
            }
            out
        }
    };
    let g = format!("{}/v1.0", app.emulator.graph_url());
    let sps = all(format!("{g}/servicePrincipals?$filter=appId eq '{}'", edu_ms_emulator::DEMO_APP_CLIENT_ID)).await;
    let sp = sps[0]["id"].as_str().unwrap().to_owned();
    let users = all(format!("{g}/users?$select=id&$top=999")).await;
    let assigned = all(format!("{g}/servicePrincipals/{sp}/appRoleAssignedTo?$top=999")).await;
    let ids = |v: Vec<Value>, k: &str| v.iter().map(|x| x[k].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    (ids(users, "id"), ids(assigned, "principalId"))
}

async fn an_admin_enables_access_for_every_user_in_batches(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let admin = app.admin(0).await;
    let (users, before) = emulator_view(&app).await;
    let pre_seeded = before.len();
    assert!(pre_seeded > 0 && pre_seeded < users.len());
    assert_eq!(admin.get("/api/admin/user-access/latest").await.status, 404, "never ran");
    app.emulator.reset_request_log();

    let started = Instant::now();
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(["queued", "running"].contains(&r.body["status"].as_str().unwrap()), "{}", r.body);
    let job = wait_for(&admin, &id).await;
    let elapsed = started.elapsed();

    let missing = users.len() - pre_seeded;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["total"], users.len());
    assert_eq!(job["already"], pre_seeded);
    assert_eq!(job["done"], missing);
    assert_eq!(job["failed"], 0);
    assert_eq!(job["last_error"], Value::Null);
    let batches = app.emulator.request_count("POST", "/$batch");
    assert_eq!(
        batches,
        u64::try_from(missing.div_ceil(20)).unwrap(),
        "20 assignments per $batch, never one giant request"
    );
    assert_eq!(app.emulator.request_count("POST", SP_ASSIGN), u64::try_from(missing).unwrap());
    eprintln!(
        "FIGURE: enabled access for {} users ({} already had it): {batches} $batch calls in {:?}",
        users.len(),
        pre_seeded,
        elapsed
    );

    // Microsoft now shows an assignment for every user.
    let (_, after) = emulator_view(&app).await;
    let mut expected = users.clone();
    expected.sort();
    let mut got = after.clone();
    got.sort();
    assert_eq!(got, expected);

    // The latest job is this one; both ends are audited.
    let latest = admin.get("/api/admin/user-access/latest").await;
    assert_eq!(latest.body["id"], id.as_str());
    let me = admin.get("/api/me").await.body;
    let uid = edu_domain::UserId::parse(me["id"].as_str().or(me["user"]["id"].as_str()).unwrap()).unwrap();
    let trail = edu_db::audit::for_actor(&app.state.db, uid, 50).await.unwrap();
    let ours: Vec<_> = trail.iter().filter(|e| e.action == "admin.user_access.enable").collect();
    assert_eq!(ours.len(), 2, "start and finish");
    assert!(ours.iter().all(|e| e.target_id.as_deref() == Some(id.as_str())));

    // A second run finds nothing to do: no $batch at all.
    app.emulator.reset_request_log();
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = wait_for(&admin, r.body["id"].as_str().unwrap()).await;
    assert_eq!(
        (job["status"].as_str(), job["already"].as_u64(), job["done"].as_u64()),
        (Some("succeeded"), Some(u64::try_from(users.len()).unwrap()), Some(0))
    );
    assert_eq!(app.emulator.request_count("POST", "/$batch"), 0);
}

async fn a_second_start_while_running_is_refused(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let admin = app.admin(0).await;
    app.emulator.set_fault(Fault {
        method: Some("POST".into()),
        route: "/$batch".into(),
        kind: FaultKind::Latency(Duration::from_millis(400)),
        times: None,
    });
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Wait until it is really working on batches.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.emulator.request_count("POST", "/$batch") == 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let running = admin.get(&format!("/api/admin/jobs/{id}")).await.body;
    assert_eq!(running["status"], "running", "{running}");
    let again = admin.post(ENABLE, json!({})).await;
    assert_eq!((again.status, again.code()), (409, "job_already_running"), "{}", again.text);
    app.emulator.clear_faults();
    let job = wait_for(&admin, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["failed"], 0);
    // Once finished, it can run again.
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    wait_for(&admin, r.body["id"].as_str().unwrap()).await;
}

async fn throttled_items_are_retried_not_failed(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let admin = app.admin(0).await;
    let (users, before) = emulator_view(&app).await;
    let missing = users.len() - before.len();
    app.emulator.reset_request_log();
    // Three items of the first batch are throttled (inner 429 with Retry-After).
    app.emulator.set_fault(Fault {
        method: Some("POST".into()),
        route: SP_ASSIGN.into(),
        kind: FaultKind::Throttle { retry_after: "0.2".into() },
        times: Some(3),
    });
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = wait_for(&admin, r.body["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["failed"], 0, "{job}");
    assert_eq!(job["done"], missing);
    assert_eq!(
        app.emulator.request_count("POST", "/$batch"),
        u64::try_from(missing.div_ceil(20) + 1).unwrap(),
        "one retry round"
    );
    let (_, after) = emulator_view(&app).await;
    assert_eq!(after.len(), users.len());
}

async fn teachers_and_students_cannot_start_it(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let t = app.tenant(0);
    for person in [&t.teachers[0], &t.students[0]] {
        let c = app.sign_in(person).await;
        let r = c.post(ENABLE, json!({})).await;
        assert_eq!((r.status, r.code()), (403, "role_required"), "{}", person.upn);
        assert_eq!(c.get("/api/admin/user-access/latest").await.status, 403);
        assert_eq!(c.get("/api/admin/jobs/00000000-0000-0000-0000-000000000000").await.status, 403);
    }
    let anonymous = app.client();
    anonymous.fetch_csrf().await;
    assert!([401, 403].contains(&anonymous.post(ENABLE, json!({})).await.status));
    assert!(edu_db::jobs::latest_for_tenant(&app.state.db, tenant, "enable_user_access").await.unwrap().is_none());
    assert_eq!(app.emulator.request_count("POST", "/$batch"), 0);
}

async fn another_tenants_admin_cannot_see_the_job(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    let admin = app.admin(0).await;
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    wait_for(&admin, &id).await;
    // Fabrikam's admin (consents during sign-in).
    let other = app.admin(1).await;
    let r = other.get(&format!("/api/admin/jobs/{id}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    assert_eq!(other.get("/api/admin/user-access/latest").await.status, 404);
}

async fn a_run_that_cannot_proceed_fails_with_its_code(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let admin = app.admin(0).await;
    // Consent withdrawn at Microsoft behind EduGraph's back: the app has no service principal.
    app.emulator.revoke_consent(&app.tenant(0).id, edu_ms_emulator::DEMO_APP_CLIENT_ID);
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = wait_for(&admin, r.body["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["last_error"], "service_principal_not_found");
    assert!(job["finished_at"].is_i64());
    assert_eq!(app.emulator.request_count("POST", "/$batch"), 0);
    // A failed job does not block the next start.
    let r = admin.post(ENABLE, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    wait_for(&admin, r.body["id"].as_str().unwrap()).await;
}

async fn storage_allows_one_active_job_per_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.state.db;
    let a = edu_db::tenants::upsert_by_ms_id(db, "11111111-1111-1111-1111-111111111111", "A", 0).await.unwrap();
    let b = edu_db::tenants::upsert_by_ms_id(db, "22222222-2222-2222-2222-222222222222", "B", 0).await.unwrap();
    let kind = "enable_user_access";
    let first = jobs::create(db, a, kind, None, 1_000, 0).await.unwrap();
    assert_eq!(first.status, "queued");
    // The unique key refuses a second active job of the tenant (whatever instance asks).
    assert!(matches!(jobs::create(db, a, kind, None, 1_001, 0).await, Err(edu_db::DbError::Conflict(_))));
    // Other tenants and other kinds are independent.
    let other = jobs::create(db, b, kind, None, 1_002, 0).await.unwrap();
    jobs::create(db, a, "other_kind", None, 1_002, 0).await.unwrap();
    assert!(jobs::get_in_tenant(db, b, &first.id).await.unwrap().is_none(), "no cross-tenant reads");
    let p = Progress { total: 10, done: 3, failed: 1, already: 2, last_error: Some("Request_BadRequest".into()) };
    jobs::update_progress(db, a, &first.id, &p, 1_100).await.unwrap();
    let got = jobs::get_in_tenant(db, a, &first.id).await.unwrap().unwrap();
    assert_eq!((got.status.as_str(), got.total, got.done, got.failed, got.already), ("running", 10, 3, 1, 2));
    jobs::finish(db, a, &first.id, "succeeded", &p, 1_200).await.unwrap();
    let second = jobs::create(db, a, kind, None, 1_300, 0).await.unwrap();
    assert_eq!(jobs::latest_for_tenant(db, a, kind).await.unwrap().unwrap().id, second.id);
    // A job that stopped reporting (its instance died) no longer blocks once stale.
    let third = jobs::create(db, a, kind, None, 2_000, 1_500).await.unwrap();
    let abandoned = jobs::get_in_tenant(db, a, &second.id).await.unwrap().unwrap();
    assert_eq!((abandoned.status.as_str(), abandoned.last_error.as_deref()), ("failed", Some("abandoned")));
    assert_eq!(jobs::latest_for_tenant(db, a, kind).await.unwrap().unwrap().id, third.id);
    assert_eq!(jobs::get_in_tenant(db, b, &other.id).await.unwrap().unwrap().status, "queued");
}
