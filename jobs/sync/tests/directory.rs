//! Group-scoped directory sync (seed 001) against the emulator, on SQLite and MySQL: the
//! initial round, membership add/remove, a manager change, a person leaving and coming back
//! (soft delete, restore), resuming a stopped round at its checkpoint (R-C3), clearing.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::sync::atomic::Ordering;

use common::{Backend, Env};
use edu_db::directory::StoredMember;
use edu_msgraph::{GraphAuth, GraphRequest};
use edu_sync::{Outcome, run_once};
use edu_test_db::both_backends;

both_backends!(a_groups_members_and_their_managers_follow_the_directory, a_stopped_round_resumes_at_its_checkpoint);

async fn all_teachers_group(env: &Env, deps: &edu_sync::SyncDeps) -> String {
    let auth = GraphAuth::app_only(env.ms_tenant.clone());
    let groups = deps.graph.list_groups(&auth, Some("displayName eq 'All Teachers'"), &["id"]).await.unwrap();
    assert_eq!(groups.len(), 1);
    groups[0].id.clone()
}

async fn set_manager(deps: &edu_sync::SyncDeps, env: &Env, user: &str, manager: &str) {
    let auth = GraphAuth::app_only(env.ms_tenant.clone());
    let body = serde_json::json!({"@odata.id": format!("{}/v1.0/users/{manager}", env.emu.graph_url())});
    let req = GraphRequest::json(reqwest::Method::PUT, format!("/users/{user}/manager/$ref"), &body).unwrap();
    deps.graph.send(&auth, req).await.unwrap();
}

fn find<'a>(members: &'a [StoredMember], id: &str) -> &'a StoredMember {
    members.iter().find(|m| m.member.ms_object_id == id).unwrap_or_else(|| panic!("{id} not in the directory"))
}

async fn a_groups_members_and_their_managers_follow_the_directory(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(Some(3)); // pages of 3 members: several pages per round
    let t = env.sync_tenant();
    let demo = env.emu.demo();
    let (admin, teachers) = (&demo.tenants[0].admin, &demo.tenants[0].teachers);
    assert!(teachers.len() >= 4, "the demo has {} teachers", teachers.len());
    let group = all_teachers_group(&env, &deps).await;

    // No group named: no directory round.
    let r = run_once(&deps, &t).await.unwrap();
    assert!(r.directory.is_none() && !r.summary_line().contains("directory="));

    assert!(edu_db::directory::set_group(&env.db, env.tenant, Some(&group), None, 1).await.unwrap());
    let r = run_once(&deps, &t).await.unwrap();
    let d = r.directory.clone().unwrap();
    assert_eq!(d.outcome, Outcome::Completed);
    assert_eq!((d.seen, d.counts.added, d.counts.left), (teachers.len() as u64, teachers.len() as u64, 0));
    assert!(d.pages >= 2, "paged: {}", d.pages);
    assert!(r.summary_line().contains(&format!("directory=ok dir_members={}", teachers.len())), "{}", r.summary_line());
    let members = edu_db::directory::members(&env.db, env.tenant).await.unwrap();
    assert_eq!(members.len(), teachers.len());
    for teacher in teachers {
        let m = find(&members, &teacher.id);
        assert_eq!(m.state, "active");
        assert_eq!(m.member.display_name.as_deref(), Some(teacher.display_name.as_str()));
        // Every demo teacher reports to the tenant's admin (who is not in the group).
        let mgr = m.manager.as_ref().unwrap();
        assert_eq!(mgr.ms_object_id, admin.id);
        assert_eq!(mgr.display_name.as_deref(), Some(admin.display_name.as_str()));
    }
    assert!(members.iter().all(|m| m.member.ms_object_id != admin.id), "only the group's members");

    // Nothing changed: a round that changes nothing.
    let d = run_once(&deps, &t).await.unwrap().directory.unwrap();
    assert_eq!((d.counts.added, d.counts.changed, d.counts.left, d.counts.managers_changed), (0, 0, 0, 0));

    // Someone joins (no manager), someone leaves, someone gets a new manager.
    let auth = GraphAuth::app_only(env.ms_tenant.clone());
    let newcomer = env.create_user("newteacher", "New Teacher").await;
    deps.graph.add_group_member(&auth, &group, &newcomer).await.unwrap();
    deps.graph.remove_group_member(&auth, &group, &teachers[1].id).await.unwrap();
    set_manager(&deps, &env, &teachers[0].id, &teachers[2].id).await;
    let d = run_once(&deps, &t).await.unwrap().directory.unwrap();
    assert_eq!((d.counts.added, d.counts.left, d.counts.restored), (1, 1, 0), "{}", d.summary());
    assert_eq!(d.counts.managers_changed, 1, "{}", d.summary());
    let members = edu_db::directory::members(&env.db, env.tenant).await.unwrap();
    assert_eq!(find(&members, &newcomer).state, "active");
    assert!(find(&members, &newcomer).manager.is_none());
    let gone = find(&members, &teachers[1].id);
    assert_eq!(gone.state, "left", "soft-deleted, not removed");
    assert!(gone.left_at.is_some() && gone.member.display_name.is_some());
    let m0 = find(&members, &teachers[0].id);
    assert_eq!(m0.manager.as_ref().unwrap().ms_object_id, teachers[2].id);
    assert_eq!(m0.manager.as_ref().unwrap().display_name.as_deref(), Some(teachers[2].display_name.as_str()));

    // The person who left comes back: restored, with their manager.
    deps.graph.add_group_member(&auth, &group, &teachers[1].id).await.unwrap();
    let d = run_once(&deps, &t).await.unwrap().directory.unwrap();
    assert_eq!((d.counts.added, d.counts.left, d.counts.restored), (0, 0, 1), "{}", d.summary());
    let members = edu_db::directory::members(&env.db, env.tenant).await.unwrap();
    let back = find(&members, &teachers[1].id);
    assert_eq!((back.state.as_str(), back.left_at), ("active", None));
    assert_eq!(back.manager.as_ref().unwrap().ms_object_id, admin.id);
    assert_eq!(
        edu_db::directory::counts(&env.db, env.tenant).await.unwrap(),
        (members.len() as i64, 0, members.len() as i64 - 1)
    );

    // The audit trail has the admin's choice, the departure and the return.
    let trail = edu_db::audit::for_tenant(
        &env.db,
        env.tenant,
        &edu_db::audit::TenantQuery { limit: 200, ..Default::default() },
    )
    .await
    .unwrap();
    for action in ["admin.directory_sync.set", "sync.directory_members_left", "sync.directory_member_restored"] {
        assert!(trail.iter().any(|e| e.action == action), "{action} audited");
    }

    // Cleared: no more rounds; the data stays as it was.
    assert!(edu_db::directory::set_group(&env.db, env.tenant, None, None, 2).await.unwrap());
    deps.graph.remove_group_member(&auth, &group, &teachers[3].id).await.unwrap();
    let r = run_once(&deps, &t).await.unwrap();
    assert!(r.directory.is_none());
    assert_eq!(edu_db::directory::members(&env.db, env.tenant).await.unwrap(), members);
}

async fn a_stopped_round_resumes_at_its_checkpoint(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(Some(2));
    let t = env.sync_tenant();
    let group = all_teachers_group(&env, &deps).await;
    run_once(&deps, &t).await.unwrap(); // the users delta first (its own stream)
    edu_db::directory::set_group(&env.db, env.tenant, Some(&group), None, 1).await.unwrap();

    // SIGTERM semantics: the current page commits, then the round stops.
    deps.stop.store(true, Ordering::SeqCst);
    let r = run_once(&deps, &t).await.unwrap();
    let d = r.directory.unwrap();
    assert_eq!((d.outcome, d.pages, d.seen), (Outcome::Stopped, 1, 2), "{}", d.summary());
    let cp = edu_db::sync::checkpoint(&env.db, env.tenant, "directory").await.unwrap().unwrap();
    assert!(cp.next_link.is_some(), "the next page is the checkpoint");
    assert_eq!(edu_db::directory::members(&env.db, env.tenant).await.unwrap().len(), 2);

    deps.stop.store(false, Ordering::SeqCst);
    let requests_before = env.emu.request_count("GET", "/groups/{id}/members/{id}");
    let d = run_once(&deps, &t).await.unwrap().directory.unwrap();
    let teachers = env.emu.demo().tenants[0].teachers.len() as u64;
    assert_eq!(d.outcome, Outcome::Completed);
    assert_eq!((d.seen, d.counts.added), (teachers - 2, teachers - 2), "resumed after the committed page");
    assert!(env.emu.request_count("GET", "/groups/{id}/members/{id}") > requests_before);
    let members = edu_db::directory::members(&env.db, env.tenant).await.unwrap();
    assert_eq!(members.len() as u64, teachers);
    assert!(members.iter().all(|m| m.state == "active" && m.manager.is_some()));
}
