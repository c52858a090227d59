//! School tenants.

use edu_domain::TenantId;

use crate::{DbError, Exec};

/// A tenant as shown to its members.
#[derive(Debug, Clone)]
pub struct TenantRecord {
    /// Our id.
    pub id: TenantId,
    /// Microsoft tenant id.
    pub ms_tenant_id: String,
    /// Display name.
    pub display_name: String,
    /// `none`, `consented` or `revoked`.
    pub consent_state: String,
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    ms_tenant_id: String,
    display_name: String,
    consent_state: String,
}

fn tenant_id(s: &str) -> Result<TenantId, DbError> {
    TenantId::parse(s).map_err(|_| DbError::Corrupt { table: "tenants", detail: "bad id".into() })
}

impl TryFrom<TenantRow> for TenantRecord {
    type Error = DbError;

    fn try_from(r: TenantRow) -> Result<Self, DbError> {
        Ok(Self {
            id: tenant_id(&r.id)?,
            ms_tenant_id: r.ms_tenant_id,
            display_name: r.display_name,
            consent_state: r.consent_state,
        })
    }
}

/// One tenant by our id.
///
/// # Errors
/// Database errors.
pub async fn get(db: impl Exec, id: TenantId) -> Result<Option<TenantRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<TenantRow> =
        sqlx::query_as("SELECT id, ms_tenant_id, display_name, consent_state FROM tenants WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(TenantRecord::try_from).transpose()
}

/// Creates a tenant or updates its name, keyed by the Microsoft tenant id; returns our id.
///
/// # Errors
/// Database errors.
pub async fn upsert_by_ms_id(
    db: impl Exec,
    ms_tenant_id: &str,
    display_name: &str,
    now: i64,
) -> Result<TenantId, DbError> {
    let mut conn = db.acquire().await?;
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM tenants WHERE ms_tenant_id = ?")
        .bind(ms_tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(id) = existing {
        sqlx::query("UPDATE tenants SET display_name = ?, updated_at = ? WHERE id = ?")
            .bind(display_name)
            .bind(now)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        return tenant_id(&id);
    }
    let id = TenantId::new();
    let inserted = sqlx::query(
        "INSERT INTO tenants (id, ms_tenant_id, display_name, consent_state, created_at, updated_at) VALUES (?, ?, ?, 'none', ?, ?)",
    )
    .bind(id.to_string())
    .bind(ms_tenant_id)
    .bind(display_name)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(id),
        // Another instance created it first: use theirs.
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            let id: String = sqlx::query_scalar("SELECT id FROM tenants WHERE ms_tenant_id = ?")
                .bind(ms_tenant_id)
                .fetch_one(&mut *conn)
                .await?;
            tenant_id(&id)
        }
        Err(e) => Err(e.into()),
    }
}

/// A tenant by its Microsoft tenant id.
///
/// # Errors
/// Database errors.
pub async fn find_by_ms_id(db: impl Exec, ms_tenant_id: &str) -> Result<Option<TenantRecord>, DbError> {
    let mut conn = db.acquire().await?;
    let row: Option<TenantRow> =
        sqlx::query_as("SELECT id, ms_tenant_id, display_name, consent_state FROM tenants WHERE ms_tenant_id = ?")
            .bind(ms_tenant_id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(TenantRecord::try_from).transpose()
}

/// Records the tenant admin's consent: the granted scopes and who consented.
///
/// # Errors
/// Database errors.
pub async fn set_consented(
    db: impl Exec,
    tenant: TenantId,
    scopes: &str,
    by: Option<edu_domain::UserId>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE tenants SET consent_state = 'consented', consented_scopes = ?, consented_by_user_id = ?, consented_at = ?,
                            updated_at = ? WHERE id = ?",
    )
    .bind(scopes)
    .bind(by.map(|u| u.to_string()))
    .bind(now)
    .bind(now)
    .bind(tenant.to_string())
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// Marks the consent revoked and removes every link, role, cached token and session of the
/// tenant (people without a local password are deleted: they have no way left to sign in).
///
/// # Errors
/// Database errors.
pub async fn revoke(db: impl Exec, tenant: TenantId, now: i64) -> Result<(), DbError> {
    let t = tenant.to_string();
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    sqlx::query("UPDATE tenants SET consent_state = 'revoked', updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(&t)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM token_cache WHERE tenant_id = ?").bind(&t).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM user_roles WHERE tenant_id = ?").bind(&t).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sessions WHERE tenant_id = ?").bind(&t).execute(&mut *tx).await?;
    sqlx::query(
        "DELETE FROM users WHERE password_hash IS NULL AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = ?)",
    )
    .bind(&t)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM external_identities WHERE tenant_id = ?").bind(&t).execute(&mut *tx).await?;
    sqlx::query("UPDATE users SET tenant_id = NULL WHERE tenant_id = ?").bind(&t).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The Microsoft profile fields the tenant's admin lets people edit themselves (seed 000).
///
/// # Errors
/// Database errors.
pub async fn editable_profile_fields(db: impl Exec, tenant: TenantId) -> Result<Vec<String>, DbError> {
    let mut conn = db.acquire().await?;
    let raw: Option<String> = sqlx::query_scalar("SELECT editable_profile_fields FROM tenants WHERE id = ?")
        .bind(tenant.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    Ok(raw.unwrap_or_default().split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect())
}

/// Sets the editable profile fields.
///
/// # Errors
/// Database errors.
pub async fn set_editable_profile_fields(
    db: impl Exec,
    tenant: TenantId,
    fields: &[&str],
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE tenants SET editable_profile_fields = ?, updated_at = ? WHERE id = ?")
        .bind(fields.join(","))
        .bind(now)
        .bind(tenant.to_string())
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}
