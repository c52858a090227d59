//! The tenant admin console: users, groups, licences, bulk jobs, local accounts,
//! audit log and Graph diagnostics, through the real app and the Microsoft emulator. Every
//! change is checked in the emulator's state, and every refusal is checked to change nothing
//! (R-A20: another tenant's ids answer 404; teachers and students 403).

use std::time::{Duration, Instant};

use edu_ms_emulator::{Fault, FaultKind};
use edu_tests::{Backend, Body, Client, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

both_backends!(
    local_accounts_of_the_tenant_are_listed_and_deleted_with_their_links_tokens_and_sessions,
    the_audit_log_records_consent_link_unlink_profile_and_admin_actions_paged_newest_first,
    the_cross_tenant_matrix_refuses_and_changes_nothing,
);

/// Graph-only behaviour: SQLite is enough (the storage-touching tests run on both backends).
macro_rules! sqlite_only {
    ($($name:ident),* $(,)?) => {
        mod graph_only {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(edu_tests::Backend::Sqlite).await } )*
        }
    };
}

sqlite_only!(
    users_are_listed_searched_filtered_selected_and_paged,
    users_are_created_updated_enabled_and_disabled,
    group_members_are_added_and_removed_with_clear_errors,
    bulk_member_adds_are_batched_retried_and_reported_per_item,
    licences_show_units_and_explain_when_none_are_left,
    graph_failures_reach_the_admin_with_code_message_and_request_id,
);

async fn send(c: &Client, method: Method, path: &str, body: Option<Value>) -> edu_tests::Resp {
    c.send(method, path, body.map_or(Body::None, Body::Json), &[]).await
}

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

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect()
}

async fn users_are_listed_searched_filtered_selected_and_paged(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    let t = app.tenant(0);
    let admin = app.admin(0).await;

    let first = admin.get("/api/admin/users?top=5").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let total = first.body["total"].as_i64().unwrap();
    assert!(total > 5, "{}", first.body);
    assert_eq!(ids(&first.body).len(), 5);
    let u0 = &first.body["items"][0];
    assert!(u0["display_name"].is_string() && u0["account_enabled"].is_boolean(), "default fields: {u0}");
    assert!(u0.get("usage_location").is_none(), "only the default fields: {u0}");
    // Paging: an opaque cursor, the next five, never a Graph URL in our answer.
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert!(!cursor.contains("http"));
    let second = admin.get(&format!("/api/admin/users?cursor={cursor}")).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let (a, b) = (ids(&first.body), ids(&second.body));
    assert_eq!(b.len(), 5);
    assert!(b.iter().all(|x| !a.contains(x)), "pages do not overlap");
    // A tampered cursor (e.g. pointing elsewhere) is refused.
    let forged = format!("{}x.{}", &cursor[..cursor.find('.').unwrap()], &cursor[cursor.find('.').unwrap() + 1..]);
    let r = admin.get(&format!("/api/admin/users?cursor={forged}")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "{}", r.text);

    // $select: exactly the chosen fields (plus id).
    let r = admin.get("/api/admin/users?top=3&select=department,usage_location").await;
    assert_eq!(r.status, 200, "{}", r.text);
    for u in r.body["items"].as_array().unwrap() {
        let mut keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert!(keys.iter().all(|k| ["department", "id", "usage_location"].contains(k)), "{u}");
        assert!(u["usage_location"].is_string(), "{u}");
    }
    let r = admin.get("/api/admin/users?select=passwordProfile").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let r = admin.get("/api/admin/users?top=0").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));

    // Filters: department, job title, enabled.
    let r = admin.get("/api/admin/users?department=Faculty&top=100").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"].as_i64(), Some(i64::try_from(t.teachers.len()).unwrap()), "{}", r.body["total"]);
    assert!(r.body["items"].as_array().unwrap().iter().all(|u| u["department"] == "Faculty"));
    let r = admin.get("/api/admin/users?job_title=IT%20Administrator").await;
    assert_eq!(ids(&r.body), vec![t.admin.id.clone()]);
    let r = admin.get("/api/admin/users?enabled=false").await;
    assert_eq!(r.body["total"], 0, "{}", r.body);
    // Search (display name word prefix).
    let first_name = t.teachers[0].display_name.split(' ').next().unwrap().to_owned();
    let r = admin.get(&format!("/api/admin/users?search={first_name}&top=100")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(ids(&r.body).contains(&t.teachers[0].id), "{}", r.body);
    let hit = |u: &Value, needle: &str| {
        ["display_name", "mail", "user_principal_name"]
            .iter()
            .any(|k| u[*k].as_str().is_some_and(|v| v.to_lowercase().contains(&needle.to_lowercase())))
    };
    assert!(r.body["items"].as_array().unwrap().iter().all(|u| hit(u, &first_name)), "{}", r.body);
    // Search by sign-in name: the part before the @ of a student's UPN finds that student.
    let local = t.students[0].upn.split('@').next().unwrap().to_owned();
    let r = admin.get(&format!("/api/admin/users?search={local}&top=100")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(ids(&r.body).contains(&t.students[0].id), "{}", r.body);
    assert!(r.body["items"].as_array().unwrap().iter().all(|u| hit(u, &local)), "{}", r.body);
    // A term holding Graph's operators and quotes stays one search term.
    let r = admin.get("/api/admin/users?search=%22a%22%20OR%20%22b").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(app.emulator.request_count("GET", "/users") >= 6);

    // One user; another tenant's user is not found.
    let r = admin.get(&format!("/api/admin/users/{}", t.teachers[0].id)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user_principal_name"], t.teachers[0].upn.as_str());
    assert!(r.body["assigned_licenses"].is_array());
    let other = app.tenant(1).teachers[0].id.clone();
    let r = admin.get(&format!("/api/admin/users/{other}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = admin.get("/api/admin/users/..%2Fgroups").await;
    assert_eq!(r.status, 404);
}

async fn users_are_created_updated_enabled_and_disabled(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.admin(0).await;
    let upn = format!("new.teacher@{}", t.domain);
    let body = json!({"display_name": "New Teacher", "user_principal_name": upn, "department": "Faculty",
                      "job_title": "Teacher", "usage_location": "US"});

    // Validation before Graph: UPN syntax, verified domain, fields.
    let bad = |v: Value| {
        let mut b = body.clone();
        b.as_object_mut().unwrap().extend(v.as_object().unwrap().clone());
        b
    };
    for (change, code) in [
        (json!({"user_principal_name": "no-at-sign"}), "invalid_upn"),
        (json!({"user_principal_name": "bad name@contoso.example"}), "invalid_upn"),
        (json!({"user_principal_name": "new.teacher@not-ours.example"}), "upn_domain_not_verified"),
        (json!({"display_name": "  "}), "invalid_profile_value"),
        (json!({"usage_location": "usa"}), "invalid_profile_value"),
    ] {
        let r = admin.post("/api/admin/users", bad(change.clone())).await;
        assert_eq!((r.status, r.code()), (422, code), "{change}: {}", r.text);
    }
    assert!(app.emulator.user(&t.id, &upn).is_none(), "nothing was created");
    let r = admin.post("/api/admin/users", bad(json!({"password": "mine"}))).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "no client-chosen password");

    let r = admin.post("/api/admin/users", body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pw = r.body["temporary_password"].as_str().unwrap().to_owned();
    assert_eq!(pw.len(), 16);
    assert!(pw.chars().any(|c| c.is_ascii_uppercase()) && pw.chars().any(|c| c.is_ascii_digit()));
    assert_eq!(r.body["force_change_password_next_sign_in"], true);
    let id = r.body["user"]["id"].as_str().unwrap().to_owned();
    let at_ms = app.emulator.user(&t.id, &id).unwrap();
    assert_eq!(at_ms["userPrincipalName"], upn.as_str());
    assert_eq!(at_ms["department"], "Faculty");
    // The same UPN again: a clear conflict.
    let r = admin.post("/api/admin/users", body.clone()).await;
    assert_eq!((r.status, r.code()), (409, "upn_taken"), "{}", r.text);

    // Update.
    let r = send(
        &admin,
        Method::PATCH,
        &format!("/api/admin/users/{id}"),
        Some(json!({"job_title": "Head of Science", "office_location": "B-12"})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let at_ms = app.emulator.user(&t.id, &id).unwrap();
    assert_eq!((at_ms["jobTitle"].as_str(), at_ms["officeLocation"].as_str()), (Some("Head of Science"), Some("B-12")));
    let r = send(&admin, Method::PATCH, &format!("/api/admin/users/{id}"), Some(json!({}))).await;
    assert_eq!((r.status, r.code()), (400, "invalid_body"));
    let r = send(&admin, Method::PATCH, &format!("/api/admin/users/{id}"), Some(json!({"display_name": ""}))).await;
    assert_eq!((r.status, r.code()), (422, "invalid_profile_value"));
    let r =
        send(&admin, Method::PATCH, &format!("/api/admin/users/{id}"), Some(json!({"accountEnabled": false}))).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "only the documented fields");

    // Disable / enable; never yourself.
    let r = admin.post(&format!("/api/admin/users/{id}/disable"), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.emulator.user(&t.id, &id).unwrap()["accountEnabled"], false);
    let r = admin.get("/api/admin/users?enabled=false").await;
    assert_eq!(ids(&r.body), vec![id.clone()]);
    let r = admin.post(&format!("/api/admin/users/{id}/enable"), json!({})).await;
    assert_eq!(r.status, 204);
    assert_eq!(app.emulator.user(&t.id, &id).unwrap()["accountEnabled"], true);
    let r = admin.post(&format!("/api/admin/users/{}/disable", t.admin.id), json!({})).await;
    assert_eq!((r.status, r.code()), (409, "cannot_disable_self"));
    assert_eq!(app.emulator.user(&t.id, &t.admin.id).unwrap()["accountEnabled"], true);

    // The audit trail has the actions and never the password.
    let log = admin.get("/api/admin/audit?action=admin.user.").await;
    assert_eq!(log.status, 200, "{}", log.text);
    let actions: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["admin.user.create", "admin.user.update", "admin.user.disable", "admin.user.enable"] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    assert!(!log.text.contains(&pw), "no password in the audit log");
    let created = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "admin.user.create" && e["result"] == "success")
        .unwrap();
    assert_eq!(created["target_id"], id.as_str());
}

async fn group_members_are_added_and_removed_with_clear_errors(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    let t = app.tenant(0);
    let admin = app.admin(0).await;

    let r = admin.get("/api/admin/groups?search=teach").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let group =
        r.body["items"].as_array().unwrap().iter().find(|g| g["display_name"] == "All Teachers").unwrap().clone();
    let gid = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["security_enabled"], true);
    let all = admin.get("/api/admin/groups?top=3").await;
    assert!(all.body["total"].as_i64().unwrap() > 3 && all.body["next_cursor"].is_string(), "{}", all.body);
    // One group: the same fields as in the list; another tenant's group and a bad id are 404.
    let one = admin.get(&format!("/api/admin/groups/{gid}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body, group);
    let foreign = app.tenant(1).classes[0].id.clone();
    let r = admin.get(&format!("/api/admin/groups/{foreign}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = admin.get("/api/admin/groups/not-an-id").await;
    assert_eq!(r.status / 100, 4, "{}", r.text);

    let members = admin.get(&format!("/api/admin/groups/{gid}/members?top=100")).await;
    assert_eq!(members.status, 200, "{}", members.text);
    assert_eq!(members.body["items"].as_array().unwrap().len(), t.teachers.len());
    assert!(members.body["items"].as_array().unwrap().iter().all(|m| m["kind"] == "user"));

    let student = t.students[0].id.clone();
    let add = format!("/api/admin/groups/{gid}/members");
    let r = admin.post(&add, json!({"member_id": student})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(app.emulator.group_members(&t.id, &gid).contains(&student));
    let r = admin.post(&add, json!({"member_id": student})).await;
    assert_eq!((r.status, r.code()), (409, "already_a_member"), "{}", r.text);
    let r = admin.post(&add, json!({"member_id": "00000000-0000-0000-0000-00000000abcd"})).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    // Another tenant's person cannot be added to our group.
    let r = admin.post(&add, json!({"member_id": app.tenant(1).students[0].id})).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);

    let remove = format!("/api/admin/groups/{gid}/members/{student}");
    let r = send(&admin, Method::DELETE, &remove, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(!app.emulator.group_members(&t.id, &gid).contains(&student));
    let r = send(&admin, Method::DELETE, &remove, None).await;
    assert_eq!((r.status, r.code()), (404, "not_a_member"), "{}", r.text);
    let r = send(
        &admin,
        Method::DELETE,
        &format!("/api/admin/groups/00000000-0000-0000-0000-0000000000aa/members/{student}"),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let failures = admin.get("/api/admin/audit?action=admin.group.member.add&result=failure").await;
    assert_eq!(failures.body["items"].as_array().unwrap().len(), 3, "{}", failures.body);
    assert_eq!(failures.body["items"][2]["detail"], "already_a_member");
}

async fn bulk_member_adds_are_batched_retried_and_reported_per_item(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.admin(0).await;
    let (gid, _) = app.emulator.groups(&t.id).into_iter().find(|(_, n)| n == "All Teachers").unwrap();
    let before = app.emulator.group_members(&t.id, &gid);
    let mut items: Vec<String> = t.students.iter().take(45).map(|s| s.id.clone()).collect();
    items.push(t.teachers[0].id.clone()); // already a member
    items.push("00000000-0000-0000-0000-00000000abcd".into()); // not in the directory
    items.push(t.students[0].id.clone()); // a duplicate in the request: ignored
    assert!(items.len() > 20 * 2, "more than two batches");
    // Three inner requests are throttled: the shared client retries them (R-… throttling).
    app.emulator.reset_request_log();
    app.emulator.set_fault(Fault {
        method: Some("POST".into()),
        route: "/groups/{id}/members/$ref".into(),
        kind: FaultKind::Throttle { retry_after: "0.1".into() },
        times: Some(3),
    });
    let r = admin.post(&format!("/api/admin/groups/{gid}/members/bulk"), json!({ "member_ids": items })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["kind"], "bulk_add_members");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let job = wait_for(&admin, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        (job["total"].as_i64(), job["done"].as_i64(), job["already"].as_i64(), job["failed"].as_i64()),
        (Some(47), Some(45), Some(1), Some(1)),
        "{job}"
    );
    assert!(job["last_error"].as_str().unwrap().starts_with("not_found"), "{job}");
    let batches = app.emulator.request_count("POST", "/$batch");
    assert_eq!(batches, 3 + 1, "⌈47/20⌉ batches and one retry round for the throttled items");
    assert_eq!(app.emulator.request_count("POST", "/groups/{id}/members/$ref"), 47 + 3);
    let now = app.emulator.group_members(&t.id, &gid);
    assert_eq!(now.len(), before.len() + 45);

    // Per-item results, in request order, paged.
    let p1 = admin.get(&format!("/api/admin/jobs/{id}/items?limit=30")).await;
    assert_eq!(p1.status, 200, "{}", p1.text);
    let after = p1.body["next_after"].as_i64().unwrap();
    let p2 = admin.get(&format!("/api/admin/jobs/{id}/items?after={after}&limit=30")).await;
    let all: Vec<Value> =
        p1.body["items"].as_array().unwrap().iter().chain(p2.body["items"].as_array().unwrap()).cloned().collect();
    assert_eq!(all.len(), 47);
    assert!(p2.body["next_after"].is_null());
    assert_eq!(all[45]["result"], "already");
    assert_eq!(all[46]["result"], "failed");
    assert!(all[46]["error"].as_str().unwrap().starts_with("not_found: "), "{}", all[46]);
    assert!(all[..45].iter().all(|i| i["result"] == "done"));

    // Coming back to the page: the tenant's recent jobs of the kind, newest first.
    let recent = admin.get("/api/admin/jobs?kind=bulk_add_members").await;
    assert_eq!(recent.status, 200, "{}", recent.text);
    assert_eq!(recent.body["items"][0]["id"], id.as_str());
    assert_eq!(recent.body["items"][0]["status"], "succeeded");
    let none = admin.get("/api/admin/jobs?kind=bulk_assign_licenses").await;
    assert_eq!(none.body["items"], json!([]));
    let r = admin.get("/api/admin/jobs?kind=drop_tables").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let r = admin.get("/api/admin/jobs?kind=bulk_add_members&limit=0").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));

    // Bad requests start nothing.
    let r = admin.post(&format!("/api/admin/groups/{gid}/members/bulk"), json!({ "member_ids": [] })).await;
    assert_eq!((r.status, r.code()), (400, "invalid_body"));
    let r = admin.post(&format!("/api/admin/groups/{gid}/members/bulk"), json!({ "member_ids": ["../x"] })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_id"));
    let r = admin
        .post(
            "/api/admin/groups/00000000-0000-0000-0000-0000000000aa/members/bulk",
            json!({ "member_ids": [t.students[1].id] }),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

async fn licences_show_units_and_explain_when_none_are_left(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.admin(0).await;
    let r = admin.get("/api/admin/licenses").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let faculty = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku_part_number"] == "STANDARDWOFFPACK_FACULTY")
        .unwrap()
        .clone();
    let sku = faculty["sku_id"].as_str().unwrap().to_owned();
    let consumed = faculty["consumed_units"].as_i64().unwrap();
    assert_eq!(consumed, i64::try_from(t.teachers.len()).unwrap() + 1, "teachers and the admin");
    assert_eq!(faculty["available_units"].as_i64().unwrap(), faculty["enabled_units"].as_i64().unwrap() - consumed);

    // A new person with a usage location gets and loses a licence.
    let created = admin
        .post("/api/admin/users", json!({"display_name": "Lab Tech", "user_principal_name": format!("lab.tech@{}", t.domain), "usage_location": "US"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let uid = created.body["user"]["id"].as_str().unwrap().to_owned();
    let lic = format!("/api/admin/users/{uid}/licenses");
    let r = admin.post(&lic, json!({"add": [sku]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["assigned_licenses"], json!([sku]));
    let r = admin.post(&lic, json!({"remove": [sku]})).await;
    assert_eq!((r.status, r.body["assigned_licenses"].clone()), (200, json!([])));
    // Removing it again: the person does not hold it, said plainly (and audited as a failure).
    let r = admin.post(&lic, json!({"remove": [sku]})).await;
    assert_eq!((r.status, r.code()), (409, "license_not_assigned"), "{}", r.text);
    assert!(r.body["error"]["message"].as_str().unwrap().contains(&sku), "{}", r.text);
    let r = admin.post(&lic, json!({})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_body"));
    let r = admin.post(&lic, json!({"add": ["00000000-0000-0000-0000-000000000001"]})).await;
    assert_eq!((r.status, r.code()), (422, "unknown_license"), "{}", r.text);
    let r = admin.post(&lic, json!({"add": ["not-a-guid"]})).await;
    assert_eq!((r.status, r.code()), (422, "unknown_license"));

    // No usage location: explained.
    let nowhere = admin
        .post(
            "/api/admin/users",
            json!({"display_name": "No Where", "user_principal_name": format!("no.where@{}", t.domain)}),
        )
        .await;
    let nid = nowhere.body["user"]["id"].as_str().unwrap().to_owned();
    let r = admin.post(&format!("/api/admin/users/{nid}/licenses"), json!({"add": [sku]})).await;
    assert_eq!((r.status, r.code()), (422, "usage_location_required"), "{}", r.text);

    // Every unit in use: 409 naming the licence and the counts; nothing changes at Microsoft.
    assert!(app.emulator.set_sku_units(&t.id, &sku, consumed));
    let r = admin.post(&lic, json!({"add": [sku]})).await;
    assert_eq!((r.status, r.code()), (409, "no_licenses_available"), "{}", r.text);
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("STANDARDWOFFPACK_FACULTY") && msg.contains(&format!("{consumed} of {consumed} in use")),
        "{msg}"
    );
    assert_eq!(app.emulator.user(&t.id, &uid).unwrap()["assignedLicenses"], json!([]));
    let listed = admin.get("/api/admin/licenses").await;
    let f = listed.body["items"].as_array().unwrap().iter().find(|l| l["sku_id"] == sku.as_str()).unwrap().clone();
    assert_eq!(f["available_units"], 0);

    // Bulk: two seats left for five people → two done, three failed with the explanation.
    assert!(app.emulator.set_sku_units(&t.id, &sku, consumed + 2));
    let people: Vec<String> = t.students.iter().skip(10).take(5).map(|s| s.id.clone()).collect();
    let r = admin.post("/api/admin/licenses/bulk-assign", json!({"sku_id": sku, "user_ids": people})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let job = wait_for(&admin, &id).await;
    assert_eq!((job["done"].as_i64(), job["failed"].as_i64()), (Some(2), Some(3)), "{job}");
    assert_eq!(job["last_error"], "no_licenses_available");
    let items = admin.get(&format!("/api/admin/jobs/{id}/items")).await.body;
    let failed: Vec<&Value> = items["items"].as_array().unwrap().iter().filter(|i| i["result"] == "failed").collect();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|i| i["error"].as_str().unwrap().starts_with("no_licenses_available: ")), "{items}");
    let r = admin
        .post(
            "/api/admin/licenses/bulk-assign",
            json!({"sku_id": "00000000-0000-0000-0000-000000000001", "user_ids": [uid]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "unknown_license"));
}

async fn graph_failures_reach_the_admin_with_code_message_and_request_id(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let admin = app.admin(0).await;
    // Graph times out inside Microsoft: the admin sees Graph's code, message and request id.
    app.emulator.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users".into(),
        kind: FaultKind::Error {
            status: 500,
            code: "generalException".into(),
            message: "The operation has timed out.".into(),
        },
        times: Some(1),
    });
    let r = admin.get("/api/admin/users").await;
    assert_eq!((r.status, r.code()), (503, "microsoft_unavailable"), "{}", r.text);
    let g = &r.body["error"]["graph"];
    assert_eq!(g["code"], "generalException", "{}", r.body);
    assert_eq!(g["message"], "The operation has timed out.");
    assert_eq!(g["status"], 500);
    assert!(g["request_id"].as_str().is_some_and(|s| s.len() >= 32), "{}", r.body);
    // A write refused by Graph: its code and message too.
    app.emulator.set_fault(Fault {
        method: Some("PATCH".into()),
        route: "/users/{id}".into(),
        kind: FaultKind::Error {
            status: 400,
            code: "Request_BadRequest".into(),
            message: "Invalid value specified for property 'mobilePhone' of resource 'User'.".into(),
        },
        times: Some(1),
    });
    let t = app.tenant(0);
    let r = send(
        &admin,
        Method::PATCH,
        &format!("/api/admin/users/{}", t.teachers[1].id),
        Some(json!({"mobile_phone": "x"})),
    )
    .await;
    assert_eq!((r.status, r.code()), (502, "microsoft_error"), "{}", r.text);
    assert_eq!(r.body["error"]["graph"]["code"], "Request_BadRequest");
    assert!(r.body["error"]["graph"]["message"].as_str().unwrap().contains("mobilePhone"));
    // Throttling (429 with Retry-After) is retried by the shared client: the admin never sees it.
    app.emulator.reset_request_log();
    app.emulator.set_fault(Fault {
        method: Some("GET".into()),
        route: "/subscribedSkus".into(),
        kind: FaultKind::Throttle { retry_after: "0.2".into() },
        times: Some(2),
    });
    let r = admin.get("/api/admin/licenses").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.emulator.request_count("GET", "/subscribedSkus"), 3);
}

async fn local_accounts_of_the_tenant_are_listed_and_deleted_with_their_links_tokens_and_sessions(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    app.emulator.grant_admin_consent(&app.tenant(1).id, &app.emulator.demo().app_client_id);
    let (t, f) = (app.tenant(0), app.tenant(1));
    let admin = app.admin(0).await;
    // A teacher of Contoso makes a local account (linked); a local-only person and a Fabrikam
    // teacher's local account are not Contoso's.
    let teacher = app.sign_in(&t.teachers[0]).await;
    let r = teacher
        .post("/api/me/link/local/create", json!({"email": "liam@home.example", "password": "a real passphrase"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let teacher_id = r.body["user"]["id"].as_str().unwrap().to_owned();
    let local_only = app.registered("ann@school.edu", "correct horse battery").await;
    let fab = app.sign_in(&f.teachers[0]).await;
    let r = fab
        .post("/api/me/link/local/create", json!({"email": "fab@home.example", "password": "a real passphrase"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fab_id = r.body["user"]["id"].as_str().unwrap().to_owned();

    let r = admin.get("/api/admin/local-accounts").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.body);
    assert_eq!(items[0]["email"], "liam@home.example");
    assert_eq!(items[0]["microsoft_upn"], t.teachers[0].upn.as_str());
    assert!(items[0]["link_id"].is_string());

    // Not Contoso's: 404 and nothing changes.
    for other in [&fab_id, &local_only.get("/api/me").await.body["user"]["id"].as_str().unwrap().to_owned()] {
        let r = send(&admin, Method::DELETE, &format!("/api/admin/local-accounts/{other}"), None).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    }
    assert_eq!(fab.get("/api/me").await.status, 200);
    assert_eq!(local_only.get("/api/me").await.status, 200);
    let me = admin.get("/api/me").await.body["user"]["id"].as_str().unwrap().to_owned();
    let r = send(&admin, Method::DELETE, &format!("/api/admin/local-accounts/{me}"), None).await;
    assert_eq!((r.status, r.code()), (409, "cannot_delete_self"));

    // Deleting: link, tokens, roles, sessions and the account go together.
    let tenant_id = edu_db::tenants::find_by_ms_id(&app.state.db, &t.id).await.unwrap().unwrap().id;
    assert!(edu_db::identities::find(&app.state.db, &t.id, &t.teachers[0].id).await.unwrap().is_some());
    let key = edu_db::token_cache::TokenKey {
        tenant: tenant_id,
        subject: &t.teachers[0].id,
        resource: "https://graph.microsoft.com",
        kind: "refresh",
    };
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_some(), "a cached token to delete");
    let r = send(&admin, Method::DELETE, &format!("/api/admin/local-accounts/{teacher_id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(teacher.get("/api/me").await.status, 401, "the session ended");
    assert!(edu_db::identities::find(&app.state.db, &t.id, &t.teachers[0].id).await.unwrap().is_none());
    let uid = edu_domain::UserId::parse(&teacher_id).unwrap();
    assert!(edu_db::users::get(&app.state.db, uid).await.unwrap().is_none());
    assert!(edu_db::users::roles(&app.state.db, tenant_id, uid).await.unwrap().is_empty());
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_none(), "cached tokens deleted");
    assert_eq!(app.client().login("liam@home.example", "a real passphrase").await.status, 401);
    assert!(admin.get("/api/admin/local-accounts").await.body["items"].as_array().unwrap().is_empty());
    let r = send(&admin, Method::DELETE, &format!("/api/admin/local-accounts/{teacher_id}"), None).await;
    assert_eq!(r.status, 404, "already gone");
    let log = admin.get("/api/admin/audit?action=admin.local_account.delete").await.body;
    assert_eq!(log["items"][0]["target_id"], teacher_id.as_str());
}

async fn the_audit_log_records_consent_link_unlink_profile_and_admin_actions_paged_newest_first(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let t = app.tenant(0);
    // The admin consents from inside the app (Contoso is not onboarded yet).
    let admin = app.client();
    let ms = edu_tests::MicrosoftBrowser::new();
    app.browser_sign_in_with(&admin, &ms, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    let r = app.browser_sign_in_with(&admin, &ms, "/auth/microsoft/consent", &t.admin.upn, &t.admin.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/?notice=tenant_consented"), "{}", r.text);
    // Link (a local account links a Microsoft account), profile change, unlink.
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    let r = app
        .browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &t.students[0].upn, &t.students[0].password)
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/?notice=microsoft_linked"), "{}", r.text);
    let r = admin.send(Method::PUT, "/api/admin/profile-fields", Body::Json(json!({"editable": ["city"]})), &[]).await;
    assert!(r.status < 300, "{}", r.text);
    let r = ann.post("/api/me/profile", json!({"changes": {"city": "Testville"}})).await;
    assert!(r.status < 300, "{}", r.text);
    let ann_id = ann.get("/api/me").await.body["user"]["id"].as_str().unwrap().to_owned();
    let r = ann.post("/api/me/link/microsoft/remove", json!({})).await;
    assert!(r.status < 300, "{}", r.text);
    let r = admin.post("/api/admin/token-cache/clear", json!({})).await;
    assert_eq!(r.status, 200);

    let r = admin.get("/api/admin/audit?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in [
        "tenant.consent",
        "auth.microsoft.login",
        "link.microsoft",
        "admin.profile_fields.update",
        "profile.update",
        "link.microsoft.remove",
        "admin.token_cache.clear",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // Newest first; who, what, target, when, result; no secrets.
    let at: Vec<i64> = items.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "{at:?}");
    assert_eq!(actions[0], "admin.token_cache.clear");
    assert!(items.iter().all(|e| e["result"].is_string() && e["id"].is_string()));
    for secret in ["correct horse battery", "Bearer", "access_token", "refresh_token", &t.admin.password] {
        assert!(!r.text.contains(secret), "{secret} in the audit log");
    }
    // Filters and keyset paging.
    let admins = admin.get("/api/admin/audit?action=admin.").await.body;
    assert!(admins["items"].as_array().unwrap().iter().all(|e| e["action"].as_str().unwrap().starts_with("admin.")));
    let by_ann = admin.get(&format!("/api/admin/audit?actor={ann_id}")).await.body;
    assert!(!by_ann["items"].as_array().unwrap().is_empty());
    assert!(by_ann["items"].as_array().unwrap().iter().all(|e| e["actor_user_id"] == ann_id.as_str()));
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/admin/audit?limit=2&cursor={c}"),
            None => "/api/admin/audit?limit=2".to_owned(),
        };
        let p = admin.get(&path).await;
        assert_eq!(p.status, 200, "{}", p.text);
        seen.extend(p.body["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match p.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let all: Vec<String> = items.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, all, "paging walks the whole log once, newest first");
    for bad in ["cursor=nope", "limit=0", "result=maybe", "actor=x", "action=DROP%20TABLE"] {
        let r = admin.get(&format!("/api/admin/audit?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}");
    }
}

/// Every admin console endpoint × (admin of another tenant, teacher, student): 404 or 403,
/// and nothing changes at Microsoft or in the database.
async fn the_cross_tenant_matrix_refuses_and_changes_nothing(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    let t = app.tenant(0);
    let (gid, _) = app.emulator.groups(&t.id).into_iter().find(|(_, n)| n == "All Teachers").unwrap();
    let admin = app.admin(0).await;
    // A Contoso local account and a Contoso bulk job exist.
    let teacher = app.sign_in(&t.teachers[1]).await;
    let r = teacher
        .post("/api/me/link/local/create", json!({"email": "t1@home.example", "password": "a real passphrase"}))
        .await;
    let local_id = r.body["user"]["id"].as_str().unwrap().to_owned();
    let r =
        admin.post(&format!("/api/admin/groups/{gid}/members/bulk"), json!({"member_ids": [t.teachers[0].id]})).await;
    let job = r.body["id"].as_str().unwrap().to_owned();
    wait_for(&admin, &job).await;

    let other_admin = app.admin(1).await;
    let student = app.sign_in(&t.students[0]).await;
    let user = t.students[1].id.clone();
    let sku = app.emulator.user(&t.id, &t.teachers[0].id).unwrap()["assignedLicenses"][0]["skuId"]
        .as_str()
        .unwrap()
        .to_owned();
    let before_user = app.emulator.user(&t.id, &user).unwrap();
    let before_members = app.emulator.group_members(&t.id, &gid);
    app.emulator.reset_request_log();

    // (method, path, body, expected for: other tenant's admin, teacher, student)
    let cases: Vec<(Method, String, Option<Value>, [u16; 3])> = vec![
        (Method::GET, "/api/admin/users".into(), None, [200, 403, 403]),
        (Method::GET, format!("/api/admin/users/{user}"), None, [404, 403, 403]),
        (Method::PATCH, format!("/api/admin/users/{user}"), Some(json!({"job_title": "Hacked"})), [404, 403, 403]),
        (Method::POST, format!("/api/admin/users/{user}/disable"), Some(json!({})), [404, 403, 403]),
        (Method::POST, format!("/api/admin/users/{user}/enable"), Some(json!({})), [404, 403, 403]),
        (Method::POST, format!("/api/admin/users/{user}/licenses"), Some(json!({"add": [sku]})), [404, 403, 403]),
        (
            Method::POST,
            "/api/admin/users".into(),
            Some(json!({"display_name": "X", "user_principal_name": format!("x@{}", t.domain)})),
            [422, 403, 403],
        ),
        (Method::GET, "/api/admin/groups".into(), None, [200, 403, 403]),
        (Method::GET, format!("/api/admin/groups/{gid}"), None, [404, 403, 403]),
        (Method::GET, "/api/admin/jobs?kind=bulk_add_members".into(), None, [200, 403, 403]),
        (Method::GET, format!("/api/admin/groups/{gid}/members"), None, [404, 403, 403]),
        (Method::POST, format!("/api/admin/groups/{gid}/members"), Some(json!({"member_id": user})), [404, 403, 403]),
        (Method::DELETE, format!("/api/admin/groups/{gid}/members/{}", t.teachers[0].id), None, [404, 403, 403]),
        (
            Method::POST,
            format!("/api/admin/groups/{gid}/members/bulk"),
            Some(json!({"member_ids": [user]})),
            [404, 403, 403],
        ),
        (Method::GET, "/api/admin/licenses".into(), None, [200, 403, 403]),
        // The demo SKU ids are the same in both tenants: Fabrikam's admin starts a job in
        // Fabrikam, where Contoso's person does not exist (checked below: nothing changed).
        (
            Method::POST,
            "/api/admin/licenses/bulk-assign".into(),
            Some(json!({"sku_id": sku, "user_ids": [user]})),
            [202, 403, 403],
        ),
        (Method::GET, format!("/api/admin/jobs/{job}/items"), None, [404, 403, 403]),
        (Method::GET, "/api/admin/local-accounts".into(), None, [200, 403, 403]),
        (Method::DELETE, format!("/api/admin/local-accounts/{local_id}"), None, [404, 403, 403]),
        (Method::GET, "/api/admin/audit".into(), None, [200, 403, 403]),
    ];
    let actors = [("other-tenant-admin", &other_admin), ("teacher", &teacher), ("student", &student)];
    for (method, path, body, expected) in &cases {
        for ((who, c), want) in actors.iter().zip(expected) {
            let r = send(c, method.clone(), path, body.clone()).await;
            assert_eq!(r.status, *want, "{who} {method} {path}: {}", r.text);
            if *want == 403 {
                assert_eq!(r.code(), "role_required", "{who} {method} {path}");
            }
        }
    }
    // The other tenant's admin lists only their own tenant's jobs (R-A20).
    for kind in ["bulk_add_members", "bulk_assign_licenses", "enable_user_access"] {
        let r = send(&other_admin, Method::GET, &format!("/api/admin/jobs?kind={kind}"), None).await;
        assert!(r.body["items"].as_array().unwrap().iter().all(|j| j["id"] != job.as_str()), "{kind}: {}", r.text);
    }
    // Fabrikam's admin saw only Fabrikam.
    let theirs = other_admin.get("/api/admin/users?top=100").await.body;
    assert!(ids(&theirs).iter().all(|id| !id.eq(&user) && *id != t.admin.id));
    let theirs = other_admin.get("/api/admin/local-accounts").await.body;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    let theirs = other_admin.get("/api/admin/audit").await.body;
    assert!(theirs["items"].as_array().unwrap().iter().all(|e| e["target_id"] != job.as_str()));
    // Nothing changed at Microsoft or here.
    assert_eq!(app.emulator.user(&t.id, &user).unwrap(), before_user);
    assert_eq!(app.emulator.group_members(&t.id, &gid), before_members);
    assert!(app.emulator.user(&t.id, &format!("x@{}", t.domain)).is_none());
    assert_eq!(app.emulator.request_count("POST", "/groups/{id}/members/$ref"), 0);
    assert_eq!(admin.get("/api/admin/local-accounts").await.body["items"][0]["user_id"], local_id.as_str());
    assert_eq!(teacher.get("/api/me").await.status, 200);
}
