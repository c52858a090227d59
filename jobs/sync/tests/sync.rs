//! `run_once` against the emulator, on SQLite and MySQL: initial and incremental users
//! delta, removals of both kinds, delta-token expiry (mark and sweep), 429/503 storms,
//! one runner per tenant.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use common::{Backend, Env, comparable};
use edu_ms_emulator::{Fault, FaultKind};
use edu_sync::{Outcome, run_once};
use edu_test_db::both_backends;

async fn initial_then_incremental(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(Some(7));
    let t = env.sync_tenant();

    let first = run_once(&deps, &t).await.unwrap();
    assert_eq!(first.outcome, Outcome::Completed);
    assert!(first.full);
    let profiles = env.profiles().await;
    assert!(profiles.len() > 10, "{} profiles", profiles.len());
    assert_eq!(first.added, profiles.len() as u64);
    assert!(first.pages >= 2, "paged: {}", first.pages);
    assert!(profiles.iter().all(|p| p.state == "active"));
    let demo = env.emu.demo();
    let teacher = &demo.tenants[0].teachers[0];
    let tp = profiles.iter().find(|p| p.data.ms_object_id == teacher.id).unwrap();
    assert_eq!(tp.data.display_name.as_deref(), Some(teacher.display_name.as_str()));
    assert!(tp.data.user_principal_name.is_some());
    let cp = edu_db::sync::checkpoint(&env.db, env.tenant, "users").await.unwrap().unwrap();
    assert!(cp.delta_link.is_some() && cp.next_link.is_none());
    // The summary line names every counter.
    let line = first.summary_line();
    for k in ["added=", "changed=", "disabled=", "deleted=", "pages=", "duration_ms="] {
        assert!(line.contains(k), "{line}");
    }

    // Nothing changed: an incremental round with no changes.
    let again = run_once(&deps, &t).await.unwrap();
    assert!(!again.full);
    assert_eq!((again.added, again.changed, again.disabled, again.deleted), (0, 0, 0, 0));

    // A new user and a changed one.
    let new_id = env.create_user("newkid", "New Kid").await;
    env.patch_user(&teacher.id, serde_json::json!({"jobTitle": "Head of Maths", "mobilePhone": "+1 555 0100"})).await;
    let inc = run_once(&deps, &t).await.unwrap();
    assert!(!inc.full);
    assert_eq!((inc.added, inc.changed), (1, 1), "{}", inc.summary_line());
    let after = env.profiles().await;
    assert_eq!(after.len(), profiles.len() + 1);
    let tp = after.iter().find(|p| p.data.ms_object_id == teacher.id).unwrap();
    assert_eq!(tp.data.job_title.as_deref(), Some("Head of Maths"));
    assert_eq!(tp.data.mobile_phone.as_deref(), Some("+1 555 0100"));
    let np = after.iter().find(|p| p.data.ms_object_id == new_id).unwrap();
    assert_eq!(np.data.display_name.as_deref(), Some("New Kid"));
}

async fn removals(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(None);
    let t = env.sync_tenant();
    let soft = env.create_user("softdel", "Soft Deleted").await;
    let hard = env.create_user("harddel", "Hard Deleted").await;
    run_once(&deps, &t).await.unwrap();

    // The permanently deleted person has a local identity and a cached token.
    let profile = edu_db::identities::MsProfile {
        ms_tenant_id: &env.ms_tenant,
        ms_object_id: &hard,
        upn: Some("harddel@contoso.test"),
        display_name: Some("Hard Deleted"),
    };
    let user = edu_db::identities::create_person(&env.db, env.tenant, &profile, 1).await.unwrap();
    let key = edu_db::token_cache::TokenKey {
        tenant: env.tenant,
        subject: &hard,
        resource: "https://graph.microsoft.com",
        kind: "refresh",
    };
    let row = edu_db::token_cache::SealedRow {
        key_id: "k1".into(),
        nonce: vec![1; 12],
        ciphertext: vec![2; 40],
        expires_at: 9,
    };
    edu_db::token_cache::put(&env.db, &key, &row, 1).await.unwrap();

    // Something the person did, in the audit trail.
    let event = edu_db::audit::AuditEvent {
        tenant_id: Some(env.tenant),
        actor: Some(user),
        action: "seating.update",
        target_type: Some("class"),
        target_id: Some("c1".into()),
        result: "success",
        detail: None,
        at: 2,
    };
    edu_db::audit::record(&env.db, &event).await.unwrap();

    env.delete_user(&soft, false).await;
    env.delete_user(&hard, true).await;
    let r = run_once(&deps, &t).await.unwrap();
    assert_eq!((r.disabled, r.deleted), (1, 1), "{}", r.summary_line());

    let ps = env.profiles().await;
    let s = ps.iter().find(|p| p.data.ms_object_id == soft).unwrap();
    assert_eq!(s.state, "disabled");
    assert_eq!(s.data.display_name.as_deref(), Some("Soft Deleted"), "restorable: data kept");
    let h = ps.iter().find(|p| p.data.ms_object_id == hard).unwrap();
    assert_eq!(h.state, "deleted");
    assert_eq!(h.data.display_name, None);
    assert_eq!(h.data.user_principal_name, None);
    assert!(edu_db::identities::find(&env.db, &env.ms_tenant, &hard).await.unwrap().is_none());
    assert!(edu_db::identities::of_user(&env.db, user).await.unwrap().is_none());
    assert!(edu_db::token_cache::get(&env.db, &key).await.unwrap().is_none());
    let trail = edu_db::audit::for_actor(&env.db, user, 10).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "seating.update"), "the audit trail is kept");

    // Replaying the same state changes nothing.
    let r = run_once(&deps, &t).await.unwrap();
    assert_eq!((r.added, r.changed, r.disabled, r.deleted), (0, 0, 0, 0));
}

async fn expired_delta_token_resyncs_with_mark_and_sweep(backend: Backend) {
    let env = Env::start(backend).await;
    let deps = env.deps(Some(10));
    let t = env.sync_tenant();
    let gone = env.create_user("gone", "Gone While Expired").await;
    let stays = env.create_user("stays", "Stays").await;
    run_once(&deps, &t).await.unwrap();
    let before = env.profiles().await;

    // While the token is expired, a user vanishes (the delta cannot tell us) and one changes.
    env.delete_user(&gone, true).await;
    env.patch_user(&stays, serde_json::json!({"jobTitle": "Prefect"})).await;
    env.emu.expire_delta_tokens();
    let r = run_once(&deps, &t).await.unwrap();
    assert!(r.resynced && r.full, "{}", r.summary_line());
    assert_eq!(r.archived, 1, "{}", r.summary_line());
    assert_eq!(r.changed, 1, "{}", r.summary_line());
    let after = env.profiles().await;
    assert_eq!(after.len(), before.len(), "nothing deleted by the resync");
    let g = after.iter().find(|p| p.data.ms_object_id == gone).unwrap();
    assert_eq!(g.state, "archived");
    assert_eq!(g.data.display_name.as_deref(), Some("Gone While Expired"), "archived, data kept");
    assert!(after.iter().filter(|p| p.data.ms_object_id != gone).all(|p| p.state == "active"));

    // And the stream is healthy again: an incremental round.
    let next = run_once(&deps, &t).await.unwrap();
    assert!(!next.full && !next.resynced);

    // The periodic full reconciliation (`run --full`): a full round that changes nothing.
    let mut full = env.deps(Some(10));
    full.force_full = true;
    let r = run_once(&full, &t).await.unwrap();
    assert!(r.full && !r.resynced, "{}", r.summary_line());
    assert_eq!((r.added, r.changed, r.archived), (0, 0, 0), "{}", r.summary_line());
    assert_eq!(comparable(&env.profiles().await), comparable(&after));
}

async fn throttling_storms_are_absorbed(backend: Backend) {
    let env = Env::start(backend).await;
    // Reference: a clean run into a second tenant row? Simpler: the storm run's result must
    // equal a clean re-run's view of the directory.
    let deps = env.deps(Some(10));
    let t = env.sync_tenant();
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users/delta".into(),
        kind: FaultKind::Throttle { retry_after: "0.05".into() },
        times: Some(4),
    });
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users/delta".into(),
        kind: FaultKind::ServiceUnavailable { retry_after: Some("0.05".into()) },
        times: Some(3),
    });
    let r = run_once(&deps, &t).await.unwrap();
    assert_eq!(r.outcome, Outcome::Completed);
    let requests = env.emu.request_count("GET", "/users/delta");
    assert!(requests >= r.pages + 4, "retried: {requests} requests for {} pages", r.pages);
    let storm = comparable(&env.profiles().await);

    // Same data as a clean full sync into a fresh database.
    let (clean_guard, clean_url) = common::TestDatabase::create(backend).await;
    let clean_db = edu_db::Db::connect(&clean_url, 4).await.unwrap();
    clean_db.migrate().await.unwrap();
    let tid = common::onboard(&clean_db, &env.ms_tenant, "Contoso").await;
    // Same page size: the emulator renders pages after the first without the `$select`ed
    // non-default properties (department, accountEnabled), so page boundaries must match.
    let mut clean_deps = env.deps(Some(10));
    clean_deps.db = clean_db.clone();
    let ct = edu_db::sync::SyncTenant { id: tid, ms_tenant_id: env.ms_tenant.clone(), display_name: "C".into() };
    run_once(&clean_deps, &ct).await.unwrap();
    let clean = comparable(&edu_db::sync::profiles(&clean_db, tid).await.unwrap());
    assert_eq!(storm, clean);
    clean_db.close().await;
    drop(clean_guard);
}

async fn one_runner_per_tenant(backend: Backend) {
    let env = Env::start(backend).await;
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users/delta".into(),
        kind: FaultKind::Latency(std::time::Duration::from_millis(150)),
        times: None,
    });
    let a = env.deps(Some(5));
    let b = env.deps(Some(5));
    let t = env.sync_tenant();
    let (ra, rb) = tokio::join!(run_once(&a, &t), run_once(&b, &t));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let outcomes = [ra.outcome, rb.outcome];
    assert!(outcomes.contains(&Outcome::Completed) && outcomes.contains(&Outcome::Busy), "{outcomes:?}");
    let n = env.profiles().await.len() as u64;
    assert_eq!(ra.added + rb.added, n, "no double work");
    // After the run the lease is free again.
    env.emu.clear_faults();
    let again = run_once(&a, &t).await.unwrap();
    assert_eq!(again.outcome, Outcome::Completed);
}

async fn a_runner_whose_lease_was_taken_over_commits_nothing(backend: Backend) {
    use edu_db::sync::{PageEnd, ProfileChange, ProfilePatch};
    let env = Env::start(backend).await;
    let db = &env.db;
    let first = edu_db::sync::acquire_lease(db, env.tenant, "users", "a", 1000, 10_000).await.unwrap().unwrap();
    // While held (and not expired), nobody else gets it.
    assert!(edu_db::sync::acquire_lease(db, env.tenant, "users", "b", 1000, 10_500).await.unwrap().is_none());
    let cp = edu_db::sync::begin_full_round(db, &first, 1000, 10_600).await.unwrap();
    let change = [ProfileChange::Upsert(ProfilePatch { ms_object_id: "x".into(), ..Default::default() })];
    if backend == Backend::Sqlite {
        // Expired (the holder was paused): another runner takes over with a new fencing token.
        let second = edu_db::sync::acquire_lease(db, env.tenant, "users", "b", 1000, 20_000).await.unwrap().unwrap();
        assert!(second.fencing_token > first.fencing_token);
        let zombie = edu_db::sync::commit_page(
            db,
            &first,
            &env.ms_tenant,
            &cp,
            &change,
            &PageEnd::Next("n".into()),
            1000,
            20_001,
        )
        .await;
        assert!(matches!(zombie, Err(edu_db::DbError::Conflict("sync lease"))), "{zombie:?}");
        assert!(!edu_db::sync::renew_lease(db, &first, 1000, 20_002).await.unwrap());
        assert!(env.profiles().await.is_empty(), "the zombie wrote nothing");
        edu_db::sync::release_lease(db, second, 20_003).await.unwrap();
    } else {
        // MySQL: GET_LOCK is held by the live runner's connection; the row cannot be taken over.
        assert!(edu_db::sync::acquire_lease(db, env.tenant, "users", "b", 1000, 99_000).await.unwrap().is_none());
        edu_db::sync::commit_page(db, &first, &env.ms_tenant, &cp, &change, &PageEnd::Next("n".into()), 1000, 99_001)
            .await
            .unwrap();
    }
    edu_db::sync::release_lease(db, first, 99_002).await.unwrap();
    // Released: free for the next runner at once.
    let third = edu_db::sync::acquire_lease(db, env.tenant, "users", "c", 1000, 99_003).await.unwrap().unwrap();
    edu_db::sync::release_lease(db, third, 99_004).await.unwrap();
}

async fn tenants_run_in_parallel_with_a_bound(backend: Backend) {
    let env = Env::start(backend).await;
    let fabrikam = env.emu.demo().tenants[1].clone();
    env.emu.grant_admin_consent(&fabrikam.id, &env.client_id);
    let fid = common::onboard(&env.db, &fabrikam.id, &fabrikam.display_name).await;
    let deps = env.deps(Some(20));
    let tenants = edu_sync::tenants_to_sync(&env.db, None).await.unwrap();
    assert_eq!(tenants.len(), 2);
    let results = edu_sync::run_tenants(&deps, tenants, 2).await;
    assert_eq!(results.len(), 2);
    for (t, r) in &results {
        let r = r.as_ref().unwrap();
        assert_eq!(r.outcome, Outcome::Completed, "{}", t.ms_tenant_id);
        assert!(r.added > 0);
    }
    let contoso = env.profiles().await;
    let fab = edu_db::sync::profiles(&env.db, fid).await.unwrap();
    assert!(!contoso.is_empty() && !fab.is_empty());
    assert!(fab.iter().all(|p| contoso.iter().all(|c| c.data.ms_object_id != p.data.ms_object_id)));
    // --tenant: only the one named; unknown or unconsented ones are an error.
    assert_eq!(edu_sync::tenants_to_sync(&env.db, Some(&fabrikam.id)).await.unwrap().len(), 1);
    assert!(edu_sync::tenants_to_sync(&env.db, Some("00000000-0000-0000-0000-000000000000")).await.is_err());
}

async fn a_disabled_profile_is_restored_by_a_later_upsert(backend: Backend) {
    use edu_db::sync::{PageEnd, ProfileChange, ProfilePatch};
    let env = Env::start(backend).await;
    let db = &env.db;
    let lease = edu_db::sync::acquire_lease(db, env.tenant, "users", "a", 60_000, 1).await.unwrap().unwrap();
    let cp = edu_db::sync::begin_full_round(db, &lease, 60_000, 2).await.unwrap();
    let patch = ProfilePatch {
        ms_object_id: "u1".into(),
        display_name: Some(Some("Una".into())),
        job_title: Some(Some("Teacher".into())),
        ..Default::default()
    };
    let (c1, cp) = edu_db::sync::commit_page(
        db,
        &lease,
        &env.ms_tenant,
        &cp,
        &[ProfileChange::Upsert(patch)],
        &PageEnd::Next("n1".into()),
        60_000,
        3,
    )
    .await
    .unwrap();
    assert_eq!(c1.added, 1);
    let (c2, cp) = edu_db::sync::commit_page(
        db,
        &lease,
        &env.ms_tenant,
        &cp,
        &[ProfileChange::Disable("u1".into())],
        &PageEnd::Next("n2".into()),
        60_000,
        4,
    )
    .await
    .unwrap();
    assert_eq!(c2.disabled, 1);
    assert_eq!(env.profiles().await[0].state, "disabled");
    // Restored in Entra: the user comes back with only a changed property.
    let back =
        ProfilePatch { ms_object_id: "u1".into(), display_name: Some(Some("Una B".into())), ..Default::default() };
    let (c3, _) = edu_db::sync::commit_page(
        db,
        &lease,
        &env.ms_tenant,
        &cp,
        &[ProfileChange::Upsert(back)],
        &PageEnd::Done("d".into()),
        60_000,
        5,
    )
    .await
    .unwrap();
    assert_eq!((c3.changed, c3.archived), (1, 0));
    let p = &env.profiles().await[0];
    assert_eq!(p.state, "active");
    assert_eq!(p.data.display_name.as_deref(), Some("Una B"));
    assert_eq!(p.data.job_title.as_deref(), Some("Teacher"), "absent property kept");
    edu_db::sync::release_lease(db, lease, 6).await.unwrap();
}

both_backends!(
    a_disabled_profile_is_restored_by_a_later_upsert,
    tenants_run_in_parallel_with_a_bound,
    a_runner_whose_lease_was_taken_over_commits_nothing,
    initial_then_incremental,
    removals,
    expired_delta_token_resyncs_with_mark_and_sweep,
    throttling_storms_are_absorbed,
    one_runner_per_tenant,
);
