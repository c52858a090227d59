//! Group-scoped directory sync (seed 001), the admin's side: name the group whose members
//! `edugraph-sync` keeps in the local directory (with their managers), see how it stands,
//! stop it. The group is checked against Microsoft Graph (app-only) before it is saved.

use actix_web::{HttpResponse, delete, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The directory sync as the admin sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectorySyncView {
    /// The group's Microsoft object id (`null`: directory sync is off).
    pub group_id: Option<String>,
    /// Members currently in the group (as of the last sync).
    pub active_members: i64,
    /// People who left the group (soft-deleted; restored if they come back).
    pub left_members: i64,
    /// Members with a manager on record.
    pub supervisors: i64,
    /// When the sync job last committed progress on the directory (unix ms).
    pub last_progress_at: Option<i64>,
    /// `idle` (last round complete) or `full` (a round in progress).
    pub round: Option<String>,
    /// The last error the job recorded, if any.
    pub last_error: Option<String>,
}

/// The group to sync: exactly one of `group_id` (object id) or `group_name` (display name,
/// as the original tool's `MSGRAPH_GROUP_NAME_TO_SYNC`; must match exactly one group).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, max_properties = 1)]
pub struct SetDirectoryGroupRequest {
    /// The group's object id.
    #[serde(default)]
    #[schema(nullable = false, max_length = 128, pattern = r#"^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"#)]
    pub group_id: Option<String>,
    /// The group's display name.
    #[serde(default)]
    #[schema(nullable = false, min_length = 1, max_length = 256, pattern = r"\S")]
    pub group_name: Option<String>,
}

async fn view(state: &AppState, admin: &TenantAdmin) -> Result<DirectorySyncView, ApiError> {
    let tenant = admin.0.tenant_id;
    let group_id = edu_db::directory::group(&state.db, tenant).await?;
    let (active_members, left_members, supervisors) = edu_db::directory::counts(&state.db, tenant).await?;
    let status = edu_db::sync::stream_statuses(&state.db, Some(tenant))
        .await?
        .into_iter()
        .find(|s| s.stream == edu_db::directory::STREAM);
    Ok(DirectorySyncView {
        group_id,
        active_members,
        left_members,
        supervisors,
        last_progress_at: status.as_ref().map(|s| s.updated_at),
        round: status.as_ref().map(|s| s.status.clone()),
        last_error: status.and_then(|s| s.last_error),
    })
}

/// One stream of the sync job, as the admin sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStreamView {
    /// `users` (Microsoft 365 profiles), `edu_classes`, `edu_users`, `edu_members` (education
    /// roster: classes, people, who is in which class) or `directory` (the named group's
    /// members).
    pub stream: String,
    /// `idle` (last round complete), `full` or `delta` (a round in progress); `null`: never ran.
    pub round: Option<String>,
    /// When the job last committed progress on it (unix ms); `null`: never.
    pub last_progress_at: Option<i64>,
    /// The last error the job recorded (cleared by the next committed page).
    pub last_error: Option<String>,
    /// Rows kept active by this stream.
    pub active: i64,
    /// Rows kept but no longer active (disabled, removed, archived, left, deleted).
    pub inactive: i64,
}

/// Every stream of the sync job for the admin's school.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatusView {
    /// `users`, `edu_classes`, `edu_users`, `edu_members`, `directory`, always in this order.
    pub streams: Vec<SyncStreamView>,
}

/// How the sync job stands for the admin's school, stream by stream (what `/metrics` tells
/// operators, for the school's own admin): last progress, round in progress, last error, rows.
#[utoipa::path(operation_id = "get_sync_status", tag = "admin", responses(
    (status = 200, body = SyncStatusView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/sync-status")]
pub async fn get_sync_status(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<SyncStatusView>, ApiError> {
    use edu_db::roster::{self, RosterKind};
    let tenant = admin.0.tenant_id;
    let statuses = edu_db::sync::stream_statuses(&state.db, Some(tenant)).await?;
    let (dir_active, dir_left, _) = edu_db::directory::counts(&state.db, tenant).await?;
    let rows = [
        ("users", roster::profile_counts(&state.db, tenant).await?),
        (RosterKind::Classes.stream(), roster::counts(&state.db, RosterKind::Classes, tenant).await?),
        (RosterKind::Users.stream(), roster::counts(&state.db, RosterKind::Users, tenant).await?),
        (edu_db::roster_members::STREAM, edu_db::roster_members::counts(&state.db, tenant).await?),
        (edu_db::directory::STREAM, (dir_active, dir_left)),
    ];
    let streams = rows
        .into_iter()
        .map(|(stream, (active, inactive))| {
            let s = statuses.iter().find(|s| s.stream == stream);
            SyncStreamView {
                stream: stream.to_owned(),
                round: s.map(|s| s.status.clone()),
                last_progress_at: s.map(|s| s.updated_at),
                last_error: s.and_then(|s| s.last_error.clone()),
                active,
                inactive,
            }
        })
        .collect();
    Ok(web::Json(SyncStatusView { streams }))
}

fn group_not_found() -> ApiError {
    ApiError::Validation422 {
        code: ErrorCode::GroupNotFound,
        message: "Microsoft 365 has no such group in your school's directory.".into(),
    }
}

/// How the directory sync stands.
#[utoipa::path(operation_id = "get_directory_sync", tag = "admin", responses(
    (status = 200, body = DirectorySyncView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/directory-sync")]
pub async fn get_directory_sync(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<DirectorySyncView>, ApiError> {
    Ok(web::Json(view(&state, &admin).await?))
}

/// Names the group whose members the sync job keeps in the local directory. A different group
/// than before starts a fresh round (the previous group's members are marked as left).
/// Audited as `admin.directory_sync.set`.
#[utoipa::path(operation_id = "set_directory_sync_group", tag = "admin", request_body = SetDirectoryGroupRequest, responses(
    (status = 200, body = DirectorySyncView),
    (status = 400, description = "`invalid_body` (neither or both of `group_id`, `group_name`)", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 422, description = "`group_not_found`, `group_name_ambiguous`", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[put("/api/admin/directory-sync")]
pub async fn set_directory_sync_group(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    body: web::Json<SetDirectoryGroupRequest>,
) -> Result<web::Json<DirectorySyncView>, ApiError> {
    let body = body.into_inner();
    let tenant = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such tenant."))?;
    let auth = edu_msgraph::GraphAuth::app_only(tenant.ms_tenant_id);
    let group_id = match (body.group_id.map(|g| g.trim().to_ascii_lowercase()), body.group_name) {
        (Some(id), None) => {
            // A Graph object id is a GUID; anything else could not name a group (and must not
            // reach the URL path).
            if id.len() != 36 || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                return Err(group_not_found());
            }
            let group =
                edu_msgraph::GraphReq::<edu_msgraph::models::Group>::get(format!("/groups/{id}")).select(&["id"]);
            match state.graph.fetch(&auth, group).await {
                Ok(_) => id,
                Err(edu_msgraph::GraphError::NotFound(_)) => return Err(group_not_found()),
                Err(e) => return Err(ApiError::from(e)),
            }
        }
        (None, Some(name)) if !name.trim().is_empty() && name.len() <= 256 => {
            let filter = format!("displayName eq {}", edu_msgraph::odata_string(name.trim()));
            let groups = state.graph.list_groups(&auth, Some(&filter), &["id", "displayName"]).await?;
            match groups.as_slice() {
                [] => return Err(group_not_found()),
                [one] => one.id.to_ascii_lowercase(),
                _ => {
                    return Err(ApiError::Validation422 {
                        code: ErrorCode::GroupNameAmbiguous,
                        message: format!("{} groups are called that: name the group by its id instead.", groups.len()),
                    });
                }
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidBody,
                "Send exactly one of `group_id` or `group_name` (not empty, at most 256 characters).",
            ));
        }
    };
    edu_db::directory::set_group(
        &state.db,
        admin.0.tenant_id,
        Some(&group_id),
        Some(admin.0.auth.user_id),
        state.clock.now_ms(),
    )
    .await?;
    Ok(web::Json(view(&state, &admin).await?))
}

/// Turns directory sync off. The local directory is kept as it was (nothing is deleted).
/// Audited as `admin.directory_sync.clear`.
#[utoipa::path(operation_id = "clear_directory_sync_group", tag = "admin", responses(
    (status = 204, description = "Directory sync is off"),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[delete("/api/admin/directory-sync")]
pub async fn clear_directory_sync_group(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<HttpResponse, ApiError> {
    edu_db::directory::set_group(&state.db, admin.0.tenant_id, None, Some(admin.0.auth.user_id), state.clock.now_ms())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A person named in the local directory (a member or a manager).
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryPersonRef {
    /// Microsoft object id (links to the admin's user page).
    pub id: String,
    /// Name, as synced.
    pub display_name: Option<String>,
}

/// A member of the synced group, with their manager (supervisor) from directory sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryMemberView {
    /// Microsoft object id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Their manager, when Microsoft 365 has one on record.
    pub manager: Option<DirectoryPersonRef>,
}

/// The synced group's members (`GET /api/admin/directory-sync/members`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryMembersView {
    /// Members in the group now, by name.
    pub items: Vec<DirectoryMemberView>,
}

/// One person's place in the synced directory (`GET /api/admin/users/{id}/directory`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDirectoryView {
    /// Whether the person is a member of the synced group now.
    pub in_directory: bool,
    /// Their manager (supervisor), from directory sync.
    pub manager: Option<DirectoryPersonRef>,
    /// The members whose manager they are, by name.
    pub reports: Vec<DirectoryPersonRef>,
}

fn person_ref(id: String, display_name: Option<String>) -> DirectoryPersonRef {
    DirectoryPersonRef { id, display_name }
}

fn by_name(a: &Option<String>, b: &Option<String>) -> std::cmp::Ordering {
    a.as_deref().unwrap_or("").to_lowercase().cmp(&b.as_deref().unwrap_or("").to_lowercase())
}

/// The members of the synced group with their managers (issue 16: managers and supervisors
/// from directory sync are visible), from the local directory the sync job keeps (no Graph call).
#[utoipa::path(operation_id = "list_directory_members", tag = "admin", responses(
    (status = 200, body = DirectoryMembersView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/directory-sync/members")]
pub async fn list_directory_members(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<DirectoryMembersView>, ApiError> {
    let mut items: Vec<DirectoryMemberView> = edu_db::directory::members(&state.db, admin.0.tenant_id)
        .await?
        .into_iter()
        .filter(|m| m.state == "active")
        .map(|m| DirectoryMemberView {
            id: m.member.ms_object_id,
            display_name: m.member.display_name,
            mail: m.member.mail,
            job_title: m.member.job_title,
            department: m.member.department,
            manager: m.manager.map(|g| person_ref(g.ms_object_id, g.display_name)),
        })
        .collect();
    items.sort_by(|a, b| by_name(&a.display_name, &b.display_name));
    Ok(web::Json(DirectoryMembersView { items }))
}

/// A person's manager and the people they manage, from the synced directory (issue 16).
#[utoipa::path(operation_id = "get_user_directory", tag = "admin", params(("id" = String, Path, description = "User id")), responses(
    (status = 200, body = UserDirectoryView),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (not an object id)", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/users/{id}/directory")]
pub async fn get_user_directory(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<web::Json<UserDirectoryView>, ApiError> {
    let id = path.into_inner();
    let id = crate::services::admin::object_id(&id)?.to_lowercase();
    let members = edu_db::directory::members(&state.db, admin.0.tenant_id).await?;
    let me = members.iter().find(|m| m.member.ms_object_id.eq_ignore_ascii_case(&id) && m.state == "active");
    let mut reports: Vec<DirectoryPersonRef> = members
        .iter()
        .filter(|m| m.state == "active" && m.manager.as_ref().is_some_and(|g| g.ms_object_id.eq_ignore_ascii_case(&id)))
        .map(|m| person_ref(m.member.ms_object_id.clone(), m.member.display_name.clone()))
        .collect();
    reports.sort_by(|a, b| by_name(&a.display_name, &b.display_name));
    Ok(web::Json(UserDirectoryView {
        in_directory: me.is_some(),
        manager: me.and_then(|m| m.manager.clone()).map(|g| person_ref(g.ms_object_id, g.display_name)),
        reports,
    }))
}
