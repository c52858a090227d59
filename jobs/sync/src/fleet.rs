//! A worker of the fleet: several `edugraph-sync` processes (or pods) share the consented
//! tenants with the database as the only coordinator (see [`edu_db::fleet`]). Each worker
//! joins the fleet's round and runs `concurrency` lanes; a lane claims the most overdue
//! tenant nobody holds, syncs it with [`crate::run_once`] (which still takes the fenced
//! per-stream leases), and ends the claim. A tenant whose lease another runner holds is given
//! back to the round and claimed again a moment later, never skipped. A lane ends when every
//! tenant of the round is finished (a dead worker's claim expires after the lease time and is
//! taken over), or when the worker is told to stop.

use std::sync::atomic::Ordering;
use std::time::Duration;

use edu_db::fleet::{self as store, Finish};

use crate::{Outcome, SyncDeps, SyncError, Tenant, TenantReport, now_ms, run_once, ttl_ms};

/// Called with every tenant this worker finished (synced or failed) in the round.
pub type OnDone<'a> = &'a (dyn Fn(&Tenant, &Result<TenantReport, SyncError>) + Sync);

/// What one worker did in a round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundSummary {
    /// The round.
    pub round: i64,
    /// Tenants this worker synced (completed).
    pub synced: u64,
    /// Tenants that failed.
    pub failed: u64,
    /// Times a claimed tenant was given back (its lease held elsewhere, or stopping).
    pub given_back: u64,
    /// Whether the worker stopped waiting for the round to finish (no progress for a long time).
    pub gave_up: bool,
}

/// How long a lane waits for a round that makes no progress before it stops waiting.
fn patience(deps: &SyncDeps) -> Duration {
    deps.lease_ttl * 2 + Duration::from_secs(60)
}

/// Works in `round` until it is finished: `concurrency` lanes claim, sync and finish tenants.
///
/// # Errors
/// Database errors of the claims (a tenant's own failure is reported through `on_done`).
pub async fn work_round(
    deps: &SyncDeps,
    round: i64,
    concurrency: usize,
    on_done: OnDone<'_>,
) -> Result<RoundSummary, SyncError> {
    let lanes = (0..concurrency.max(1)).map(|lane| lane_loop(deps, round, lane, on_done));
    let results = futures_util::future::join_all(lanes).await;
    let mut total = RoundSummary { round, ..RoundSummary::default() };
    for r in results {
        let r = r?;
        total.synced += r.synced;
        total.failed += r.failed;
        total.given_back += r.given_back;
        total.gave_up |= r.gave_up;
    }
    Ok(total)
}

async fn lane_loop(deps: &SyncDeps, round: i64, lane: usize, on_done: OnDone<'_>) -> Result<RoundSummary, SyncError> {
    let owner = format!("{}#{lane}", deps.instance);
    let ttl = ttl_ms(deps.lease_ttl);
    let mut summary = RoundSummary { round, ..RoundSummary::default() };
    let mut last_unfinished = i64::MAX;
    let mut progress_at = tokio::time::Instant::now();
    while !deps.stop.load(Ordering::SeqCst) {
        let Some(claim) = store::claim(&deps.db, round, &owner, ttl, now_ms()).await? else {
            let unfinished = store::unfinished(&deps.db, round).await?;
            if unfinished == 0 {
                break;
            }
            if unfinished < last_unfinished {
                (last_unfinished, progress_at) = (unfinished, tokio::time::Instant::now());
            } else if progress_at.elapsed() > patience(deps) {
                tracing::warn!(round, unfinished, "the round makes no progress: this worker stops waiting for it");
                summary.gave_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        progress_at = tokio::time::Instant::now();
        if claim.taken_over {
            tracing::info!(tenant = %claim.tenant.ms_tenant_id, round, "took over the claim of a worker that stopped renewing it");
        }
        let heartbeat = {
            let (db, tenant, owner, every) = (deps.db.clone(), claim.tenant.id, owner.clone(), deps.lease_ttl / 3);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match store::renew(&db, tenant, &owner, ttl, now_ms()).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => tracing::warn!(error = %e, "claim renewal failed"),
                    }
                }
            })
        };
        let result = run_once(deps, &claim.tenant).await;
        heartbeat.abort();
        let _ = heartbeat.await;
        let how = match &result {
            Ok(r) if r.outcome == Outcome::Busy => {
                // Another runner (e.g. `run --tenant`) holds the lease: back into the round.
                Finish::GiveBack { retry_at: now_ms() + 500 }
            }
            Ok(r) if r.outcome == Outcome::Stopped => Finish::GiveBack { retry_at: now_ms() },
            _ => Finish::Done,
        };
        store::finish(&deps.db, claim.tenant.id, &owner, how, now_ms()).await?;
        match (&result, how) {
            (_, Finish::GiveBack { .. }) => {
                summary.given_back += 1;
                if matches!(&result, Ok(r) if r.outcome == Outcome::Stopped) {
                    on_done(&claim.tenant, &result);
                }
            }
            (Ok(_), Finish::Done) => {
                summary.synced += 1;
                on_done(&claim.tenant, &result);
            }
            (Err(_), Finish::Done) => {
                summary.failed += 1;
                on_done(&claim.tenant, &result);
            }
        }
    }
    Ok(summary)
}
