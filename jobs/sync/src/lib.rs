//! `edugraph-sync`: keeps `ms_profiles` in step with each consented tenant through
//! Microsoft Graph `/users/delta`, app-only with a certificate client assertion.
//!
//! Crash safety (R-C3): every page's changes and the next checkpoint (nextLink) commit in
//! one transaction (`edu_db::sync::commit_page`); the deltaLink is stored with the last
//! page. A run resumes from the last committed checkpoint. An expired delta token (410
//! `resyncRequired` / `syncStateNotFound`) starts a full round with a new mark; at its end
//! active profiles not seen are archived (kept), never deleted (R-C4).
//!
//! Single runner (R-C6): a fenced lease row per (tenant, stream), plus `GET_LOCK` on a
//! dedicated connection on MySQL/MariaDB; every page commit checks the fencing token.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use edu_db::roster::RosterKind;
use edu_db::sync::{self as store, Checkpoint, Lease, PageEnd, ProfileChange, ProfilePatch, SyncTenant};
use edu_db::{Db, DbError};
use edu_msgraph::{
    AssertionAlg, ClientCredential, GraphAuth, GraphClient, GraphError, GraphRequest, GraphSettings, Query,
};
use futures_util::StreamExt as _;
use secrecy::SecretString;

pub use edu_db::sync::SyncTenant as Tenant;

pub mod directory;
pub mod export;
pub mod fleet;
pub mod members;
pub mod roster;
mod stream;

/// The stream name of the users delta in `sync_checkpoints` / `sync_leases`.
pub const USERS_STREAM: &str = "users";

/// The user properties we keep (the `$select` of the users delta).
pub const USER_SELECT: &[&str] = &[
    "id",
    "displayName",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "department",
    "mobilePhone",
    "officeLocation",
    "accountEnabled",
];

// ------------------------------------------------------------------ configuration

/// A configuration problem: which variable, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn cfg_err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { var, problem: problem.into() }
}

/// The job's configuration (environment variables).
#[derive(Debug, Clone)]
pub struct Config {
    /// `EDUGRAPH_DATABASE_URL`.
    pub database_url: String,
    /// `EDUGRAPH_MS_AUTHORITY` (e.g. `https://login.microsoftonline.com`).
    pub authority: String,
    /// `EDUGRAPH_GRAPH_URL` (e.g. `https://graph.microsoft.com`).
    pub graph_url: String,
    /// `EDUGRAPH_CLIENT_ID`.
    pub client_id: String,
    /// `EDUGRAPH_SYNC_CERT_FILE` (PEM).
    pub cert_file: String,
    /// `EDUGRAPH_SYNC_KEY_FILE` (PEM).
    pub key_file: String,
    /// `EDUGRAPH_SYNC_ALG`: `ps256` (default, `x5t#S256`) or `rs256` (`x5t`).
    pub alg: AssertionAlg,
    /// `EDUGRAPH_SYNC_CONCURRENCY`: tenants synced in parallel (default 4).
    pub concurrency: usize,
    /// `EDUGRAPH_SYNC_PAGE_SIZE`: `Prefer: odata.maxpagesize` (optional).
    pub page_size: Option<u32>,
    /// `EDUGRAPH_SYNC_LEASE_SECS`: lease time to live (default 120 s).
    pub lease_ttl: Duration,
    /// `EDUGRAPH_SYNC_ROSTER`: also sync the education roster (classes and education users
    /// delta); `true` by default, `false` for a tenant without Microsoft 365 Education.
    pub roster: bool,
    /// `EDUGRAPH_SYNC_MEMBERS_EVERY_SECS`: a new round of class memberships starts at most this
    /// often (default 3600 s; 0: every run). A round in progress always continues; `--full`
    /// always starts one.
    pub members_every: Duration,
}

impl Config {
    /// Reads the configuration through `get` (the process environment in the binary).
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |var: &'static str| -> Result<String, ConfigError> {
            match get(var) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                _ => Err(cfg_err(var, "missing")),
            }
        };
        let url = |var: &'static str| -> Result<String, ConfigError> {
            let v = need(var)?;
            if v.starts_with("http://") || v.starts_with("https://") {
                Ok(v.trim_end_matches('/').to_owned())
            } else {
                Err(cfg_err(var, "must be an http(s) URL"))
            }
        };
        let database_url = need("EDUGRAPH_DATABASE_URL")?;
        edu_db::Dialect::of_url(&database_url)
            .map_err(|_| cfg_err("EDUGRAPH_DATABASE_URL", "must be mysql://… or sqlite://…"))?;
        let alg = match get("EDUGRAPH_SYNC_ALG").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "ps256") => AssertionAlg::Ps256,
            Some("rs256") => AssertionAlg::Rs256,
            Some(_) => return Err(cfg_err("EDUGRAPH_SYNC_ALG", "must be ps256 or rs256")),
        };
        let positive = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(var).map(|v| v.trim().to_owned()) {
                None => Ok(default),
                Some(v) if v.is_empty() => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(cfg_err(var, "must be a positive integer")),
                },
            }
        };
        let concurrency = usize::try_from(positive("EDUGRAPH_SYNC_CONCURRENCY", 4)?.min(64)).unwrap_or(4);
        let page_size = match get("EDUGRAPH_SYNC_PAGE_SIZE") {
            Some(v) if !v.trim().is_empty() => Some(
                u32::try_from(positive("EDUGRAPH_SYNC_PAGE_SIZE", 200)?.min(999))
                    .map_err(|_| cfg_err("EDUGRAPH_SYNC_PAGE_SIZE", "too large"))?,
            ),
            _ => None,
        };
        let lease_ttl = Duration::from_secs(positive("EDUGRAPH_SYNC_LEASE_SECS", 120)?);
        let roster = match get("EDUGRAPH_SYNC_ROSTER").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(_) => return Err(cfg_err("EDUGRAPH_SYNC_ROSTER", "must be true or false")),
        };
        let members_every = match get("EDUGRAPH_SYNC_MEMBERS_EVERY_SECS").map(|v| v.trim().to_owned()) {
            None => Duration::from_secs(3600),
            Some(v) if v.is_empty() => Duration::from_secs(3600),
            Some(v) => Duration::from_secs(
                v.parse::<u64>()
                    .map_err(|_| cfg_err("EDUGRAPH_SYNC_MEMBERS_EVERY_SECS", "must be a whole number of seconds"))?,
            ),
        };
        Ok(Self {
            database_url,
            authority: url("EDUGRAPH_MS_AUTHORITY")?,
            graph_url: url("EDUGRAPH_GRAPH_URL")?,
            client_id: need("EDUGRAPH_CLIENT_ID")?,
            cert_file: need("EDUGRAPH_SYNC_CERT_FILE")?,
            key_file: need("EDUGRAPH_SYNC_KEY_FILE")?,
            alg,
            concurrency,
            page_size,
            lease_ttl,
            roster,
            members_every,
        })
    }

    /// Reads the certificate and key files into a credential.
    ///
    /// # Errors
    /// Unreadable files or PEM that does not parse (naming the variable).
    pub fn credential(&self) -> Result<ClientCredential, ConfigError> {
        let cert = std::fs::read_to_string(&self.cert_file)
            .map_err(|e| cfg_err("EDUGRAPH_SYNC_CERT_FILE", format!("cannot read: {e}")))?;
        let key = std::fs::read_to_string(&self.key_file)
            .map_err(|e| cfg_err("EDUGRAPH_SYNC_KEY_FILE", format!("cannot read: {e}")))?;
        ClientCredential::certificate_from_pem(&cert, SecretString::from(key), self.alg).map_err(|e| {
            let var = if e.to_string().contains("private key") {
                "EDUGRAPH_SYNC_KEY_FILE"
            } else {
                "EDUGRAPH_SYNC_CERT_FILE"
            };
            cfg_err(var, e.to_string())
        })
    }

    /// The Graph settings (shared client: retries 429/503/504 honouring `Retry-After`).
    #[must_use]
    pub fn graph_settings(&self) -> GraphSettings {
        GraphSettings::new(&self.graph_url, &self.authority, &self.client_id)
    }
}

/// Parses `90s`, `15m`, `1h`, `1d` or plain seconds.
///
/// # Errors
/// Anything else, or zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration `{s}` (e.g. 30s, 15m, 1h)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("invalid duration `{s}` (e.g. 30s, 15m, 1h)")),
    };
    if secs == 0 {
        return Err("duration must be positive".into());
    }
    Ok(Duration::from_secs(secs))
}

// ------------------------------------------------------------------ running

/// What a run reports as it goes, for a display (`edugraph-sync run` on a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// A page of `stream` was committed: the stream's pages and items so far in this run.
    Page {
        /// Microsoft tenant id.
        tenant: &'a str,
        /// `users`, `directory`, `edu_classes`, `edu_users`.
        stream: &'a str,
        /// Pages committed so far in this run of the stream.
        pages: u64,
        /// Items (changes, members) in those pages.
        items: u64,
    },
    /// A tenant's run ended.
    TenantDone {
        /// Microsoft tenant id.
        tenant: &'a str,
        /// Whether it failed.
        failed: bool,
    },
}

/// Receives [`Progress`]; called from the sync tasks, so it must be cheap.
pub type ProgressFn = Arc<dyn Fn(Progress<'_>) + Send + Sync>;

/// What a run needs.
#[derive(Clone)]
pub struct SyncDeps {
    /// The database.
    pub db: Db,
    /// The Graph client (certificate credential for app-only tokens).
    pub graph: GraphClient,
    /// `Prefer: odata.maxpagesize`, if set.
    pub page_size: Option<u32>,
    /// Lease time to live (renewed every third of it and at every page commit).
    pub lease_ttl: Duration,
    /// Identifies this process in lease rows (each run adds a random suffix).
    pub instance: String,
    /// Set to stop after the current page (SIGTERM): the checkpoint is committed, the lease released.
    pub stop: Arc<AtomicBool>,
    /// Start a full round (mark and sweep) instead of an incremental one: the periodic full
    /// reconciliation (R-C5). A round in progress is finished first.
    pub force_full: bool,
    /// Also sync the education roster streams (`edu_classes`, `edu_users`, `edu_members`).
    pub roster: bool,
    /// A new round of class memberships (`edu_members`) starts at most this often; a round
    /// in progress always continues, `force_full` always starts one.
    pub members_every: Duration,
    /// Told about every committed page and finished tenant (a progress display), if set.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for SyncDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncDeps").field("instance", &self.instance).finish_non_exhaustive()
    }
}

impl SyncDeps {
    /// Deps with defaults: no page size, 120 s lease, a random instance name.
    #[must_use]
    pub fn new(db: Db, graph: GraphClient) -> Self {
        Self {
            db,
            graph,
            page_size: None,
            lease_ttl: Duration::from_secs(120),
            instance: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            stop: Arc::new(AtomicBool::new(false)),
            force_full: false,
            roster: true,
            members_every: Duration::from_secs(3600),
            progress: None,
        }
    }

    pub(crate) fn page_done(&self, tenant: &str, stream: &str, pages: u64, items: u64) {
        if let Some(p) = &self.progress {
            p(Progress::Page { tenant, stream, pages, items });
        }
    }
}

/// Why a tenant's run failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Database error.
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// Graph error (after the client's retries).
    #[error("{0}")]
    Graph(#[from] GraphError),
    /// Another runner took the lease over (ours had expired): this run stopped without writing.
    #[error("lease lost: another runner took over")]
    LeaseLost,
    /// Graph sent a page with neither a nextLink nor a deltaLink, or kept asking for resyncs.
    #[error("protocol: {0}")]
    Protocol(String),
}

pub(crate) fn db_err(e: DbError) -> SyncError {
    match e {
        DbError::Conflict("sync lease") => SyncError::LeaseLost,
        e => SyncError::Db(e),
    }
}

/// How a tenant's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The round completed; the deltaLink is stored.
    Completed,
    /// Another runner holds the tenant: nothing done (not a failure).
    Busy,
    /// Stopped on request after a committed page; the next run resumes.
    Stopped,
}

/// One tenant's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantReport {
    /// Microsoft tenant id.
    pub ms_tenant_id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// New profiles.
    pub added: u64,
    /// Changed (or restored) profiles.
    pub changed: u64,
    /// Disabled (`@removed: changed`).
    pub disabled: u64,
    /// Deleted (`@removed: deleted`).
    pub deleted: u64,
    /// Archived by a full round's sweep.
    pub archived: u64,
    /// Pages committed in this run.
    pub pages: u64,
    /// Whether a full resync was started (expired delta token).
    pub resynced: bool,
    /// Whether this run was (or continued) a full round.
    pub full: bool,
    /// Wall time.
    pub duration: Duration,
    /// The group-scoped directory round, when the tenant named a group.
    pub directory: Option<directory::DirectoryReport>,
    /// The education roster streams (classes, then users), unless switched off.
    pub roster: Vec<roster::RosterReport>,
    /// The class memberships round (after both roster streams completed), unless switched off.
    pub members: Option<members::MembersReport>,
}

impl TenantReport {
    fn new(ms_tenant_id: &str) -> Self {
        Self {
            ms_tenant_id: ms_tenant_id.to_owned(),
            outcome: Outcome::Completed,
            added: 0,
            changed: 0,
            disabled: 0,
            deleted: 0,
            archived: 0,
            pages: 0,
            resynced: false,
            full: false,
            duration: Duration::ZERO,
            directory: None,
            roster: Vec::new(),
            members: None,
        }
    }

    /// The one summary line printed per tenant.
    #[must_use]
    pub fn summary_line(&self) -> String {
        let status = match self.outcome {
            Outcome::Completed => "ok",
            Outcome::Busy => "busy",
            Outcome::Stopped => "stopped",
        };
        let mut directory = self.directory.as_ref().map(|d| format!(" {}", d.summary())).unwrap_or_default();
        for r in &self.roster {
            directory.push(' ');
            directory.push_str(&r.summary());
        }
        if let Some(m) = &self.members {
            directory.push(' ');
            directory.push_str(&m.summary());
        }
        format!(
            "tenant={} status={status} added={} changed={} disabled={} deleted={} archived={} pages={} full={} resync={} duration_ms={}{directory}",
            self.ms_tenant_id,
            self.added,
            self.changed,
            self.disabled,
            self.deleted,
            self.archived,
            self.pages,
            self.full,
            self.resynced,
            self.duration.as_millis()
        )
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn ttl_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// A delta page, parsed from the raw JSON so that absent properties (Graph sends "at least
/// the changed properties" of an updated user) are told apart from `null` ones.
struct Page {
    changes: Vec<ProfileChange>,
    next_link: Option<String>,
    delta_link: Option<String>,
}

#[allow(clippy::option_option, reason = "absent vs null")]
fn text(o: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<Option<String>> {
    o.get(key).map(|v| v.as_str().map(str::to_owned))
}

fn parse_page(body: &[u8]) -> Result<Page, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let link = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
    let items = v.get("value").and_then(serde_json::Value::as_array).ok_or("no `value` array")?;
    let mut changes = Vec::with_capacity(items.len());
    for item in items {
        let Some(o) = item.as_object() else { continue };
        let Some(id) = o.get("id").and_then(serde_json::Value::as_str).filter(|id| !id.is_empty()) else {
            continue;
        };
        let id = id.to_ascii_lowercase();
        if let Some(removed) = o.get("@removed") {
            match removed.get("reason").and_then(serde_json::Value::as_str) {
                Some("deleted") => changes.push(ProfileChange::Delete(id)),
                // `changed` (soft delete) and unknown reasons: the conservative, restorable choice.
                _ => changes.push(ProfileChange::Disable(id)),
            }
            continue;
        }
        changes.push(ProfileChange::Upsert(ProfilePatch {
            ms_object_id: id,
            display_name: text(o, "displayName"),
            mail: text(o, "mail"),
            user_principal_name: text(o, "userPrincipalName"),
            job_title: text(o, "jobTitle"),
            department: text(o, "department"),
            mobile_phone: text(o, "mobilePhone"),
            office_location: text(o, "officeLocation"),
            account_enabled: o.get("accountEnabled").map(serde_json::Value::as_bool),
        }));
    }
    Ok(Page { changes, next_link: link("@odata.nextLink"), delta_link: link("@odata.deltaLink") })
}

async fn fetch_page(deps: &SyncDeps, auth: &GraphAuth, cp: &Checkpoint) -> Result<Page, GraphError> {
    let target = match &cp.next_link {
        Some(link) => link.clone(),
        None => Query::new().select(USER_SELECT).apply("/users/delta"),
    };
    let mut req = GraphRequest::get(target);
    if let Some(n) = deps.page_size {
        req = req.header("Prefer", format!("odata.maxpagesize={n}"));
    }
    let resp = deps.graph.send(auth, req).await?;
    parse_page(&resp.body).map_err(|message| GraphError::Decode {
        message,
        detail: Box::new(edu_msgraph::ErrorDetail::from_response(resp.status, Some(&resp.headers), &[])),
    })
}

/// The users delta (`/users/delta` into `ms_profiles`) of the tenant with this Microsoft id.
struct UsersStream<'a> {
    ms_tenant_id: &'a str,
}

impl stream::Stream for UsersStream<'_> {
    type Items = Vec<ProfileChange>;
    type Counts = store::PageCounts;
    const DELTA: bool = true;

    fn name(&self) -> &'static str {
        USERS_STREAM
    }

    async fn begin_round(&self, db: &Db, lease: &Lease, ttl: i64, now: i64) -> Result<Checkpoint, DbError> {
        store::begin_full_round(db, lease, ttl, now).await
    }

    async fn fetch(
        &self,
        deps: &SyncDeps,
        auth: &GraphAuth,
        cp: &Checkpoint,
    ) -> Result<stream::Fetched<Self::Items>, GraphError> {
        let Page { changes, next_link, delta_link } = fetch_page(deps, auth, cp).await?;
        Ok(stream::Fetched { len: changes.len(), items: changes, next_link, delta_link })
    }

    async fn commit(
        &self,
        db: &Db,
        lease: &Lease,
        cp: &Checkpoint,
        items: &Self::Items,
        end: &PageEnd,
        ttl: i64,
        now: i64,
    ) -> Result<(Self::Counts, Checkpoint), DbError> {
        store::commit_page(db, lease, self.ms_tenant_id, cp, items, end, ttl, now).await
    }
}

async fn sync_users(
    deps: &SyncDeps,
    tenant: &SyncTenant,
    lease: &Lease,
    report: &mut TenantReport,
) -> Result<(), SyncError> {
    let users = UsersStream { ms_tenant_id: &tenant.ms_tenant_id };
    let run = stream::run(deps, tenant, lease, &users, |counts| {
        report.added += counts.added;
        report.changed += counts.changed;
        report.disabled += counts.disabled;
        report.deleted += counts.deleted;
        report.archived += counts.archived;
    })
    .await?;
    report.pages += run.pages;
    report.full = run.full;
    report.resynced = run.resynced;
    if run.stopped {
        report.outcome = Outcome::Stopped;
    }
    Ok(())
}

/// A held lease with its heartbeat.
struct Held {
    lease: Arc<Lease>,
    heartbeat: tokio::task::JoinHandle<()>,
}

/// Takes the lease of (tenant, stream) and starts renewing it; `None` when another runner holds it.
async fn hold(deps: &SyncDeps, tenant: &SyncTenant, stream: &str) -> Result<Option<Held>, SyncError> {
    let owner = format!("{}:{}", deps.instance, uuid::Uuid::new_v4().simple());
    let ttl = ttl_ms(deps.lease_ttl);
    let Some(lease) = store::acquire_lease(&deps.db, tenant.id, stream, &owner, ttl, now_ms()).await? else {
        tracing::info!(tenant = %tenant.ms_tenant_id, stream, "already running elsewhere: skipped");
        return Ok(None);
    };
    let lease = Arc::new(lease);
    let heartbeat = {
        let (db, lease, every) = (deps.db.clone(), Arc::clone(&lease), deps.lease_ttl / 3);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store::renew_lease(&db, &lease, ttl, now_ms()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(tenant = %lease.tenant, stream = %lease.stream, "lease lost");
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "lease renewal failed"),
                }
            }
        })
    };
    Ok(Some(Held { lease, heartbeat }))
}

/// Stops the heartbeat, records `error` on the checkpoint, releases the lease.
async fn release(deps: &SyncDeps, held: Held, error: Option<&SyncError>) {
    held.heartbeat.abort();
    let _ = held.heartbeat.await;
    if let Some(e) = error
        && let Err(e2) = store::record_error(&deps.db, &held.lease, &e.to_string(), now_ms()).await
    {
        tracing::warn!(error = %e2, "could not record the error on the checkpoint");
    }
    match Arc::try_unwrap(held.lease) {
        Ok(lease) => {
            if let Err(e) = store::release_lease(&deps.db, lease, now_ms()).await {
                tracing::warn!(error = %e, "could not release the lease (it will expire)");
            }
        }
        Err(_) => tracing::warn!("lease still shared: left to expire"),
    }
}

/// Syncs one tenant: the users delta (takes the lease or reports [`Outcome::Busy`], resumes
/// or starts a delta round, commits page by page, stores the deltaLink, releases the lease),
/// then, when the tenant named a group, the group-scoped directory (its own lease and
/// checkpoint, see [`directory`]).
///
/// # Errors
/// Graph errors after the client's retries, database errors, a lost lease. The
/// checkpoint keeps the last committed page: the next run resumes from there.
pub async fn run_once(deps: &SyncDeps, tenant: &SyncTenant) -> Result<TenantReport, SyncError> {
    let started = Instant::now();
    let mut report = TenantReport::new(&tenant.ms_tenant_id);
    let Some(held) = hold(deps, tenant, USERS_STREAM).await? else {
        report.outcome = Outcome::Busy;
        report.duration = started.elapsed();
        return Ok(report);
    };
    let result = sync_users(deps, tenant, &held.lease, &mut report).await;
    release(deps, held, result.as_ref().err()).await;
    result?;
    if report.outcome == Outcome::Completed
        && let Some(group) = edu_db::directory::group(&deps.db, tenant.id).await?
    {
        let mut dir = directory::DirectoryReport::new();
        match hold(deps, tenant, edu_db::directory::STREAM).await? {
            None => dir.outcome = Outcome::Busy,
            Some(held) => {
                let r = directory::sync_directory(deps, tenant, &group, &held.lease, &mut dir).await;
                release(deps, held, r.as_ref().err()).await;
                r?;
            }
        }
        report.directory = Some(dir);
    }
    if report.outcome == Outcome::Completed && deps.roster && !deps.stop.load(Ordering::SeqCst) {
        for kind in [RosterKind::Classes, RosterKind::Users] {
            let mut r = roster::RosterReport::new(kind);
            match hold(deps, tenant, kind.stream()).await? {
                None => r.outcome = Outcome::Busy,
                Some(held) => {
                    let res = roster::sync_roster(deps, tenant, kind, &held.lease, &mut r).await;
                    release(deps, held, res.as_ref().err()).await;
                    res?;
                }
            }
            let stopped = r.outcome == Outcome::Stopped;
            report.roster.push(r);
            if stopped || deps.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        // Memberships need the classes (their list) and the users (their names) first.
        if report.roster.len() == 2
            && report.roster.iter().all(|r| r.outcome == Outcome::Completed)
            && !deps.stop.load(Ordering::SeqCst)
        {
            let mut m = members::MembersReport::new();
            // Listing every class is the expensive stream (2 inner Graph requests a class):
            // a new round only when the last one is older than `members_every`.
            let stream = edu_db::sync::stream_statuses(&deps.db, Some(tenant.id))
                .await?
                .into_iter()
                .find(|s| s.stream == edu_db::roster_members::STREAM);
            let due = deps.force_full
                || stream.is_none_or(|s| s.status != "idle" || now_ms() - s.updated_at >= ttl_ms(deps.members_every));
            match if due { hold(deps, tenant, edu_db::roster_members::STREAM).await? } else { None } {
                None if !due => m.not_due = true,
                None => m.outcome = Outcome::Busy,
                Some(held) => {
                    let res = members::sync_members(deps, tenant, &held.lease, &mut m).await;
                    release(deps, held, res.as_ref().err()).await;
                    res?;
                }
            }
            report.members = Some(m);
        }
    }
    report.duration = started.elapsed();
    Ok(report)
}

/// Runs every tenant (at most `concurrency` at once); results in completion order.
pub async fn run_tenants(
    deps: &SyncDeps,
    tenants: Vec<SyncTenant>,
    concurrency: usize,
) -> Vec<(SyncTenant, Result<TenantReport, SyncError>)> {
    futures_util::stream::iter(tenants)
        .map(|t| async move {
            let r = run_once(deps, &t).await;
            if let Some(p) = &deps.progress {
                p(Progress::TenantDone { tenant: &t.ms_tenant_id, failed: r.is_err() });
            }
            (t, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// The tenants to sync: every consented one, or the one named (by Microsoft tenant id).
///
/// # Errors
/// Database errors; a named tenant that is unknown or not consented.
pub async fn tenants_to_sync(db: &Db, only: Option<&str>) -> Result<Vec<SyncTenant>, SyncError> {
    match only {
        None => Ok(store::consented_tenants(db).await?),
        Some(ms) => match store::consented_tenant(db, &ms.to_ascii_lowercase()).await? {
            Some(t) => Ok(vec![t]),
            None => Err(SyncError::Protocol(format!("tenant {ms} is unknown or has not consented"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_properties_are_kept_null_ones_cleared() {
        let body = br#"{"@odata.nextLink":"https://graph/next","value":[
            {"id":"AB-1","displayName":"A","department":null},
            {"id":"ab-2","@removed":{"reason":"changed"}},
            {"id":"ab-3","@removed":{"reason":"deleted"}},
            {"id":"ab-4","@removed":{"reason":"somethingNew"}},
            {"displayName":"no id"}]}"#;
        let page = parse_page(body).unwrap();
        assert_eq!(page.next_link.as_deref(), Some("https://graph/next"));
        assert_eq!(page.delta_link, None);
        assert_eq!(page.changes.len(), 4);
        let ProfileChange::Upsert(p) = &page.changes[0] else { panic!() };
        assert_eq!(p.ms_object_id, "ab-1");
        assert_eq!(p.display_name, Some(Some("A".into())));
        assert_eq!(p.department, Some(None));
        assert_eq!(p.job_title, None);
        let base = edu_db::sync::ProfileData {
            ms_object_id: "ab-1".into(),
            job_title: Some("Teacher".into()),
            department: Some("Maths".into()),
            account_enabled: false,
            ..Default::default()
        };
        let merged = p.apply(&base);
        assert_eq!(merged.job_title.as_deref(), Some("Teacher"));
        assert_eq!(merged.department, None);
        assert!(!merged.account_enabled);
        assert_eq!(page.changes[1], ProfileChange::Disable("ab-2".into()));
        assert_eq!(page.changes[2], ProfileChange::Delete("ab-3".into()));
        assert_eq!(page.changes[3], ProfileChange::Disable("ab-4".into()));
    }

    #[test]
    fn the_roster_switch_defaults_on_and_reads_true_or_false() {
        let base = |roster: Option<&'static str>| {
            move |k: &str| -> Option<String> {
                match k {
                    "EDUGRAPH_DATABASE_URL" => Some("sqlite://x.db".into()),
                    "EDUGRAPH_MS_AUTHORITY" | "EDUGRAPH_GRAPH_URL" => Some("http://127.0.0.1:9".into()),
                    "EDUGRAPH_CLIENT_ID" | "EDUGRAPH_SYNC_CERT_FILE" | "EDUGRAPH_SYNC_KEY_FILE" => Some("x".into()),
                    "EDUGRAPH_SYNC_ROSTER" => roster.map(str::to_owned),
                    _ => None,
                }
            }
        };
        assert!(Config::from_lookup(base(None)).unwrap().roster);
        assert!(Config::from_lookup(base(Some("TRUE"))).unwrap().roster);
        assert!(!Config::from_lookup(base(Some("false"))).unwrap().roster);
        assert!(!Config::from_lookup(base(Some("0"))).unwrap().roster);
        assert_eq!(Config::from_lookup(base(Some("maybe"))).unwrap_err().var, "EDUGRAPH_SYNC_ROSTER");
    }

    #[test]
    fn memberships_every_hour_by_default_zero_for_every_run() {
        let base = |every: Option<&'static str>| {
            move |k: &str| -> Option<String> {
                match k {
                    "EDUGRAPH_DATABASE_URL" => Some("sqlite://x.db".into()),
                    "EDUGRAPH_MS_AUTHORITY" | "EDUGRAPH_GRAPH_URL" => Some("http://127.0.0.1:9".into()),
                    "EDUGRAPH_CLIENT_ID" | "EDUGRAPH_SYNC_CERT_FILE" | "EDUGRAPH_SYNC_KEY_FILE" => Some("x".into()),
                    "EDUGRAPH_SYNC_MEMBERS_EVERY_SECS" => every.map(str::to_owned),
                    _ => None,
                }
            }
        };
        assert_eq!(Config::from_lookup(base(None)).unwrap().members_every, Duration::from_secs(3600));
        assert_eq!(Config::from_lookup(base(Some("0"))).unwrap().members_every, Duration::ZERO);
        assert_eq!(Config::from_lookup(base(Some(" 900 "))).unwrap().members_every, Duration::from_secs(900));
        let err = Config::from_lookup(base(Some("hourly"))).unwrap_err();
        assert_eq!(err.var, "EDUGRAPH_SYNC_MEMBERS_EVERY_SECS");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("0s").is_err() && parse_duration("soon").is_err() && parse_duration("5w").is_err());
    }
}
