//! Our copy of roster data read from Microsoft Graph (issue 18, R-C9): a class with its
//! teachers and members (`scope = "class"`, key = class id) and a person's own classes
//! (`scope = "my_classes"`, key = their Microsoft object id). The API writes it after every
//! successful Graph read of that data and serves it while fresh, or as a stale copy while
//! Microsoft does not answer. Every query takes the tenant: one tenant's copy never answers
//! another's. The body is the API's JSON; this module does not read it.

use edu_domain::TenantId;

use crate::{DbError, Dialect, Exec, dialect_of};

/// A stored copy and when it was read from Microsoft (unix ms).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Cached {
    /// The API's JSON.
    pub body: Vec<u8>,
    /// When it was read from Microsoft, unix ms.
    pub fetched_at: i64,
}

/// Stores (inserts or replaces) a copy.
///
/// # Errors
/// Database errors.
pub async fn put(
    db: impl Exec,
    tenant: TenantId,
    scope: &str,
    key: &str,
    body: &[u8],
    fetched_at: i64,
) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let sql = match dialect_of(&conn) {
        Dialect::MySql => {
            "INSERT INTO graph_roster_cache (tenant_id, scope, cache_key, body, fetched_at) VALUES (?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE body = VALUES(body), fetched_at = VALUES(fetched_at)"
        }
        Dialect::Sqlite => {
            "INSERT INTO graph_roster_cache (tenant_id, scope, cache_key, body, fetched_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, scope, cache_key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at"
        }
    };
    sqlx::query(sql)
        .bind(tenant.to_string())
        .bind(scope)
        .bind(key)
        .bind(body)
        .bind(fetched_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Reads a copy, whatever its age.
///
/// # Errors
/// Database errors.
pub async fn get(db: impl Exec, tenant: TenantId, scope: &str, key: &str) -> Result<Option<Cached>, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_as(
        "SELECT body, fetched_at FROM graph_roster_cache WHERE tenant_id = ? AND scope = ? AND cache_key = ?",
    )
    .bind(tenant.to_string())
    .bind(scope)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Forgets one copy (a write changed what it holds).
///
/// # Errors
/// Database errors.
pub async fn delete(db: impl Exec, tenant: TenantId, scope: &str, key: &str) -> Result<u64, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query("DELETE FROM graph_roster_cache WHERE tenant_id = ? AND scope = ? AND cache_key = ?")
        .bind(tenant.to_string())
        .bind(scope)
        .bind(key)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Forgets every copy of a tenant (consent revoked: nothing of it is served any more).
///
/// # Errors
/// Database errors.
pub async fn delete_tenant(db: impl Exec, tenant: TenantId) -> Result<u64, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query("DELETE FROM graph_roster_cache WHERE tenant_id = ?")
        .bind(tenant.to_string())
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
