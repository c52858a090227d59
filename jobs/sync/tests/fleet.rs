//! Several sync workers share the tenants with the database as the only coordinator (R-C6:
//! one runner per tenant; R-C5: every tenant synced each round). Each test fails if a tenant
//! is synced twice in a round or skipped: on SQLite and on MySQL/MariaDB, plus the
//! `SELECT … FOR UPDATE SKIP LOCKED` claim on MariaDB.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use common::{Backend, Env};
use edu_db::fleet::{self, Join};
use edu_ms_emulator::{Fault, FaultKind, Seed};
use edu_sync::fleet::work_round;
use edu_sync::{SyncDeps, Tenant, TenantReport};
use edu_test_db::{both_backends, mysql_only};

const FLEET: usize = 14;

/// The emulator with `FLEET` extra districts, all onboarded; Fabrikam stays unconsented.
async fn fleet_env(backend: Backend) -> (Env, Vec<String>) {
    let env = Env::start_with(backend, Seed::Fleet { tenants: FLEET }).await;
    let mut consented = vec![env.ms_tenant.clone()];
    for t in env.emu.demo().tenants.iter().skip(2) {
        common::onboard(&env.db, &t.id, &t.display_name).await;
        consented.push(t.id.clone());
    }
    assert_eq!(consented.len(), FLEET + 1);
    (env, consented)
}

/// A worker with its own connection pool, as a separate process would have.
async fn worker(env: &Env, name: &str) -> SyncDeps {
    let mut d = env.deps(Some(50));
    d.db = edu_db::Db::connect(&env.url, 6).await.unwrap();
    d.instance = name.to_owned();
    d.roster = false;
    d.lease_ttl = Duration::from_secs(5);
    d
}

type Tally = Mutex<HashMap<String, Vec<String>>>;

/// Runs `workers` workers (2 lanes each) at once in the round they join; the tally of which
/// worker completed which tenant.
async fn round_of(env: &Env, workers: usize) -> HashMap<String, Vec<String>> {
    let tally: Tally = Mutex::new(HashMap::new());
    let mut deps = Vec::new();
    for i in 0..workers {
        deps.push(worker(env, &format!("w{i}")).await);
    }
    let runs = deps.iter().map(|d| {
        let tally = &tally;
        async move {
            let Join::Round { round, .. } = fleet::join(&d.db, None, now()).await.unwrap() else { panic!("no round") };
            let on_done = |t: &Tenant, r: &Result<TenantReport, edu_sync::SyncError>| {
                let report = r.as_ref().unwrap();
                assert_eq!(report.outcome, edu_sync::Outcome::Completed, "{}", report.summary_line());
                tally.lock().unwrap().entry(t.ms_tenant_id.clone()).or_default().push(d.instance.clone());
            };
            work_round(d, round, 2, &on_done).await.unwrap()
        }
    });
    let summaries = futures_util::future::join_all(runs).await;
    assert!(summaries.iter().all(|s| !s.gave_up), "{summaries:?}");
    let rounds: std::collections::HashSet<i64> = summaries.iter().map(|s| s.round).collect();
    assert_eq!(rounds.len(), 1, "every worker joined the same round: {summaries:?}");
    tally.into_inner().unwrap()
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

fn exactly_once(tally: &HashMap<String, Vec<String>>, consented: &[String]) {
    for t in consented {
        let by = tally.get(t).map_or(0, Vec::len);
        assert_eq!(by, 1, "tenant {t} synced {by} times in the round (R-C6: not twice; R-C5: not skipped): {tally:?}");
    }
    assert_eq!(tally.len(), consented.len(), "only consented tenants: {tally:?}");
}

/// R-C6 + R-C5: three workers started together sync every tenant exactly once, and share
/// the work; the next round syncs each exactly once again (incrementally).
async fn three_workers_sync_every_tenant_exactly_once(backend: Backend) {
    let (env, consented) = fleet_env(backend).await;
    env.emu.set_fault(Fault {
        method: None,
        route: "*".into(),
        kind: FaultKind::Latency(Duration::from_millis(30)),
        times: None,
    });
    let tally = round_of(&env, 3).await;
    exactly_once(&tally, &consented);
    let mut per_worker: HashMap<&str, usize> = HashMap::new();
    for by in tally.values() {
        *per_worker.entry(by[0].as_str()).or_default() += 1;
    }
    assert!(per_worker.len() >= 2, "the work is shared: {per_worker:?}");
    // Every tenant's profiles landed.
    let first = edu_db::sync::profiles(&env.db, env.tenant).await.unwrap();
    assert!(!first.is_empty());
    // The next round: again exactly once each.
    let tally = round_of(&env, 3).await;
    exactly_once(&tally, &consented);
}

/// R-C5: a tenant whose lease another runner holds for a moment (e.g. `run --tenant`) is
/// given back to the round and synced once it is free: not skipped, not synced twice.
async fn a_tenant_held_for_a_moment_is_not_skipped(backend: Backend) {
    let (env, consented) = fleet_env(backend).await;
    let held = edu_db::sync::acquire_lease(&env.db, env.tenant, edu_sync::USERS_STREAM, "someone-else", 60_000, now())
        .await
        .unwrap()
        .unwrap();
    let db = env.db.clone();
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        edu_db::sync::release_lease(&db, held, now()).await.unwrap();
    });
    let tally = round_of(&env, 2).await;
    releaser.await.unwrap();
    exactly_once(&tally, &consented);
}

/// R-C6: a worker that dies holding a claim does not lose the tenant: the claim expires and
/// another worker of the same round takes it over, so the round still finishes.
async fn a_dead_workers_claim_is_taken_over(backend: Backend) {
    let (env, consented) = fleet_env(backend).await;
    let Join::Round { round, .. } = fleet::join(&env.db, None, now()).await.unwrap() else { panic!() };
    // "dead" claims a tenant with a 1 s claim and never finishes it.
    let dead = fleet::claim(&env.db, round, "dead#0", 1000, now()).await.unwrap().unwrap();
    let tally = round_of(&env, 2).await;
    assert_eq!(tally.get(&dead.tenant.ms_tenant_id).map(Vec::len), Some(1), "{tally:?}");
    exactly_once(&tally, &consented);
}

/// The round bookkeeping: a finished round opens the next one for exactly one worker, and
/// `--every` waits for the period.
async fn rounds_open_once_and_wait_for_the_period(backend: Backend) {
    let (env, _) = fleet_env(backend).await;
    let t0 = now();
    let (a, b) = tokio::join!(fleet::join(&env.db, None, t0), fleet::join(&env.db, None, t0));
    let (a, b) = (a.unwrap(), b.unwrap());
    let opened = [a, b].iter().filter(|j| matches!(j, Join::Round { opened: true, .. })).count();
    assert_eq!(opened, 1, "{a:?} {b:?}");
    let Join::Round { round, .. } = a else { panic!() };
    assert_eq!(b, Join::Round { round, opened: !matches!(a, Join::Round { opened: true, .. }) });
    // Claim and finish everything: the round is finished.
    while let Some(c) = fleet::claim(&env.db, round, "w#0", 60_000, now()).await.unwrap() {
        fleet::finish(&env.db, c.tenant.id, "w#0", fleet::Finish::Done, now()).await.unwrap();
    }
    assert_eq!(fleet::unfinished(&env.db, round).await.unwrap(), 0);
    // --every 1h: the next round is not due yet; --once opens it.
    let period = 3_600_000;
    assert!(matches!(fleet::join(&env.db, Some(period), now()).await.unwrap(), Join::WaitUntil(at) if at > now()));
    assert_eq!(fleet::join(&env.db, None, now()).await.unwrap(), Join::Round { round: round + 1, opened: true });
}

both_backends!(
    three_workers_sync_every_tenant_exactly_once,
    a_tenant_held_for_a_moment_is_not_skipped,
    a_dead_workers_claim_is_taken_over,
    rounds_open_once_and_wait_for_the_period
);

/// MariaDB ≥ 10.6 / MySQL 8: the claim skips a row another transaction has locked instead of
/// waiting for it (`FOR UPDATE SKIP LOCKED`), and takes the next most overdue tenant.
async fn the_claim_skips_a_locked_row() {
    let (env, _) = fleet_env(Backend::MySql).await;
    let Join::Round { round, .. } = fleet::join(&env.db, None, now()).await.unwrap() else { panic!() };
    let mut tx = env.db.begin().await.unwrap();
    let locked = fleet::lock_most_overdue(&mut tx).await.unwrap();
    let claim = tokio::time::timeout(Duration::from_secs(3), fleet::claim(&env.db, round, "w#0", 60_000, now()))
        .await
        .expect("the claim did not wait for the locked row")
        .unwrap()
        .unwrap();
    assert_ne!(claim.tenant.id, locked);
    tx.rollback().await.unwrap();
}

mod skip_locked {
    use super::*;
    mysql_only!(the_claim_skips_a_locked_row);
}
