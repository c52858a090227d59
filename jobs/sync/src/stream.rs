//! The page loop shared by the three streams (users delta, group directory, education
//! roster): pick the checkpoint to start from, then fetch a page, commit it with its
//! checkpoint (`edu_db`'s page-commit/sweep helper, one transaction fenced by the lease),
//! report it, and stop after the last page or when asked to.

use std::sync::atomic::Ordering;

use edu_db::sync::{Checkpoint, Lease, PageEnd, Phase, SyncTenant};
use edu_db::{Db, DbError};
use edu_msgraph::{GraphAuth, GraphError};

use crate::{SyncDeps, SyncError, db_err, now_ms, ttl_ms};

/// One page as fetched from Graph.
pub(crate) struct Fetched<T> {
    /// The page's changes (or members), as the stream commits them.
    pub items: T,
    /// How many items the page carried (for the progress display).
    pub len: usize,
    /// `@odata.nextLink`.
    pub next_link: Option<String>,
    /// `@odata.deltaLink`.
    pub delta_link: Option<String>,
}

/// A stream synced page by page into a marked table.
pub(crate) trait Stream {
    /// A page's items.
    type Items;
    /// What a committed page changed.
    type Counts;

    /// A delta stream resumes from its deltaLink (an incremental round), and an expired delta
    /// token restarts it with a full round; a listing (the directory) always runs full rounds
    /// and its last page has no deltaLink.
    const DELTA: bool;

    /// The stream's name in `sync_checkpoints` (and in progress reports).
    fn name(&self) -> &'static str;

    /// Starts a full round (new mark).
    async fn begin_round(&self, db: &Db, lease: &Lease, ttl: i64, now: i64) -> Result<Checkpoint, DbError>;

    /// Fetches the page `cp` points at (its next link, or the initial query).
    async fn fetch(
        &self,
        deps: &SyncDeps,
        auth: &GraphAuth,
        cp: &Checkpoint,
    ) -> Result<Fetched<Self::Items>, GraphError>;

    /// Commits a page with the next checkpoint.
    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &self,
        db: &Db,
        lease: &Lease,
        cp: &Checkpoint,
        items: &Self::Items,
        end: &PageEnd,
        ttl: i64,
        now: i64,
    ) -> Result<(Self::Counts, Checkpoint), DbError>;
}

/// What a run of a stream did (its counts go to the caller's `counted`).
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// Pages committed in this run.
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// Whether this run was (or continued) a full round.
    pub full: bool,
    /// Whether an expired delta token started a full resync.
    pub resynced: bool,
    /// Stopped on request after a committed page.
    pub stopped: bool,
}

/// Runs `stream` for `tenant` under `lease` (held by the caller): resumes a round in
/// progress, or starts an incremental round from the saved deltaLink (delta streams, unless
/// a full reconciliation is asked for), or a full round; then commits page by page until
/// the last page or a stop request.
///
/// # Errors
/// Graph errors after the client's retries, database errors, a lost lease; the checkpoint
/// keeps the last committed page.
pub(crate) async fn run<S: Stream>(
    deps: &SyncDeps,
    tenant: &SyncTenant,
    lease: &Lease,
    stream: &S,
    mut counted: impl FnMut(S::Counts),
) -> Result<Run, SyncError> {
    let db = &deps.db;
    let ttl = ttl_ms(deps.lease_ttl);
    let mut cp = match edu_db::sync::checkpoint(db, tenant.id, stream.name()).await? {
        // Resume a round where the last committed page left it.
        Some(cp) if cp.next_link.is_some() && cp.phase != Phase::Idle => cp,
        Some(cp) if S::DELTA && cp.phase == Phase::Idle && cp.delta_link.is_some() && !deps.force_full => {
            edu_db::sync::incremental_round(&cp)
        }
        _ => stream.begin_round(db, lease, ttl, now_ms()).await.map_err(db_err)?,
    };
    let mut run = Run { full: cp.phase == Phase::Full, ..Run::default() };
    let auth = GraphAuth::app_only(tenant.ms_tenant_id.clone());
    let mut resyncs = 0u32;
    loop {
        let page = match stream.fetch(deps, &auth, &cp).await {
            Ok(p) => p,
            Err(e) if S::DELTA && e.is_resync_required() && resyncs < 2 => {
                resyncs += 1;
                tracing::warn!(tenant = %tenant.ms_tenant_id, stream = stream.name(), code = ?e.code(), "delta token expired: full resync (mark and sweep)");
                run.resynced = true;
                run.full = true;
                cp = stream.begin_round(db, lease, ttl, now_ms()).await.map_err(db_err)?;
                continue;
            }
            Err(e) if S::DELTA && e.is_resync_required() => {
                return Err(SyncError::Protocol("resync required again right after a resync".into()));
            }
            Err(e) => return Err(e.into()),
        };
        let end = match (page.next_link, page.delta_link) {
            (Some(next), _) => PageEnd::Next(next),
            (None, Some(delta)) if S::DELTA => PageEnd::Done(delta),
            (None, _) if !S::DELTA => PageEnd::Done(String::new()),
            (None, _) => return Err(SyncError::Protocol("delta page without nextLink or deltaLink".into())),
        };
        let (counts, next) = stream.commit(db, lease, &cp, &page.items, &end, ttl, now_ms()).await.map_err(db_err)?;
        counted(counts);
        run.pages += 1;
        run.items += page.len as u64;
        deps.page_done(&tenant.ms_tenant_id, stream.name(), run.pages, run.items);
        tracing::debug!(tenant = %tenant.ms_tenant_id, stream = stream.name(), page = next.pages, items = page.len, "page committed");
        if matches!(end, PageEnd::Done(_)) {
            return Ok(run);
        }
        if deps.stop.load(Ordering::SeqCst) {
            run.stopped = true;
            return Ok(run);
        }
        cp = next;
    }
}
