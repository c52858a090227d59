//! The education roster: classes and education users of a tenant as Microsoft
//! Graph's `/education/classes/delta` and `/education/users/delta` report them, kept by
//! `edugraph-sync` with the same checkpoint and lease machinery as the users delta
//! ([`crate::sync`]): each page's rows and the next checkpoint commit in one fenced
//! transaction (R-C3); a full round marks what it sees and, at its end, archives active rows
//! it did not see — kept, never deleted (R-C4).
//!
//! Both tables have the same shape (an id, a few nullable text columns, a state and a
//! mark), so one generic implementation serves both, driven by [`RosterKind`]'s static
//! column list (no SQL text comes from outside this module).

use std::collections::HashMap;

use edu_domain::TenantId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::page::{self, Marked};
use crate::sync::{Checkpoint, Lease, PageEnd};
use crate::{DbError, Exec};

/// Which roster table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RosterKind {
    /// `roster_users` (`/education/users/delta`).
    Users,
    /// `roster_classes` (`/education/classes/delta`).
    Classes,
}

/// The data columns of `roster_users`, in [`RosterPatch::values`] order.
pub const USER_COLUMNS: &[&str] =
    &["display_name", "primary_role", "user_principal_name", "mail", "external_id", "grade"];

/// The data columns of `roster_classes`, in [`RosterPatch::values`] order.
pub const CLASS_COLUMNS: &[&str] =
    &["display_name", "class_code", "mail_nickname", "external_id", "grade", "term_name", "term_start", "term_end"];

impl RosterKind {
    /// The stream name in `sync_checkpoints` / `sync_leases`.
    #[must_use]
    pub fn stream(self) -> &'static str {
        match self {
            Self::Users => "edu_users",
            Self::Classes => "edu_classes",
        }
    }

    /// The table, its id column and its sweep (archived, as the users delta's).
    fn marked(self) -> &'static Marked {
        const USERS: Marked = Marked {
            table: "roster_users",
            id_column: "ms_object_id",
            swept_state: "archived",
            stamps_left_at: false,
            audit_action: "sync.roster_archived",
            audit_target_type: "edu_user",
            audit_detail: "not seen in a full sync",
        };
        const CLASSES: Marked =
            Marked { table: "roster_classes", id_column: "ms_class_id", audit_target_type: "edu_class", ..USERS };
        match self {
            Self::Users => &USERS,
            Self::Classes => &CLASSES,
        }
    }

    fn table(self) -> &'static str {
        self.marked().table
    }

    fn id_column(self) -> &'static str {
        self.marked().id_column
    }

    /// The data columns, in [`RosterPatch::values`] order.
    #[must_use]
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Users => USER_COLUMNS,
            Self::Classes => CLASS_COLUMNS,
        }
    }
}

/// What one delta item says about a row: for every data column, `None` when the item does
/// not carry the property (kept as stored), `Some(None)` when it is null (cleared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterPatch {
    /// Microsoft id (lower case).
    pub id: String,
    /// One entry per [`RosterKind::columns`] entry.
    #[allow(clippy::option_option, reason = "absent vs null")]
    pub values: Vec<Option<Option<String>>>,
}

/// One change of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterChange {
    /// Added or changed.
    Upsert(RosterPatch),
    /// `@removed` with reason `changed`: state `removed`, data kept (restorable).
    Removed(String),
    /// `@removed` with reason `deleted`: state `deleted`, data columns cleared.
    Deleted(String),
}

impl RosterChange {
    fn id(&self) -> &str {
        match self {
            Self::Upsert(p) => &p.id,
            Self::Removed(id) | Self::Deleted(id) => id,
        }
    }
}

/// What one committed page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RosterCounts {
    /// New rows.
    pub added: u64,
    /// Rows whose data or state changed (restored ones included).
    pub changed: u64,
    /// Rows newly removed or deleted.
    pub removed: u64,
    /// Rows archived by a full round's sweep.
    pub archived: u64,
}

impl RosterCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: Self) {
        self.added += other.added;
        self.changed += other.changed;
        self.removed += other.removed;
        self.archived += other.archived;
    }
}

/// One stored row (tests, comparisons, status views).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// Microsoft id.
    pub id: String,
    /// The data columns, in [`RosterKind::columns`] order.
    pub values: Vec<Option<String>>,
    /// `active`, `removed`, `deleted` or `archived`.
    pub state: String,
}

impl RosterRow {
    /// The value of data column `name`, if it is one of the kind's columns and not null.
    #[must_use]
    pub fn get(&self, kind: RosterKind, name: &str) -> Option<&str> {
        let i = kind.columns().iter().position(|c| *c == name)?;
        self.values.get(i)?.as_deref()
    }
}

/// Starts a full round of `kind` (first sync, resync, periodic reconciliation): a new mark
/// greater than every mark on the table's rows of the tenant; no next link.
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost; database errors.
pub async fn begin_full_round(
    db: impl Exec,
    kind: RosterKind,
    lease: &Lease,
    ttl_ms: i64,
    now: i64,
) -> Result<Checkpoint, DbError> {
    page::begin_marked_round(db, lease, kind.table(), ttl_ms, now).await
}

/// A row of either roster table: its data columns come from the kind's static column list,
/// so they are read by name here rather than into a fixed struct.
struct KindRow(RosterRow);

impl<'r> sqlx::FromRow<'r, AnyRow> for KindRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        // `id`, the kind's columns in order, `state` (see `select_rows`).
        let width = r.len() - 2;
        let values = (1..=width).map(|i| r.try_get::<Option<String>, _>(i)).collect::<Result<_, _>>()?;
        Ok(Self(RosterRow { id: r.try_get(0)?, values, state: r.try_get(width + 1)? }))
    }
}

fn select_rows(kind: RosterKind) -> String {
    format!(
        "SELECT {id} AS id, {cols}, state FROM {table}",
        id = kind.id_column(),
        cols = kind.columns().join(", "),
        table = kind.table()
    )
}

async fn load(
    conn: &mut AnyConnection,
    kind: RosterKind,
    tenant: &str,
    ids: &[&str],
) -> Result<HashMap<String, RosterRow>, DbError> {
    let rows = page::select_in::<KindRow>(conn, &select_rows(kind), kind.id_column(), tenant, ids).await?;
    Ok(rows.into_iter().map(|KindRow(r)| (r.id.clone(), r)).collect())
}

async fn audit(
    conn: &mut AnyConnection,
    tenant: TenantId,
    kind: RosterKind,
    action: &str,
    target: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    crate::audit::record_sync(conn, tenant, action, kind.marked().audit_target_type, target, detail, now).await
}

async fn write_row(
    conn: &mut AnyConnection,
    kind: RosterKind,
    tenant: &str,
    row: &RosterRow,
    insert: bool,
    mark: i64,
    now: i64,
) -> Result<(), DbError> {
    let cols = kind.columns();
    let sql = if insert {
        format!(
            "INSERT INTO {table} (tenant_id, {id}, {list}, state, sync_mark, synced_at) VALUES (?, ?, {marks}, ?, ?, ?)",
            table = kind.table(),
            id = kind.id_column(),
            list = cols.join(", "),
            marks = vec!["?"; cols.len()].join(", ")
        )
    } else {
        format!(
            "UPDATE {table} SET {sets}, state = ?, sync_mark = ?, synced_at = ? WHERE tenant_id = ? AND {id} = ?",
            table = kind.table(),
            id = kind.id_column(),
            sets = cols.iter().map(|c| format!("{c} = ?")).collect::<Vec<_>>().join(", ")
        )
    };
    let mut q = sqlx::query(&sql);
    if insert {
        q = q.bind(tenant).bind(&row.id);
    }
    for v in &row.values {
        q = q.bind(v.clone());
    }
    q = q.bind(&row.state).bind(mark).bind(now);
    if !insert {
        q = q.bind(tenant).bind(&row.id);
    }
    q.execute(conn).await?;
    Ok(())
}

/// Applies one delta page of `kind` and moves the checkpoint, in one transaction fenced by
/// the lease. On [`PageEnd::Done`] of a [`Phase::Full`](crate::sync::Phase::Full) round, active rows not seen since
/// the round began are archived (kept). Idempotent: replaying a page gives the same rows
/// (apart from `synced_at`).
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost (nothing is written); database errors.
#[allow(clippy::too_many_arguments)]
pub async fn commit_page(
    db: impl Exec,
    kind: RosterKind,
    lease: &Lease,
    cp: &Checkpoint,
    changes: &[RosterChange],
    end: &PageEnd,
    ttl_ms: i64,
    now: i64,
) -> Result<(RosterCounts, Checkpoint), DbError> {
    let tenant = lease.tenant.to_string();
    let mark = cp.run_mark;
    let mut counts = RosterCounts::default();
    let mut conn = db.acquire().await?;
    let mut tx = page::open(&mut conn, lease, ttl_ms, now).await?;
    let ids: Vec<&str> = changes.iter().map(RosterChange::id).collect();
    let mut existing = load(&mut tx, kind, &tenant, &ids).await?;
    let width = kind.columns().len();

    for change in changes {
        let before = existing.get(change.id());
        let after = match change {
            RosterChange::Upsert(p) => {
                let base = before.map_or_else(|| vec![None; width], |b| b.values.clone());
                let values = base
                    .into_iter()
                    .enumerate()
                    .map(|(i, old)| match p.values.get(i) {
                        Some(Some(new)) => new.clone(),
                        _ => old,
                    })
                    .collect();
                RosterRow { id: p.id.clone(), values, state: "active".into() }
            }
            RosterChange::Removed(_) => match before {
                // Never seen, or already gone: nothing local to change.
                None => continue,
                Some(b) if b.state == "removed" || b.state == "deleted" => continue,
                Some(b) => RosterRow { state: "removed".into(), ..b.clone() },
            },
            RosterChange::Deleted(id) => match before {
                None => continue,
                Some(b) if b.state == "deleted" => continue,
                Some(_) => RosterRow { id: id.clone(), values: vec![None; width], state: "deleted".into() },
            },
        };
        match before {
            None => {
                write_row(&mut tx, kind, &tenant, &after, true, mark, now).await?;
                counts.added += 1;
            }
            Some(b) if *b == after => page::touch(&mut tx, kind.marked(), &tenant, &after.id, mark).await?,
            Some(b) => {
                write_row(&mut tx, kind, &tenant, &after, false, mark, now).await?;
                match after.state.as_str() {
                    "active" => {
                        if b.state != "active" {
                            audit(&mut tx, lease.tenant, kind, "sync.roster_restored", &after.id, Some(&b.state), now)
                                .await?;
                        }
                        counts.changed += 1;
                    }
                    state => {
                        let action = if state == "deleted" { "sync.roster_deleted" } else { "sync.roster_removed" };
                        audit(&mut tx, lease.tenant, kind, action, &after.id, None, now).await?;
                        counts.removed += 1;
                    }
                }
            }
        }
        existing.insert(after.id.clone(), after);
    }

    let (archived, next) = page::close(tx, kind.marked(), lease, cp, end, now).await?;
    counts.archived = archived;
    Ok((counts, next))
}

/// Every row of `kind` of a tenant, ordered by id.
///
/// # Errors
/// Database errors.
pub async fn rows(db: impl Exec, kind: RosterKind, tenant: TenantId) -> Result<Vec<RosterRow>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{} WHERE tenant_id = ? ORDER BY {}", select_rows(kind), kind.id_column());
    let rows: Vec<KindRow> = sqlx::query_as(&sql).bind(tenant.to_string()).fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(|KindRow(r)| r).collect())
}

/// How many rows of `kind` the tenant has that are `active`, and how many in any other state.
///
/// # Errors
/// Database errors.
pub async fn counts(db: impl Exec, kind: RosterKind, tenant: TenantId) -> Result<(i64, i64), DbError> {
    state_counts(db, kind.table(), tenant).await
}

/// How many synced Microsoft profiles (`ms_profiles`) the tenant has that are `active`, and
/// how many in any other state (disabled, archived, deleted).
///
/// # Errors
/// Database errors.
pub async fn profile_counts(db: impl Exec, tenant: TenantId) -> Result<(i64, i64), DbError> {
    state_counts(db, "ms_profiles", tenant).await
}

// COUNT(*) only: a SUM is DECIMAL on MySQL, which the `Any` driver does not decode.
pub(crate) async fn state_counts(db: impl Exec, table: &'static str, tenant: TenantId) -> Result<(i64, i64), DbError> {
    let mut conn = db.acquire().await?;
    let t = tenant.to_string();
    let active: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = ? AND state = 'active'"))
            .bind(&t)
            .fetch_one(&mut *conn)
            .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = ?"))
        .bind(&t)
        .fetch_one(&mut *conn)
        .await?;
    Ok((active, total - active))
}
