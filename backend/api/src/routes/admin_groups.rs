//! The tenant admin's groups: list and search, members of a group, add and remove a
//! member. "Already a member" and "not a member / no such object" are answered clearly (409 /
//! 404), never as a server error. Adding many members at once is a background job
//! (`admin_bulk`).

use actix_web::{HttpResponse, delete, get, post, web};
use edu_msgraph::ListUsersOptions;
use edu_msgraph::models::{DirectoryObject, Group};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode, admin_graph_error};
use crate::services::admin::{
    admin_graph, audit, audit_failure, is_already_member, no_group, object_id, open_cursor, require_group, seal_cursor,
    search_term,
};
use crate::state::AppState;

const DEFAULT_TOP: u32 = 25;
const MAX_TOP: u32 = 100;

/// A group of the tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminGroup {
    /// Graph id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Mail address, for mail-enabled groups.
    pub mail: Option<String>,
    /// Security group.
    pub security_enabled: Option<bool>,
    /// Mail-enabled.
    pub mail_enabled: Option<bool>,
    /// E.g. `Unified` for Microsoft 365 groups.
    pub group_types: Vec<String>,
}

impl From<Group> for AdminGroup {
    fn from(g: Group) -> Self {
        Self {
            id: g.id,
            display_name: g.display_name,
            description: g.description,
            mail: g.mail,
            security_enabled: g.security_enabled,
            mail_enabled: g.mail_enabled,
            group_types: g.group_types,
        }
    }
}

/// A page of groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminGroupsPage {
    /// The groups.
    pub items: Vec<AdminGroup>,
    /// How many groups match (first page only).
    pub total: Option<i64>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Group list options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminGroupsQuery {
    /// Search in group names (word prefixes).
    pub search: Option<String>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub top: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A direct member of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminGroupMember {
    /// Graph id.
    pub id: String,
    /// `user`, `group` or `other`.
    pub kind: String,
    /// Name.
    pub display_name: Option<String>,
    /// Sign-in name (users).
    pub user_principal_name: Option<String>,
    /// Mail.
    pub mail: Option<String>,
}

impl From<DirectoryObject> for AdminGroupMember {
    fn from(o: DirectoryObject) -> Self {
        let kind = if o.is_user() {
            "user"
        } else if o.is_group() {
            "group"
        } else if o.odata_type.is_none() && o.user_principal_name.is_some() {
            "user"
        } else {
            "other"
        };
        Self {
            id: o.id,
            kind: kind.to_owned(),
            display_name: o.display_name,
            user_principal_name: o.user_principal_name,
            mail: o.mail,
        }
    }
}

/// A page of members.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminGroupMembersPage {
    /// The members.
    pub items: Vec<AdminGroupMember>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Member list options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminGroupMembersQuery {
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub top: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

fn page_size(top: Option<u32>) -> Result<u32, ApiError> {
    let top = top.unwrap_or(DEFAULT_TOP);
    if (1..=MAX_TOP).contains(&top) {
        Ok(top)
    } else {
        Err(ApiError::bad_request(ErrorCode::InvalidQuery, "top must be between 1 and 100."))
    }
}

/// The tenant's groups, searchable, a page at a time.
#[utoipa::path(operation_id = "list_admin_groups", tag = "admin", params(AdminGroupsQuery), responses(
    (status = 200, body = AdminGroupsPage),
    (status = 400, description = "`invalid_query`, `invalid_cursor`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 502, description = "`microsoft_error`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/groups")]
pub async fn list_admin_groups(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    q: web::Query<AdminGroupsQuery>,
) -> Result<web::Json<AdminGroupsPage>, ApiError> {
    let q = q.into_inner();
    let g = admin_graph(&state, &admin).await?;
    let page = match &q.cursor {
        Some(c) => {
            let link = open_cursor(&state, &admin, "groups", c)?;
            state.graph.next_directory_page::<Group>(&g.auth, &link, true).await
        }
        None => {
            let opts = ListUsersOptions {
                search: search_term(q.search.as_deref()).map(|s| format!("\"displayName:{s}\"")),
                top: Some(page_size(q.top)?),
                count: true,
                ..ListUsersOptions::default()
            };
            state.graph.groups_page(&g.auth, &opts).await
        }
    }
    .map_err(admin_graph_error)?;
    Ok(web::Json(AdminGroupsPage {
        total: page.count,
        next_cursor: page.next_link.as_deref().map(|l| seal_cursor(&state, &admin, "groups", l)),
        items: page.value.into_iter().map(AdminGroup::from).collect(),
    }))
}

/// One group of the tenant (the group page's title and kind).
#[utoipa::path(operation_id = "get_admin_group", tag = "admin", params(("id" = String, Path, description = "Group id")), responses(
    (status = 200, body = AdminGroup),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
    (status = 502, description = "`microsoft_error`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/groups/{id}")]
pub async fn get_admin_group(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<web::Json<AdminGroup>, ApiError> {
    let id = path.into_inner();
    let id = object_id(&id)?;
    let g = admin_graph(&state, &admin).await?;
    let group = state
        .graph
        .get_group(&g.auth, id, &[])
        .await
        .map_err(|e| if e.is_not_found() { no_group() } else { admin_graph_error(e) })?;
    Ok(web::Json(AdminGroup::from(group)))
}

/// The direct members of a group of the tenant.
#[utoipa::path(operation_id = "list_admin_group_members", tag = "admin",
    params(("id" = String, Path, description = "Group id"), AdminGroupMembersQuery), responses(
    (status = 200, body = AdminGroupMembersPage),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/groups/{id}/members")]
pub async fn list_admin_group_members(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
    q: web::Query<AdminGroupMembersQuery>,
) -> Result<web::Json<AdminGroupMembersPage>, ApiError> {
    let id = path.into_inner();
    let id = object_id(&id)?;
    let q = q.into_inner();
    let g = admin_graph(&state, &admin).await?;
    let purpose = format!("members:{id}");
    let page = match &q.cursor {
        Some(c) => {
            let link = open_cursor(&state, &admin, &purpose, c)?;
            state.graph.next_directory_page::<DirectoryObject>(&g.auth, &link, false).await
        }
        None => {
            let opts = ListUsersOptions { top: Some(page_size(q.top)?), ..ListUsersOptions::default() };
            state.graph.group_members_page(&g.auth, id, &opts).await
        }
    }
    .map_err(|e| if e.is_not_found() { no_group() } else { admin_graph_error(e) })?;
    Ok(web::Json(AdminGroupMembersPage {
        next_cursor: page.next_link.as_deref().map(|l| seal_cursor(&state, &admin, &purpose, l)),
        items: page.value.into_iter().map(AdminGroupMember::from).collect(),
    }))
}

/// A member to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddGroupMemberRequest {
    /// Graph id of a user (or group) of the tenant.
    pub member_id: String,
}

/// Adds a member to a group of the tenant.
#[utoipa::path(operation_id = "add_admin_group_member", tag = "admin", params(("id" = String, Path, description = "Group id")),
    request_body = AddGroupMemberRequest, responses(
    (status = 204, description = "Added"),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such group, or no such user in your school", body = crate::error::ErrorBody),
    (status = 409, description = "`already_a_member`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/groups/{id}/members")]
pub async fn add_admin_group_member(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
    body: web::Json<AddGroupMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    const ACTION: &str = "admin.group.member.add";
    let id = path.into_inner();
    let id = object_id(&id)?;
    let member = body.into_inner().member_id;
    let member = object_id(&member)?;
    let g = admin_graph(&state, &admin).await?;
    require_group(&state, &g.auth, id).await?;
    let target = Some(("group", id));
    match state.graph.add_group_member(&g.auth, id, member).await {
        Ok(()) => {}
        Err(e) if is_already_member(&e) => {
            let err = ApiError::conflict(ErrorCode::AlreadyAMember, "This person is already a member of the group.");
            return Err(audit_failure(&state, &admin, ACTION, target, err).await);
        }
        Err(e) if e.is_not_found() => {
            let err = ApiError::not_found(ErrorCode::NotFound, "There is no such user or group in your school.");
            return Err(audit_failure(&state, &admin, ACTION, target, err).await);
        }
        Err(e) => return Err(audit_failure(&state, &admin, ACTION, target, admin_graph_error(e)).await),
    }
    // A class group: our roster copies of it and of the person's classes are out of date now.
    crate::services::classes::forget(&state, admin.0.tenant_id, id, &[member]).await?;
    audit(&state, &admin, ACTION, target, "success", Some(&format!("member={member}"))).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a member from a group of the tenant.
#[utoipa::path(operation_id = "remove_admin_group_member", tag = "admin",
    params(("id" = String, Path, description = "Group id"), ("member_id" = String, Path, description = "Member id")), responses(
    (status = 204, description = "Removed"),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (no such group), `not_a_member`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[delete("/api/admin/groups/{id}/members/{member_id}")]
pub async fn remove_admin_group_member(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    const ACTION: &str = "admin.group.member.remove";
    let (id, member) = path.into_inner();
    let (id, member) = (object_id(&id)?, object_id(&member)?);
    let g = admin_graph(&state, &admin).await?;
    require_group(&state, &g.auth, id).await?;
    let target = Some(("group", id));
    match state.graph.remove_group_member(&g.auth, id, member).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {
            let err = ApiError::not_found(ErrorCode::NotAMember, "This person is not a member of the group.");
            return Err(audit_failure(&state, &admin, ACTION, target, err).await);
        }
        Err(e) => return Err(audit_failure(&state, &admin, ACTION, target, admin_graph_error(e)).await),
    }
    // A class group: our roster copies of it and of the person's classes are out of date now.
    crate::services::classes::forget(&state, admin.0.tenant_id, id, &[member]).await?;
    audit(&state, &admin, ACTION, target, "success", Some(&format!("member={member}"))).await?;
    Ok(HttpResponse::NoContent().finish())
}
