//! The education roster (issue 6): classes and education users of a tenant as Microsoft
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
use sqlx::{Any, Row as _};

use crate::sync::{Checkpoint, Lease, PageEnd, Phase, fence, put_checkpoint};
use crate::{Db, DbError};

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

    fn table(self) -> &'static str {
        match self {
            Self::Users => "roster_users",
            Self::Classes => "roster_classes",
        }
    }

    fn id_column(self) -> &'static str {
        match self {
            Self::Users => "ms_object_id",
            Self::Classes => "ms_class_id",
        }
    }

    /// The data columns, in [`RosterPatch::values`] order.
    #[must_use]
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Users => USER_COLUMNS,
            Self::Classes => CLASS_COLUMNS,
        }
    }

    fn audit_target(self) -> &'static str {
        match self {
            Self::Users => "edu_user",
            Self::Classes => "edu_class",
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
    db: &Db,
    kind: RosterKind,
    lease: &Lease,
    ttl_ms: i64,
    now: i64,
) -> Result<Checkpoint, DbError> {
    crate::sync::begin_marked_round(db, lease, kind.table(), ttl_ms, now).await
}

async fn load(
    tx: &mut sqlx::Transaction<'_, Any>,
    kind: RosterKind,
    tenant: &str,
    ids: &[&str],
) -> Result<HashMap<String, RosterRow>, DbError> {
    let mut out = HashMap::new();
    let cols = kind.columns().join(", ");
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "SELECT {id} AS id, {cols}, state FROM {table} WHERE tenant_id = ? AND {id} IN ({marks})",
            id = kind.id_column(),
            table = kind.table()
        );
        let mut q = sqlx::query(&sql).bind(tenant);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let row = row_of(kind, &r)?;
            out.insert(row.id.clone(), row);
        }
    }
    Ok(out)
}

fn row_of(kind: RosterKind, r: &sqlx::any::AnyRow) -> Result<RosterRow, DbError> {
    let mut values = Vec::with_capacity(kind.columns().len());
    for c in kind.columns() {
        values.push(r.try_get::<Option<String>, _>(*c)?);
    }
    Ok(RosterRow { id: r.try_get("id")?, values, state: r.try_get("state")? })
}

async fn audit(
    tx: &mut sqlx::Transaction<'_, Any>,
    tenant: &str,
    kind: RosterKind,
    action: &str,
    target: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_user_id, action, target_type, target_id, result, detail, created_at)
         VALUES (?, ?, NULL, ?, ?, ?, 'ok', ?, ?)",
    )
    .bind(edu_domain::UserId::new().to_string())
    .bind(tenant)
    .bind(action)
    .bind(kind.audit_target())
    .bind(target)
    .bind(detail)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_row(
    tx: &mut sqlx::Transaction<'_, Any>,
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
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn touch(
    tx: &mut sqlx::Transaction<'_, Any>,
    kind: RosterKind,
    tenant: &str,
    id: &str,
    mark: i64,
) -> Result<(), DbError> {
    let sql = format!("UPDATE {} SET sync_mark = ? WHERE tenant_id = ? AND {} = ?", kind.table(), kind.id_column());
    sqlx::query(&sql).bind(mark).bind(tenant).bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// Applies one delta page of `kind` and moves the checkpoint, in one transaction fenced by
/// the lease. On [`PageEnd::Done`] of a [`Phase::Full`] round, active rows not seen since
/// the round began are archived (kept). Idempotent: replaying a page gives the same rows
/// (apart from `synced_at`).
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost (nothing is written); database errors.
#[allow(clippy::too_many_arguments)]
pub async fn commit_page(
    db: &Db,
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
    let mut tx = db.pool().begin().await?;
    fence(&mut tx, lease, ttl_ms, now).await?;
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
            Some(b) if *b == after => touch(&mut tx, kind, &tenant, &after.id, mark).await?,
            Some(b) => {
                write_row(&mut tx, kind, &tenant, &after, false, mark, now).await?;
                match after.state.as_str() {
                    "active" => {
                        if b.state != "active" {
                            audit(&mut tx, &tenant, kind, "sync.roster_restored", &after.id, Some(&b.state), now)
                                .await?;
                        }
                        counts.changed += 1;
                    }
                    state => {
                        let action = if state == "deleted" { "sync.roster_deleted" } else { "sync.roster_removed" };
                        audit(&mut tx, &tenant, kind, action, &after.id, None, now).await?;
                        counts.removed += 1;
                    }
                }
            }
        }
        existing.insert(after.id.clone(), after);
    }

    let next = match end {
        PageEnd::Next(link) => {
            Checkpoint { next_link: Some(link.clone()), pages: cp.pages + 1, last_error: None, ..cp.clone() }
        }
        PageEnd::Done(delta) => {
            if cp.phase == Phase::Full {
                let sql = format!(
                    "UPDATE {} SET state = 'archived', synced_at = ? WHERE tenant_id = ? AND state = 'active' AND sync_mark < ?",
                    kind.table()
                );
                counts.archived =
                    sqlx::query(&sql).bind(now).bind(&tenant).bind(mark).execute(&mut *tx).await?.rows_affected();
                if counts.archived > 0 {
                    let detail = format!("{} not seen in a full sync", counts.archived);
                    audit(&mut tx, &tenant, kind, "sync.roster_archived", "*", Some(&detail), now).await?;
                }
            }
            Checkpoint {
                next_link: None,
                delta_link: Some(delta.clone()),
                run_mark: mark,
                pages: cp.pages + 1,
                phase: Phase::Idle,
                last_error: None,
            }
        }
    };
    put_checkpoint(&mut tx, db.dialect(), lease, &next, now).await?;
    tx.commit().await?;
    Ok((counts, next))
}

/// Every row of `kind` of a tenant, ordered by id.
///
/// # Errors
/// Database errors.
pub async fn rows(db: &Db, kind: RosterKind, tenant: TenantId) -> Result<Vec<RosterRow>, DbError> {
    let sql = format!(
        "SELECT {id} AS id, {cols}, state FROM {table} WHERE tenant_id = ? ORDER BY {id}",
        id = kind.id_column(),
        cols = kind.columns().join(", "),
        table = kind.table()
    );
    let rows = sqlx::query(&sql).bind(tenant.to_string()).fetch_all(db.pool()).await?;
    rows.iter().map(|r| row_of(kind, r)).collect()
}

/// How many rows of `kind` the tenant has that are `active`, and how many in any other state.
///
/// # Errors
/// Database errors.
pub async fn counts(db: &Db, kind: RosterKind, tenant: TenantId) -> Result<(i64, i64), DbError> {
    state_counts(db, kind.table(), tenant).await
}

/// How many synced Microsoft profiles (`ms_profiles`) the tenant has that are `active`, and
/// how many in any other state (disabled, archived, deleted).
///
/// # Errors
/// Database errors.
pub async fn profile_counts(db: &Db, tenant: TenantId) -> Result<(i64, i64), DbError> {
    state_counts(db, "ms_profiles", tenant).await
}

// COUNT(*) only: a SUM is DECIMAL on MySQL, which the `Any` driver does not decode.
async fn state_counts(db: &Db, table: &'static str, tenant: TenantId) -> Result<(i64, i64), DbError> {
    let t = tenant.to_string();
    let active: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = ? AND state = 'active'"))
            .bind(&t)
            .fetch_one(db.pool())
            .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = ?"))
        .bind(&t)
        .fetch_one(db.pool())
        .await?;
    Ok((active, total - active))
}
