//! School tenants.

use edu_domain::TenantId;
use sqlx::Row;

use crate::{Db, DbError};

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

/// One tenant by our id.
///
/// # Errors
/// Database errors.
pub async fn get(db: &Db, id: TenantId) -> Result<Option<TenantRecord>, DbError> {
    let row = sqlx::query("SELECT id, ms_tenant_id, display_name, consent_state FROM tenants WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        Ok(TenantRecord {
            id: TenantId::parse(&r.try_get::<String, _>("id")?)
                .map_err(|_| DbError::Corrupt { table: "tenants", detail: "bad id".into() })?,
            ms_tenant_id: r.try_get("ms_tenant_id")?,
            display_name: r.try_get("display_name")?,
            consent_state: r.try_get("consent_state")?,
        })
    })
    .transpose()
}

/// Creates a tenant or updates its name, keyed by the Microsoft tenant id; returns our id.
///
/// # Errors
/// Database errors.
pub async fn upsert_by_ms_id(db: &Db, ms_tenant_id: &str, display_name: &str, now: i64) -> Result<TenantId, DbError> {
    let existing = sqlx::query("SELECT id FROM tenants WHERE ms_tenant_id = ?")
        .bind(ms_tenant_id)
        .fetch_optional(db.pool())
        .await?;
    if let Some(r) = existing {
        let id: String = r.try_get("id")?;
        sqlx::query("UPDATE tenants SET display_name = ?, updated_at = ? WHERE id = ?")
            .bind(display_name)
            .bind(now)
            .bind(&id)
            .execute(db.pool())
            .await?;
        return TenantId::parse(&id).map_err(|_| DbError::Corrupt { table: "tenants", detail: "bad id".into() });
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
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => Ok(id),
        // Another instance created it first: use theirs.
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            let r = sqlx::query("SELECT id FROM tenants WHERE ms_tenant_id = ?")
                .bind(ms_tenant_id)
                .fetch_one(db.pool())
                .await?;
            TenantId::parse(&r.try_get::<String, _>("id")?)
                .map_err(|_| DbError::Corrupt { table: "tenants", detail: "bad id".into() })
        }
        Err(e) => Err(e.into()),
    }
}
