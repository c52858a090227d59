//! The page-commit and sweep machinery shared by the three marked sync streams — the users
//! delta (`ms_profiles`), the group directory (`directory_members`) and the education
//! roster (`roster_users`, `roster_classes`).
//!
//! A round starts with [`begin_marked_round`] (a new mark). Each page is one transaction:
//! [`open`] begins it and checks the lease (the fence is its first statement, so a runner
//! that lost its lease writes nothing); the stream applies its rows, stamping every row it
//! sees with the round's mark ([`touch`] when nothing else changed); [`close`] moves the
//! checkpoint and commits. On the last page of a full round, [`close`] also sweeps: the
//! stream's active rows whose mark is older than the round's were not seen, and get the
//! stream's swept state (kept, never deleted), audited once with their number.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Transaction};

use crate::sync::{Checkpoint, Lease, PageEnd, Phase, fence, put_checkpoint};
use crate::{DbError, Exec, placeholders};

/// How a marked stream's table is swept at the end of a full round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marked {
    /// The table (with `tenant_id`, `state`, `sync_mark`, `synced_at`).
    pub table: &'static str,
    /// Its id column (after `tenant_id` in the key).
    pub id_column: &'static str,
    /// The state of an active row the round did not see (`archived`, `left`).
    pub swept_state: &'static str,
    /// Whether the table has a `left_at` stamped by the sweep.
    pub stamps_left_at: bool,
    /// The audit action of a sweep that changed rows.
    pub audit_action: &'static str,
    /// The audit target type of the stream's rows.
    pub audit_target_type: &'static str,
    /// The audit detail after the number of swept rows (`"{n} {detail}"`).
    pub audit_detail: &'static str,
}

/// Starts a full round of the lease's stream whose rows live in `table`: a new mark greater
/// than every mark already on the tenant's rows and the stream's previous mark; no next
/// link (the caller fetches the initial query); the previous deltaLink is dropped.
pub(crate) async fn begin_marked_round(
    db: impl Exec,
    lease: &Lease,
    table: &'static str,
    ttl_ms: i64,
    now: i64,
) -> Result<Checkpoint, DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = open(&mut conn, lease, ttl_ms, now).await?;
    let t = lease.tenant.to_string();
    let max_mark: i64 =
        sqlx::query_scalar(&format!("SELECT COALESCE(MAX(sync_mark), 0) FROM {table} WHERE tenant_id = ?"))
            .bind(&t)
            .fetch_one(&mut *tx)
            .await?;
    let prev: Option<i64> =
        sqlx::query_scalar("SELECT run_mark FROM sync_checkpoints WHERE tenant_id = ? AND stream = ?")
            .bind(&t)
            .bind(&lease.stream)
            .fetch_optional(&mut *tx)
            .await?;
    let cp = Checkpoint {
        next_link: None,
        delta_link: None,
        run_mark: max_mark.max(prev.unwrap_or(0)) + 1,
        pages: 0,
        phase: Phase::Full,
        last_error: None,
    };
    put_checkpoint(&mut tx, lease, &cp, now).await?;
    tx.commit().await?;
    Ok(cp)
}

/// Begins a page's transaction on `conn` and checks (and renews) the lease in it.
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost; database errors.
pub(crate) async fn open<'c>(
    conn: &'c mut AnyConnection,
    lease: &Lease,
    ttl_ms: i64,
    now: i64,
) -> Result<Transaction<'c, Any>, DbError> {
    let mut tx = crate::begin(conn).await?;
    fence(&mut tx, lease, ttl_ms, now).await?;
    Ok(tx)
}

/// The tenant's rows whose `id_column` is in `ids`, as `R`, read in bounded `IN` lists;
/// `select` is the `SELECT … FROM table` part.
pub(crate) async fn select_in<R>(
    conn: &mut AnyConnection,
    select: &str,
    id_column: &str,
    tenant: &str,
    ids: &[&str],
) -> Result<Vec<R>, DbError>
where
    R: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
{
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!("{select} WHERE tenant_id = ? AND {id_column} IN ({})", placeholders(chunk.len()));
        let mut q = sqlx::query_as::<_, R>(&sql).bind(tenant);
        for id in chunk {
            q = q.bind(*id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Stamps a row the page saw unchanged with the round's mark (so the sweep keeps it).
pub(crate) async fn touch(
    conn: &mut AnyConnection,
    m: &Marked,
    tenant: &str,
    id: &str,
    mark: i64,
) -> Result<(), DbError> {
    let sql = format!("UPDATE {} SET sync_mark = ? WHERE tenant_id = ? AND {} = ?", m.table, m.id_column);
    sqlx::query(&sql).bind(mark).bind(tenant).bind(id).execute(conn).await?;
    Ok(())
}

/// Ends a page: the next checkpoint (on [`PageEnd::Done`] the round is over: the deltaLink,
/// if not empty, is kept for the next incremental round, and a [`Phase::Full`] round sweeps
/// the rows it did not see), written and committed with the page. Returns the number of
/// swept rows and the new checkpoint.
///
/// # Errors
/// Database errors (nothing of the page is written).
pub(crate) async fn close(
    mut tx: Transaction<'_, Any>,
    m: &Marked,
    lease: &Lease,
    cp: &Checkpoint,
    end: &PageEnd,
    now: i64,
) -> Result<(u64, Checkpoint), DbError> {
    let mut swept = 0;
    let next = match end {
        PageEnd::Next(link) => {
            Checkpoint { next_link: Some(link.clone()), pages: cp.pages + 1, last_error: None, ..cp.clone() }
        }
        PageEnd::Done(delta) => {
            if cp.phase == Phase::Full {
                swept = sweep(&mut tx, m, lease, cp.run_mark, now).await?;
            }
            Checkpoint {
                next_link: None,
                delta_link: Some(delta.clone()).filter(|d| !d.is_empty()),
                run_mark: cp.run_mark,
                pages: cp.pages + 1,
                phase: Phase::Idle,
                last_error: None,
            }
        }
    };
    put_checkpoint(&mut tx, lease, &next, now).await?;
    tx.commit().await?;
    Ok((swept, next))
}

/// Gives the tenant's active rows not marked in this round the swept state; audited.
async fn sweep(conn: &mut AnyConnection, m: &Marked, lease: &Lease, mark: i64, now: i64) -> Result<u64, DbError> {
    let left_at = if m.stamps_left_at { ", left_at = ?" } else { "" };
    let sql = format!(
        "UPDATE {} SET state = ?{left_at}, synced_at = ? WHERE tenant_id = ? AND state = 'active' AND sync_mark < ?",
        m.table
    );
    let mut q = sqlx::query(&sql).bind(m.swept_state);
    if m.stamps_left_at {
        q = q.bind(now);
    }
    let swept = q.bind(now).bind(lease.tenant.to_string()).bind(mark).execute(&mut *conn).await?.rows_affected();
    if swept > 0 {
        let detail = format!("{swept} {}", m.audit_detail);
        crate::audit::record_sync(conn, lease.tenant, m.audit_action, m.audit_target_type, "*", Some(&detail), now)
            .await?;
    }
    Ok(swept)
}
