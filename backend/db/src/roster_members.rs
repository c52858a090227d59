//! Who is in each synced class (issue 18 §3, table `roster_class_members`), kept by
//! edugraph-sync's `edu_members` stream, and the synced roster as the API serves it when
//! Microsoft Graph is not answering and it holds no copy of its own (R-C9).
//!
//! Microsoft's class delta carries no memberships, so each round of the stream visits every
//! active class of `roster_classes` in id order, a page of classes at a time; a page replaces
//! the visited classes' rows and moves the checkpoint (the last class id visited) in one
//! transaction fenced by the lease. The round's last page sets the rows of classes it did not
//! visit (archived since) to `left`. Every query takes the tenant.

use edu_domain::TenantId;
use sqlx::AnyConnection;

use crate::page::{self, Marked};
use crate::sync::{Checkpoint, Lease, PageEnd};
use crate::{DbError, Exec, placeholders};

/// The stream name in `sync_checkpoints` / `sync_leases`.
pub const STREAM: &str = "edu_members";

const MARKED: Marked = Marked {
    table: "roster_class_members",
    id_column: "ms_class_id",
    swept_state: "left",
    stamps_left_at: false,
    audit_action: "sync.roster_members_left",
    audit_target_type: "edu_class",
    audit_detail: "memberships of classes no longer synced",
};

/// A person's place in a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    /// On the class's teacher list.
    Teacher,
    /// A member who is not one of its teachers.
    Student,
}

impl MemberRole {
    /// As stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Teacher => "teacher",
            Self::Student => "student",
        }
    }
}

/// One class's people as Microsoft listed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassMembers {
    /// The class (lower case).
    pub class_id: String,
    /// Object id (lower case) and role; a teacher who is also a member is listed once, as a
    /// teacher.
    pub people: Vec<(String, MemberRole)>,
}

/// What a committed page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberCounts {
    /// Classes whose lists were stored.
    pub classes: u64,
    /// Memberships stored.
    pub memberships: u64,
    /// Memberships of classes no longer synced, set to `left` by the round's last page.
    pub left: u64,
}

/// Starts a round (new mark, no cursor).
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost; database errors.
pub async fn begin_round(db: impl Exec, lease: &Lease, ttl_ms: i64, now: i64) -> Result<Checkpoint, DbError> {
    page::begin_marked_round(db, lease, MARKED.table, ttl_ms, now).await
}

/// Every active synced class of the tenant, in id order.
///
/// # Errors
/// Database errors.
pub async fn active_classes(db: impl Exec, tenant: TenantId) -> Result<Vec<String>, DbError> {
    let mut conn = db.acquire().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT ms_class_id FROM roster_classes WHERE tenant_id = ? AND state = 'active' ORDER BY ms_class_id",
    )
    .bind(tenant.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

/// Replaces the lists of the page's classes and moves the checkpoint, in one transaction
/// fenced by the lease; on [`PageEnd::Done`] the rows of classes this round did not visit are
/// set to `left`. Idempotent: replaying a page gives the same rows.
///
/// # Errors
/// `Conflict("sync lease")` when the lease was lost (nothing is written); database errors.
pub async fn commit_page(
    db: impl Exec,
    lease: &Lease,
    cp: &Checkpoint,
    classes: &[ClassMembers],
    end: &PageEnd,
    ttl_ms: i64,
    now: i64,
) -> Result<(MemberCounts, Checkpoint), DbError> {
    let tenant = lease.tenant.to_string();
    let mut counts = MemberCounts::default();
    let mut conn = db.acquire().await?;
    let mut tx = page::open(&mut conn, lease, ttl_ms, now).await?;
    for class in classes {
        replace_class(&mut tx, &tenant, class, cp.run_mark, now).await?;
        counts.classes += 1;
        counts.memberships += class.people.len() as u64;
    }
    let (left, next) = page::close(tx, &MARKED, lease, cp, end, now).await?;
    counts.left = left;
    Ok((counts, next))
}

async fn replace_class(
    conn: &mut AnyConnection,
    tenant: &str,
    class: &ClassMembers,
    mark: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM roster_class_members WHERE tenant_id = ? AND ms_class_id = ?")
        .bind(tenant)
        .bind(&class.class_id)
        .execute(&mut *conn)
        .await?;
    for chunk in class.people.chunks(200) {
        let rows = vec!["(?, ?, ?, ?, 'active', ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO roster_class_members (tenant_id, ms_class_id, ms_object_id, role, state, sync_mark, synced_at) VALUES {rows}"
        );
        let mut q = sqlx::query(&sql);
        for (oid, role) in chunk {
            q = q.bind(tenant).bind(&class.class_id).bind(oid).bind(role.as_str()).bind(mark).bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A synced class as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncedClass {
    /// Microsoft id.
    pub ms_class_id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Class code.
    pub class_code: Option<String>,
    /// Mail nickname.
    pub mail_nickname: Option<String>,
    /// SIS id.
    pub external_id: Option<String>,
    /// Grade.
    pub grade: Option<String>,
    /// Term name.
    pub term_name: Option<String>,
    /// Term start (`YYYY-MM-DD`).
    pub term_start: Option<String>,
    /// Term end.
    pub term_end: Option<String>,
    /// When its people were last listed (unix ms).
    pub synced_at: i64,
}

/// A synced member of a class, with what the roster knows of them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncedMember {
    /// The class.
    pub ms_class_id: String,
    /// Microsoft object id.
    pub ms_object_id: String,
    /// `teacher` or `student`.
    pub role: String,
    /// Name (from `roster_users`, when synced).
    pub display_name: Option<String>,
    /// Mail, else the UPN.
    pub mail: Option<String>,
}

const CLASS_SELECT: &str = "SELECT c.ms_class_id, c.display_name, c.class_code, c.mail_nickname, c.external_id, \
     c.grade, c.term_name, c.term_start, c.term_end, m.synced_at FROM roster_classes c \
     JOIN roster_class_members m ON m.tenant_id = c.tenant_id AND m.ms_class_id = c.ms_class_id";

/// The active synced classes `oid` is in (as teacher or student), by name, with when their
/// lists were read. Empty when the person is in none (or the stream never ran).
///
/// # Errors
/// Database errors.
pub async fn classes_of(db: impl Exec, tenant: TenantId, oid: &str) -> Result<Vec<SyncedClass>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!(
        "{CLASS_SELECT} WHERE c.tenant_id = ? AND m.ms_object_id = ? AND c.state = 'active' AND m.state = 'active' \
         ORDER BY c.display_name, c.ms_class_id"
    );
    Ok(sqlx::query_as(&sql).bind(tenant.to_string()).bind(oid).fetch_all(&mut *conn).await?)
}

/// An active synced class whose people were listed, `None` otherwise.
///
/// # Errors
/// Database errors.
pub async fn class(db: impl Exec, tenant: TenantId, class_id: &str) -> Result<Option<SyncedClass>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!(
        "{CLASS_SELECT} WHERE c.tenant_id = ? AND c.ms_class_id = ? AND c.state = 'active' AND m.state = 'active' LIMIT 1"
    );
    Ok(sqlx::query_as(&sql).bind(tenant.to_string()).bind(class_id).fetch_optional(&mut *conn).await?)
}

/// The active people of the given synced classes (teachers first, then by name), named from
/// `roster_users`.
///
/// # Errors
/// Database errors.
pub async fn members_of(db: impl Exec, tenant: TenantId, class_ids: &[&str]) -> Result<Vec<SyncedMember>, DbError> {
    let mut conn = db.acquire().await?;
    let mut out = Vec::new();
    for chunk in class_ids.chunks(200) {
        let sql = format!(
            "SELECT m.ms_class_id, m.ms_object_id, m.role, u.display_name, COALESCE(u.mail, u.user_principal_name) AS mail \
             FROM roster_class_members m LEFT JOIN roster_users u \
               ON u.tenant_id = m.tenant_id AND u.ms_object_id = m.ms_object_id AND u.state = 'active' \
             WHERE m.tenant_id = ? AND m.state = 'active' AND m.ms_class_id IN ({}) \
             ORDER BY m.ms_class_id, m.role DESC, u.display_name, m.ms_object_id",
            placeholders(chunk.len())
        );
        let mut q = sqlx::query_as::<_, SyncedMember>(&sql).bind(tenant.to_string());
        for id in chunk {
            q = q.bind(*id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// How many memberships the tenant has that are `active`, and how many `left`.
///
/// # Errors
/// Database errors.
pub async fn counts(db: impl Exec, tenant: TenantId) -> Result<(i64, i64), DbError> {
    crate::roster::state_counts(db, MARKED.table, tenant).await
}
