//! Reads for the CSV exports: the tenant's synced profiles, one keyset page at a time
//! (`ms_object_id > after ORDER BY ms_object_id LIMIT n`), so an export of any size holds
//! one page in memory and never an OFFSET scan.

use edu_domain::TenantId;
use edu_domain::csv::UserRow;

use crate::{DbError, Exec};

/// Rows per page of [`users_page`] that callers use by default.
pub const PAGE: u32 = 1000;

/// Up to `limit` synced profiles of `tenant` whose object id sorts after `after`
/// (`None`: from the start), ordered by object id. Tombstones of deleted people (no
/// personal data left) are included with their state so the file says they are gone.
///
/// # Errors
/// Database errors.
pub async fn users_page(
    db: impl Exec,
    tenant: TenantId,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<UserRow>, DbError> {
    let mut conn = db.acquire().await?;
    let rows: Vec<ExportRow> = sqlx::query_as(
        "SELECT ms_object_id, display_name, user_principal_name, mail, job_title, department, mobile_phone,
                office_location, account_enabled, state, synced_at
         FROM ms_profiles WHERE tenant_id = ? AND ms_object_id > ?
         ORDER BY ms_object_id LIMIT ?",
    )
    .bind(tenant.to_string())
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UserRow {
            id: r.ms_object_id,
            display_name: r.display_name,
            user_principal_name: r.user_principal_name,
            mail: r.mail,
            job_title: r.job_title,
            department: r.department,
            mobile_phone: r.mobile_phone,
            office_location: r.office_location,
            account_enabled: crate::flag(r.account_enabled),
            state: r.state,
            synced_at: r.synced_at,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    ms_object_id: String,
    display_name: Option<String>,
    user_principal_name: Option<String>,
    mail: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    mobile_phone: Option<String>,
    office_location: Option<String>,
    account_enabled: i64,
    state: String,
    synced_at: i64,
}
