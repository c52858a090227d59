//! People and their local credentials and roles.

use edu_domain::{Email, Role, TenantId, UserId};

use crate::{DbError, Exec, flag};

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
    /// The person proved they read mail at this address (R-B3); until then no local sign-in
    /// and no linking.
    pub email_verified: bool,
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

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    id: String,
    password_hash: String,
    disabled: i64,
    email_verified_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    tenant_id: Option<String>,
    email: Option<String>,
    password_hash: Option<String>,
    display_name: String,
    favorite_color: Option<String>,
    must_change_password: i64,
    disabled: i64,
    created_at: i64,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = DbError;

    fn try_from(r: UserRow) -> Result<Self, DbError> {
        Ok(Self {
            id: parse_user_id(&r.id)?,
            tenant_id: r.tenant_id.as_deref().map(parse_tenant_id).transpose()?,
            email: r.email,
            has_password: r.password_hash.is_some(),
            display_name: r.display_name,
            favorite_color: r.favorite_color,
            must_change_password: flag(r.must_change_password),
            disabled: flag(r.disabled),
            created_at: r.created_at,
        })
    }
}

/// Creates a local account.
///
/// # Errors
/// [`DbError::Conflict`]`("email")` when the email is taken.
#[tracing::instrument(skip_all, fields(user.id = %new.id))]
pub async fn create_local(db: impl Exec, new: &NewLocalUser<'_>) -> Result<(), DbError> {
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
    .execute(&mut *db.acquire().await?)
    .await
    .map_err(|e| DbError::unique_as(e, "email"))?;
    Ok(())
}

/// The local credentials for an email, if such an account exists.
///
/// # Errors
/// Database errors.
pub async fn find_credentials(db: impl Exec, email: &Email) -> Result<Option<Credentials>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<CredentialsRow> =
        sqlx::query_as(
            "SELECT id, password_hash, disabled, email_verified_at FROM users WHERE email = ? AND password_hash IS NOT NULL",
        )
            .bind(email.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| {
        Ok(Credentials {
            user_id: parse_user_id(&r.id)?,
            password_hash: r.password_hash,
            disabled: flag(r.disabled),
            email_verified: r.email_verified_at.is_some(),
        })
    })
    .transpose()
}

/// The password hash of a person, if they have a local password.
///
/// # Errors
/// Database errors.
pub async fn password_hash(db: impl Exec, user: UserId) -> Result<Option<String>, DbError> {
    let mut conn = db.acquire().await?;
    let hash: Option<Option<String>> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(user.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(hash.flatten())
}

/// One person.
///
/// # Errors
/// Database errors.
pub async fn get(db: impl Exec, user: UserId) -> Result<Option<UserRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, tenant_id, email, password_hash, display_name, favorite_color,
                must_change_password, disabled, created_at
         FROM users WHERE id = ?",
    )
    .bind(user.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(UserRecord::try_from).transpose()
}

/// Replaces a person's password hash (password change, or a rehash on sign-in).
///
/// # Errors
/// Database errors.
pub async fn set_password_hash(db: impl Exec, user: UserId, hash: &str, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change_password = 0, updated_at = ?
         WHERE id = ?",
    )
    .bind(hash)
    .bind(now)
    .bind(now)
    .bind(user.to_string())
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// The roles a person holds in a tenant.
///
/// # Errors
/// Database errors.
pub async fn roles(db: impl Exec, tenant: TenantId, user: UserId) -> Result<Vec<Role>, DbError> {
    let mut conn = db.acquire().await?;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT role FROM user_roles WHERE tenant_id = ? AND user_id = ? ORDER BY role")
            .bind(tenant.to_string())
            .bind(user.to_string())
            .fetch_all(&mut *conn)
            .await?;
    // An unknown stored role is ignored rather than granted (deny by default).
    Ok(names.iter().filter_map(|s| Role::parse(s)).collect())
}

/// Replaces a person's roles in a tenant (at every Microsoft sign-in).
///
/// # Errors
/// Database errors.
pub async fn set_roles(db: impl Exec, tenant: TenantId, user: UserId, roles: &[Role], now: i64) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
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
pub async fn linked_identity(db: impl Exec, user: UserId) -> Result<Option<LinkedIdentity>, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_as(
        "SELECT ms_tenant_id, ms_object_id, upn, display_name FROM external_identities WHERE user_id = ?",
    )
    .bind(user.to_string())
    .fetch_optional(&mut *conn)
    .await?)
}

/// A Microsoft identity linked to a person.
#[derive(Debug, Clone, sqlx::FromRow)]
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
pub async fn clear_password(db: impl Exec, user: UserId, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET password_hash = NULL, updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(user.to_string())
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Gives a person (known through Microsoft) a local sign-in: email and password hash. The
/// email is unverified until the person follows the link mailed to it (R-B3).
///
/// # Errors
/// [`DbError::Conflict`]`("email")` when the email is taken.
pub async fn set_local_credentials(
    db: impl Exec,
    user: UserId,
    email: &Email,
    hash: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET email = ?, password_hash = ?, password_changed_at = ?, email_verified_at = NULL, updated_at = ?
         WHERE id = ?",
    )
        .bind(email.as_str())
        .bind(hash)
        .bind(now)
        .bind(now)
        .bind(user.to_string())
        .execute(&mut *db.acquire().await?)
        .await
        .map_err(|e| DbError::unique_as(e, "email"))?;
    Ok(())
}

/// Sets a person's favourite colour (`#rrggbb`).
///
/// # Errors
/// Database errors.
pub async fn set_favorite_color(db: impl Exec, user: UserId, color: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET favorite_color = ?, updated_at = ? WHERE id = ?")
        .bind(color)
        .bind(now)
        .bind(user.to_string())
        .execute(&mut *db.acquire().await?)
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

#[derive(sqlx::FromRow)]
struct LocalAccountRow {
    id: String,
    email: String,
    display_name: String,
    disabled: i64,
    created_at: i64,
    link_id: Option<String>,
    upn: Option<String>,
}

impl TryFrom<LocalAccountRow> for LocalAccount {
    type Error = DbError;

    fn try_from(r: LocalAccountRow) -> Result<Self, DbError> {
        Ok(Self {
            user_id: parse_user_id(&r.id)?,
            email: r.email,
            display_name: r.display_name,
            disabled: flag(r.disabled),
            created_at: r.created_at,
            link_id: r.link_id,
            ms_upn: r.upn,
        })
    }
}

/// The tenant's local accounts, by email.
///
/// # Errors
/// Database errors.
pub async fn local_accounts_of_tenant(db: impl Exec, tenant: TenantId) -> Result<Vec<LocalAccount>, DbError> {
    let mut conn = db.acquire().await?;
    let sql = format!("{LOCAL_OF_TENANT} ORDER BY u.email, u.id");
    let t = tenant.to_string();
    let rows: Vec<LocalAccountRow> = sqlx::query_as(&sql).bind(&t).bind(&t).bind(&t).fetch_all(&mut *conn).await?;
    rows.into_iter().map(LocalAccount::try_from).collect()
}

/// Deletes a local account of the tenant with, in one transaction, its Microsoft link, the
/// link's cached tokens, its roles and its sessions. `Ok(None)` (nothing changed) when the
/// person is not a local account of this tenant; otherwise the deleted account.
///
/// # Errors
/// Database errors.
pub async fn delete_local_account(
    db: impl Exec,
    tenant: TenantId,
    user: UserId,
) -> Result<Option<LocalAccount>, DbError> {
    let t = tenant.to_string();
    let u = user.to_string();
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    let sql = format!("{LOCAL_OF_TENANT} AND u.id = ?");
    let row: Option<LocalAccountRow> =
        sqlx::query_as(&sql).bind(&t).bind(&t).bind(&t).bind(&u).fetch_optional(&mut *tx).await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let account = LocalAccount::try_from(row)?;
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
