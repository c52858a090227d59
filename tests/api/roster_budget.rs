//! Issue 18 §2–§4: Microsoft's throttle budget (Graph requests per view, our 5-minute roster
//! copy, "Refresh"), serving the stored copy when Microsoft 365 is down (R-C9, with
//! `stale_as_of`, a student still only in their own classes, nothing for a revoked tenant),
//! and lists longer than one Graph page.

use std::collections::HashSet;
use std::time::Duration;

use edu_ms_emulator::{DemoClass, Fault, FaultKind};
use edu_tests::{Backend, Client, MicrosoftTestApp, both_backends};

both_backends!(
    the_class_page_first_tab_costs_three_graph_requests_and_none_while_our_copy_is_fresh,
    the_classes_page_costs_one_graph_request_whatever_the_number_of_classes,
    a_students_home_costs_at_most_two_graph_requests,
    r_c9_when_microsoft_is_down_classes_and_class_people_come_from_the_stored_copy,
    r_c9_a_tenant_whose_consent_was_revoked_is_served_no_stored_copy,
    every_document_and_conversation_of_a_class_is_listed_beyond_one_graph_page,
    a_teacher_of_many_classes_pays_one_graph_request_a_page_and_sees_every_class_with_see_more,
    someone_added_to_a_class_after_our_copy_was_read_gets_in_at_once,
    r_c9_with_no_copy_of_ours_the_synced_roster_answers,
);

/// Graph requests (inner `$batch` requests one by one) made while loading `path`.
async fn cost(app: &MicrosoftTestApp, c: &Client, path: &str) -> (serde_json::Value, u64) {
    app.emulator.reset_request_log();
    let r = c.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    (r.body, app.emulator.graph_usage().requests)
}

fn microsoft_down(app: &MicrosoftTestApp) {
    app.emulator.set_fault(Fault {
        method: None,
        route: "*".into(),
        kind: FaultKind::ServiceUnavailable { retry_after: None },
        times: None,
    });
}

/// A class of the tenant that `student` is not in.
fn class_without(app: &MicrosoftTestApp, student: &str) -> DemoClass {
    app.tenant(0).classes.iter().find(|c| !c.student_ids.iter().any(|s| s == student)).unwrap().clone()
}

async fn the_class_page_first_tab_costs_three_graph_requests_and_none_while_our_copy_is_fresh(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let t = app.teacher_of(&class).await;
    let path = format!("/api/classes/{}", class.id);
    let (page, n) = cost(&app, &t, &path).await;
    assert_eq!(n, 3, "class, teachers, members: {:?}", app.emulator.request_log());
    assert_eq!(app.emulator.graph_usage().round_trips, 1, "one $batch");
    assert_eq!(page["my_role"], "teacher");
    assert!(page["stale_as_of"].is_null() && page.get("documents").is_none(), "{page}");
    let students = page["members"].as_array().unwrap().iter().filter(|m| m["role"] == "student").count();
    assert_eq!(students, class.student_ids.len());
    // Fresh copy (< 5 min): no Graph request for the roster.
    assert_eq!(cost(&app, &t, &path).await.1, 0);
    // Each other tab reads its own part when opened, and only that part.
    for tab in ["documents", "conversations", "assignments"] {
        let (body, n) = cost(&app, &t, &format!("{path}/{tab}")).await;
        assert!(body.is_array(), "{tab}: {body}");
        assert_eq!(n, 1, "{tab}: {:?}", app.emulator.request_log());
    }
    // "Refresh" reads Microsoft again, but not more often than every 30 s.
    assert_eq!(cost(&app, &t, &format!("{path}?refresh=1")).await.1, 0, "rate-limited");
    app.clock.advance(Duration::from_secs(31));
    assert_eq!(cost(&app, &t, &format!("{path}?refresh=1")).await.1, 3);
    // A copy older than 5 minutes is read again.
    app.clock.advance(Duration::from_secs(301));
    assert_eq!(cost(&app, &t, &path).await.1, 3);
    // A write decides from the live roster, never from the copy.
    app.emulator.reset_request_log();
    let r = t.get(&format!("{path}/seating")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.emulator.graph_usage().requests, 3, "seating reads the live roster");
}

async fn the_classes_page_costs_one_graph_request_whatever_the_number_of_classes(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let t = app.teacher_of(&class).await;
    let (body, n) = cost(&app, &t, "/api/classes").await;
    let items = body["items"].as_array().unwrap();
    assert!(items.len() >= 2, "{body}");
    assert_eq!(n, 1, "the page with every class's teachers ($expand): {:?}", app.emulator.request_log());
    assert!(items.iter().all(|c| !c["teachers"].as_array().unwrap().is_empty()), "{body}");
    assert_eq!(cost(&app, &t, "/api/classes").await.1, 0, "our fresh copy");
    let (all, n) = cost(&app, &t, &format!("/api/classes?scope=all&school_id={}", class.school_id)).await;
    assert_eq!(n, 2, "the school's page and the caller's class ids");
    assert!(all["items"].as_array().unwrap().iter().any(|c| c["member"] == true), "{all}");
}

async fn a_students_home_costs_at_most_two_graph_requests(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let s = app.student_of(&class, 0).await;
    let (body, n) = cost(&app, &s, "/api/me/assignments").await;
    assert!(n <= 2, "{n}: {:?}", app.emulator.request_log());
    assert_eq!(body["role"], "student", "{body}");
    let (_, n) = cost(&app, &s, "/api/me/assignments").await;
    assert!(n <= 2, "warm: {n}");
}

async fn r_c9_when_microsoft_is_down_classes_and_class_people_come_from_the_stored_copy(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let student_id = class.student_ids[0].clone();
    let other = class_without(&app, &student_id);
    let t = app.teacher_of(&class).await;
    let s = app.student_of(&class, 0).await;
    let other_teacher = app.teacher_of(&other).await;
    // Signed in, but never read their classes while Microsoft answered.
    let never = app.student_of(&class, 1).await;
    let path = format!("/api/classes/{}", class.id);
    // Read once while Microsoft answers: our copies.
    for (c, p) in
        [(&t, "/api/classes".to_owned()), (&t, path.clone()), (&s, "/api/classes".to_owned()), (&s, path.clone())]
    {
        assert_eq!(c.get(&p).await.status, 200);
    }
    assert_eq!(other_teacher.get(&format!("/api/classes/{}", other.id)).await.status, 200);
    let my_classes: HashSet<String> = s.get("/api/classes").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    // Later, Microsoft 365 answers every call 503.
    app.clock.advance(Duration::from_secs(600));
    microsoft_down(&app);

    let r = t.get("/api/classes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let stale = r.body["stale_as_of"].as_str().expect("stale_as_of");
    // RFC 3339, UTC: 2026-12-04T10:42:00Z.
    assert!(stale.len() >= 20 && stale.as_bytes()[10] == b'T' && stale.ends_with('Z'), "{stale}");
    assert!(r.body["items"].as_array().unwrap().iter().any(|c| c["id"] == class.id.as_str()));
    let r = t.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["stale_as_of"].is_string());
    assert_eq!(r.body["my_role"], "teacher");
    assert_eq!(r.body["members"].as_array().unwrap().len(), class.teacher_ids.len() + class.student_ids.len());
    // Parts with no stored copy: a clear 503, not a stale answer.
    assert_eq!(t.get(&format!("{path}/documents")).await.code(), "microsoft_unavailable");

    // A student: their own classes only, from the copy of THEIR classes…
    let r = s.get("/api/classes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["stale_as_of"].is_string());
    let listed: HashSet<String> =
        r.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(listed, my_classes);
    let r = s.get(&path).await;
    assert_eq!((r.status, r.body["my_role"].as_str()), (200, Some("student")), "{}", r.text);
    // … and a class whose copy exists (its teacher read it) but which they are not in: 404.
    assert_eq!(s.get(&format!("/api/classes/{}", other.id)).await.code(), "not_found");
    // Nothing stored for someone who never read it: the outage says so.
    assert_eq!(never.get("/api/classes").await.code(), "microsoft_unavailable");
}

async fn r_c9_a_tenant_whose_consent_was_revoked_is_served_no_stored_copy(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let t = app.teacher_of(&class).await;
    let path = format!("/api/classes/{}", class.id);
    assert_eq!(t.get("/api/classes").await.status, 200);
    assert_eq!(t.get(&path).await.status, 200);
    edu_db::tenants::revoke(&app.state.db, tenant, 0).await.unwrap();
    // Even a fresh copy is not served any more…
    assert_ne!(t.get(&path).await.status, 200);
    // … nor a stale one while Microsoft is down.
    app.clock.advance(Duration::from_secs(600));
    microsoft_down(&app);
    for p in ["/api/classes", path.as_str()] {
        let r = t.get(p).await;
        assert_ne!(r.status, 200, "{p}: {}", r.text);
        assert!(!r.text.contains("stale_as_of"), "{}", r.text);
    }
}

/// Issue 18 §4: a class drive's top folder (200 a Graph page) and a class group's
/// conversations (100 a page) are listed whole.
async fn every_document_and_conversation_of_a_class_is_listed_beyond_one_graph_page(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let tenant_id = app.tenant(0).id;
    app.emulator.add_drive_files(&tenant_id, &class.id, "Worksheet", 230);
    let topics = app.emulator.add_conversations(&tenant_id, &class.id, "Thread", 130);
    let t = app.teacher_of(&class).await;
    let docs = t.get(&format!("/api/classes/{}/documents", class.id)).await;
    assert_eq!(docs.status, 200, "{}", docs.text);
    let names: HashSet<&str> = docs.body.as_array().unwrap().iter().filter_map(|d| d["name"].as_str()).collect();
    assert!((0..230).all(|i| names.contains(format!("Worksheet {i}.txt").as_str())), "{} documents", names.len());
    let convs = t.get(&format!("/api/classes/{}/conversations", class.id)).await;
    assert_eq!(convs.status, 200, "{}", convs.text);
    let ids: HashSet<&str> = convs.body.as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(topics.iter().all(|id| ids.contains(id.as_str())), "{} conversations", ids.len());
}

/// Issue 18 §2 and §4: a teacher of 45 more classes (pages of 20): each page of the classes list
/// costs ONE Graph request (teachers expanded), and "See more" reaches every class.
async fn a_teacher_of_many_classes_pays_one_graph_request_a_page_and_sees_every_class_with_see_more(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let tenant_id = app.tenant(0).id;
    let extra = app.emulator.add_classes(&tenant_id, &class.id, "Extra", 45);
    let t = app.teacher_of(&class).await;
    let mut seen = HashSet::new();
    let mut path = "/api/classes".to_owned();
    let mut pages = 0;
    loop {
        let (body, n) = cost(&app, &t, &path).await;
        assert_eq!(n, 1, "page {pages}: {:?}", app.emulator.request_log());
        for c in body["items"].as_array().unwrap() {
            assert!(!c["teachers"].as_array().unwrap().is_empty(), "{c}");
            seen.insert(c["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(cur) => path = format!("/api/classes?cursor={cur}"),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    assert!(extra.iter().all(|id| seen.contains(id)), "every class, beyond the first page: {} seen", seen.len());
}

/// Our copy never locks out someone Microsoft added since it was read: a caller missing from a
/// fresh copy is checked against the live roster once (and a non-member still gets 404).
async fn someone_added_to_a_class_after_our_copy_was_read_gets_in_at_once(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let newcomer_id =
        app.tenant(0).students.iter().find(|s| !class.student_ids.contains(&s.id)).map(|s| s.id.clone()).unwrap();
    let t = app.teacher_of(&class).await;
    let newcomer = app.sign_in_as(&newcomer_id).await;
    let path = format!("/api/classes/{}", class.id);
    assert_eq!(t.get(&path).await.status, 200, "our copy of the class is written");
    assert_eq!(newcomer.get(&path).await.code(), "not_found", "not in the class yet");
    let url =
        format!("{}/_emulator/tenants/{}/classes/{}/members", app.emulator.base_url(), app.tenant(0).id, class.id);
    let added =
        reqwest::Client::new().post(url).json(&serde_json::json!({"userId": newcomer_id})).send().await.unwrap();
    assert!(added.status().is_success(), "{}", added.status());
    let r = newcomer.get(&path).await;
    assert_eq!((r.status, r.body["my_role"].as_str()), (200, Some("student")), "{}", r.text);
    // And the class copy now lists them: no further Graph request for their next view.
    assert_eq!(cost(&app, &newcomer, &path).await.1, 0);
}

/// Writes what edugraph-sync stores for the tenant (classes, education users, memberships),
/// through the storage functions the job commits with, as read at `now`.
async fn sync_roster(app: &MicrosoftTestApp, tenant: edu_domain::TenantId, now: i64) {
    use edu_db::roster::{RosterChange, RosterKind, RosterPatch};
    use edu_db::roster_members::{ClassMembers, MemberRole};
    use edu_db::sync::{PageEnd, acquire_lease, release_lease};
    let db = &app.state.db;
    let demo = app.tenant(0).clone();
    let text = |v: &str| Some(Some(v.to_owned()));
    let classes: Vec<RosterChange> = demo
        .classes
        .iter()
        .map(|c| {
            let mut values = vec![None; RosterKind::Classes.columns().len()];
            values[0] = text(&c.display_name);
            RosterChange::Upsert(RosterPatch { id: c.id.clone(), values })
        })
        .collect();
    let users: Vec<RosterChange> = demo
        .teachers
        .iter()
        .chain(&demo.students)
        .map(|u| {
            let mut values = vec![None; RosterKind::Users.columns().len()];
            values[0] = text(&u.display_name);
            values[1] = text(&u.role);
            values[2] = text(&u.upn);
            RosterChange::Upsert(RosterPatch { id: u.id.clone(), values })
        })
        .collect();
    let ttl = 60_000;
    for (kind, changes) in [(RosterKind::Classes, classes), (RosterKind::Users, users)] {
        let lease = acquire_lease(db, tenant, kind.stream(), "test", ttl, now).await.unwrap().unwrap();
        let cp = edu_db::roster::begin_full_round(db, kind, &lease, ttl, now).await.unwrap();
        edu_db::roster::commit_page(db, kind, &lease, &cp, &changes, &PageEnd::Done("d".into()), ttl, now)
            .await
            .unwrap();
        release_lease(db, lease, now).await.unwrap();
    }
    let members: Vec<ClassMembers> = demo
        .classes
        .iter()
        .map(|c| ClassMembers {
            class_id: c.id.clone(),
            people: c
                .teacher_ids
                .iter()
                .map(|t| (t.clone(), MemberRole::Teacher))
                .chain(c.student_ids.iter().map(|s| (s.clone(), MemberRole::Student)))
                .collect(),
        })
        .collect();
    let stream = edu_db::roster_members::STREAM;
    let lease = acquire_lease(db, tenant, stream, "test", ttl, now).await.unwrap().unwrap();
    let cp = edu_db::roster_members::begin_round(db, &lease, ttl, now).await.unwrap();
    edu_db::roster_members::commit_page(db, &lease, &cp, &members, &PageEnd::Done(String::new()), ttl, now)
        .await
        .unwrap();
    release_lease(db, lease, now).await.unwrap();
}

/// R-C9 from the synced roster (issue 18 §3): people who never opened their classes while
/// Microsoft answered (so we hold no copy of ours) are served what edugraph-sync stored, with
/// `stale_as_of` = when it was read: a student their own classes only and a class's people by
/// name, not a class they are not in; nothing once the tenant's consent is revoked.
async fn r_c9_with_no_copy_of_ours_the_synced_roster_answers(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let student_id = class.student_ids[1].clone();
    let s = app.student_of(&class, 1).await;
    let t = app.teacher_of(&class).await;
    let other = class_without(&app, &student_id);
    let synced_at = app.state.clock.now_ms();
    sync_roster(&app, tenant, synced_at).await;
    app.clock.advance(Duration::from_secs(600));
    microsoft_down(&app);

    let r = s.get("/api/classes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["stale_as_of"].as_str(), Some(edu_api::services::classes::rfc3339(synced_at).as_str()));
    let listed: HashSet<String> =
        r.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    let theirs: HashSet<String> =
        app.tenant(0).classes.iter().filter(|c| c.student_ids.contains(&student_id)).map(|c| c.id.clone()).collect();
    assert_eq!(listed, theirs, "their own classes, no other");
    let first = r.body["items"].as_array().unwrap().iter().find(|c| c["id"] == class.id.as_str()).unwrap();
    assert_eq!(first["display_name"], class.display_name.as_str());
    assert!(!first["teachers"].as_array().unwrap().is_empty(), "{first}");

    let path = format!("/api/classes/{}", class.id);
    let r = s.get(&path).await;
    assert_eq!((r.status, r.body["my_role"].as_str()), (200, Some("student")), "{}", r.text);
    assert!(r.body["stale_as_of"].is_string());
    let members = r.body["members"].as_array().unwrap();
    assert_eq!(members.len(), class.teacher_ids.len() + class.student_ids.len());
    // Named from the synced users (the demo lists the first 50 students of a large tenant,
    // and `sync_roster` stores those).
    let demo = app.tenant(0).clone();
    let known: HashSet<&str> = demo.teachers.iter().chain(&demo.students).map(|u| u.id.as_str()).collect();
    let named = members.iter().filter(|m| known.contains(m["id"].as_str().unwrap()));
    assert!(named.clone().count() > 1 && named.clone().all(|m| m["display_name"].is_string()), "named: {members:?}");
    assert_eq!(s.get(&format!("/api/classes/{}", other.id)).await.code(), "not_found");

    let r = t.get(&path).await;
    assert_eq!((r.status, r.body["my_role"].as_str()), (200, Some("teacher")), "{}", r.text);

    edu_db::tenants::revoke(&app.state.db, tenant, 0).await.unwrap();
    for p in ["/api/classes", path.as_str()] {
        let r = s.get(p).await;
        assert_ne!(r.status, 200, "{p}: {}", r.text);
        assert!(!r.text.contains("stale_as_of"), "{}", r.text);
    }
}
