//! Storage of the delta-sync job (`edugraph-sync`): the tenants to sync, a fenced lease per
//! (tenant, stream), the checkpoint (`sync_checkpoints`) and the synced profiles
//! (`ms_profiles`).
//!
//! Crash safety: [`commit_page`] writes one delta page's changes and the next checkpoint
//! in ONE transaction whose first statement checks (and renews) the caller's lease, so a
//! page is applied exactly once and a runner that lost its lease commits nothing (R-C3, R-C6).

use std::collections::HashMap;

use edu_domain::TenantId;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

use crate::page::{self, Marked};
use crate::{Db, DbError, Dialect, Exec, dialect_of};

/// A tenant whose admin consented (the job syncs those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTenant {
    /// Our id.
    pub id: TenantId,
    /// Microsoft tenant id.
    pub ms_tenant_id: String,
    /// Display name.
    pub display_name: String,
}

#[derive(sqlx::FromRow)]
struct SyncTenantRow {
    id: String,
    ms_tenant_id: String,
    display_name: String,
}

impl TryFrom<SyncTenantRow> for SyncTenant {
    type Error = DbError;

    fn try_from(r: SyncTenantRow) -> Result<Self, DbError> {
        Ok(Self {
            id: TenantId::parse(&r.id).map_err(|_| DbError::Corrupt { table: "tenants", detail: "bad id".into() })?,
            ms_tenant_id: r.ms_tenant_id,
            display_name: r.display_name,
        })
    }
}

/// Every consented tenant, by Microsoft tenant id.
///
/// # Errors
/// Database errors.
pub async fn consented_tenants(db: impl Exec) -> Result<Vec<SyncTenant>, DbError> {
    let mut conn = db.acquire().await?;
    let rows: Vec<SyncTenantRow> = sqlx::query_as(
        "SELECT id, ms_tenant_id, display_name FROM tenants WHERE consent_state = 'consented' ORDER BY ms_tenant_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(SyncTenant::try_from).collect()
}

/// One consented tenant by Microsoft tenant id (`None` when unknown or not consented).
///
/// # Errors
/// Database errors.
pub async fn consented_tenant(db: impl Exec, ms_tenant_id: &str) -> Result<Option<SyncTenant>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<SyncTenantRow> = sqlx::query_as(
        "SELECT id, ms_tenant_id, display_name FROM tenants WHERE consent_state = 'consented' AND ms_tenant_id = ?",
    )
    .bind(ms_tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(SyncTenant::try_from).transpose()
}

// ------------------------------------------------------------------ lease

/// A held lease on (tenant, stream). Release it with [`release_lease`]; dropping it without
/// releasing closes the MySQL lock connection (which frees `GET_LOCK`) and leaves the row
/// to expire.
pub struct Lease {
    /// The tenant.
    pub tenant: TenantId,
    /// The stream (e.g. `users`).
    pub stream: String,
    /// This run's owner id.
    pub owner: String,
    /// The fencing token this run holds.
    pub fencing_token: i64,
    // A Mutex only to make the lease `Sync` (shared with a heartbeat task); never contended.
    lock_conn: std::sync::Mutex<Option<PoolConnection<Any>>>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("tenant", &self.tenant)
            .field("stream", &self.stream)
            .field("owner", &self.owner)
            .field("fencing_token", &self.fencing_token)
            .finish_non_exhaustive()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Never hand a connection holding GET_LOCK back to the pool: close it instead.
        let conn = self.lock_conn.get_mut().map_or_else(|p| p.into_inner().take(), Option::take);
        if let Some(conn) = conn {
            drop(conn.detach());
        }
    }
}

fn lock_name(tenant: TenantId, stream: &str) -> String {
    // Server-wide, at most 64 characters.
    let mut n = format!("edusync:{}:{stream}", tenant.to_string().replace('-', ""));
    n.truncate(64);
    n
}

/// Takes the lease of (tenant, stream) for `ttl_ms`, or `None` when another live runner
/// holds it. On MySQL/MariaDB a `GET_LOCK` is taken first on a dedicated connection kept
/// for the whole run (freed by the server if this process dies); holding it, the row is
/// taken over even before it expires (its former owner is dead: its fencing token is now
/// stale). On SQLite only the row counts: an expired lease may be taken over.
///
/// # Errors
/// Database errors.
pub async fn acquire_lease(
    db: &Db,
    tenant: TenantId,
    stream: &str,
    owner: &str,
    ttl_ms: i64,
    now: i64,
) -> Result<Option<Lease>, DbError> {
    let mut lock_conn = None;
    if db.dialect() == Dialect::MySql {
        let mut conn = db.pool().acquire().await?;
        let got: Option<i64> =
            sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(lock_name(tenant, stream)).fetch_one(&mut *conn).await?;
        if got != Some(1) {
            return Ok(None);
        }
        lock_conn = Some(conn);
    }
    let force = i64::from(lock_conn.is_some());
    // From here on the lock connection lives in the lease: an error below drops the lease,
    // whose Drop closes that connection (freeing GET_LOCK) instead of pooling it.
    let mut lease = Lease {
        tenant,
        stream: stream.to_owned(),
        owner: owner.to_owned(),
        fencing_token: 0,
        lock_conn: std::sync::Mutex::new(lock_conn),
    };
    let t = tenant.to_string();
    let insert = match db.dialect() {
        Dialect::MySql => "INSERT IGNORE INTO sync_leases (tenant_id, stream, updated_at) VALUES (?, ?, ?)",
        Dialect::Sqlite => "INSERT OR IGNORE INTO sync_leases (tenant_id, stream, updated_at) VALUES (?, ?, ?)",
    };
    sqlx::query(insert).bind(&t).bind(stream).bind(now).execute(db.pool()).await?;
    let taken = sqlx::query(
        "UPDATE sync_leases SET owner = ?, fencing_token = fencing_token + 1, expires_at = ?, beats = beats + 1,
                                updated_at = ?
         WHERE tenant_id = ? AND stream = ? AND (owner IS NULL OR expires_at < ? OR ? = 1)",
    )
    .bind(owner)
    .bind(now + ttl_ms)
    .bind(now)
    .bind(&t)
    .bind(stream)
    .bind(now)
    .bind(force)
    .execute(db.pool())
    .await?
    .rows_affected();
    if taken != 1 {
        release_lock(&mut lease).await;
        return Ok(None);
    }
    let token: Option<i64> =
        sqlx::query_scalar("SELECT fencing_token FROM sync_leases WHERE tenant_id = ? AND stream = ? AND owner = ?")
            .bind(&t)
            .bind(stream)
            .bind(owner)
            .fetch_optional(db.pool())
            .await?;
    match token {
        Some(token) => {
            lease.fencing_token = token;
            Ok(Some(lease))
        }
        // Taken over between our two statements (only possible on SQLite after expiry).
        None => {
            release_lock(&mut lease).await;
            Ok(None)
        }
    }
}

async fn release_lock(lease: &mut Lease) {
    let conn = lease.lock_conn.get_mut().map_or_else(|p| p.into_inner().take(), Option::take);
    if let Some(mut conn) = conn {
        let released = sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(lock_name(lease.tenant, &lease.stream))
            .execute(&mut *conn)
            .await;
        if released.is_err() {
            // Closing the connection frees the lock as well.
            drop(conn.detach());
        }
    }
}

const FENCE: &str = "UPDATE sync_leases SET expires_at = ?, beats = beats + 1, updated_at = ?
                     WHERE tenant_id = ? AND stream = ? AND owner = ? AND fencing_token = ?";

/// Extends the lease; `false` when it was lost (taken over after it expired).
///
/// # Errors
/// Database errors.
pub async fn renew_lease(db: impl Exec, lease: &Lease, ttl_ms: i64, now: i64) -> Result<bool, DbError> {
    let n = sqlx::query(FENCE)
        .bind(now + ttl_ms)
        .bind(now)
        .bind(lease.tenant.to_string())
        .bind(&lease.stream)
        .bind(&lease.owner)
        .bind(lease.fencing_token)
        .execute(&mut *db.acquire().await?)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Gives the lease back (row and MySQL lock).
///
/// # Errors
/// Database errors (the lock is freed anyway).
pub async fn release_lease(db: impl Exec, mut lease: Lease, now: i64) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let r = sqlx::query(
        "UPDATE sync_leases SET owner = NULL, expires_at = 0, updated_at = ?
         WHERE tenant_id = ? AND stream = ? AND owner = ? AND fencing_token = ?",
    )
    .bind(now)
    .bind(lease.tenant.to_string())
    .bind(&lease.stream)
    .bind(&lease.owner)
    .bind(lease.fencing_token)
    .execute(&mut *conn)
    .await;
    release_lock(&mut lease).await;
    r?;
    Ok(())
}

/// Fails the transaction's caller with `Conflict("sync lease")` unless the lease still holds.
pub(crate) async fn fence(conn: &mut AnyConnection, lease: &Lease, ttl_ms: i64, now: i64) -> Result<(), DbError> {
    let n = sqlx::query(FENCE)
        .bind(now + ttl_ms)
        .bind(now)
        .bind(lease.tenant.to_string())
        .bind(&lease.stream)
        .bind(&lease.owner)
        .bind(lease.fencing_token)
        .execute(conn)
        .await?
        .rows_affected();
    if n == 1 { Ok(()) } else { Err(DbError::Conflict("sync lease")) }
}

// ------------------------------------------------------------------ checkpoint

/// Which kind of delta round a checkpoint is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No round in progress; `delta_link` (if any) starts the next incremental round.
    Idle,
    /// A full round (initial or resync), mark-and-sweep at its end.
    Full,
    /// An incremental round from a deltaLink.
    Delta,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Full => "full",
            Phase::Delta => "delta",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "full" => Phase::Full,
            "delta" => Phase::Delta,
            _ => Phase::Idle,
        }
    }
}

/// The saved position of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The next page to fetch in the current round.
    pub next_link: Option<String>,
    /// The deltaLink of the last completed round.
    pub delta_link: Option<String>,
    /// The mark of the current (or last) full round.
    pub run_mark: i64,
    /// Pages committed in the current round.
    pub pages: i64,
    /// The round in progress.
    pub phase: Phase,
    /// The last error recorded.
    pub last_error: Option<String>,
}

fn text_of(v: Option<Vec<u8>>) -> Result<Option<String>, DbError> {
    v.map(|b| String::from_utf8(b).map_err(|_| DbError::Corrupt { table: "sync_checkpoints", detail: "link".into() }))
        .transpose()
}

// The links are BLOBs (they outgrow any VARCHAR): bytes on both backends.
#[derive(sqlx::FromRow)]
struct CheckpointRow {
    next_link: Option<Vec<u8>>,
    delta_link: Option<Vec<u8>>,
    run_mark: i64,
    pages: i64,
    status: String,
    last_error: Option<String>,
}

impl TryFrom<CheckpointRow> for Checkpoint {
    type Error = DbError;

    fn try_from(r: CheckpointRow) -> Result<Self, DbError> {
        Ok(Self {
            next_link: text_of(r.next_link)?,
            delta_link: text_of(r.delta_link)?,
            run_mark: r.run_mark,
            pages: r.pages,
            phase: Phase::parse(&r.status),
            last_error: r.last_error,
        })
    }
}

/// The checkpoint of (tenant, stream), if any.
///
/// # Errors
/// Database errors.
pub async fn checkpoint(db: impl Exec, tenant: TenantId, stream: &str) -> Result<Option<Checkpoint>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<CheckpointRow> = sqlx::query_as(
        "SELECT next_link, delta_link, run_mark, pages, status, last_error FROM sync_checkpoints
         WHERE tenant_id = ? AND stream = ?",
    )
    .bind(tenant.to_string())
    .bind(stream)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Checkpoint::try_from).transpose()
}

pub(crate) async fn put_checkpoint(
    conn: &mut AnyConnection,
    lease: &Lease,
    cp: &Checkpoint,
    now: i64,
) -> Result<(), DbError> {
    let sql = match dialect_of(conn) {
        Dialect::MySql => {
            "INSERT INTO sync_checkpoints (tenant_id, stream, next_link, delta_link, run_mark, pages, status, last_error, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE next_link = VALUES(next_link), delta_link = VALUES(delta_link),
               run_mark = VALUES(run_mark), pages = VALUES(pages), status = VALUES(status),
               last_error = VALUES(last_error), updated_at = VALUES(updated_at)"
        }
        Dialect::Sqlite => {
            "INSERT INTO sync_checkpoints (tenant_id, stream, next_link, delta_link, run_mark, pages, status, last_error, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, stream) DO UPDATE SET next_link = excluded.next_link,
               delta_link = excluded.delta_link, run_mark = excluded.run_mark, pages = excluded.pages,
               status = excluded.status, last_error = excluded.last_error, updated_at = excluded.updated_at"
        }
    };
    sqlx::query(sql)
        .bind(lease.tenant.to_string())
        .bind(&lease.stream)
        .bind(cp.next_link.as_ref().map(|s| s.as_bytes().to_vec()))
        .bind(cp.delta_link.as_ref().map(|s| s.as_bytes().to_vec()))
        .bind(cp.run_mark)
        .bind(cp.pages)
        .bind(cp.phase.as_str())
        .bind(cp.last_error.as_ref().map(|e| e.chars().take(1000).collect::<String>()))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts a full round (first sync, or resync after an expired delta token): a new mark,
/// greater than every mark already on the tenant's profiles; no next link (the caller
/// fetches the initial query). Existing data is kept; the previous deltaLink is dropped.
/// Returns the new checkpoint.
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost; database errors.
pub async fn begin_full_round(db: impl Exec, lease: &Lease, ttl_ms: i64, now: i64) -> Result<Checkpoint, DbError> {
    page::begin_marked_round(db, lease, PROFILES.table, ttl_ms, now).await
}

/// Records a failure on the checkpoint, if the lease still holds. The position and
/// `updated_at` stay: `updated_at` is the time of the last committed progress, which the
/// staleness signal reads.
///
/// # Errors
/// Database errors.
pub async fn record_error(db: impl Exec, lease: &Lease, error: &str, _now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE sync_checkpoints SET last_error = ? WHERE tenant_id = ? AND stream = ?
           AND EXISTS (SELECT 1 FROM sync_leases l WHERE l.tenant_id = ? AND l.stream = ? AND l.owner = ?
                       AND l.fencing_token = ?)",
    )
    .bind(error.chars().take(1000).collect::<String>())
    .bind(lease.tenant.to_string())
    .bind(&lease.stream)
    .bind(lease.tenant.to_string())
    .bind(&lease.stream)
    .bind(&lease.owner)
    .bind(lease.fencing_token)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

// ------------------------------------------------------------------ profiles

/// The synced fields of one Microsoft user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileData {
    /// Object id (lower-case GUID).
    pub ms_object_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// UPN.
    pub user_principal_name: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Mobile phone.
    pub mobile_phone: Option<String>,
    /// Office location.
    pub office_location: Option<String>,
    /// Whether the account may sign in.
    pub account_enabled: bool,
}

/// The properties a delta item carried. Graph sends "at least the changed properties" of
/// an updated user: a property that is absent (`None`) keeps its stored value; a property
/// sent as `null` (`Some(None)`) clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(clippy::option_option, reason = "absent vs null is the point")]
pub struct ProfilePatch {
    /// Object id (lower-case GUID).
    pub ms_object_id: String,
    /// Display name.
    pub display_name: Option<Option<String>>,
    /// Mail.
    pub mail: Option<Option<String>>,
    /// UPN.
    pub user_principal_name: Option<Option<String>>,
    /// Job title.
    pub job_title: Option<Option<String>>,
    /// Department.
    pub department: Option<Option<String>>,
    /// Mobile phone.
    pub mobile_phone: Option<Option<String>>,
    /// Office location.
    pub office_location: Option<Option<String>>,
    /// Whether the account may sign in (`null` counts as enabled, Graph's default).
    pub account_enabled: Option<Option<bool>>,
}

impl ProfilePatch {
    /// A patch that sets every field (a full representation).
    #[must_use]
    pub fn full(p: &ProfileData) -> Self {
        Self {
            ms_object_id: p.ms_object_id.clone(),
            display_name: Some(p.display_name.clone()),
            mail: Some(p.mail.clone()),
            user_principal_name: Some(p.user_principal_name.clone()),
            job_title: Some(p.job_title.clone()),
            department: Some(p.department.clone()),
            mobile_phone: Some(p.mobile_phone.clone()),
            office_location: Some(p.office_location.clone()),
            account_enabled: Some(Some(p.account_enabled)),
        }
    }

    /// `base` with this patch applied.
    #[must_use]
    pub fn apply(&self, base: &ProfileData) -> ProfileData {
        let pick = |new: &Option<Option<String>>, old: &Option<String>| new.clone().unwrap_or_else(|| old.clone());
        ProfileData {
            ms_object_id: self.ms_object_id.clone(),
            display_name: pick(&self.display_name, &base.display_name),
            mail: pick(&self.mail, &base.mail),
            user_principal_name: pick(&self.user_principal_name, &base.user_principal_name),
            job_title: pick(&self.job_title, &base.job_title),
            department: pick(&self.department, &base.department),
            mobile_phone: pick(&self.mobile_phone, &base.mobile_phone),
            office_location: pick(&self.office_location, &base.office_location),
            account_enabled: self.account_enabled.map_or(base.account_enabled, |v| v.unwrap_or(true)),
        }
    }
}

/// One change of a delta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChange {
    /// Created or updated (also restores a disabled or archived profile).
    Upsert(ProfilePatch),
    /// `@removed: changed`: soft-deleted in Entra (restorable): disabled locally.
    Disable(String),
    /// `@removed: deleted`: permanently deleted: identity data and tokens removed, the
    /// profile kept as a tombstone without personal data, the audit trail kept.
    Delete(String),
}

/// Where the stream stands after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageEnd {
    /// More pages: the nextLink.
    Next(String),
    /// Round complete: the deltaLink (and, for a full round, the sweep of unseen profiles).
    Done(String),
}

/// What one committed page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    /// New profiles.
    pub added: u64,
    /// Profiles whose data or state changed.
    pub changed: u64,
    /// Profiles newly disabled (`@removed: changed`).
    pub disabled: u64,
    /// Profiles newly deleted (`@removed: deleted`).
    pub deleted: u64,
    /// Profiles archived by the sweep of a full round (not seen; kept, not deleted).
    pub archived: u64,
}

/// The users delta's table and sweep.
const PROFILES: Marked = Marked {
    table: "ms_profiles",
    id_column: "ms_object_id",
    swept_state: "archived",
    stamps_left_at: false,
    audit_action: "sync.profiles_archived",
    audit_target_type: "ms_user",
    audit_detail: "profiles not seen in a full sync",
};

const SELECT_PROFILES: &str = "SELECT ms_object_id, display_name, mail, user_principal_name, job_title, department,
        mobile_phone, office_location, account_enabled, state, sync_mark FROM ms_profiles";

#[derive(sqlx::FromRow)]
struct ProfileRow {
    ms_object_id: String,
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    mobile_phone: Option<String>,
    office_location: Option<String>,
    account_enabled: i64,
    state: String,
    sync_mark: i64,
}

impl From<ProfileRow> for StoredProfile {
    fn from(r: ProfileRow) -> Self {
        Self {
            data: ProfileData {
                ms_object_id: r.ms_object_id,
                display_name: r.display_name,
                mail: r.mail,
                user_principal_name: r.user_principal_name,
                job_title: r.job_title,
                department: r.department,
                mobile_phone: r.mobile_phone,
                office_location: r.office_location,
                account_enabled: crate::flag(r.account_enabled),
            },
            state: r.state,
            sync_mark: r.sync_mark,
        }
    }
}

async fn audit(
    conn: &mut AnyConnection,
    tenant: TenantId,
    action: &str,
    target: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    crate::audit::record_sync(conn, tenant, action, PROFILES.audit_target_type, target, detail, now).await
}

/// Removes the local identity data of a permanently deleted Microsoft user: the link, its
/// cached tokens, roles and Microsoft sessions; a person without local credentials goes
/// entirely (as an unlink does). The audit trail stays.
async fn remove_identity(
    conn: &mut AnyConnection,
    tenant: &str,
    ms_tenant_id: &str,
    object_id: &str,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM token_cache WHERE tenant_id = ? AND subject = ?")
        .bind(tenant)
        .bind(object_id)
        .execute(&mut *conn)
        .await?;
    let link: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT e.id, e.user_id, u.password_hash FROM external_identities e JOIN users u ON u.id = e.user_id
         WHERE e.ms_tenant_id = ? AND e.ms_object_id = ?",
    )
    .bind(ms_tenant_id)
    .bind(object_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((identity_id, user_id, password)) = link else {
        return Ok(());
    };
    sqlx::query("DELETE FROM external_identities WHERE id = ?").bind(&identity_id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?")
        .bind(tenant)
        .bind(&user_id)
        .execute(&mut *conn)
        .await?;
    if password.is_some() {
        sqlx::query("UPDATE users SET tenant_id = NULL WHERE id = ?").bind(&user_id).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND auth_method = 'microsoft'")
            .bind(&user_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE sessions SET tenant_id = NULL WHERE user_id = ?")
            .bind(&user_id)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query("DELETE FROM users WHERE id = ?").bind(&user_id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Applies one delta page and moves the checkpoint, in one transaction fenced by the lease.
/// `cp` is the checkpoint the page was fetched from (its mark and phase); on
/// [`PageEnd::Done`] of a [`Phase::Full`] round, active profiles not seen since the round
/// began are archived (state `archived`, data kept). Idempotent: replaying a page gives the
/// same rows (apart from `synced_at`).
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost (nothing is written); database errors.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
pub async fn commit_page(
    db: impl Exec,
    lease: &Lease,
    ms_tenant_id: &str,
    cp: &Checkpoint,
    changes: &[ProfileChange],
    end: &PageEnd,
    ttl_ms: i64,
    now: i64,
) -> Result<(PageCounts, Checkpoint), DbError> {
    let tenant = lease.tenant.to_string();
    let mark = cp.run_mark;
    let mut counts = PageCounts::default();
    let mut conn = db.acquire().await?;
    let mut tx = page::open(&mut conn, lease, ttl_ms, now).await?;

    let ids: Vec<&str> = changes
        .iter()
        .map(|c| match c {
            ProfileChange::Upsert(p) => p.ms_object_id.as_str(),
            ProfileChange::Disable(id) | ProfileChange::Delete(id) => id.as_str(),
        })
        .collect();
    let mut existing: HashMap<String, StoredProfile> =
        page::select_in::<ProfileRow>(&mut tx, SELECT_PROFILES, PROFILES.id_column, &tenant, &ids)
            .await?
            .into_iter()
            .map(|r| (r.ms_object_id.clone(), StoredProfile::from(r)))
            .collect();

    for change in changes {
        match change {
            ProfileChange::Upsert(patch) => {
                let before = existing.get(&patch.ms_object_id);
                let fresh = ProfileData {
                    ms_object_id: patch.ms_object_id.clone(),
                    account_enabled: true,
                    ..Default::default()
                };
                let p = &patch.apply(before.map_or(&fresh, |b| &b.data));
                if !p.account_enabled && before.is_none_or(|b| b.data.account_enabled) {
                    // `accountEnabled: false`: the person's sessions and tokens end with this page (issue 17.2).
                    crate::sessions::end_microsoft_access(&mut tx, lease.tenant, ms_tenant_id, &p.ms_object_id).await?;
                }
                match before {
                    None => {
                        sqlx::query(
                            "INSERT INTO ms_profiles (tenant_id, ms_object_id, display_name, mail, user_principal_name,
                               job_title, department, mobile_phone, office_location, account_enabled, state, sync_mark,
                               synced_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                        )
                        .bind(&tenant)
                        .bind(&p.ms_object_id)
                        .bind(&p.display_name)
                        .bind(&p.mail)
                        .bind(&p.user_principal_name)
                        .bind(&p.job_title)
                        .bind(&p.department)
                        .bind(&p.mobile_phone)
                        .bind(&p.office_location)
                        .bind(i64::from(p.account_enabled))
                        .bind(mark)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        counts.added += 1;
                    }
                    Some(b) if b.data == *p && b.state == "active" => {
                        page::touch(&mut tx, &PROFILES, &tenant, &p.ms_object_id, mark).await?;
                    }
                    Some(b) => {
                        let restored = b.state != "active";
                        sqlx::query(
                            "UPDATE ms_profiles SET display_name = ?, mail = ?, user_principal_name = ?, job_title = ?,
                               department = ?, mobile_phone = ?, office_location = ?, account_enabled = ?,
                               state = 'active', sync_mark = ?, synced_at = ?
                             WHERE tenant_id = ? AND ms_object_id = ?",
                        )
                        .bind(&p.display_name)
                        .bind(&p.mail)
                        .bind(&p.user_principal_name)
                        .bind(&p.job_title)
                        .bind(&p.department)
                        .bind(&p.mobile_phone)
                        .bind(&p.office_location)
                        .bind(i64::from(p.account_enabled))
                        .bind(mark)
                        .bind(now)
                        .bind(&tenant)
                        .bind(&p.ms_object_id)
                        .execute(&mut *tx)
                        .await?;
                        if restored {
                            audit(&mut tx, lease.tenant, "sync.profile_restored", &p.ms_object_id, Some(&b.state), now)
                                .await?;
                        }
                        counts.changed += 1;
                    }
                }
                existing.insert(
                    p.ms_object_id.clone(),
                    StoredProfile { data: p.clone(), state: "active".into(), sync_mark: mark },
                );
            }
            ProfileChange::Disable(id) => {
                let state = existing.get(id).map(|e| e.state.clone());
                match state.as_deref() {
                    Some("disabled" | "deleted") => {}
                    Some(_) => {
                        sqlx::query(
                            "UPDATE ms_profiles SET state = 'disabled', sync_mark = ?, synced_at = ?
                             WHERE tenant_id = ? AND ms_object_id = ?",
                        )
                        .bind(mark)
                        .bind(now)
                        .bind(&tenant)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        audit(&mut tx, lease.tenant, "sync.profile_disabled", id, Some("removed: changed"), now)
                            .await?;
                        crate::sessions::end_microsoft_access(&mut tx, lease.tenant, ms_tenant_id, id).await?;
                        counts.disabled += 1;
                        if let Some(e) = existing.get_mut(id) {
                            e.state = "disabled".into();
                        }
                    }
                    // Never seen: nothing local to disable.
                    None => {}
                }
            }
            ProfileChange::Delete(id) => {
                let state = existing.get(id).map(|e| e.state.clone());
                if state.as_deref() == Some("deleted") {
                    continue;
                }
                remove_identity(&mut tx, &tenant, ms_tenant_id, id).await?;
                if state.is_some() {
                    sqlx::query(
                        "UPDATE ms_profiles SET display_name = NULL, mail = NULL, user_principal_name = NULL,
                           job_title = NULL, department = NULL, mobile_phone = NULL, office_location = NULL,
                           manager_object_id = NULL, primary_role = NULL, account_enabled = 0, state = 'deleted',
                           sync_mark = ?, synced_at = ?
                         WHERE tenant_id = ? AND ms_object_id = ?",
                    )
                    .bind(mark)
                    .bind(now)
                    .bind(&tenant)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    counts.deleted += 1;
                    if let Some(e) = existing.get_mut(id) {
                        e.state = "deleted".into();
                    }
                }
                audit(&mut tx, lease.tenant, "sync.profile_deleted", id, Some("removed: deleted"), now).await?;
            }
        }
    }

    let (archived, next) = page::close(tx, &PROFILES, lease, cp, end, now).await?;
    counts.archived = archived;
    Ok((counts, next))
}

/// Marks the start of an incremental round from the saved deltaLink (no write needed: the
/// checkpoint of the first page carries the phase). Returns the checkpoint to fetch from.
#[must_use]
pub fn incremental_round(cp: &Checkpoint) -> Checkpoint {
    Checkpoint { next_link: cp.delta_link.clone(), pages: 0, phase: Phase::Delta, ..cp.clone() }
}

/// One stored profile (for tests and comparisons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProfile {
    /// Synced data.
    pub data: ProfileData,
    /// `active`, `disabled`, `archived` or `deleted`.
    pub state: String,
    /// The mark of the round that last saw it.
    pub sync_mark: i64,
}

/// Every profile of a tenant, ordered by object id.
///
/// # Errors
/// Database errors.
pub async fn profiles(db: impl Exec, tenant: TenantId) -> Result<Vec<StoredProfile>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{SELECT_PROFILES} WHERE tenant_id = ? ORDER BY ms_object_id");
    let rows: Vec<ProfileRow> = sqlx::query_as(&sql).bind(tenant.to_string()).fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(StoredProfile::from).collect())
}

/// Where a stream of a tenant stands, for status views and staleness checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Microsoft tenant id.
    pub ms_tenant_id: String,
    /// The stream.
    pub stream: String,
    /// `idle` (last round completed), `full` or `delta` (a round in progress).
    pub status: String,
    /// When the checkpoint was last written (unix ms): for `idle`, when the last round completed.
    pub updated_at: i64,
    /// The last error recorded (cleared by the next committed page).
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StreamStatusRow {
    tenant_id: String,
    ms_tenant_id: String,
    stream: String,
    status: String,
    updated_at: i64,
    last_error: Option<String>,
}

impl TryFrom<StreamStatusRow> for StreamStatus {
    type Error = DbError;

    fn try_from(r: StreamStatusRow) -> Result<Self, DbError> {
        Ok(Self {
            tenant_id: TenantId::parse(&r.tenant_id)
                .map_err(|_| DbError::Corrupt { table: "sync_checkpoints", detail: "bad tenant id".into() })?,
            ms_tenant_id: r.ms_tenant_id,
            stream: r.stream,
            status: r.status,
            updated_at: r.updated_at,
            last_error: r.last_error,
        })
    }
}

/// The status of every (consented tenant, stream) checkpoint, or of one tenant's.
///
/// # Errors
/// Database errors.
pub async fn stream_statuses(db: impl Exec, tenant: Option<TenantId>) -> Result<Vec<StreamStatus>, DbError> {
    let mut conn = db.acquire().await?;
    let rows: Vec<StreamStatusRow> = sqlx::query_as(
        "SELECT c.tenant_id, t.ms_tenant_id, c.stream, c.status, c.updated_at, c.last_error
         FROM sync_checkpoints c JOIN tenants t ON t.id = c.tenant_id
         WHERE t.consent_state = 'consented' AND (? = '' OR c.tenant_id = ?)
         ORDER BY t.ms_tenant_id, c.stream",
    )
    .bind(tenant.map(|t| t.to_string()).unwrap_or_default())
    .bind(tenant.map(|t| t.to_string()).unwrap_or_default())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(StreamStatus::try_from).collect()
}
