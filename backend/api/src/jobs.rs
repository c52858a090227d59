//! Background jobs of the tenant admin, run on the instance that started them, with their
//! progress in `background_jobs` (`edu_db::jobs`): "Enable user access" ([`user_access`]) and
//! the bulk operations ([`bulk`]). The route modules `admin_jobs` and `admin_bulk` start them
//! and read their state.

pub mod bulk;
pub mod grading;
pub mod user_access;

use edu_db::jobs::JobRecord;
use edu_domain::TenantId;
use edu_msgraph::GraphAuth;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// An active job that has not reported progress for this long is considered abandoned
/// (its instance stopped) and no longer blocks a new start.
pub const STALE_AFTER_MS: i64 = 15 * 60 * 1000;

/// The delegated Graph access of the admin who started a job, for its next batch: a job
/// outlives the request, so the token is read (and refreshed when it is about to expire)
/// before every batch rather than taken from the request's extractor.
///
/// # Errors
/// `401 microsoft_signin_required` when the admin's Microsoft sign-in can no longer be used.
pub(crate) async fn admin_auth(
    state: &AppState,
    tenant: TenantId,
    ms_tenant_id: &str,
    admin_oid: &str,
) -> Result<GraphAuth, ApiError> {
    let token = crate::microsoft::tokens::access_token(state, tenant, ms_tenant_id, admin_oid).await?;
    Ok(GraphAuth::delegated(ms_tenant_id.to_owned(), token))
}

/// Every job kind, as `GET /api/admin/jobs?kind=` accepts it.
pub const KINDS: [&str; 3] = [user_access::ENABLE_USER_ACCESS, bulk::BULK_ADD_MEMBERS, bulk::BULK_ASSIGN_LICENSES];

/// A background job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// `enable_user_access`.
    pub kind: String,
    /// `queued`, `running`, `succeeded` (per-item failures are in `failed`) or `failed`.
    pub status: String,
    /// Users of the tenant (known once the job has read them).
    pub total: i64,
    /// Users granted access by this job.
    pub done: i64,
    /// Users whose assignment failed.
    pub failed: i64,
    /// Users who already had access.
    pub already: i64,
    /// The last Microsoft Graph error code (no personal data).
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last progress.
    pub updated_at: i64,
    /// Unix ms, once finished.
    pub finished_at: Option<i64>,
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            total: j.total,
            done: j.done,
            failed: j.failed,
            already: j.already,
            last_error: j.last_error,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}
