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
use sqlx::{Any, Row};

use crate::sync::{Checkpoint, Lease, PageEnd, Phase, fence, put_checkpoint};
use crate::{Db, DbError};

/// The stream name in `sync_checkpoints` / `sync_leases`.
pub const STREAM: &str = "directory";

/// The group a tenant syncs, if any.
///
/// # Errors
/// Database errors.
pub async fn group(db: &Db, tenant: TenantId) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT sync_group_id FROM tenants WHERE id = ?")
        .bind(tenant.to_string())
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) => Ok(r.try_get::<Option<String>, _>("sync_group_id")?.filter(|g| !g.is_empty())),
        None => Ok(None),
    }
}

/// Names (or, with `None`, clears) the tenant's directory group, audited. A different group
/// resets the stream's checkpoint, so the next round starts from the new group's first page
/// (and its sweep marks the old group's members as `left`). Returns whether anything changed.
///
/// # Errors
/// Database errors.
pub async fn set_group(
    db: &Db,
    tenant: TenantId,
    group_id: Option<&str>,
    actor: Option<UserId>,
    now: i64,
) -> Result<bool, DbError> {
    let t = tenant.to_string();
    let mut tx = db.pool().begin().await?;
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
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_user_id, action, target_type, target_id, result, detail, created_at)
         VALUES (?, ?, ?, ?, 'group', ?, 'success', ?, ?)",
    )
    .bind(UserId::new().to_string())
    .bind(&t)
    .bind(actor.map(|a| a.to_string()))
    .bind(action)
    .bind(group_id.or(current.as_deref()))
    .bind(current.as_ref().filter(|_| group_id.is_some()).map(|c| format!("replaces {c}")))
    .bind(now)
    .execute(&mut *tx)
    .await?;
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
pub async fn begin_round(db: &Db, lease: &Lease, ttl_ms: i64, now: i64) -> Result<Checkpoint, DbError> {
    crate::sync::begin_marked_round(db, lease, "directory_members", ttl_ms, now).await
}

async fn audit(
    tx: &mut sqlx::Transaction<'_, Any>,
    tenant: &str,
    action: &str,
    target: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_user_id, action, target_type, target_id, result, detail, created_at)
         VALUES (?, ?, NULL, ?, 'ms_user', ?, 'ok', ?, ?)",
    )
    .bind(UserId::new().to_string())
    .bind(tenant)
    .bind(action)
    .bind(target)
    .bind(detail)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type ExistingMember = (Member, String);

async fn existing(
    tx: &mut sqlx::Transaction<'_, Any>,
    tenant: &str,
    ids: &[&str],
) -> Result<(HashMap<String, ExistingMember>, HashMap<String, Manager>), DbError> {
    let mut members = HashMap::new();
    let mut managers = HashMap::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "SELECT ms_object_id, display_name, mail, user_principal_name, job_title, department, state
             FROM directory_members WHERE tenant_id = ? AND ms_object_id IN ({marks})"
        );
        let mut q = sqlx::query(&sql).bind(tenant);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let m = Member {
                ms_object_id: r.try_get("ms_object_id")?,
                display_name: r.try_get("display_name")?,
                mail: r.try_get("mail")?,
                user_principal_name: r.try_get("user_principal_name")?,
                job_title: r.try_get("job_title")?,
                department: r.try_get("department")?,
            };
            members.insert(m.ms_object_id.clone(), (m, r.try_get("state")?));
        }
        let sql = format!(
            "SELECT ms_object_id, manager_object_id, manager_display_name FROM directory_supervisors
             WHERE tenant_id = ? AND ms_object_id IN ({marks})"
        );
        let mut q = sqlx::query(&sql).bind(tenant);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            managers.insert(
                r.try_get("ms_object_id")?,
                Manager {
                    ms_object_id: r.try_get("manager_object_id")?,
                    display_name: r.try_get("manager_display_name")?,
                },
            );
        }
    }
    Ok((members, managers))
}

/// Applies one page of the group's members (with their managers) and moves the checkpoint,
/// in one transaction fenced by the lease. On [`PageEnd::Done`] active members not seen since
/// the round began are set to `left` (kept, restorable). Idempotent per page.
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost (nothing is written); database errors.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
pub async fn commit_page(
    db: &Db,
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
    let mut tx = db.pool().begin().await?;
    fence(&mut tx, lease, ttl_ms, now).await?;
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
                sqlx::query("UPDATE directory_members SET sync_mark = ? WHERE tenant_id = ? AND ms_object_id = ?")
                    .bind(mark)
                    .bind(&t)
                    .bind(&m.ms_object_id)
                    .execute(&mut *tx)
                    .await?;
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
                    audit(
                        &mut tx,
                        &t,
                        "sync.directory_member_restored",
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
    let next = match end {
        PageEnd::Next(link) => {
            Checkpoint { next_link: Some(link.clone()), pages: cp.pages + 1, last_error: None, ..cp.clone() }
        }
        PageEnd::Done(_) => {
            counts.left = sqlx::query(
                "UPDATE directory_members SET state = 'left', left_at = ?, synced_at = ?
                 WHERE tenant_id = ? AND state = 'active' AND sync_mark < ?",
            )
            .bind(now)
            .bind(now)
            .bind(&t)
            .bind(mark)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if counts.left > 0 {
                let detail = format!("{} members left the group", counts.left);
                audit(&mut tx, &t, "sync.directory_members_left", "*", Some(&detail), now).await?;
            }
            Checkpoint {
                next_link: None,
                delta_link: None,
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

/// Every directory member of a tenant with their manager, ordered by object id.
///
/// # Errors
/// Database errors.
pub async fn members(db: &Db, tenant: TenantId) -> Result<Vec<StoredMember>, DbError> {
    let rows = sqlx::query(
        "SELECT m.ms_object_id, m.display_name, m.mail, m.user_principal_name, m.job_title, m.department, m.state,
                m.left_at, s.manager_object_id, s.manager_display_name
         FROM directory_members m
         LEFT JOIN directory_supervisors s ON s.tenant_id = m.tenant_id AND s.ms_object_id = m.ms_object_id
         WHERE m.tenant_id = ? ORDER BY m.ms_object_id",
    )
    .bind(tenant.to_string())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let manager_id: Option<String> = r.try_get("manager_object_id")?;
            Ok(StoredMember {
                member: Member {
                    ms_object_id: r.try_get("ms_object_id")?,
                    display_name: r.try_get("display_name")?,
                    mail: r.try_get("mail")?,
                    user_principal_name: r.try_get("user_principal_name")?,
                    job_title: r.try_get("job_title")?,
                    department: r.try_get("department")?,
                },
                state: r.try_get("state")?,
                left_at: r.try_get("left_at")?,
                manager: match manager_id {
                    Some(id) => Some(Manager { ms_object_id: id, display_name: r.try_get("manager_display_name")? }),
                    None => None,
                },
            })
        })
        .collect()
}

/// Counts for the admin's status view: (active members, members who left, supervisor rows).
///
/// # Errors
/// Database errors.
pub async fn counts(db: &Db, tenant: TenantId) -> Result<(i64, i64, i64), DbError> {
    let t = tenant.to_string();
    let active: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM directory_members WHERE tenant_id = ? AND state = 'active'")
            .bind(&t)
            .fetch_one(db.pool())
            .await?;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM directory_members WHERE tenant_id = ? AND state = 'left'")
        .bind(&t)
        .fetch_one(db.pool())
        .await?;
    let sup: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM directory_supervisors WHERE tenant_id = ?")
        .bind(&t)
        .fetch_one(db.pool())
        .await?;
    Ok((active, left, sup))
}
