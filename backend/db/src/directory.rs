//! Group-scoped directory sync (seed 001): the group a tenant admin named
//! (`tenants.sync_group_id`), its members (`directory_members`) and each member's manager
//! (`directory_supervisors`), kept by `edugraph-sync` on the stream [`STREAM`].
//!
//! A round pages through the group's members; each page's members, their managers and the
//! next checkpoint commit in ONE transaction fenced by the lease (the same machinery as the
//! users delta: a crash resumes at the last committed page, a page replays idempotently).
//! The last page sweeps: active members not seen in the round are soft-deleted (`left`),
//! and come back (`active`, audited as restored) when they rejoin.

use std::collections::HashMap;

use edu_domain::{TenantId, UserId};
use sqlx::AnyConnection;

use crate::audit::{self, AuditEvent};
use crate::page::{self, Marked};
use crate::sync::{Checkpoint, Lease, PageEnd};
use crate::{DbError, Exec};

/// The stream name in `sync_checkpoints` / `sync_leases`.
pub const STREAM: &str = "directory";

/// The members' table; the sweep of a round's last page marks who left the group.
const MEMBERS: Marked = Marked {
    table: "directory_members",
    id_column: "ms_object_id",
    swept_state: "left",
    stamps_left_at: true,
    audit_action: "sync.directory_members_left",
    audit_target_type: "ms_user",
    audit_detail: "members left the group",
};

/// The group a tenant syncs, if any.
///
/// # Errors
/// Database errors.
pub async fn group(db: impl Exec, tenant: TenantId) -> Result<Option<String>, DbError> {
    let mut conn = db.acquire().await?;
    let group: Option<Option<String>> = sqlx::query_scalar("SELECT sync_group_id FROM tenants WHERE id = ?")
        .bind(tenant.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(group.flatten().filter(|g| !g.is_empty()))
}

/// Names (or, with `None`, clears) the tenant's directory group, audited. A different group
/// resets the stream's checkpoint, so the next round starts from the new group's first page
/// (and its sweep marks the old group's members as `left`). Returns whether anything changed.
///
/// # Errors
/// Database errors.
pub async fn set_group(
    db: impl Exec,
    tenant: TenantId,
    group_id: Option<&str>,
    actor: Option<UserId>,
    now: i64,
) -> Result<bool, DbError> {
    let t = tenant.to_string();
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    let current: Option<Option<String>> =
        sqlx::query_scalar("SELECT sync_group_id FROM tenants WHERE id = ?").bind(&t).fetch_optional(&mut *tx).await?;
    let Some(current) = current else {
        return Ok(false);
    };
    if current.as_deref() == group_id {
        return Ok(false);
    }
    sqlx::query("UPDATE tenants SET sync_group_id = ?, updated_at = ? WHERE id = ?")
        .bind(group_id)
        .bind(now)
        .bind(&t)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sync_checkpoints WHERE tenant_id = ? AND stream = ?")
        .bind(&t)
        .bind(STREAM)
        .execute(&mut *tx)
        .await?;
    let action = if group_id.is_some() { "admin.directory_sync.set" } else { "admin.directory_sync.clear" };
    let detail = current.as_ref().filter(|_| group_id.is_some()).map(|c| format!("replaces {c}"));
    let event = AuditEvent {
        tenant_id: Some(tenant),
        actor,
        action,
        target_type: Some("group"),
        target_id: group_id.or(current.as_deref()).map(str::to_owned),
        result: audit::SUCCESS,
        detail: detail.as_deref(),
        at: now,
    };
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(true)
}

/// One member as Graph lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// Object id (lower-case).
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
}

/// A member's manager (`None`: Graph says the person has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    /// The manager's object id.
    pub ms_object_id: String,
    /// The manager's display name.
    pub display_name: Option<String>,
}

/// What one committed page (or the sweep) changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New members.
    pub added: u64,
    /// Members whose data changed.
    pub changed: u64,
    /// Members who came back (were `left`).
    pub restored: u64,
    /// Members who left the group (the sweep of the last page).
    pub left: u64,
    /// Supervisor rows written or removed.
    pub managers_changed: u64,
}

/// Starts a round: a new mark greater than every member's; no next link (the caller fetches
/// the group's first page).
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost; database errors.
pub async fn begin_round(db: impl Exec, lease: &Lease, ttl_ms: i64, now: i64) -> Result<Checkpoint, DbError> {
    page::begin_marked_round(db, lease, MEMBERS.table, ttl_ms, now).await
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    ms_object_id: String,
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    state: String,
}

impl MemberRow {
    fn split(self) -> (Member, String) {
        let member = Member {
            ms_object_id: self.ms_object_id,
            display_name: self.display_name,
            mail: self.mail,
            user_principal_name: self.user_principal_name,
            job_title: self.job_title,
            department: self.department,
        };
        (member, self.state)
    }
}

#[derive(sqlx::FromRow)]
struct SupervisorRow {
    ms_object_id: String,
    manager_object_id: String,
    manager_display_name: Option<String>,
}

async fn existing(
    conn: &mut AnyConnection,
    tenant: &str,
    ids: &[&str],
) -> Result<(HashMap<String, ExistingMember>, HashMap<String, Manager>), DbError> {
    let members = page::select_in::<MemberRow>(
        conn,
        "SELECT ms_object_id, display_name, mail, user_principal_name, job_title, department, state
         FROM directory_members",
        MEMBERS.id_column,
        tenant,
        ids,
    )
    .await?
    .into_iter()
    .map(|r| {
        let (m, state) = r.split();
        (m.ms_object_id.clone(), (m, state))
    })
    .collect();
    let managers = page::select_in::<SupervisorRow>(
        conn,
        "SELECT ms_object_id, manager_object_id, manager_display_name FROM directory_supervisors",
        "ms_object_id",
        tenant,
        ids,
    )
    .await?
    .into_iter()
    .map(|r| (r.ms_object_id, Manager { ms_object_id: r.manager_object_id, display_name: r.manager_display_name }))
    .collect();
    Ok((members, managers))
}

type ExistingMember = (Member, String);

/// Applies one page of the group's members (with their managers) and moves the checkpoint,
/// in one transaction fenced by the lease. On [`PageEnd::Done`] active members not seen since
/// the round began are set to `left` (kept, restorable). Idempotent per page.
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost (nothing is written); database errors.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
pub async fn commit_page(
    db: impl Exec,
    lease: &Lease,
    cp: &Checkpoint,
    page: &[(Member, Option<Manager>)],
    end: &PageEnd,
    ttl_ms: i64,
    now: i64,
) -> Result<(Counts, Checkpoint), DbError> {
    let t = lease.tenant.to_string();
    let mark = cp.run_mark;
    let mut counts = Counts::default();
    let mut conn = db.acquire().await?;
    let mut tx = page::open(&mut conn, lease, ttl_ms, now).await?;
    let ids: Vec<&str> = page.iter().map(|(m, _)| m.ms_object_id.as_str()).collect();
    let (mut before, managers) = existing(&mut tx, &t, &ids).await?;
    for (m, manager) in page {
        match before.get(&m.ms_object_id) {
            None => {
                sqlx::query(
                    "INSERT INTO directory_members (tenant_id, ms_object_id, display_name, mail, user_principal_name,
                       job_title, department, state, left_at, sync_mark, synced_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?)",
                )
                .bind(&t)
                .bind(&m.ms_object_id)
                .bind(&m.display_name)
                .bind(&m.mail)
                .bind(&m.user_principal_name)
                .bind(&m.job_title)
                .bind(&m.department)
                .bind(mark)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                counts.added += 1;
            }
            Some((old, state)) if old == m && state == "active" => {
                page::touch(&mut tx, &MEMBERS, &t, &m.ms_object_id, mark).await?;
            }
            Some((_, state)) => {
                let restored = state != "active";
                sqlx::query(
                    "UPDATE directory_members SET display_name = ?, mail = ?, user_principal_name = ?, job_title = ?,
                       department = ?, state = 'active', left_at = NULL, sync_mark = ?, synced_at = ?
                     WHERE tenant_id = ? AND ms_object_id = ?",
                )
                .bind(&m.display_name)
                .bind(&m.mail)
                .bind(&m.user_principal_name)
                .bind(&m.job_title)
                .bind(&m.department)
                .bind(mark)
                .bind(now)
                .bind(&t)
                .bind(&m.ms_object_id)
                .execute(&mut *tx)
                .await?;
                if restored {
                    audit::record_sync(
                        &mut *tx,
                        lease.tenant,
                        "sync.directory_member_restored",
                        MEMBERS.audit_target_type,
                        &m.ms_object_id,
                        Some("rejoined the group"),
                        now,
                    )
                    .await?;
                    counts.restored += 1;
                } else {
                    counts.changed += 1;
                }
            }
        }
        before.insert(m.ms_object_id.clone(), (m.clone(), "active".into()));
        match (managers.get(&m.ms_object_id), manager) {
            (old, Some(new)) if old != Some(new) => {
                sqlx::query("DELETE FROM directory_supervisors WHERE tenant_id = ? AND ms_object_id = ?")
                    .bind(&t)
                    .bind(&m.ms_object_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO directory_supervisors (tenant_id, ms_object_id, manager_object_id, manager_display_name,
                       synced_at) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(&t)
                .bind(&m.ms_object_id)
                .bind(&new.ms_object_id)
                .bind(&new.display_name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                counts.managers_changed += 1;
            }
            (Some(_), None) => {
                sqlx::query("DELETE FROM directory_supervisors WHERE tenant_id = ? AND ms_object_id = ?")
                    .bind(&t)
                    .bind(&m.ms_object_id)
                    .execute(&mut *tx)
                    .await?;
                counts.managers_changed += 1;
            }
            _ => {}
        }
    }
    // A directory round is always a full one (begun by `begin_round`): its last page sweeps.
    let (left, next) = page::close(tx, &MEMBERS, lease, cp, end, now).await?;
    counts.left = left;
    Ok((counts, next))
}

/// A stored directory member (with their manager, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMember {
    /// Synced data.
    pub member: Member,
    /// `active` or `left`.
    pub state: String,
    /// When they left (unix ms), for `left`.
    pub left_at: Option<i64>,
    /// Their manager.
    pub manager: Option<Manager>,
}

#[derive(sqlx::FromRow)]
struct StoredMemberRow {
    #[sqlx(flatten)]
    member: MemberRow,
    left_at: Option<i64>,
    manager_object_id: Option<String>,
    manager_display_name: Option<String>,
}

/// Every directory member of a tenant with their manager, ordered by object id.
///
/// # Errors
/// Database errors.
pub async fn members(db: impl Exec, tenant: TenantId) -> Result<Vec<StoredMember>, DbError> {
    let mut conn = db.acquire().await?;
    let rows: Vec<StoredMemberRow> = sqlx::query_as(
        "SELECT m.ms_object_id, m.display_name, m.mail, m.user_principal_name, m.job_title, m.department, m.state,
                m.left_at, s.manager_object_id, s.manager_display_name
         FROM directory_members m
         LEFT JOIN directory_supervisors s ON s.tenant_id = m.tenant_id AND s.ms_object_id = m.ms_object_id
         WHERE m.tenant_id = ? ORDER BY m.ms_object_id",
    )
    .bind(tenant.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (member, state) = r.member.split();
            StoredMember {
                member,
                state,
                left_at: r.left_at,
                manager: r
                    .manager_object_id
                    .map(|id| Manager { ms_object_id: id, display_name: r.manager_display_name }),
            }
        })
        .collect())
}

/// Counts for the admin's status view: (active members, members who left, supervisor rows).
///
/// # Errors
/// Database errors.
pub async fn counts(db: impl Exec, tenant: TenantId) -> Result<(i64, i64, i64), DbError> {
    let mut conn = db.acquire().await?;
    let t = tenant.to_string();
    let active: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM directory_members WHERE tenant_id = ? AND state = 'active'")
            .bind(&t)
            .fetch_one(&mut *conn)
            .await?;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM directory_members WHERE tenant_id = ? AND state = 'left'")
        .bind(&t)
        .fetch_one(&mut *conn)
        .await?;
    let sup: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM directory_supervisors WHERE tenant_id = ?")
        .bind(&t)
        .fetch_one(&mut *conn)
        .await?;
    Ok((active, left, sup))
}
