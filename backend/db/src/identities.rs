//! Microsoft identities and their links to people. An identity is keyed by
//! (Microsoft tenant id, object id) — never by email (R-B1, R-A10).

use edu_domain::{TenantId, UserId};

use crate::{DbError, Exec};

/// A stored Microsoft identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    /// Our id of the identity row.
    pub id: String,
    /// Our tenant.
    pub tenant_id: TenantId,
    /// `tid`.
    pub ms_tenant_id: String,
    /// `oid`.
    pub ms_object_id: String,
    /// The person it is linked to.
    pub user_id: UserId,
    /// Whether that person also has a local password.
    pub user_has_password: bool,
    /// Display only.
    pub upn: Option<String>,
    /// Display only.
    pub display_name: Option<String>,
    /// Local sign-in email of the person, if any.
    pub local_email: Option<String>,
    /// Unix ms.
    pub last_sign_in_at: Option<i64>,
}

/// What Microsoft says about a person at sign-in.
#[derive(Debug, Clone)]
pub struct MsProfile<'a> {
    /// `tid`.
    pub ms_tenant_id: &'a str,
    /// `oid`.
    pub ms_object_id: &'a str,
    /// `preferred_username`.
    pub upn: Option<&'a str>,
    /// `name`.
    pub display_name: Option<&'a str>,
}

fn corrupt(detail: &str) -> DbError {
    DbError::Corrupt { table: "external_identities", detail: detail.to_owned() }
}

const SELECT: &str = "SELECT e.id, e.tenant_id, e.ms_tenant_id, e.ms_object_id, e.user_id, e.upn, e.display_name,
                             e.last_sign_in_at, u.password_hash, u.email
                      FROM external_identities e JOIN users u ON u.id = e.user_id";

#[derive(sqlx::FromRow)]
struct IdentityRow {
    id: String,
    tenant_id: String,
    ms_tenant_id: String,
    ms_object_id: String,
    user_id: String,
    upn: Option<String>,
    display_name: Option<String>,
    last_sign_in_at: Option<i64>,
    password_hash: Option<String>,
    email: Option<String>,
}

impl TryFrom<IdentityRow> for IdentityRecord {
    type Error = DbError;

    fn try_from(r: IdentityRow) -> Result<Self, DbError> {
        Ok(Self {
            id: r.id,
            tenant_id: TenantId::parse(&r.tenant_id).map_err(|_| corrupt("tenant id"))?,
            ms_tenant_id: r.ms_tenant_id,
            ms_object_id: r.ms_object_id,
            user_id: UserId::parse(&r.user_id).map_err(|_| corrupt("user id"))?,
            user_has_password: r.password_hash.is_some(),
            upn: r.upn,
            display_name: r.display_name,
            local_email: r.email,
            last_sign_in_at: r.last_sign_in_at,
        })
    }
}

async fn fetch_one_where(db: impl Exec, condition: &str, binds: &[&str]) -> Result<Option<IdentityRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{SELECT} WHERE {condition}");
    let mut q = sqlx::query_as::<_, IdentityRow>(&sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_optional(&mut *conn).await?.map(IdentityRecord::try_from).transpose()
}

/// The identity with this (tid, oid), if known.
///
/// # Errors
/// Database errors.
pub async fn find(db: impl Exec, ms_tenant_id: &str, ms_object_id: &str) -> Result<Option<IdentityRecord>, DbError> {
    fetch_one_where(db, "e.ms_tenant_id = ? AND e.ms_object_id = ?", &[ms_tenant_id, ms_object_id]).await
}

/// The identity linked to a person, if any.
///
/// # Errors
/// Database errors.
pub async fn of_user(db: impl Exec, user: UserId) -> Result<Option<IdentityRecord>, DbError> {
    fetch_one_where(db, "e.user_id = ?", &[&user.to_string()]).await
}

/// Every identity of a tenant (admin's "linked accounts"), by display name.
///
/// # Errors
/// Database errors.
pub async fn list_for_tenant(db: impl Exec, tenant: TenantId) -> Result<Vec<IdentityRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{SELECT} WHERE e.tenant_id = ? ORDER BY e.display_name, e.id");
    let rows: Vec<IdentityRow> = sqlx::query_as(&sql).bind(tenant.to_string()).fetch_all(&mut *conn).await?;
    rows.into_iter().map(IdentityRecord::try_from).collect()
}

/// One identity of a tenant by its id; `None` for another tenant's id (no existence oracle).
///
/// # Errors
/// Database errors.
pub async fn get_in_tenant(db: impl Exec, tenant: TenantId, id: &str) -> Result<Option<IdentityRecord>, DbError> {
    fetch_one_where(db, "e.tenant_id = ? AND e.id = ?", &[&tenant.to_string(), id]).await
}

/// Creates a person known only through Microsoft, with their identity, in one transaction.
///
/// # Errors
/// [`DbError::Conflict`]`("identity")` when the identity appeared meanwhile.
pub async fn create_person(db: impl Exec, tenant: TenantId, p: &MsProfile<'_>, now: i64) -> Result<UserId, DbError> {
    let user = UserId::new();
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, display_name, favorite_color, must_change_password,
                            disabled, password_changed_at, created_at, updated_at)
         VALUES (?, ?, NULL, NULL, ?, NULL, 0, 0, NULL, ?, ?)",
    )
    .bind(user.to_string())
    .bind(tenant.to_string())
    .bind(p.display_name.or(p.upn).unwrap_or("Microsoft user"))
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_identity(&mut tx, tenant, p, user, now).await?;
    tx.commit().await?;
    Ok(user)
}

async fn insert_identity(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    p: &MsProfile<'_>,
    user: UserId,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO external_identities (id, tenant_id, ms_tenant_id, ms_object_id, user_id, upn, display_name, created_at, last_sign_in_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(UserId::new().to_string())
    .bind(tenant.to_string())
    .bind(p.ms_tenant_id)
    .bind(p.ms_object_id)
    .bind(user.to_string())
    .bind(p.upn)
    .bind(p.display_name)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| DbError::unique_as(e, "identity"))?;
    Ok(())
}

/// Links a new identity to an existing person (who has none) and puts them in the tenant.
///
/// # Errors
/// [`DbError::Conflict`]`("identity")` when the identity or the person is already linked.
pub async fn attach(db: impl Exec, tenant: TenantId, p: &MsProfile<'_>, user: UserId, now: i64) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    insert_identity(&mut tx, tenant, p, user, now).await?;
    sqlx::query("DELETE FROM unlinked_identities WHERE ms_tenant_id = ? AND ms_object_id = ?")
        .bind(p.ms_tenant_id)
        .bind(p.ms_object_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE users SET tenant_id = ?, updated_at = ? WHERE id = ?")
        .bind(tenant.to_string())
        .bind(now)
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an identity from a Microsoft-only person to another person (linking an existing
/// local account), and deletes the Microsoft-only person (their sessions and roles go with
/// them). Refuses when `from` has a local password (it would delete a real account).
///
/// # Errors
/// [`DbError::Conflict`]`("identity")` when the identity is no longer on `from`, or `from`
/// has a local password, or `to` already has an identity.
pub async fn move_to(db: impl Exec, identity_id: &str, from: UserId, to: UserId, now: i64) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    let from_hash: Option<Option<String>> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(from.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    let from_has_password = match from_hash {
        Some(hash) => hash.is_some(),
        None => return Err(DbError::Conflict("identity")),
    };
    if from_has_password {
        return Err(DbError::Conflict("identity"));
    }
    let moved = sqlx::query("UPDATE external_identities SET user_id = ? WHERE id = ? AND user_id = ?")
        .bind(to.to_string())
        .bind(identity_id)
        .bind(from.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| DbError::unique_as(e, "identity"))?;
    if moved.rows_affected() != 1 {
        return Err(DbError::Conflict("identity"));
    }
    sqlx::query(
        "UPDATE users SET tenant_id = (SELECT tenant_id FROM external_identities WHERE id = ?), updated_at = ? WHERE id = ?",
    )
    .bind(identity_id)
    .bind(now)
    .bind(to.to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM users WHERE id = ?").bind(from.to_string()).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Records a sign-in and refreshes the display fields.
///
/// # Errors
/// Database errors.
pub async fn touch(db: impl Exec, identity_id: &str, p: &MsProfile<'_>, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE external_identities SET upn = ?, display_name = ?, last_sign_in_at = ? WHERE id = ?")
        .bind(p.upn)
        .bind(p.display_name)
        .bind(now)
        .bind(identity_id)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Removes an identity (unlink). A person left with no way to sign in (no local password)
/// is deleted with it. Their roles in the tenant and their cached tokens go too; the
/// person's tenant is cleared. Returns the removed identity.
///
/// # Errors
/// Database errors.
pub async fn remove(db: impl Exec, identity: &IdentityRecord) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    sqlx::query("DELETE FROM external_identities WHERE id = ?").bind(&identity.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM token_cache WHERE tenant_id = ? AND subject = ?")
        .bind(identity.tenant_id.to_string())
        .bind(&identity.ms_object_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?")
        .bind(identity.tenant_id.to_string())
        .bind(identity.user_id.to_string())
        .execute(&mut *tx)
        .await?;
    if identity.user_has_password {
        // Remembered, so signing in with it again is explained, not a second account (issue 16).
        sqlx::query("DELETE FROM unlinked_identities WHERE ms_tenant_id = ? AND ms_object_id = ?")
            .bind(&identity.ms_tenant_id)
            .bind(&identity.ms_object_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO unlinked_identities (ms_tenant_id, ms_object_id, user_id, last_sign_in_at)
             SELECT ?, ?, id, ? FROM users WHERE id = ?",
        )
        .bind(&identity.ms_tenant_id)
        .bind(&identity.ms_object_id)
        .bind(identity.last_sign_in_at)
        .bind(identity.user_id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET tenant_id = NULL WHERE id = ?")
            .bind(identity.user_id.to_string())
            .execute(&mut *tx)
            .await?;
        // Sessions that signed in through Microsoft end; local sessions stay.
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND auth_method = 'microsoft'")
            .bind(identity.user_id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sessions SET tenant_id = NULL WHERE user_id = ?")
            .bind(identity.user_id.to_string())
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("DELETE FROM users WHERE id = ?").bind(identity.user_id.to_string()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The account a Microsoft identity was unlinked from (issue 16), when that account still has
/// a local password: a sign-in with the identity is then explained, not turned into a second
/// account. `None` when the identity was never unlinked (or was linked again since).
///
/// # Errors
/// Database errors.
pub async fn unlinked_from(db: impl Exec, ms_tenant_id: &str, ms_object_id: &str) -> Result<Option<UserId>, DbError> {
    let mut conn = db.acquire().await?;
    let user: Option<String> = sqlx::query_scalar(
        "SELECT u.user_id FROM unlinked_identities u JOIN users p ON p.id = u.user_id
         WHERE u.ms_tenant_id = ? AND u.ms_object_id = ? AND p.password_hash IS NOT NULL",
    )
    .bind(ms_tenant_id)
    .bind(ms_object_id)
    .fetch_optional(&mut *conn)
    .await?;
    user.map(|u| UserId::parse(&u).map_err(|_| corrupt("user id"))).transpose()
}
