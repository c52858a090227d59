//! The page-commit/sweep helper, through the three streams that use it: a full round's last
//! page sweeps the rows it did not see (kept, in the stream's swept state, audited once); an
//! incremental round never sweeps; a runner whose lease was taken over writes nothing.

use edu_db::directory::{self, Member};
use edu_db::roster::{self, RosterChange, RosterKind, RosterPatch};
use edu_db::sync::{self, Checkpoint, Lease, PageEnd, Phase, ProfileChange, ProfileData, ProfilePatch};
use edu_db::{Db, DbError};
use edu_domain::TenantId;

use crate::support::{Backend, TestDb, consented_tenant};

crate::both_backends!(
    a_full_users_round_archives_the_profiles_it_did_not_see,
    an_incremental_round_sweeps_nothing,
    the_directory_sweep_marks_who_left_and_a_return_restores,
    the_roster_sweep_archives_unseen_classes,
    a_lost_lease_commits_nothing,
);

const TTL: i64 = 60_000;

async fn lease(db: &Db, tenant: TenantId, stream: &str, now: i64) -> Lease {
    sync::acquire_lease(db, tenant, stream, "test-runner", TTL, now).await.unwrap().expect("lease")
}

/// A lease on the users stream and a new full round.
pub async fn users_round(db: &Db, tenant: TenantId) -> (Lease, Checkpoint) {
    let lease = lease(db, tenant, "users", 10).await;
    let cp = sync::begin_full_round(db, &lease, TTL, 11).await.unwrap();
    (lease, cp)
}

fn upsert(id: &str, name: &str) -> ProfileChange {
    ProfileChange::Upsert(ProfilePatch::full(&ProfileData {
        ms_object_id: id.into(),
        display_name: Some(name.into()),
        account_enabled: true,
        ..Default::default()
    }))
}

fn states(profiles: &[sync::StoredProfile]) -> Vec<(&str, &str)> {
    profiles.iter().map(|p| (p.data.ms_object_id.as_str(), p.state.as_str())).collect()
}

async fn actions(db: &Db, tenant: TenantId) -> Vec<(String, String, Option<String>)> {
    let q = edu_db::audit::TenantQuery { limit: 100, ..Default::default() };
    let mut v: Vec<_> = edu_db::audit::for_tenant(db, tenant, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.result, r.detail))
        .collect();
    v.sort();
    v
}

async fn a_full_users_round_archives_the_profiles_it_did_not_see(backend: Backend) {
    // Arrange: a first full round sees a, b and c over two pages.
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let (lease, cp) = users_round(&t.db, tenant).await;
    assert_eq!((cp.phase, cp.pages, cp.next_link.as_deref()), (Phase::Full, 0, None));
    let (c, cp) = sync::commit_page(
        &t.db,
        &lease,
        "ms-a",
        &cp,
        &[upsert("a", "A"), upsert("b", "B")],
        &PageEnd::Next("https://graph/2".into()),
        TTL,
        12,
    )
    .await
    .unwrap();
    assert_eq!((c.added, cp.pages, cp.next_link.as_deref()), (2, 1, Some("https://graph/2")));
    let (c, cp) =
        sync::commit_page(&t.db, &lease, "ms-a", &cp, &[upsert("c", "C")], &PageEnd::Done("d-1".into()), TTL, 13)
            .await
            .unwrap();
    assert_eq!((c.added, c.archived), (1, 0));
    assert_eq!((cp.phase, cp.delta_link.as_deref(), cp.next_link.as_deref()), (Phase::Idle, Some("d-1"), None));

    // Act: the next full round sees only b (unchanged) on its single page.
    let cp2 = sync::begin_full_round(&t.db, &lease, TTL, 20).await.unwrap();
    assert!(cp2.run_mark > cp.run_mark);
    let (c, done) =
        sync::commit_page(&t.db, &lease, "ms-a", &cp2, &[upsert("b", "B")], &PageEnd::Done("d-2".into()), TTL, 21)
            .await
            .unwrap();

    // Assert: a and c archived (kept), b active; one audit event for the sweep.
    assert_eq!((c.added, c.changed, c.archived), (0, 0, 2));
    assert_eq!(done.delta_link.as_deref(), Some("d-2"));
    let profiles = sync::profiles(&t.db, tenant).await.unwrap();
    assert_eq!(states(&profiles), [("a", "archived"), ("b", "active"), ("c", "archived")]);
    assert_eq!(profiles[0].data.display_name.as_deref(), Some("A"), "archived rows keep their data");
    assert_eq!(
        actions(&t.db, tenant).await,
        [("sync.profiles_archived".into(), "success".into(), Some("2 profiles not seen in a full sync".into()))]
    );
    let saved = sync::checkpoint(&t.db, tenant, "users").await.unwrap().unwrap();
    assert_eq!(saved, done, "the checkpoint was committed with the page");
    sync::release_lease(&t.db, lease, 30).await.unwrap();
}

async fn an_incremental_round_sweeps_nothing(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let (lease, cp) = users_round(&t.db, tenant).await;
    let (_, cp) = sync::commit_page(
        &t.db,
        &lease,
        "ms-a",
        &cp,
        &[upsert("a", "A"), upsert("b", "B")],
        &PageEnd::Done("d-1".into()),
        TTL,
        12,
    )
    .await
    .unwrap();

    // Act: a delta round from the deltaLink that only mentions b.
    let inc = sync::incremental_round(&cp);
    assert_eq!((inc.phase, inc.next_link.as_deref()), (Phase::Delta, Some("d-1")));
    let (c, done) =
        sync::commit_page(&t.db, &lease, "ms-a", &inc, &[upsert("b", "B2")], &PageEnd::Done("d-2".into()), TTL, 13)
            .await
            .unwrap();

    // Assert
    assert_eq!((c.changed, c.archived), (1, 0));
    assert_eq!((done.phase, done.delta_link.as_deref()), (Phase::Idle, Some("d-2")));
    let profiles = sync::profiles(&t.db, tenant).await.unwrap();
    assert_eq!(states(&profiles), [("a", "active"), ("b", "active")]);
    assert!(actions(&t.db, tenant).await.is_empty());
    sync::release_lease(&t.db, lease, 30).await.unwrap();
}

fn member(id: &str) -> (Member, Option<directory::Manager>) {
    (Member { ms_object_id: id.into(), display_name: Some(id.to_uppercase()), ..Default::default() }, None)
}

async fn the_directory_sweep_marks_who_left_and_a_return_restores(backend: Backend) {
    // Arrange: a round sees a and b.
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let lease = lease(&t.db, tenant, directory::STREAM, 10).await;
    let cp = directory::begin_round(&t.db, &lease, TTL, 11).await.unwrap();
    let (c, cp) =
        directory::commit_page(&t.db, &lease, &cp, &[member("a"), member("b")], &PageEnd::Done(String::new()), TTL, 12)
            .await
            .unwrap();
    assert_eq!((c.added, c.left, cp.delta_link.as_deref()), (2, 0, None), "a listing keeps no deltaLink");

    // Act: the next round sees only b; the one after sees a again.
    let cp = directory::begin_round(&t.db, &lease, TTL, 20).await.unwrap();
    let (c, _) = directory::commit_page(&t.db, &lease, &cp, &[member("b")], &PageEnd::Done(String::new()), TTL, 21)
        .await
        .unwrap();
    let left = directory::members(&t.db, tenant).await.unwrap();
    let cp = directory::begin_round(&t.db, &lease, TTL, 30).await.unwrap();
    let (c2, _) =
        directory::commit_page(&t.db, &lease, &cp, &[member("a"), member("b")], &PageEnd::Done(String::new()), TTL, 31)
            .await
            .unwrap();

    // Assert
    assert_eq!(c.left, 1);
    let a = &left[0];
    assert_eq!((a.member.ms_object_id.as_str(), a.state.as_str(), a.left_at), ("a", "left", Some(21)));
    assert_eq!((c2.restored, c2.left), (1, 0));
    let back = directory::members(&t.db, tenant).await.unwrap();
    assert!(back.iter().all(|m| m.state == "active" && m.left_at.is_none()));
    let acts: Vec<String> = actions(&t.db, tenant).await.into_iter().map(|a| a.0).collect();
    assert_eq!(acts, ["sync.directory_member_restored", "sync.directory_members_left"]);
    sync::release_lease(&t.db, lease, 40).await.unwrap();
}

fn class(id: &str, name: &str) -> RosterChange {
    let mut values = vec![None; roster::CLASS_COLUMNS.len()];
    values[0] = Some(Some(name.to_owned()));
    RosterChange::Upsert(RosterPatch { id: id.into(), values })
}

async fn the_roster_sweep_archives_unseen_classes(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let kind = RosterKind::Classes;
    let lease = lease(&t.db, tenant, kind.stream(), 10).await;
    let cp = roster::begin_full_round(&t.db, kind, &lease, TTL, 11).await.unwrap();
    let (c, _) = roster::commit_page(
        &t.db,
        kind,
        &lease,
        &cp,
        &[class("c-1", "Maths"), class("c-2", "Art")],
        &PageEnd::Done("d".into()),
        TTL,
        12,
    )
    .await
    .unwrap();
    assert_eq!(c.added, 2);

    // Act
    let cp = roster::begin_full_round(&t.db, kind, &lease, TTL, 20).await.unwrap();
    let (c, _) =
        roster::commit_page(&t.db, kind, &lease, &cp, &[class("c-2", "Art")], &PageEnd::Done("d2".into()), TTL, 21)
            .await
            .unwrap();

    // Assert
    assert_eq!((c.added, c.changed, c.archived), (0, 0, 1));
    let rows = roster::rows(&t.db, kind, tenant).await.unwrap();
    let got: Vec<(&str, &str, Option<&str>)> =
        rows.iter().map(|r| (r.id.as_str(), r.state.as_str(), r.get(kind, "display_name"))).collect();
    assert_eq!(got, [("c-1", "archived", Some("Maths")), ("c-2", "active", Some("Art"))]);
    assert_eq!(roster::counts(&t.db, kind, tenant).await.unwrap(), (1, 1));
    assert_eq!(
        actions(&t.db, tenant).await,
        [("sync.roster_archived".into(), "success".into(), Some("1 not seen in a full sync".into()))]
    );
    sync::release_lease(&t.db, lease, 30).await.unwrap();
}

async fn a_lost_lease_commits_nothing(backend: Backend) {
    // Arrange: another runner takes the stream over (as after our lease expired).
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let (ours, cp) = users_round(&t.db, tenant).await;
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url).await.unwrap();
    sqlx::query("UPDATE sync_leases SET owner = 'other-runner', fencing_token = fencing_token + 1")
        .execute(&mut other)
        .await
        .unwrap();

    // Act
    let r =
        sync::commit_page(&t.db, &ours, "ms-a", &cp, &[upsert("a", "A")], &PageEnd::Done("d".into()), TTL, 12).await;

    // Assert
    assert!(matches!(r, Err(DbError::Conflict("sync lease"))), "{r:?}");
    assert!(sync::profiles(&t.db, tenant).await.unwrap().is_empty());
    assert_eq!(sync::checkpoint(&t.db, tenant, "users").await.unwrap(), Some(cp), "the checkpoint did not move");
    assert!(!sync::renew_lease(&t.db, &ours, TTL, 13).await.unwrap());
}
