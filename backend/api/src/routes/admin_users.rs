//! The tenant admin's user management through Microsoft Graph: list with search,
//! filters, chosen fields and paging; get; create (a temporary password shown once, changed
//! at next sign-in, the UPN checked against the tenant's verified domains); update; enable
//! and disable. Every call uses the admin's delegated token, so it acts only inside the
//! admin's own tenant (another tenant's ids are not found: 404).

use actix_web::{HttpResponse, get, patch, post, web};
use edu_msgraph::models::{NewUser, PasswordProfile, User};
use edu_msgraph::{GraphError, ListUsersOptions, odata_string};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode, admin_graph_error};
use crate::services::admin::{
    admin_graph, audit, audit_failure, audit_named, object_id, open_cursor, seal_cursor, search_term,
};
use crate::state::AppState;

/// Users per page unless `top` says otherwise (at most [`MAX_TOP`]).
const DEFAULT_TOP: u32 = 25;
const MAX_TOP: u32 = 100;

/// Selectable fields: our snake_case name → Graph's property.
const FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("display_name", "displayName"),
    ("user_principal_name", "userPrincipalName"),
    ("mail", "mail"),
    ("given_name", "givenName"),
    ("surname", "surname"),
    ("job_title", "jobTitle"),
    ("department", "department"),
    ("office_location", "officeLocation"),
    ("mobile_phone", "mobilePhone"),
    ("usage_location", "usageLocation"),
    ("account_enabled", "accountEnabled"),
    ("created_at", "createdDateTime"),
    ("assigned_licenses", "assignedLicenses"),
];
const LIST_DEFAULT: &[&str] =
    &["id", "display_name", "user_principal_name", "mail", "job_title", "department", "account_enabled"];

/// A user of the tenant's directory. Only the requested (or default) fields are present.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUser {
    /// Graph object id.
    pub id: String,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Sign-in name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// Mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    /// Job title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_location: Option<String>,
    /// Mobile phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    /// Two-letter country code (needed for licences).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<String>,
    /// Whether the account can sign in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// When the account was created (ISO 8601, from Graph).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// SKU ids of the licences assigned directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_licenses: Option<Vec<String>>,
}

impl AdminUser {
    fn from_graph(u: User, fields: &[&str]) -> Self {
        let has = |f: &str| fields.contains(&f);
        let keep = |f: &str, v: Option<String>| if has(f) { v } else { None };
        Self {
            display_name: keep("display_name", u.display_name),
            user_principal_name: keep("user_principal_name", u.user_principal_name),
            mail: keep("mail", u.mail),
            given_name: keep("given_name", u.given_name),
            surname: keep("surname", u.surname),
            job_title: keep("job_title", u.job_title),
            department: keep("department", u.department),
            office_location: keep("office_location", u.office_location),
            mobile_phone: keep("mobile_phone", u.mobile_phone),
            usage_location: keep("usage_location", u.usage_location),
            account_enabled: if has("account_enabled") { u.account_enabled } else { None },
            created_at: keep("created_at", u.created_date_time),
            assigned_licenses: has("assigned_licenses")
                .then(|| u.assigned_licenses.into_iter().map(|l| l.sku_id.to_lowercase()).collect()),
            id: u.id,
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUsersPage {
    /// The users.
    pub items: Vec<AdminUser>,
    /// How many users match (Graph's `@odata.count`; first page only).
    pub total: Option<i64>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminUsersQuery {
    /// Search in display names, mail addresses and sign-in names (word prefixes, as
    /// Microsoft's `$search`).
    pub search: Option<String>,
    /// Exact department.
    pub department: Option<String>,
    /// Exact job title.
    pub job_title: Option<String>,
    /// Only enabled (`true`) or disabled (`false`) accounts.
    pub enabled: Option<bool>,
    /// Comma-separated fields: `id, display_name, user_principal_name, mail, given_name, surname,
    /// job_title, department, office_location, mobile_phone, usage_location, account_enabled,
    /// created_at, assigned_licenses`.
    pub select: Option<String>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub top: Option<u32>,
    /// From a previous page's `next_cursor` (the other parameters are then ignored, except `select`).
    pub cursor: Option<String>,
}

fn parse_select(select: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let Some(s) = select.filter(|s| !s.trim().is_empty()) else { return Ok(LIST_DEFAULT.to_vec()) };
    let mut out = vec!["id"];
    for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (ours, _) = FIELDS.iter().find(|(o, _)| *o == f).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::InvalidQuery, format!("Unknown field in select: {f:.40}"))
        })?;
        if !out.contains(ours) {
            out.push(ours);
        }
    }
    Ok(out)
}

fn graph_fields(fields: &[&str]) -> Vec<&'static str> {
    fields.iter().filter_map(|f| FIELDS.iter().find(|(o, _)| o == f).map(|(_, g)| *g)).collect()
}

fn all_fields() -> Vec<&'static str> {
    FIELDS.iter().map(|(o, _)| *o).collect()
}

/// The tenant's users: search, filters, chosen fields, a page at a time.
#[utoipa::path(operation_id = "list_admin_users", tag = "admin", params(AdminUsersQuery), responses(
    (status = 200, body = AdminUsersPage),
    (status = 400, description = "`invalid_query`, `invalid_cursor`", body = crate::error::ErrorBody),
    (status = 401, description = "`microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 502, description = "`microsoft_error` with Graph's code, message and request id", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/users")]
pub async fn list_admin_users(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    q: web::Query<AdminUsersQuery>,
) -> Result<web::Json<AdminUsersPage>, ApiError> {
    let q = q.into_inner();
    let fields = parse_select(q.select.as_deref())?;
    let g = admin_graph(&state, &admin).await?;
    let page = match &q.cursor {
        Some(c) => {
            let link = open_cursor(&state, &admin, "users", c)?;
            state.graph.next_directory_page::<User>(&g.auth, &link, true).await
        }
        None => {
            let top = q.top.unwrap_or(DEFAULT_TOP);
            if !(1..=MAX_TOP).contains(&top) {
                return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "top must be between 1 and 100."));
            }
            let mut filters = vec![];
            if let Some(d) = q.department.as_deref().filter(|d| !d.is_empty()) {
                filters.push(format!("department eq {}", odata_string(d)));
            }
            if let Some(j) = q.job_title.as_deref().filter(|j| !j.is_empty()) {
                filters.push(format!("jobTitle eq {}", odata_string(j)));
            }
            if let Some(e) = q.enabled {
                filters.push(format!("accountEnabled eq {e}"));
            }
            let select = graph_fields(&fields);
            let opts = ListUsersOptions {
                select: &select,
                filter: (!filters.is_empty()).then(|| filters.join(" and ")),
                // Name, mail or sign-in name (Graph tokenizes each: word prefixes).
                search: search_term(q.search.as_deref())
                    .map(|s| format!("\"displayName:{s}\" OR \"mail:{s}\" OR \"userPrincipalName:{s}\"")),
                top: Some(top),
                count: true,
                ..ListUsersOptions::default()
            };
            state.graph.users_page(&g.auth, &opts).await
        }
    }
    .map_err(admin_graph_error)?;
    Ok(web::Json(AdminUsersPage {
        total: page.count,
        next_cursor: page.next_link.as_deref().map(|l| seal_cursor(&state, &admin, "users", l)),
        items: page.value.into_iter().map(|u| AdminUser::from_graph(u, &fields)).collect(),
    }))
}

/// One user of the tenant, with every field.
#[utoipa::path(operation_id = "get_admin_user", tag = "admin", params(("id" = String, Path, description = "Graph user id")), responses(
    (status = 200, body = AdminUser),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/users/{id}")]
pub async fn get_admin_user(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<web::Json<AdminUser>, ApiError> {
    let id = path.into_inner();
    let id = object_id(&id)?;
    let g = admin_graph(&state, &admin).await?;
    let fields = all_fields();
    let u = state.graph.get_user(&g.auth, id, &graph_fields(&fields)).await.map_err(user_error)?;
    Ok(web::Json(AdminUser::from_graph(u, &fields)))
}

fn user_error(e: GraphError) -> ApiError {
    if e.is_not_found() {
        ApiError::not_found(ErrorCode::NotFound, "There is no such user in your school.")
    } else {
        admin_graph_error(e)
    }
}

/// A new user of the tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAdminUserRequest {
    /// Name shown everywhere.
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r#"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"#
    )]
    pub display_name: String,
    /// Sign-in name, in one of the tenant's verified domains.
    #[schema(
        max_length = 320,
        pattern = r"^[A-Za-z0-9'_!#^~-]([A-Za-z0-9'._!#^~-]{0,62}[A-Za-z0-9'_!#^~-])?@[A-Za-z0-9.-]{1,255}$"
    )]
    pub user_principal_name: String,
    /// Mail alias (default: the UPN's part before `@`).
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub mail_nickname: Option<String>,
    /// First name.
    #[schema(max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub given_name: Option<String>,
    /// Last name.
    #[schema(max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub surname: Option<String>,
    /// Job title.
    #[schema(max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub job_title: Option<String>,
    /// Department.
    #[schema(max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub department: Option<String>,
    /// Two-letter country code (needed before licences can be assigned).
    #[schema(pattern = "^[A-Z]{2}$")]
    pub usage_location: Option<String>,
    /// Default true.
    pub account_enabled: Option<bool>,
}

/// The created user and their temporary password (shown only in this answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAdminUser {
    /// The user.
    pub user: AdminUser,
    /// Temporary password: give it to the person; they must change it at their first sign-in.
    /// EduGraph does not keep it.
    pub temporary_password: String,
    /// Always true.
    pub force_change_password_next_sign_in: bool,
}

const UPN_CHARS: &str = "'.-_!#^~";

fn check_upn(upn: &str) -> Result<(&str, &str), ApiError> {
    let invalid = || ApiError::Validation422 {
        code: ErrorCode::InvalidUpn,
        message:
            "A sign-in name looks like name@school-domain; the name may contain letters, digits and ' . - _ ! # ^ ~."
                .into(),
    };
    let (local, domain) = upn.split_once('@').ok_or_else(invalid)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local.chars().all(|c| c.is_ascii_alphanumeric() || UPN_CHARS.contains(c))
        && !domain.is_empty()
        && domain.len() <= 255
        && !domain.contains('@')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok { Ok((local, domain)) } else { Err(invalid()) }
}

fn bad_value(field: &str) -> ApiError {
    ApiError::Validation422 {
        code: ErrorCode::InvalidProfileValue,
        message: format!("The value of {field} is not valid."),
    }
}

fn check_text(field: &str, v: Option<&str>, max: usize, required: bool) -> Result<(), ApiError> {
    match v {
        None if required => Err(bad_value(field)),
        None => Ok(()),
        Some(s) if (required && s.trim().is_empty()) || s.chars().count() > max || s.chars().any(char::is_control) => {
            Err(bad_value(field))
        }
        Some(_) => Ok(()),
    }
}

fn check_usage_location(v: Option<&str>) -> Result<(), ApiError> {
    match v {
        Some(s) if s.len() != 2 || !s.chars().all(|c| c.is_ascii_uppercase()) => Err(bad_value("usage_location")),
        _ => Ok(()),
    }
}

/// A temporary password: 16 characters with upper and lower case letters, digits and symbols
/// (Entra ID's default policy needs three of the four), no look-alike characters.
fn temporary_password() -> SecretString {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#%+-=?@";
    let pick = |set: &[u8]| set[(rand::random::<u32>() as usize) % set.len()];
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut pw: Vec<u8> = vec![pick(UPPER), pick(UPPER), pick(LOWER), pick(LOWER), pick(DIGITS), pick(DIGITS)];
    pw.push(pick(SYMBOLS));
    pw.push(pick(SYMBOLS));
    while pw.len() < 16 {
        pw.push(pick(&all));
    }
    for i in (1..pw.len()).rev() {
        let j = (rand::random::<u32>() as usize) % (i + 1);
        pw.swap(i, j);
    }
    SecretString::from(String::from_utf8_lossy(&pw).into_owned())
}

/// Creates a user in the tenant with a generated temporary password (shown once; the person
/// must change it at the first sign-in). The UPN must be in a verified domain of the tenant.
#[utoipa::path(operation_id = "create_admin_user", tag = "admin", request_body = CreateAdminUserRequest, responses(
    (status = 201, body = CreatedAdminUser),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 409, description = "`upn_taken`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_upn`, `upn_domain_not_verified`, `invalid_profile_value`", body = crate::error::ErrorBody),
    (status = 502, description = "`microsoft_error`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/users")]
pub async fn create_admin_user(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    body: web::Json<CreateAdminUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let upn = b.user_principal_name.trim().to_owned();
    let (local, domain) = check_upn(&upn)?;
    check_text("display_name", Some(&b.display_name), 256, true)?;
    for (f, v) in [
        ("given_name", &b.given_name),
        ("surname", &b.surname),
        ("job_title", &b.job_title),
        ("department", &b.department),
    ] {
        check_text(f, v.as_deref(), 128, false)?;
    }
    check_usage_location(b.usage_location.as_deref())?;
    let nickname = match b.mail_nickname.as_deref() {
        Some(n)
            if !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) =>
        {
            n.to_owned()
        }
        Some(_) => return Err(bad_value("mail_nickname")),
        None => local.chars().filter(|c| c.is_ascii_alphanumeric() || ".-_".contains(*c)).collect(),
    };
    let g = admin_graph(&state, &admin).await?;
    let org = state.graph.organization(&g.auth).await.map_err(admin_graph_error)?;
    let domains: Vec<String> =
        org.map(|o| o.verified_domains.into_iter().filter_map(|d| d.name).collect()).unwrap_or_default();
    if !domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return Err(ApiError::Validation422 {
            code: ErrorCode::UpnDomainNotVerified,
            message: format!(
                "{domain:.100} is not a verified domain of your school. Use one of: {}.",
                domains.join(", ")
            ),
        });
    }
    let password = temporary_password();
    let new_user = NewUser {
        account_enabled: b.account_enabled.unwrap_or(true),
        display_name: b.display_name.trim().to_owned(),
        mail_nickname: nickname,
        user_principal_name: upn.clone(),
        password_profile: PasswordProfile {
            force_change_password_next_sign_in: Some(true),
            force_change_password_next_sign_in_with_mfa: None,
            password: Some(password.clone()),
        },
        given_name: b.given_name,
        surname: b.surname,
        usage_location: b.usage_location,
        department: b.department,
        job_title: b.job_title,
    };
    let created = match state.graph.create_user(&g.auth, &new_user).await {
        Ok(u) => u,
        Err(e) if e.status() == Some(400) && e.message().is_some_and(|m| m.contains("already exists")) => {
            let err = ApiError::conflict(ErrorCode::UpnTaken, "Someone in your school already has this sign-in name.");
            return Err(audit_failure(&state, &admin, "admin.user.create", None, err).await);
        }
        Err(e) => return Err(audit_failure(&state, &admin, "admin.user.create", None, admin_graph_error(e)).await),
    };
    let name = created.display_name.clone();
    audit_named(&state, &admin, "admin.user.create", Some(("user", &created.id)), name.as_deref(), "success", None)
        .await?;
    tracing::info!(user.id = %created.id, "admin created a Microsoft 365 user");
    let fields = all_fields();
    let user = AdminUser::from_graph(created, &fields);
    Ok(HttpResponse::Created().json(CreatedAdminUser {
        user,
        temporary_password: password.expose_secret().to_owned(),
        force_change_password_next_sign_in: true,
    }))
}

/// Properties to change (only those present are changed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateAdminUserRequest {
    /// Name (cannot be cleared).
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 256,
        pattern = r#"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"#
    )]
    pub display_name: Option<String>,
    /// First name.
    #[schema(nullable = false, max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub given_name: Option<String>,
    /// Last name.
    #[schema(nullable = false, max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub surname: Option<String>,
    /// Job title.
    #[schema(nullable = false, max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub job_title: Option<String>,
    /// Department.
    #[schema(nullable = false, max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub department: Option<String>,
    /// Office.
    #[schema(nullable = false, max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub office_location: Option<String>,
    /// Mobile phone.
    #[schema(nullable = false, max_length = 128, pattern = r#"^[^\x00-\x1f\x7f-\x9f]*$"#)]
    pub mobile_phone: Option<String>,
    /// Two-letter country code.
    #[schema(nullable = false, pattern = "^[A-Z]{2}$")]
    pub usage_location: Option<String>,
}

/// Updates properties of a user of the tenant.
#[utoipa::path(operation_id = "update_admin_user", tag = "admin", params(("id" = String, Path, description = "Graph user id")),
    request_body = UpdateAdminUserRequest, responses(
    (status = 204, description = "Updated"),
    (status = 400, description = "`invalid_body` (nothing to change)", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_profile_value`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[patch("/api/admin/users/{id}")]
pub async fn update_admin_user(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
    body: web::Json<UpdateAdminUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let id = object_id(&id)?;
    let b = body.into_inner();
    check_text("display_name", b.display_name.as_deref(), 256, b.display_name.is_some())?;
    check_usage_location(b.usage_location.as_deref())?;
    let mut patch = edu_msgraph::UserUpdate::default();
    let mut names = Vec::new();
    for (ours, graph, v) in [
        ("display_name", "displayName", b.display_name),
        ("given_name", "givenName", b.given_name),
        ("surname", "surname", b.surname),
        ("job_title", "jobTitle", b.job_title),
        ("department", "department", b.department),
        ("office_location", "officeLocation", b.office_location),
        ("mobile_phone", "mobilePhone", b.mobile_phone),
        ("usage_location", "usageLocation", b.usage_location),
    ] {
        if let Some(v) = v {
            check_text(ours, Some(&v), if ours == "display_name" { 256 } else { 128 }, false)?;
            // An empty value clears the property (Graph's null).
            patch.set(graph, (!v.is_empty()).then_some(v));
            names.push(graph);
        }
    }
    if names.is_empty() {
        return Err(ApiError::bad_request(ErrorCode::InvalidBody, "Nothing to change."));
    }
    let names = names.join(",");
    let g = admin_graph(&state, &admin).await?;
    if let Err(e) = state.graph.update_user(&g.auth, id, &patch).await {
        let target = Some(("user", id));
        return Err(audit_failure(&state, &admin, "admin.user.update", target, user_error(e)).await);
    }
    audit(&state, &admin, "admin.user.update", Some(("user", id)), "success", Some(&format!("fields={names}"))).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_enabled(state: &AppState, admin: &TenantAdmin, id: &str, enabled: bool) -> Result<HttpResponse, ApiError> {
    let id = object_id(id)?;
    let action = if enabled { "admin.user.enable" } else { "admin.user.disable" };
    let g = admin_graph(state, admin).await?;
    if !enabled && g.oid.eq_ignore_ascii_case(id) {
        return Err(ApiError::conflict(ErrorCode::CannotDisableSelf, "You cannot disable your own account."));
    }
    let patch = edu_msgraph::UserUpdate { account_enabled: Some(enabled), ..Default::default() };
    if let Err(e) = state.graph.update_user(&g.auth, id, &patch).await {
        return Err(audit_failure(state, admin, action, Some(("user", id)), user_error(e)).await);
    }
    let mut detail = None;
    if !enabled {
        // Access ends now, not at the next sync (issue 17.2, R-A27): the person's EduGraph
        // sessions and cached tokens go in one transaction.
        let tenant = edu_db::tenants::get(&state.db, admin.0.tenant_id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the admin's tenant is missing")))?;
        let ended =
            edu_db::sessions::end_microsoft_access(&state.db, admin.0.tenant_id, &tenant.ms_tenant_id, id).await?;
        detail = Some(format!("sessions_ended={ended}"));
    }
    audit(state, admin, action, Some(("user", id)), "success", detail.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lets a user of the tenant sign in again.
#[utoipa::path(operation_id = "enable_admin_user", tag = "admin", params(("id" = String, Path, description = "Graph user id")), responses(
    (status = 204, description = "Enabled"),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/users/{id}/enable")]
pub async fn enable_admin_user(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_enabled(&state, &admin, &path.into_inner(), true).await
}

/// Blocks a user of the tenant from signing in (not yourself).
#[utoipa::path(operation_id = "disable_admin_user", tag = "admin", params(("id" = String, Path, description = "Graph user id")), responses(
    (status = 204, description = "Disabled"),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found` (also for another tenant's ids)", body = crate::error::ErrorBody),
    (status = 409, description = "`cannot_disable_self`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/admin/users/{id}/disable")]
pub async fn disable_admin_user(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_enabled(&state, &admin, &path.into_inner(), false).await
}
