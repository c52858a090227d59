//! People and their local credentials and roles.

use edu_domain::{Email, Role, TenantId, UserId};
use sqlx::Row;

use crate::{Db, DbError, flag};

/// A new local account.
#[derive(Debug)]
pub struct NewLocalUser<'a> {
    /// The new id.
    pub id: UserId,
    /// The sign-in email (normalised).
    pub email: &'a Email,
    /// The argon2id PHC string.
    pub password_hash: &'a str,
    /// Shown in the UI; for a local account, the part of the email before `@` unless given.
    pub display_name: &'a str,
    /// `#rrggbb` or none.
    pub favorite_color: Option<&'a str>,
    /// Unix ms.
    pub now: i64,
}

/// The credentials of a local account, for sign-in.
#[derive(Debug)]
pub struct Credentials {
    /// The person.
    pub user_id: UserId,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
}

/// A person as the API shows them to themselves.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The person.
    pub id: UserId,
    /// Their tenant, once they signed in with Microsoft or were linked.
    pub tenant_id: Option<TenantId>,
    /// Local sign-in email, if they have a local account.
    pub email: Option<String>,
    /// Whether a local password is set.
    pub has_password: bool,
    /// Display name.
    pub display_name: String,
    /// `#rrggbb`.
    pub favorite_color: Option<String>,
    /// Must change the password at next sign-in.
    pub must_change_password: bool,
    /// Disabled by an admin or by sync.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
}

fn parse_user_id(s: &str) -> Result<UserId, DbError> {
    UserId::parse(s).map_err(|_| DbError::Corrupt { table: "users", detail: "bad id".into() })
}

fn parse_tenant_id(s: &str) -> Result<TenantId, DbError> {
    TenantId::parse(s).map_err(|_| DbError::Corrupt { table: "users", detail: "bad tenant id".into() })
}

/// Creates a local account.
///
/// # Errors
/// [`DbError::Conflict`]`("email")` when the email is taken.
#[tracing::instrument(skip_all, fields(user.id = %new.id))]
pub async fn create_local(db: &Db, new: &NewLocalUser<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, display_name, favorite_color,
                            must_change_password, disabled, password_changed_at, created_at, updated_at)
         VALUES (?, NULL, ?, ?, ?, ?, 0, 0, ?, ?, ?)",
    )
    .bind(new.id.to_string())
    .bind(new.email.as_str())
    .bind(new.password_hash)
    .bind(new.display_name)
    .bind(new.favorite_color)
    .bind(new.now)
    .bind(new.now)
    .bind(new.now)
    .execute(db.pool())
    .await
    .map_err(|e| DbError::unique_as(e, "email"))?;
    Ok(())
}

/// The local credentials for an email, if such an account exists.
///
/// # Errors
/// Database errors.
pub async fn find_credentials(db: &Db, email: &Email) -> Result<Option<Credentials>, DbError> {
    let row =
        sqlx::query("SELECT id, password_hash, disabled FROM users WHERE email = ? AND password_hash IS NOT NULL")
            .bind(email.as_str())
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| {
        Ok(Credentials {
            user_id: parse_user_id(&r.try_get::<String, _>("id")?)?,
            password_hash: r.try_get("password_hash")?,
            disabled: flag(r.try_get("disabled")?),
        })
    })
    .transpose()
}

/// The password hash of a person, if they have a local password.
///
/// # Errors
/// Database errors.
pub async fn password_hash(db: &Db, user: UserId) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT password_hash FROM users WHERE id = ?")
        .bind(user.to_string())
        .fetch_optional(db.pool())
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<String>, _>("password_hash")?,
        None => None,
    })
}

/// One person.
///
/// # Errors
/// Database errors.
pub async fn get(db: &Db, user: UserId) -> Result<Option<UserRecord>, DbError> {
    let row = sqlx::query(
        "SELECT id, tenant_id, email, password_hash, display_name, favorite_color,
                must_change_password, disabled, created_at
         FROM users WHERE id = ?",
    )
    .bind(user.to_string())
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        let tenant: Option<String> = r.try_get("tenant_id")?;
        let hash: Option<String> = r.try_get("password_hash")?;
        Ok(UserRecord {
            id: parse_user_id(&r.try_get::<String, _>("id")?)?,
            tenant_id: tenant.as_deref().map(parse_tenant_id).transpose()?,
            email: r.try_get("email")?,
            has_password: hash.is_some(),
            display_name: r.try_get("display_name")?,
            favorite_color: r.try_get("favorite_color")?,
            must_change_password: flag(r.try_get("must_change_password")?),
            disabled: flag(r.try_get("disabled")?),
            created_at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

/// Replaces a person's password hash (password change, or a rehash on sign-in).
///
/// # Errors
/// Database errors.
pub async fn set_password_hash(db: &Db, user: UserId, hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change_password = 0, updated_at = ?
         WHERE id = ?",
    )
    .bind(hash)
    .bind(now)
    .bind(now)
    .bind(user.to_string())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The roles a person holds in a tenant.
///
/// # Errors
/// Database errors.
pub async fn roles(db: &Db, tenant: TenantId, user: UserId) -> Result<Vec<Role>, DbError> {
    let rows = sqlx::query("SELECT role FROM user_roles WHERE tenant_id = ? AND user_id = ? ORDER BY role")
        .bind(tenant.to_string())
        .bind(user.to_string())
        .fetch_all(db.pool())
        .await?;
    let mut roles = Vec::with_capacity(rows.len());
    for r in rows {
        let s: String = r.try_get("role")?;
        // An unknown stored role is ignored rather than granted (deny by default).
        if let Some(role) = Role::parse(&s) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// Replaces a person's roles in a tenant (at every Microsoft sign-in).
///
/// # Errors
/// Database errors.
pub async fn set_roles(db: &Db, tenant: TenantId, user: UserId, roles: &[Role], now: i64) -> Result<(), DbError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?")
        .bind(tenant.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (tenant_id, user_id, role, granted_at) VALUES (?, ?, ?, ?)")
            .bind(tenant.to_string())
            .bind(user.to_string())
            .bind(role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether the person has a Microsoft identity linked, and its display name / UPN.
///
/// # Errors
/// Database errors.
pub async fn linked_identity(db: &Db, user: UserId) -> Result<Option<LinkedIdentity>, DbError> {
    let row =
        sqlx::query("SELECT ms_tenant_id, ms_object_id, upn, display_name FROM external_identities WHERE user_id = ?")
            .bind(user.to_string())
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| {
        Ok(LinkedIdentity {
            ms_tenant_id: r.try_get("ms_tenant_id")?,
            ms_object_id: r.try_get("ms_object_id")?,
            upn: r.try_get("upn")?,
            display_name: r.try_get("display_name")?,
        })
    })
    .transpose()
}

/// A Microsoft identity linked to a person.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    /// Microsoft tenant id (`tid`).
    pub ms_tenant_id: String,
    /// Microsoft object id (`oid`).
    pub ms_object_id: String,
    /// User principal name, for display only (never a key).
    pub upn: Option<String>,
    /// Display name from Microsoft.
    pub display_name: Option<String>,
}

/// Removes a person's local password (they keep signing in with Microsoft only).
///
/// # Errors
/// Database errors.
pub async fn clear_password(db: &Db, user: UserId, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET password_hash = NULL, updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(user.to_string())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Gives a person (known through Microsoft) a local sign-in: email and password hash.
///
/// # Errors
/// [`DbError::Conflict`]`("email")` when the email is taken.
pub async fn set_local_credentials(db: &Db, user: UserId, email: &Email, hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET email = ?, password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?")
        .bind(email.as_str())
        .bind(hash)
        .bind(now)
        .bind(now)
        .bind(user.to_string())
        .execute(db.pool())
        .await
        .map_err(|e| DbError::unique_as(e, "email"))?;
    Ok(())
}

/// Sets a person's favourite colour (`#rrggbb`).
///
/// # Errors
/// Database errors.
pub async fn set_favorite_color(db: &Db, user: UserId, color: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET favorite_color = ?, updated_at = ? WHERE id = ?")
        .bind(color)
        .bind(now)
        .bind(user.to_string())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A local account (email + password) of a tenant: a person with local credentials whose
/// tenant is this one (they signed in with, or linked, a Microsoft account of the tenant) and
/// who has no Microsoft identity in another tenant.
#[derive(Debug, Clone)]
pub struct LocalAccount {
    /// The person.
    pub user_id: UserId,
    /// Local sign-in email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Disabled.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
    /// The linked Microsoft identity's id (the link), if any.
    pub link_id: Option<String>,
    /// The linked Microsoft sign-in name, if any.
    pub ms_upn: Option<String>,
}

const LOCAL_OF_TENANT: &str = "SELECT u.id, u.email, u.display_name, u.disabled, u.created_at, e.id AS link_id, e.upn
     FROM users u LEFT JOIN external_identities e ON e.user_id = u.id AND e.tenant_id = ?
     WHERE u.email IS NOT NULL AND u.tenant_id = ?
       AND NOT EXISTS (SELECT 1 FROM external_identities x WHERE x.user_id = u.id AND x.tenant_id <> ?)";

fn local_account(r: &sqlx::any::AnyRow) -> Result<LocalAccount, DbError> {
    Ok(LocalAccount {
        user_id: parse_user_id(&r.try_get::<String, _>("id")?)?,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        disabled: flag(r.try_get("disabled")?),
        created_at: r.try_get("created_at")?,
        link_id: r.try_get("link_id")?,
        ms_upn: r.try_get("upn")?,
    })
}

/// The tenant's local accounts, by email.
///
/// # Errors
/// Database errors.
pub async fn local_accounts_of_tenant(db: &Db, tenant: TenantId) -> Result<Vec<LocalAccount>, DbError> {
    let sql = format!("{LOCAL_OF_TENANT} ORDER BY u.email, u.id");
    let t = tenant.to_string();
    let rows = sqlx::query(&sql).bind(&t).bind(&t).bind(&t).fetch_all(db.pool()).await?;
    rows.iter().map(local_account).collect()
}

/// Deletes a local account of the tenant with, in one transaction, its Microsoft link, the
/// link's cached tokens, its roles and its sessions. `Ok(None)` (nothing changed) when the
/// person is not a local account of this tenant; otherwise the deleted account.
///
/// # Errors
/// Database errors.
pub async fn delete_local_account(db: &Db, tenant: TenantId, user: UserId) -> Result<Option<LocalAccount>, DbError> {
    let t = tenant.to_string();
    let u = user.to_string();
    let mut tx = db.pool().begin().await?;
    let sql = format!("{LOCAL_OF_TENANT} AND u.id = ?");
    let Some(row) = sqlx::query(&sql).bind(&t).bind(&t).bind(&t).bind(&u).fetch_optional(&mut *tx).await? else {
        return Ok(None);
    };
    let account = local_account(&row)?;
    sqlx::query(
        "DELETE FROM token_cache WHERE tenant_id = ? AND subject IN
           (SELECT ms_object_id FROM external_identities WHERE user_id = ? AND tenant_id = ?)",
    )
    .bind(&t)
    .bind(&u)
    .bind(&t)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM external_identities WHERE user_id = ? AND tenant_id = ?")
        .bind(&u)
        .bind(&t)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM user_roles WHERE user_id = ?").bind(&u).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(&u).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM users WHERE id = ? AND tenant_id = ?").bind(&u).bind(&t).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(account))
}
