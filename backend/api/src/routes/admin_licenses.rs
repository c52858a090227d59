//! The tenant's licences: subscribed SKUs with consumed and available units, and
//! assigning / removing licences for a person. When no unit is left the answer says which
//! licence and how many are in use (409 `no_licenses_available`), never a bare Graph error.

use actix_web::{get, post, web};
use edu_msgraph::models::{AssignLicenseRequest, AssignedLicense, SubscribedSku};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode, admin_graph_error};
use crate::services::admin::{LicenseFailure, admin_graph, audit, audit_failure, classify, object_id};
use crate::state::AppState;

/// A licence (SKU) the tenant subscribes to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminLicense {
    /// SKU id (use it to assign).
    pub sku_id: String,
    /// Product name, e.g. `STANDARDWOFFPACK_FACULTY`.
    pub sku_part_number: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`.
    pub capability_status: Option<String>,
    /// Units bought and active.
    pub enabled_units: i64,
    /// Units assigned.
    pub consumed_units: i64,
    /// Units left to assign (never negative).
    pub available_units: i64,
}

impl From<SubscribedSku> for AdminLicense {
    fn from(s: SubscribedSku) -> Self {
        let enabled = s.prepaid_units.as_ref().map_or(0, |p| p.enabled);
        Self {
            sku_id: s.sku_id.to_lowercase(),
            sku_part_number: s.sku_part_number,
            capability_status: s.capability_status,
            enabled_units: enabled,
            consumed_units: s.consumed_units,
            available_units: (enabled - s.consumed_units).max(0),
        }
    }
}

/// The tenant's licences.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminLicensesResponse {
    /// The licences.
    pub items: Vec<AdminLicense>,
}

/// The tenant's subscribed licences with consumed and available units.
#[utoipa::path(operation_id = "list_admin_licenses", tag = "admin", responses(
    (status = 200, body = AdminLicensesResponse),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 502, description = "`microsoft_error`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/licenses")]
pub async fn list_admin_licenses(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<AdminLicensesResponse>, ApiError> {
    let g = admin_graph(&state, &admin).await?;
    let skus = state.graph.subscribed_skus(&g.auth).await.map_err(admin_graph_error)?;
    Ok(web::Json(AdminLicensesResponse { items: skus.into_iter().map(AdminLicense::from).collect() }))
}

/// Licences to add and remove for a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignLicensesRequest {
    /// SKU ids to assign.
    #[serde(default)]
    pub add: Vec<String>,
    /// SKU ids to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// The person's licences after the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignLicensesResponse {
    /// SKU ids now assigned directly.
    pub assigned_licenses: Vec<String>,
}

/// Explains "no licences left" with the SKU's name and counts (one extra Graph read).
async fn none_left(state: &AppState, auth: &edu_msgraph::GraphAuth, add: &[String]) -> ApiError {
    let skus = state.graph.subscribed_skus(auth).await.unwrap_or_default();
    let full: Vec<String> = skus
        .into_iter()
        .map(AdminLicense::from)
        .filter(|l| add.contains(&l.sku_id) && l.available_units == 0)
        .map(|l| {
            format!(
                "{} ({} of {} in use)",
                l.sku_part_number.as_deref().unwrap_or(&l.sku_id),
                l.consumed_units,
                l.enabled_units
            )
        })
        .collect();
    let which = if full.is_empty() { "this licence".to_owned() } else { full.join(", ") };
    ApiError::conflict(
        ErrorCode::NoLicensesAvailable,
        format!(
            "No licences are left for {which}. Remove a licence from someone who no longer needs it, or buy more in the Microsoft 365 admin center."
        ),
    )
}

fn sku_id(s: &str) -> Result<String, ApiError> {
    let ok = s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok {
        Ok(s.to_lowercase())
    } else {
        Err(ApiError::Validation422 {
            code: ErrorCode::UnknownLicense,
            message: "This is not a licence of your school.".into(),
        })
    }
}

/// Assigns and/or removes licences of a person of the tenant.
#[utoipa::path(operation_id = "assign_admin_user_licenses", tag = "admin", params(("id" = String, Path, description = "Graph user id")),
    request_body = AssignLicensesRequest, responses(
    (status = 200, body = AssignLicensesResponse),
    (status = 400, description = "`invalid_body` (nothing to change)", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
    (status = 409, description = "`no_licenses_available`, `license_not_assigned` (removing a licence the person does not hold)", body = crate::error::ErrorBody),
    (status = 422, description = "`unknown_license`, `usage_location_required`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/users/{id}/licenses")]
pub async fn assign_admin_user_licenses(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
    body: web::Json<AssignLicensesRequest>,
) -> Result<web::Json<AssignLicensesResponse>, ApiError> {
    const ACTION: &str = "admin.license.assign";
    let id = path.into_inner();
    let id = object_id(&id)?;
    let b = body.into_inner();
    if b.add.is_empty() && b.remove.is_empty() {
        return Err(ApiError::bad_request(ErrorCode::InvalidBody, "Nothing to change."));
    }
    if b.add.len() + b.remove.len() > 20 {
        return Err(ApiError::bad_request(ErrorCode::InvalidBody, "At most 20 licences at a time."));
    }
    let add = b.add.iter().map(|s| sku_id(s)).collect::<Result<Vec<_>, _>>()?;
    let remove = b.remove.iter().map(|s| sku_id(s)).collect::<Result<Vec<_>, _>>()?;
    let g = admin_graph(&state, &admin).await?;
    let target = Some(("user", id));
    if !remove.is_empty() {
        // Graph's answer to removing a licence the person does not hold is not one we can
        // explain well; check first and say it plainly.
        let user = state.graph.get_user(&g.auth, id, &["id", "assignedLicenses"]).await.map_err(|e| {
            if e.is_not_found() {
                ApiError::not_found(ErrorCode::NotFound, "There is no such user in your school.")
            } else {
                admin_graph_error(e)
            }
        })?;
        let held: Vec<String> = user.assigned_licenses.iter().map(|l| l.sku_id.to_lowercase()).collect();
        if let Some(missing) = remove.iter().find(|s| !held.contains(s)) {
            let err = ApiError::Conflict {
                code: ErrorCode::LicenseNotAssigned,
                message: format!("This person does not hold the licence {missing}, so it cannot be removed."),
            };
            return Err(audit_failure(&state, &admin, ACTION, target, err).await);
        }
    }
    let request = AssignLicenseRequest {
        add_licenses: add.iter().map(|s| AssignedLicense { disabled_plans: vec![], sku_id: s.clone() }).collect(),
        remove_licenses: remove.clone(),
    };
    let user = match state.graph.assign_license(&g.auth, id, &request).await {
        Ok(u) => u,
        Err(e) => {
            let err = match classify(&e) {
                LicenseFailure::NoneLeft => none_left(&state, &g.auth, &add).await,
                LicenseFailure::UsageLocation => ApiError::Validation422 {
                    code: ErrorCode::UsageLocationRequired,
                    message: "Set this person's usage location (country) before assigning a licence.".into(),
                },
                LicenseFailure::UnknownSku => ApiError::Validation422 {
                    code: ErrorCode::UnknownLicense,
                    message: "This is not a licence of your school.".into(),
                },
                LicenseFailure::NotFound => {
                    ApiError::not_found(ErrorCode::NotFound, "There is no such user in your school.")
                }
                LicenseFailure::Other => admin_graph_error(e),
            };
            return Err(audit_failure(&state, &admin, ACTION, target, err).await);
        }
    };
    let detail = format!("add={};remove={}", add.join(","), remove.join(","));
    audit(&state, &admin, ACTION, target, "success", Some(&detail)).await?;
    Ok(web::Json(AssignLicensesResponse {
        assigned_licenses: user.assigned_licenses.into_iter().map(|l| l.sku_id.to_lowercase()).collect(),
    }))
}
