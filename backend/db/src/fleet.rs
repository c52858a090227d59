//! Several `edugraph-sync` workers share the tenants with the database as the only
//! coordinator (R-C6). The fleet works in rounds (`sync_fleet`, one row): a worker joins the
//! round in progress, or opens the next one when every tenant of the current one is finished
//! (and, for `--every`, its period has passed). Within a round each worker repeatedly claims
//! the most overdue tenant (oldest `last_started_at`) that this round has not claimed and
//! nobody holds: `SELECT … FOR UPDATE SKIP LOCKED` on MySQL 8 / MariaDB ≥ 10.6, so workers
//! never queue behind each other's candidate row, then one conditional UPDATE that is the
//! claim itself (on SQLite, which serialises writers, that UPDATE alone decides). A claim
//! moves the tenant into the round, so no tenant is synced twice in a round; a claim that
//! gives the tenant back unfinished (another runner held its lease for a moment, or a
//! SIGTERM) restores the previous round, so the tenant is claimed again rather than skipped;
//! a claim whose worker died expires at `claimed_until` and is taken over. The fenced
//! per-stream leases of [`crate::sync`] still guard every write.

use edu_domain::TenantId;

use crate::sync::SyncTenant;
use crate::{Db, DbError, Dialect};

/// The round a worker works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Work in this round (`opened`: this worker started it).
    Round {
        /// The round number.
        round: i64,
        /// Whether this worker opened it.
        opened: bool,
    },
    /// The last round is finished and the next one is not due before this time (ms).
    WaitUntil(i64),
}

/// A claimed tenant: sync it, then [`finish`] the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The tenant.
    pub tenant: SyncTenant,
    /// The round it was claimed in.
    pub round: i64,
    /// Whether it was taken over from a worker whose claim had expired.
    pub taken_over: bool,
}

/// How a claim ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Synced (or failed: the error is on its checkpoint); done for this round.
    Done,
    /// Not synced (its lease was held elsewhere, or the worker is stopping): back into the
    /// round, claimable again from `retry_at` (ms).
    GiveBack {
        /// When it may be claimed again.
        retry_at: i64,
    },
}

/// Adds the consented tenants that have no schedule row, drops the rows of tenants that are
/// no longer consented.
async fn refresh(db: &Db) -> Result<(), DbError> {
    let ignore = match db.dialect() {
        Dialect::MySql => "INSERT IGNORE",
        Dialect::Sqlite => "INSERT OR IGNORE",
    };
    sqlx::query(&format!(
        "{ignore} INTO sync_schedule (tenant_id) SELECT id FROM tenants WHERE consent_state = 'consented'"
    ))
    .execute(db.pool())
    .await?;
    sqlx::query(
        "DELETE FROM sync_schedule WHERE tenant_id NOT IN (SELECT id FROM tenants WHERE consent_state = 'consented')",
    )
    .execute(db.pool())
    .await?;
    sqlx::query(&format!("{ignore} INTO sync_fleet (id, round, round_started_at) VALUES (1, 0, 0)"))
        .execute(db.pool())
        .await?;
    Ok(())
}

async fn current(db: &Db) -> Result<(i64, i64), DbError> {
    let row: (i64, i64) =
        sqlx::query_as("SELECT round, round_started_at FROM sync_fleet WHERE id = 1").fetch_one(db.pool()).await?;
    Ok(row)
}

/// Tenants of `round` not finished yet: not claimed in it, or claimed and still running.
///
/// # Errors
/// Database errors.
pub async fn unfinished(db: &Db, round: i64) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sync_schedule WHERE synced_round < ? OR claimed_by IS NOT NULL")
        .bind(round)
        .fetch_one(db.pool())
        .await?)
}

/// The round to work in: the current one while it has unfinished tenants, else the next one
/// (opened by exactly one of the workers asking at once), unless `period_ms` says the next
/// round is not due yet.
///
/// # Errors
/// Database errors.
pub async fn join(db: &Db, period_ms: Option<i64>, now: i64) -> Result<Join, DbError> {
    refresh(db).await?;
    for _ in 0..5 {
        let (round, started) = current(db).await?;
        if round > 0 && unfinished(db, round).await? > 0 {
            return Ok(Join::Round { round, opened: false });
        }
        if let Some(p) = period_ms
            && round > 0
            && started.saturating_add(p) > now
        {
            return Ok(Join::WaitUntil(started.saturating_add(p)));
        }
        let opened =
            sqlx::query("UPDATE sync_fleet SET round = round + 1, round_started_at = ? WHERE id = 1 AND round = ?")
                .bind(now)
                .bind(round)
                .execute(db.pool())
                .await?
                .rows_affected();
        if opened == 1 {
            return Ok(Join::Round { round: round + 1, opened: true });
        }
        // Another worker opened it first: join that one.
    }
    Err(DbError::Conflict("sync round"))
}

const CLAIMABLE: &str =
    "((synced_round < ? AND claimed_by IS NULL AND retry_at <= ?) OR (claimed_by IS NOT NULL AND claimed_until < ?))";

/// Claims the most overdue tenant of `round` that nobody holds, for `ttl_ms` (renew with
/// [`renew`]); `None` when there is none to claim right now.
///
/// # Errors
/// Database errors.
pub async fn claim(db: &Db, round: i64, owner: &str, ttl_ms: i64, now: i64) -> Result<Option<Claim>, DbError> {
    // MySQL: the candidate row stays locked (SKIP LOCKED for the others) until the UPDATE
    // commits. SQLite: no transaction (a read snapshot could not be upgraded to a write once
    // another worker committed); the conditional UPDATE decides, and a worker that lost the
    // race tries the next candidate.
    for _ in 0..8 {
        let mut conn = db.pool().acquire().await?;
        let mysql = db.dialect() == Dialect::MySql;
        if mysql {
            sqlx::query("BEGIN").execute(&mut *conn).await?;
        }
        let lock = if mysql { " FOR UPDATE SKIP LOCKED" } else { "" };
        let picked = pick_and_claim(&mut conn, lock, round, owner, ttl_ms, now).await;
        if mysql {
            let end = if matches!(picked, Ok(Picked::Claimed(..))) { "COMMIT" } else { "ROLLBACK" };
            if let Err(e) = sqlx::query(end).execute(&mut *conn).await {
                drop(conn.detach());
                return Err(e.into());
            }
        }
        match picked? {
            Picked::None => return Ok(None),
            Picked::Lost => {}
            Picked::Claimed(tenant_id, taken_over) => {
                let row: Option<(String, String, String)> =
                    sqlx::query_as("SELECT id, ms_tenant_id, display_name FROM tenants WHERE id = ?")
                        .bind(&tenant_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let Some((id, ms_tenant_id, display_name)) = row else { continue };
                let id =
                    TenantId::parse(&id).map_err(|_| DbError::Corrupt { table: "tenants", detail: "bad id".into() })?;
                return Ok(Some(Claim { tenant: SyncTenant { id, ms_tenant_id, display_name }, round, taken_over }));
            }
        }
    }
    Ok(None)
}

enum Picked {
    None,
    Lost,
    Claimed(String, bool),
}

async fn pick_and_claim(
    conn: &mut sqlx::AnyConnection,
    lock: &str,
    round: i64,
    owner: &str,
    ttl_ms: i64,
    now: i64,
) -> Result<Picked, DbError> {
    let candidate: Option<(String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT tenant_id, claimed_by FROM sync_schedule WHERE {CLAIMABLE}
         ORDER BY last_started_at, tenant_id LIMIT 1{lock}"
    ))
    .bind(round)
    .bind(now)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((tenant_id, held_by)) = candidate else { return Ok(Picked::None) };
    // Assignment order matters on MySQL (later ones see earlier results): prev_round
    // first, from the old synced_round and claimed_by.
    let n = sqlx::query(&format!(
        "UPDATE sync_schedule SET prev_round = CASE WHEN claimed_by IS NULL THEN synced_round ELSE prev_round END,
                                  synced_round = ?, claimed_by = ?, claimed_until = ?, last_started_at = ?
         WHERE tenant_id = ? AND {CLAIMABLE}"
    ))
    .bind(round)
    .bind(owner)
    .bind(now.saturating_add(ttl_ms))
    .bind(now)
    .bind(&tenant_id)
    .bind(round)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(if n == 1 { Picked::Claimed(tenant_id, held_by.is_some()) } else { Picked::Lost })
}

/// Extends a claim; `false` when it was lost (expired and taken over).
///
/// # Errors
/// Database errors.
pub async fn renew(db: &Db, tenant: TenantId, owner: &str, ttl_ms: i64, now: i64) -> Result<bool, DbError> {
    let n = sqlx::query("UPDATE sync_schedule SET claimed_until = ? WHERE tenant_id = ? AND claimed_by = ?")
        .bind(now.saturating_add(ttl_ms))
        .bind(tenant.to_string())
        .bind(owner)
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Ends a claim (no-op when it was lost).
///
/// # Errors
/// Database errors.
pub async fn finish(db: &Db, tenant: TenantId, owner: &str, how: Finish, now: i64) -> Result<(), DbError> {
    let q = match how {
        Finish::Done => sqlx::query(
            "UPDATE sync_schedule SET claimed_by = NULL, claimed_until = 0, last_finished_at = ?
             WHERE tenant_id = ? AND claimed_by = ?",
        )
        .bind(now),
        Finish::GiveBack { retry_at } => sqlx::query(
            "UPDATE sync_schedule SET synced_round = prev_round, claimed_by = NULL, claimed_until = 0, retry_at = ?
             WHERE tenant_id = ? AND claimed_by = ?",
        )
        .bind(retry_at),
    };
    q.bind(tenant.to_string()).bind(owner).execute(db.pool()).await?;
    Ok(())
}

/// For tests of the claim: locks (`SELECT … FOR UPDATE`, MySQL) the schedule row of the most
/// overdue tenant in the caller's transaction, as a worker in the middle of its claim does;
/// returns that tenant.
///
/// # Errors
/// Database errors; no schedule row.
pub async fn lock_most_overdue(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<TenantId, DbError> {
    let id: String = sqlx::query_scalar(
        "SELECT tenant_id FROM sync_schedule ORDER BY last_started_at, tenant_id LIMIT 1 FOR UPDATE",
    )
    .fetch_one(&mut **tx)
    .await?;
    TenantId::parse(&id).map_err(|_| DbError::Corrupt { table: "sync_schedule", detail: "bad id".into() })
}
