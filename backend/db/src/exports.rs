//! Reads for the CSV exports: the tenant's synced profiles, one keyset page at a time
//! (`ms_object_id > after ORDER BY ms_object_id LIMIT n`), so an export of any size holds
//! one page in memory and never an OFFSET scan.

use edu_domain::TenantId;
use edu_domain::csv::UserRow;
use sqlx::Row;

use crate::{Db, DbError};

/// Rows per page of [`users_page`] that callers use by default.
pub const PAGE: u32 = 1000;

/// Up to `limit` synced profiles of `tenant` whose object id sorts after `after`
/// (`None`: from the start), ordered by object id. Tombstones of deleted people (no
/// personal data left) are included with their state so the file says they are gone.
///
/// # Errors
/// Database errors.
pub async fn users_page(db: &Db, tenant: TenantId, after: Option<&str>, limit: u32) -> Result<Vec<UserRow>, DbError> {
    let rows = sqlx::query(
        "SELECT ms_object_id, display_name, user_principal_name, mail, job_title, department, mobile_phone,
                office_location, account_enabled, state, synced_at
         FROM ms_profiles WHERE tenant_id = ? AND ms_object_id > ?
         ORDER BY ms_object_id LIMIT ?",
    )
    .bind(tenant.to_string())
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserRow {
                id: r.try_get("ms_object_id")?,
                display_name: r.try_get("display_name")?,
                user_principal_name: r.try_get("user_principal_name")?,
                mail: r.try_get("mail")?,
                job_title: r.try_get("job_title")?,
                department: r.try_get("department")?,
                mobile_phone: r.try_get("mobile_phone")?,
                office_location: r.try_get("office_location")?,
                account_enabled: crate::flag(r.try_get("account_enabled")?),
                state: r.try_get("state")?,
                synced_at: r.try_get("synced_at")?,
            })
        })
        .collect()
}
