//! The education roster streams: `/education/classes/delta` into `roster_classes`,
//! `/education/users/delta` into `roster_users`, against the emulator on SQLite and MySQL —
//! initial and incremental rounds, removals of both kinds, deleted classes found only by a full
//! round (Microsoft's class deltas do not carry them), expired tokens (R-C4), switched off.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{Backend, Env};
use edu_db::roster::{RosterKind, RosterRow, rows};
use edu_sync::{Outcome, run_once};
use edu_test_db::both_backends;

async fn roster(env: &Env, kind: RosterKind) -> Vec<RosterRow> {
    rows(&env.db, kind, env.tenant).await.unwrap()
}

fn find<'a>(rows: &'a [RosterRow], id: &str) -> &'a RosterRow {
    rows.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("{id} not in the roster"))
}

async fn admin(env: &Env, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let url = format!("{}/tenants/{}{path}", env.emu.admin_url(), env.ms_tenant);
    let mut req = env.http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(serde_json::Value::Null)
}

fn report(r: &edu_sync::TenantReport, kind: RosterKind) -> &edu_sync::roster::RosterReport {
    r.roster.iter().find(|x| x.kind == kind).unwrap_or_else(|| panic!("no {kind:?} in {}", r.summary_line()))
}

async fn initial_incremental_removals_and_sweep(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(Some(7));
    let t = env.sync_tenant();
    let demo = env.emu.demo();
    let contoso = &demo.tenants[0];

    let first = run_once(&deps, &t).await.unwrap();
    let line = first.summary_line();
    assert!(line.contains("edu_classes=ok") && line.contains("edu_users=ok"), "{line}");
    let classes = roster(&env, RosterKind::Classes).await;
    assert_eq!(classes.len(), contoso.classes.len(), "every class of the tenant");
    assert_eq!(report(&first, RosterKind::Classes).counts.added, classes.len() as u64);
    assert!(report(&first, RosterKind::Classes).full);
    let c0 = find(&classes, &contoso.classes[0].id);
    assert_eq!(c0.get(RosterKind::Classes, "display_name"), Some(contoso.classes[0].display_name.as_str()));
    assert_eq!(c0.state, "active");
    let users = roster(&env, RosterKind::Users).await;
    assert!(users.len() >= contoso.teachers.len() + contoso.students.len(), "{} users", users.len());
    assert!(report(&first, RosterKind::Users).pages >= 2, "paged");
    assert_eq!(find(&users, &contoso.teachers[0].id).get(RosterKind::Users, "primary_role"), Some("teacher"));
    assert_eq!(find(&users, &contoso.students[0].id).get(RosterKind::Users, "primary_role"), Some("student"));
    assert!(find(&users, &contoso.students[0].id).get(RosterKind::Users, "user_principal_name").is_some());
    for kind in [RosterKind::Classes, RosterKind::Users] {
        let cp = edu_db::sync::checkpoint(&env.db, env.tenant, kind.stream()).await.unwrap().unwrap();
        assert!(cp.delta_link.is_some() && cp.next_link.is_none(), "{kind:?}");
    }

    // Nothing changed: incremental rounds that change nothing.
    let again = run_once(&deps, &t).await.unwrap();
    for kind in [RosterKind::Classes, RosterKind::Users] {
        let r = report(&again, kind);
        assert!(!r.full, "{kind:?}");
        assert_eq!(r.counts, edu_db::roster::RosterCounts::default(), "{}", again.summary_line());
    }

    // A new class, a renamed class, a new student, a soft-deleted and a deleted student.
    let created = admin(
        &env,
        reqwest::Method::POST,
        "/classes",
        Some(serde_json::json!({"displayName": "Robotics Club", "teacherIds": [contoso.teachers[0].id]})),
    )
    .await;
    let new_class = created["id"].as_str().unwrap().to_owned();
    let renamed = &contoso.classes[1].id;
    admin(
        &env,
        reqwest::Method::PATCH,
        &format!("/classes/{renamed}"),
        Some(serde_json::json!({"displayName": "Algebra II (renamed)"})),
    )
    .await;
    let new_kid = env.create_user("rosterkid", "Roster Kid").await;
    env.delete_user(&contoso.students[1].id, false).await;
    env.delete_user(&contoso.students[2].id, true).await;
    let inc = run_once(&deps, &t).await.unwrap();
    let rc = report(&inc, RosterKind::Classes);
    assert!(!rc.full);
    assert_eq!((rc.counts.added, rc.counts.changed), (1, 1), "{}", inc.summary_line());
    let ru = report(&inc, RosterKind::Users);
    assert_eq!((ru.counts.added, ru.counts.removed), (1, 2), "{}", inc.summary_line());
    let classes = roster(&env, RosterKind::Classes).await;
    assert_eq!(find(&classes, &new_class).get(RosterKind::Classes, "display_name"), Some("Robotics Club"));
    assert_eq!(find(&classes, renamed).get(RosterKind::Classes, "display_name"), Some("Algebra II (renamed)"));
    let users = roster(&env, RosterKind::Users).await;
    assert_eq!(find(&users, &new_kid).state, "active");
    let soft = find(&users, &contoso.students[1].id);
    assert_eq!(soft.state, "removed");
    assert_eq!(soft.get(RosterKind::Users, "display_name"), Some(contoso.students[1].display_name.as_str()));
    let gone = find(&users, &contoso.students[2].id);
    assert_eq!(gone.state, "deleted");
    assert!(gone.values.iter().all(Option::is_none), "personal data cleared: {gone:?}");
    let audit = edu_db::audit::for_tenant(
        &env.db,
        env.tenant,
        &edu_db::audit::TenantQuery { limit: 200, ..Default::default() },
    )
    .await
    .unwrap();
    assert!(audit.iter().any(|a| a.action == "sync.roster_deleted"), "audited");

    // A deleted class: Microsoft's class delta does not report it, so the incremental round
    // keeps it; the periodic full round (R-C5) archives it and keeps its data.
    let doomed = &contoso.classes[2].id;
    admin(&env, reqwest::Method::DELETE, &format!("/classes/{doomed}"), None).await;
    let inc = run_once(&deps, &t).await.unwrap();
    assert_eq!(report(&inc, RosterKind::Classes).counts.removed, 0);
    assert_eq!(find(&roster(&env, RosterKind::Classes).await, doomed).state, "active");
    let mut full = env.deps(Some(7));
    full.force_full = true;
    let r = run_once(&full, &t).await.unwrap();
    let rc = report(&r, RosterKind::Classes);
    assert!(rc.full);
    assert_eq!((rc.counts.added, rc.counts.changed, rc.counts.archived), (0, 0, 1), "{}", r.summary_line());
    let classes = roster(&env, RosterKind::Classes).await;
    let d = find(&classes, doomed);
    assert_eq!(d.state, "archived");
    assert_eq!(d.get(RosterKind::Classes, "display_name"), Some(contoso.classes[2].display_name.as_str()));
    assert!(classes.iter().filter(|c| c.id != *doomed).all(|c| c.state == "active"));
    // Users removed earlier are not archived by the sweep (they were seen as removed, not active).
    let users = roster(&env, RosterKind::Users).await;
    assert_eq!(find(&users, &contoso.students[1].id).state, "removed");
}

async fn an_expired_token_resyncs_without_deleting(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(Some(10));
    let t = env.sync_tenant();
    let contoso = env.emu.demo().tenants[0].clone();
    run_once(&deps, &t).await.unwrap();
    let before = roster(&env, RosterKind::Users).await;

    let stays = &contoso.students[3].id;
    env.patch_user(stays, serde_json::json!({"displayName": "Renamed While Expired"})).await;
    env.emu.expire_delta_tokens();
    let r = run_once(&deps, &t).await.unwrap();
    for kind in [RosterKind::Classes, RosterKind::Users] {
        let x = report(&r, kind);
        assert!(x.resynced && x.full, "{kind:?}: {}", r.summary_line());
        assert_eq!(x.counts.archived, 0, "{}", r.summary_line());
    }
    assert_eq!(report(&r, RosterKind::Users).counts.changed, 1, "{}", r.summary_line());
    let after = roster(&env, RosterKind::Users).await;
    assert_eq!(after.len(), before.len(), "nothing deleted by the resync");
    assert_eq!(find(&after, stays).get(RosterKind::Users, "display_name"), Some("Renamed While Expired"));
    let next = run_once(&deps, &t).await.unwrap();
    assert!(next.roster.iter().all(|x| !x.full && !x.resynced && x.outcome == Outcome::Completed));
}

async fn switched_off_for_a_tenant_without_education(backend: Backend) {
    let env = Env::start(backend).await;
    let mut deps = env.deps(None);
    deps.roster = false;
    let r = run_once(&deps, &env.sync_tenant()).await.unwrap();
    assert!(r.roster.is_empty() && !r.summary_line().contains("edu_"), "{}", r.summary_line());
    assert!(roster(&env, RosterKind::Classes).await.is_empty());
    assert!(edu_db::sync::checkpoint(&env.db, env.tenant, "edu_users").await.unwrap().is_none());
    assert!(r.added > 0, "the users delta still ran");
}

/// The memberships stream (issue 18 §3): every synced class's teachers and students, named
/// from the users roster, a person's classes, a member added or removed at the next round,
/// and an archived class's memberships set to `left`; resumable in pages of 10 classes; a
/// new round at most every `members_every` (`--full` always).
async fn class_memberships_follow_each_class_and_leave_with_an_archived_class(backend: Backend) {
    use edu_db::roster_members::{classes_of, members_of};
    let env = Env::start(backend).await;
    let deps = env.deps(Some(7));
    let t = env.sync_tenant();
    let contoso = env.emu.demo().tenants[0].clone();
    let r = run_once(&deps, &t).await.unwrap();
    let m = r.members.as_ref().unwrap_or_else(|| panic!("{}", r.summary_line()));
    assert_eq!(m.outcome, Outcome::Completed);
    assert!(r.summary_line().contains("edu_members=ok"), "{}", r.summary_line());
    assert_eq!(m.counts.classes, contoso.classes.len() as u64);
    assert_eq!(m.pages, contoso.classes.len() as u64 / 10 + 1, "10 classes a page, the last one short");
    let total: usize = contoso.classes.iter().map(|c| c.teacher_ids.len() + c.student_ids.len()).sum();
    assert_eq!(m.counts.memberships, total as u64);

    let c0 = &contoso.classes[0];
    let people = members_of(&env.db, env.tenant, &[c0.id.as_str()]).await.unwrap();
    let ids = |role: &str| -> Vec<String> {
        let mut v: Vec<String> = people.iter().filter(|p| p.role == role).map(|p| p.ms_object_id.clone()).collect();
        v.sort();
        v
    };
    let sorted = |v: &[String]| -> Vec<String> {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(ids("teacher"), sorted(&c0.teacher_ids));
    assert_eq!(ids("student"), sorted(&c0.student_ids));
    assert!(people.iter().all(|p| p.display_name.is_some() && p.mail.is_some()), "named from roster_users: {people:?}");
    assert_eq!(people[0].role, "teacher", "teachers first");

    let kid = &c0.student_ids[0];
    let mut expected: Vec<String> =
        contoso.classes.iter().filter(|c| c.student_ids.contains(kid)).map(|c| c.id.clone()).collect();
    expected.sort();
    let mut theirs: Vec<String> =
        classes_of(&env.db, env.tenant, kid).await.unwrap().into_iter().map(|c| c.ms_class_id).collect();
    theirs.sort();
    assert_eq!(theirs, expected);

    // A new round starts at most every `members_every` (default an hour): the next run lists
    // no class; with 0 every run does.
    let r = run_once(&deps, &t).await.unwrap();
    assert!(r.summary_line().contains("edu_members=not_due edu_members_classes=0"), "{}", r.summary_line());
    let mut deps = deps;
    deps.members_every = std::time::Duration::ZERO;

    // Someone added to and someone removed from a class: the next round has them.
    let newcomer = contoso.students.iter().find(|s| !c0.student_ids.contains(&s.id)).unwrap().id.clone();
    admin(
        &env,
        reqwest::Method::POST,
        &format!("/classes/{}/members", c0.id),
        Some(serde_json::json!({"userId": newcomer})),
    )
    .await;
    admin(&env, reqwest::Method::DELETE, &format!("/classes/{}/members/{kid}", c0.id), None).await;
    run_once(&deps, &t).await.unwrap();
    let people = members_of(&env.db, env.tenant, &[c0.id.as_str()]).await.unwrap();
    assert!(people.iter().any(|p| p.ms_object_id == newcomer && p.role == "student"));
    assert!(!people.iter().any(|p| p.ms_object_id == *kid));

    // A deleted class: archived by the classes delta's full round, its memberships left.
    let doomed = contoso.classes[1].id.clone();
    admin(&env, reqwest::Method::DELETE, &format!("/classes/{doomed}"), None).await;
    let mut full = env.deps(Some(7));
    full.force_full = true;
    let r = run_once(&full, &t).await.unwrap();
    let m = r.members.as_ref().unwrap();
    assert!(m.counts.left > 0, "{}", r.summary_line());
    assert!(members_of(&env.db, env.tenant, &[doomed.as_str()]).await.unwrap().is_empty());
    assert!(edu_db::roster_members::class(&env.db, env.tenant, &doomed).await.unwrap().is_none());
}

/// The progress callback (the terminal display's source) hears every committed page of every
/// stream, in order, and the tenant's end.
async fn progress_reports_every_committed_page(backend: Backend) {
    let env = Env::start(backend).await;
    let mut deps = env.deps(Some(9));
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, u64, u64)>>> = std::sync::Arc::default();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (s2, d2) = (seen.clone(), done.clone());
    deps.progress = Some(std::sync::Arc::new(move |p| match p {
        edu_sync::Progress::Page { stream, pages, items, .. } => {
            s2.lock().unwrap().push((stream.to_owned(), pages, items));
        }
        edu_sync::Progress::TenantDone { failed, .. } => {
            assert!(!failed);
            d2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }));
    let results = edu_sync::run_tenants(&deps, vec![env.sync_tenant()], 1).await;
    let tr = results.into_iter().next().unwrap().1.unwrap();
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 1);
    let seen = seen.lock().unwrap().clone();
    let pages_of = |stream: &str| seen.iter().filter(|(s, _, _)| s == stream).count() as u64;
    assert_eq!(pages_of("users"), tr.pages);
    assert_eq!(pages_of("edu_users"), report(&tr, RosterKind::Users).pages);
    assert_eq!(pages_of("edu_classes"), report(&tr, RosterKind::Classes).pages);
    // Per stream, pages count up from 1 and items never go down.
    for stream in ["users", "edu_classes", "edu_users"] {
        let mine: Vec<_> = seen.iter().filter(|(s, _, _)| s == stream).collect();
        assert!(mine.iter().enumerate().all(|(i, (_, p, _))| *p == i as u64 + 1), "{stream}: {mine:?}");
        assert!(mine.windows(2).all(|w| w[0].2 <= w[1].2), "{stream}: {mine:?}");
    }
    let last_users = seen.iter().rev().find(|(s, _, _)| s == "users").unwrap();
    assert_eq!(last_users.2, tr.added, "every user of the first round is an item");
}

both_backends!(
    progress_reports_every_committed_page,
    initial_incremental_removals_and_sweep,
    an_expired_token_resyncs_without_deleting,
    switched_off_for_a_tenant_without_education,
    class_memberships_follow_each_class_and_leave_with_an_archived_class
);
