//! Access ends when it should (issue 17.2, R-A27) and per-account limits hold under
//! concurrency (issue 17.3, R-A18), in the storage layer, on both backends.

use edu_db::sync::{self, PageEnd, ProfileChange, ProfileData, ProfilePatch};
use edu_db::throttle::{self, Policy, Reservation};
use edu_db::token_cache::{SealedRow, TokenKey};
use edu_db::{Db, identities, sessions};
use edu_domain::TenantId;

use crate::support::{Backend, TestDb, consented_tenant};

crate::both_backends!(
    the_sync_seeing_a_disabled_or_removed_account_ends_its_sessions_and_tokens,
    twenty_simultaneous_reservations_grant_exactly_the_threshold,
    a_success_gives_back_its_reservation_and_a_passed_lock_allows_one_more_attempt,
);

const TTL: i64 = 60_000;

/// A Microsoft person `oid` with one session and a cached token; returns the session hash.
async fn signed_in_person(db: &Db, tenant: TenantId, oid: &str) -> String {
    let p = identities::MsProfile { ms_tenant_id: "ms-a", ms_object_id: oid, upn: None, display_name: None };
    let user = identities::create_person(db, tenant, &p, 1).await.unwrap();
    let hash = format!("{oid:0>64}");
    sessions::create(
        db,
        &sessions::NewSession {
            id_hash: &hash,
            user_id: user,
            tenant_id: Some(tenant),
            auth_method: "microsoft",
            now: 1,
            expires_at: i64::MAX / 2,
            ms_auth_at: Some(1),
        },
    )
    .await
    .unwrap();
    let row = SealedRow { key_id: "k".into(), nonce: vec![1; 12], ciphertext: vec![2; 40], expires_at: i64::MAX / 2 };
    edu_db::token_cache::put(db, &key(tenant, oid), &row, 1).await.unwrap();
    hash
}

fn key(tenant: TenantId, oid: &str) -> TokenKey<'_> {
    TokenKey { tenant, subject: oid, resource: "https://graph.microsoft.com", kind: "refresh" }
}

fn profile(oid: &str, enabled: bool) -> ProfileChange {
    ProfileChange::Upsert(ProfilePatch::full(&ProfileData {
        ms_object_id: oid.into(),
        display_name: Some(oid.into()),
        account_enabled: enabled,
        ..Default::default()
    }))
}

async fn the_sync_seeing_a_disabled_or_removed_account_ends_its_sessions_and_tokens(backend: Backend) {
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let [a, b, c] = ["aaaa", "bbbb", "cccc"];
    let mut hashes = Vec::new();
    for oid in [a, b, c] {
        hashes.push(signed_in_person(&t.db, tenant, oid).await);
    }
    let lease = sync::acquire_lease(&t.db, tenant, "users", "test-runner", TTL, 10).await.unwrap().expect("lease");
    let cp = sync::begin_full_round(&t.db, &lease, TTL, 11).await.unwrap();
    // A page: a seen enabled, b with `accountEnabled: false`, c `@removed` (soft-deleted).
    let (_, cp) = sync::commit_page(
        &t.db,
        &lease,
        "ms-a",
        &cp,
        &[profile(a, true), profile(b, false), profile(c, true)],
        &PageEnd::Next("https://graph/2".into()),
        TTL,
        12,
    )
    .await
    .unwrap();
    assert!(sessions::get(&t.db, &hashes[0]).await.unwrap().is_some(), "an enabled account keeps its session");
    assert!(edu_db::token_cache::get(&t.db, &key(tenant, a)).await.unwrap().is_some());
    assert!(sessions::get(&t.db, &hashes[1]).await.unwrap().is_none(), "accountEnabled: false ends the session");
    assert!(edu_db::token_cache::get(&t.db, &key(tenant, b)).await.unwrap().is_none(), "and deletes the tokens");
    assert!(sessions::get(&t.db, &hashes[2]).await.unwrap().is_some());

    sync::commit_page(
        &t.db,
        &lease,
        "ms-a",
        &cp,
        &[ProfileChange::Disable(c.into())],
        &PageEnd::Next("https://graph/3".into()),
        TTL,
        13,
    )
    .await
    .unwrap();
    assert!(sessions::get(&t.db, &hashes[2]).await.unwrap().is_none(), "@removed ends the session");
    assert!(edu_db::token_cache::get(&t.db, &key(tenant, c)).await.unwrap().is_none(), "and deletes the tokens");
    assert!(sessions::get(&t.db, &hashes[0]).await.unwrap().is_some());
}

fn policy() -> Policy {
    Policy { window_ms: 900_000, threshold: 5, base_lock_ms: 30_000, max_lock_ms: 900_000 }
}

async fn twenty_simultaneous_reservations_grant_exactly_the_threshold(backend: Backend) {
    let t = TestDb::migrated(backend).await;
    let db = std::sync::Arc::new(t.db.clone());
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (db, start) = (db.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                throttle::reserve(&*db, "k", 1_000, policy()).await.unwrap()
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Reservation::Granted => granted += 1,
            Reservation::Refused { until } => assert!(until > 1_000),
        }
    }
    assert_eq!(granted, 5, "at most the threshold's verifications per window, however requests interleave");
    // The window passes: five more.
    assert_eq!(throttle::reserve(&t.db, "k", 1_000 + 900_001, policy()).await.unwrap(), Reservation::Granted);
}

async fn a_success_gives_back_its_reservation_and_a_passed_lock_allows_one_more_attempt(backend: Backend) {
    let t = TestDb::migrated(backend).await;
    let db = &t.db;
    for _ in 0..4 {
        assert_eq!(throttle::reserve(db, "k", 10, policy()).await.unwrap(), Reservation::Granted);
        assert_eq!(throttle::settle_failure(db, "k", 10, policy()).await.unwrap(), 0);
    }
    // The fifth attempt succeeds: its reservation is given back, the 4 failures stay.
    assert_eq!(throttle::reserve(db, "k", 11, policy()).await.unwrap(), Reservation::Granted);
    throttle::release(db, "k").await.unwrap();
    assert_eq!(throttle::reserve(db, "k", 12, policy()).await.unwrap(), Reservation::Granted);
    let locked = throttle::settle_failure(db, "k", 12, policy()).await.unwrap();
    assert_eq!(locked, 12 + 30_000);
    assert_eq!(throttle::reserve(db, "k", 13, policy()).await.unwrap(), Reservation::Refused { until: locked });
    // After the lock: exactly one more attempt, whose failure locks twice as long.
    assert_eq!(throttle::reserve(db, "k", locked, policy()).await.unwrap(), Reservation::Granted);
    assert!(matches!(throttle::reserve(db, "k", locked, policy()).await.unwrap(), Reservation::Refused { .. }));
    assert_eq!(throttle::settle_failure(db, "k", locked, policy()).await.unwrap(), locked + 60_000);
}
