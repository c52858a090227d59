//! Schools, classes, class details and seating charts (issue 5, first part), read from
//! Microsoft Graph with the person's delegated token and checked on the server:
//! a person sees only classes they belong to (admins: their tenant's), and only the
//! teachers of a class edit its seating chart. Other tenants' ids answer 404.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, get, put, web};
use base64::Engine as _;
use edu_domain::Role;
use edu_msgraph::{BatchRequest, GraphAuth, seg};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use utoipa::{IntoParams, ToSchema};

use crate::auth::roles::TenantMember;
use crate::error::{ApiError, GraphErrorInfo, graph_error};
use crate::microsoft::tokens;
use crate::state::{AppState, derive_key};

/// Seating charts are a 6 × 6 grid, as in the original product.
pub const GRID: i64 = 6;
/// Classes per page.
const PAGE_SIZE: u32 = 20;

/// A school.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchoolDto {
    /// Graph id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Principal.
    pub principal_name: Option<String>,
    /// Lowest grade.
    pub lowest_grade: Option<String>,
    /// Highest grade.
    pub highest_grade: Option<String>,
}

/// `GET /api/schools`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchoolsResponse {
    /// The person's own schools.
    pub mine: Vec<SchoolDto>,
    /// Every other school of the tenant.
    pub others: Vec<SchoolDto>,
}

/// A class term.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermDto {
    /// Name.
    pub display_name: Option<String>,
    /// First day (YYYY-MM-DD).
    pub start_date: Option<String>,
    /// Last day.
    pub end_date: Option<String>,
}

/// A person in a class.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto {
    /// Microsoft object id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
}

/// A class.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassDto {
    /// Graph id (also the class group's id).
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Code.
    pub class_code: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Term.
    pub term: Option<TermDto>,
    /// Teachers.
    pub teachers: Vec<PersonDto>,
}

/// `GET /api/classes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassesResponse {
    /// This page.
    pub items: Vec<ClassDto>,
    /// Pass as `cursor` for the next page ("see more"); absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/classes` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ClassesQuery {
    /// `mine` (default) or `all` (needs `school_id`).
    pub scope: Option<String>,
    /// The school, for `scope=all`.
    pub school_id: Option<String>,
    /// Case-insensitive part of the name or code.
    pub q: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A student or teacher of a class, with local data.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    /// Microsoft object id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// `teacher` or `student`.
    pub role: String,
    /// `#rrggbb`, if they chose one in EduGraph.
    pub favorite_color: Option<String>,
    /// Their seat, if seated.
    pub seat: Option<SeatDto>,
}

/// A seat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SeatDto {
    /// Row, 0..6.
    pub row: i64,
    /// Column, 0..6.
    pub col: i64,
}

/// A part of the class page that can fail on its own.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartError {
    /// `microsoft_forbidden`, `microsoft_unavailable`, `microsoft_error`, `not_found`.
    pub code: String,
    /// Human message.
    pub message: String,
    /// Graph's details.
    pub graph: Option<Box<GraphErrorInfo>>,
}

/// An assignment (summary).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentSummary {
    /// Id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Due (UTC, RFC 3339).
    pub due_date_time: Option<String>,
    /// `draft`, `assigned`, …
    pub status: Option<String>,
}

/// A class document.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDto {
    /// Id.
    pub id: String,
    /// File or folder name.
    pub name: Option<String>,
    /// Open in Microsoft 365.
    pub web_url: Option<String>,
    /// Last change (UTC).
    pub last_modified_date_time: Option<String>,
    /// Who changed it last.
    pub last_modified_by: Option<String>,
}

/// A class conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDto {
    /// Id.
    pub id: String,
    /// Topic.
    pub topic: Option<String>,
    /// Last post (UTC).
    pub last_delivered_date_time: Option<String>,
    /// Preview text.
    pub preview: Option<String>,
}

/// `GET /api/classes/{id}`: the whole class page in one call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassDetailsResponse {
    /// The class.
    pub class: ClassDto,
    /// The caller's role in it: `teacher`, `student` or `admin`.
    pub my_role: String,
    /// Teachers and students, with colours and seats (students see only their own seat).
    pub members: Vec<MemberDto>,
    /// Assignments, or why they could not be read.
    pub assignments: Option<Vec<AssignmentSummary>>,
    /// Error reading assignments.
    pub assignments_error: Option<PartError>,
    /// Documents of the class group drive.
    pub documents: Option<Vec<DocumentDto>>,
    /// Error reading documents.
    pub documents_error: Option<PartError>,
    /// Conversations of the class group.
    pub conversations: Option<Vec<ConversationDto>>,
    /// Error reading conversations.
    pub conversations_error: Option<PartError>,
}

/// `PUT /api/classes/{id}/seating`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatingRequest {
    /// Every seated student; students not listed have no seat.
    pub seats: Vec<SeatAssignment>,
}

/// A student's seat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatAssignment {
    /// The student's Microsoft object id.
    pub student_id: String,
    /// Row, 0..6.
    pub row: i64,
    /// Column, 0..6.
    pub col: i64,
}

/// `GET|PUT /api/classes/{id}/seating`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatingResponse {
    /// Grid rows.
    pub rows: i64,
    /// Grid columns.
    pub cols: i64,
    /// Seats (a student sees only their own).
    pub seats: Vec<SeatAssignment>,
}

/// The caller's delegated Graph access.
async fn delegated(state: &AppState, member: &TenantMember) -> Result<(GraphAuth, String), ApiError> {
    let identity =
        edu_db::identities::of_user(&state.db, member.auth.user_id).await?.ok_or(ApiError::MicrosoftSignInRequired)?;
    let token = tokens::access_token(state, member.tenant_id, &identity.ms_tenant_id, &identity.ms_object_id).await?;
    Ok((GraphAuth::delegated(identity.ms_tenant_id.clone(), token), identity.ms_object_id))
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn values(v: &Value) -> Vec<Value> {
    v.get("value").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn school(v: &Value) -> SchoolDto {
    SchoolDto {
        id: s(v, "id").unwrap_or_default(),
        display_name: s(v, "displayName"),
        principal_name: s(v, "principalName"),
        lowest_grade: s(v, "lowestGrade"),
        highest_grade: s(v, "highestGrade"),
    }
}

fn person(v: &Value) -> PersonDto {
    PersonDto { id: s(v, "id").unwrap_or_default(), display_name: s(v, "displayName") }
}

fn class(v: &Value, teachers: Vec<PersonDto>) -> ClassDto {
    ClassDto {
        id: s(v, "id").unwrap_or_default(),
        display_name: s(v, "displayName"),
        class_code: s(v, "classCode"),
        description: s(v, "description"),
        term: v.get("term").filter(|t| t.is_object()).map(|t| TermDto {
            display_name: s(t, "displayName"),
            start_date: s(t, "startDate"),
            end_date: s(t, "endDate"),
        }),
        teachers,
    }
}

fn part_error(e: edu_msgraph::GraphError) -> PartError {
    let api = graph_error(e);
    let graph = match &api {
        ApiError::Upstream { graph, .. } => Some(Box::new(graph.clone())),
        _ => None,
    };
    PartError { code: api.code().to_owned(), message: api.to_string(), graph }
}

type Answers = HashMap<String, Result<edu_msgraph::BatchResponse, edu_msgraph::GraphError>>;

/// Takes the body of one `$batch` answer, or its error.
fn item(results: &mut Answers, id: &str) -> Result<Value, edu_msgraph::GraphError> {
    match results.remove(id) {
        Some(Ok(r)) => Ok(r.body.unwrap_or(Value::Null)),
        Some(Err(e)) => Err(e),
        None => Err(edu_msgraph::GraphError::InvalidRequest(format!("no batch answer for {id}"))),
    }
}

/// Graph ids are opaque but never contain `/`, `?` or `#`: refuse anything else before it
/// reaches a URL (404, like an unknown id).
pub(crate) fn graph_id(id: &str) -> Result<&str, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(id) } else { Err(ApiError::not_found("not_found", "No such class or school.")) }
}

/// Your schools first, then the others (one Graph round trip: a `$batch` of two requests).
#[utoipa::path(operation_id = "list_schools", tag = "education", responses(
    (status = 200, body = SchoolsResponse),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 403, description = "`school_account_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/schools")]
pub async fn list_schools(
    state: web::Data<AppState>,
    member: TenantMember,
) -> Result<web::Json<SchoolsResponse>, ApiError> {
    let (auth, _) = delegated(&state, &member).await?;
    let select = "$select=id,displayName,principalName,lowestGrade,highestGrade";
    let mut results = state
        .graph
        .batch(
            &auth,
            vec![
                BatchRequest::get("mine", format!("/education/me/schools?{select}")),
                BatchRequest::get("all", format!("/education/schools?{select}&$top=999")),
            ],
        )
        .await
        .map_err(graph_error)?
        .into_map();
    let mine: Vec<SchoolDto> = values(&item(&mut results, "mine").map_err(graph_error)?).iter().map(school).collect();
    let my_ids: HashSet<String> = mine.iter().map(|s| s.id.clone()).collect();
    let others = values(&item(&mut results, "all").map_err(graph_error)?)
        .iter()
        .map(school)
        .filter(|s| !my_ids.contains(&s.id))
        .collect();
    Ok(web::Json(SchoolsResponse { mine, others }))
}

fn cursor_key(state: &AppState) -> [u8; 32] {
    derive_key(state.config.token_key.expose(), b"edugraph cursor v1")
}

fn cursor_mac(state: &AppState, member: &TenantMember, purpose: &str, link: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&cursor_key(state)) else { return Vec::new() };
    mac.update(member.auth.user_id.to_string().as_bytes());
    mac.update(b"\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(link.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Our opaque cursor: the Graph link, signed for this person and purpose; a client can
/// neither forge nor alter it, so we never follow a URL a client made up.
fn seal_cursor(state: &AppState, member: &TenantMember, purpose: &str, link: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}", b64.encode(link), b64.encode(cursor_mac(state, member, purpose, link)))
}

fn open_cursor(state: &AppState, member: &TenantMember, purpose: &str, cursor: &str) -> Result<String, ApiError> {
    let bad =
        || ApiError::bad_request("invalid_cursor", "This \"see more\" link is not valid any more. Reload the list.");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (link, mac) = cursor.split_once('.').ok_or_else(bad)?;
    let link = String::from_utf8(b64.decode(link).map_err(|_| bad())?).map_err(|_| bad())?;
    let mac = b64.decode(mac).map_err(|_| bad())?;
    if bool::from(cursor_mac(state, member, purpose, &link).ct_eq(&mac)) { Ok(link) } else { Err(bad()) }
}

/// Classes: yours (`scope=mine`) or a school's (`scope=all&school_id=…`), a page at a time,
/// each with its term and teachers (two Graph round trips: the page, then one `$batch` for
/// the teachers of every class on it).
#[utoipa::path(operation_id = "list_classes", tag = "education", params(ClassesQuery), responses(
    (status = 200, body = ClassesResponse),
    (status = 400, description = "`invalid_query`, `invalid_cursor`", body = crate::error::ErrorBody),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes")]
pub async fn list_classes(
    state: web::Data<AppState>,
    member: TenantMember,
    q: web::Query<ClassesQuery>,
) -> Result<web::Json<ClassesResponse>, ApiError> {
    let q = q.into_inner();
    let (auth, _) = delegated(&state, &member).await?;
    let select = "$select=id,displayName,classCode,description,term";
    let target = match (&q.cursor, q.scope.as_deref().unwrap_or("mine")) {
        (Some(c), _) => open_cursor(&state, &member, "classes", c)?,
        (None, "mine") => format!("/education/me/classes?{select}&$top={PAGE_SIZE}"),
        (None, "all") => {
            let school = graph_id(
                q.school_id
                    .as_deref()
                    .ok_or_else(|| ApiError::bad_request("invalid_query", "scope=all needs school_id."))?,
            )?;
            format!("/education/schools/{}/classes?{select}&$top={PAGE_SIZE}", seg(school))
        }
        (None, _) => return Err(ApiError::bad_request("invalid_query", "scope must be mine or all.")),
    };
    let page: edu_msgraph::Page<Value> =
        state.graph.get_page(&auth, &target, &edu_msgraph::PageOptions::default()).await.map_err(graph_error)?;
    let needle = q.q.as_deref().map(str::to_lowercase).filter(|n| !n.is_empty());
    let matching: Vec<Value> = page
        .value
        .into_iter()
        .filter(|c| {
            needle.as_ref().is_none_or(|n| {
                [s(c, "displayName"), s(c, "classCode")].iter().flatten().any(|v| v.to_lowercase().contains(n.as_str()))
            })
        })
        .collect();
    let requests = matching
        .iter()
        .filter_map(|c| s(c, "id"))
        .map(|id| {
            BatchRequest::get(id.clone(), format!("/education/classes/{}/teachers?$select=id,displayName", seg(&id)))
        })
        .collect::<Vec<_>>();
    let mut teachers: Answers = if requests.is_empty() {
        HashMap::new()
    } else {
        state.graph.batch(&auth, requests).await.map_err(graph_error)?.into_map()
    };
    let items = matching
        .iter()
        .map(|c| {
            let id = s(c, "id").unwrap_or_default();
            let ts = item(&mut teachers, &id).map(|v| values(&v).iter().map(person).collect()).unwrap_or_default();
            class(c, ts)
        })
        .collect();
    Ok(web::Json(ClassesResponse {
        items,
        next_cursor: page.next_link.map(|l| seal_cursor(&state, &member, "classes", &l)),
    }))
}

/// `GET /api/schools/{id}/people` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SchoolPeopleQuery {
    /// `all` (default), `teachers` or `students`.
    pub role: Option<String>,
    /// People read from Microsoft per page, 1..=100 (default 100).
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A person of a school.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchoolPersonDto {
    /// Microsoft object id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// `teacher`, `student` or `none`.
    pub role: String,
    /// Mail address.
    pub mail: Option<String>,
}

/// `GET /api/schools/{id}/people`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchoolPeopleResponse {
    /// This page (may be short, even empty, while `next_cursor` is present).
    pub items: Vec<SchoolPersonDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// People of a school (the original's school Users page: All / Teachers / Students tabs,
/// "see more" paging). Microsoft serves `GET /education/schools/{id}/users` only to
/// applications (EduRoster.Read.All; delegated is "not supported"), so this reads it with
/// the app-only token of the caller's own tenant, after checking on our side who may see it:
/// the tenant's admins (any school of the tenant) and teachers (their own schools, read from
/// `/education/me/schools` concurrently). Students: `403 role_required` — Microsoft gives
/// them no roster of a school either. The role tab filters each page here (the endpoint
/// documents no `$filter`), so a page may be short; the cursor is ours, sealed to the person,
/// school and tab.
#[utoipa::path(operation_id = "list_school_people", tag = "education", params(("id" = String, Path, description = "School id"), SchoolPeopleQuery), responses(
    (status = 200, body = SchoolPeopleResponse),
    (status = 400, description = "`invalid_query`, `invalid_cursor`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`, `school_account_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such school, or not yours", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/schools/{id}/people")]
pub async fn list_school_people(
    state: web::Data<AppState>,
    member: TenantMember,
    path: web::Path<String>,
    q: web::Query<SchoolPeopleQuery>,
) -> Result<web::Json<SchoolPeopleResponse>, ApiError> {
    let school_id = path.into_inner();
    graph_id(&school_id)?;
    let role = match q.role.as_deref().unwrap_or("all") {
        "all" => None,
        "teachers" => Some("teacher"),
        "students" => Some("student"),
        _ => return Err(ApiError::bad_request("invalid_query", "role must be all, teachers or students.")),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", "limit must be between 1 and 100."));
    }
    let admin = member.has(Role::Admin);
    if !admin && !member.has(Role::Teacher) {
        return Err(ApiError::forbidden("role_required", "Only teachers and administrators see a school's people."));
    }
    let purpose = format!("school-people\0{school_id}\0{}", role.unwrap_or("all"));
    let link = q.cursor.as_deref().map(|c| open_cursor(&state, &member, &purpose, c)).transpose()?;
    let (auth, _) = delegated(&state, &member).await?;
    let app = GraphAuth::app_only(auth.tenant_id().to_owned());
    let page = state.graph.school_users_page(&app, &school_id, limit, link.as_deref());
    let page = if admin {
        page.await
    } else {
        let (mine, page) = futures_util::future::join(state.graph.my_schools(&auth), page).await;
        if !mine.map_err(graph_error)?.iter().any(|s| s.id == school_id) {
            return Err(ApiError::not_found("not_found", "No such school, or you are not in it."));
        }
        page
    }
    .map_err(graph_error)?;
    let items = page
        .value
        .into_iter()
        .map(|u| SchoolPersonDto {
            role: serde_json::to_value(u.primary_role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "none".into()),
            id: u.id,
            display_name: u.display_name,
            mail: u.mail.or(u.user_principal_name),
        })
        .filter(|p| role.is_none_or(|r| p.role == r))
        .collect();
    Ok(web::Json(SchoolPeopleResponse {
        items,
        next_cursor: page.next_link.map(|l| seal_cursor(&state, &member, &purpose, &l)),
    }))
}

struct ClassView {
    class: Value,
    teachers: Vec<Value>,
    students: Vec<Value>,
    my_role: String,
    results: Answers,
}

/// Reads a class with its people in one `$batch`, and decides the caller's role in it.
/// Not a member (and not the tenant's admin): 404, as for an unknown class.
async fn class_view(
    state: &AppState,
    member: &TenantMember,
    auth: &GraphAuth,
    my_oid: &str,
    class_id: &str,
    extra: bool,
) -> Result<ClassView, ApiError> {
    let id = seg(graph_id(class_id)?);
    let mut requests = vec![
        BatchRequest::get(
            "class",
            format!("/education/classes/{id}?$select=id,displayName,classCode,description,term"),
        ),
        BatchRequest::get(
            "teachers",
            format!("/education/classes/{id}/teachers?$select=id,displayName,mail,userPrincipalName"),
        ),
        BatchRequest::get(
            "members",
            format!(
                "/education/classes/{id}/members?$select=id,displayName,primaryRole,mail,userPrincipalName&$top=999"
            ),
        ),
    ];
    if extra {
        requests.push(BatchRequest::get(
            "assignments",
            format!("/education/classes/{id}/assignments?$select=id,displayName,dueDateTime,status"),
        ));
        requests.push(BatchRequest::get(
            "documents",
            format!("/groups/{id}/drive/root/children?$select=id,name,webUrl,lastModifiedDateTime,lastModifiedBy"),
        ));
        requests.push(BatchRequest::get(
            "conversations",
            format!("/groups/{id}/conversations?$select=id,topic,lastDeliveredDateTime,preview"),
        ));
    }
    let mut results = state.graph.batch(auth, requests).await.map_err(graph_error)?.into_map();
    let not_found = || ApiError::not_found("not_found", "No such class, or you are not in it.");
    // Graph's 403 on the class itself (another tenant's or a hidden class) is a 404 here too:
    // the answer must not tell whether the class exists.
    let class = item(&mut results, "class")
        .map_err(|e| if e.is_not_found() || e.status() == Some(403) { not_found() } else { graph_error(e) })?;
    let teachers = values(&item(&mut results, "teachers").map_err(graph_error)?);
    let members_body = item(&mut results, "members").map_err(graph_error)?;
    let mut members = values(&members_body);
    // A second round trip only for a class with more than one page of members.
    if let Some(next) = members_body.get("@odata.nextLink").and_then(Value::as_str) {
        let rest: Vec<Value> =
            state.graph.get_all_pages(auth, next, &edu_msgraph::PageOptions::default()).await.map_err(graph_error)?;
        members.extend(rest);
    }
    let teacher_ids: HashSet<String> = teachers.iter().filter_map(|t| s(t, "id")).collect();
    let students: Vec<Value> =
        members.into_iter().filter(|m| !teacher_ids.contains(&s(m, "id").unwrap_or_default())).collect();
    let my_role = if teacher_ids.contains(my_oid) {
        "teacher"
    } else if students.iter().any(|m| s(m, "id").as_deref() == Some(my_oid)) {
        "student"
    } else if member.has(Role::Admin) {
        "admin"
    } else {
        return Err(not_found());
    };
    Ok(ClassView { class, teachers, students, my_role: my_role.to_owned(), results })
}

/// The caller's role in a class and the class's people (one `$batch`).
pub(crate) struct ClassRoles {
    /// `teacher`, `student` or `admin`.
    pub my_role: String,
    /// Microsoft object ids of the class's teachers.
    pub teacher_ids: HashSet<String>,
    /// (object id, mail address) of each teacher.
    pub teachers: Vec<(String, Option<String>)>,
    /// (object id, mail address) of each student.
    pub students: Vec<(String, Option<String>)>,
    /// (object id, display name) of each student.
    pub student_names: Vec<(String, Option<String>)>,
}

/// Reads the caller's role in a class; 404 when they are not in it (and not the admin).
pub(crate) async fn class_roles(
    state: &AppState,
    member: &TenantMember,
    auth: &GraphAuth,
    my_oid: &str,
    class_id: &str,
) -> Result<ClassRoles, ApiError> {
    let view = class_view(state, member, auth, my_oid, class_id, false).await?;
    let people = |list: &[Value]| -> Vec<(String, Option<String>)> {
        list.iter().filter_map(|m| Some((s(m, "id")?, s(m, "mail").or_else(|| s(m, "userPrincipalName"))))).collect()
    };
    Ok(ClassRoles {
        my_role: view.my_role,
        teacher_ids: view.teachers.iter().filter_map(|t| s(t, "id")).collect(),
        teachers: people(&view.teachers),
        students: people(&view.students),
        student_names: view.students.iter().filter_map(|m| Some((s(m, "id")?, s(m, "displayName")))).collect(),
    })
}

/// The whole class page: class, term, teachers, students with favourite colours and seats,
/// assignments, documents and conversations — one `$batch` (one Graph round trip; two for a
/// class of more than 999 members). A failing part (e.g. documents 403) comes back as that
/// part's error; the rest is still there.
#[utoipa::path(operation_id = "get_class", tag = "education", params(("id" = String, Path, description = "Class id")), responses(
    (status = 200, body = ClassDetailsResponse),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}")]
pub async fn get_class(
    state: web::Data<AppState>,
    member: TenantMember,
    path: web::Path<String>,
) -> Result<web::Json<ClassDetailsResponse>, ApiError> {
    let class_id = path.into_inner();
    let (auth, my_oid) = delegated(&state, &member).await?;
    let mut view = class_view(&state, &member, &auth, &my_oid, &class_id, true).await?;
    let ids: Vec<String> = view.teachers.iter().chain(view.students.iter()).filter_map(|m| s(m, "id")).collect();
    let colors = edu_db::seating::colors(&state.db, member.tenant_id, &ids).await?;
    let seats: HashMap<String, SeatDto> = edu_db::seating::for_class(&state.db, member.tenant_id, &class_id)
        .await?
        .into_iter()
        .map(|s| (s.student_object_id, SeatDto { row: s.row, col: s.col }))
        .collect();
    let see_all_seats = view.my_role != "student";
    let to_member = |m: &Value, role: &str| {
        let id = s(m, "id").unwrap_or_default();
        MemberDto {
            seat: if see_all_seats || id == my_oid { seats.get(&id).cloned() } else { None },
            favorite_color: colors.get(&id).cloned(),
            display_name: s(m, "displayName"),
            role: role.to_owned(),
            id,
        }
    };
    let members = view
        .teachers
        .iter()
        .map(|m| to_member(m, "teacher"))
        .chain(view.students.iter().map(|m| to_member(m, "student")))
        .collect();
    let mut part = |id: &str| item(&mut view.results, id).map(|v| values(&v)).map_err(part_error);
    let (assignments, assignments_error) = split(part("assignments").map(|v| {
        v.iter()
            .map(|a| AssignmentSummary {
                id: s(a, "id").unwrap_or_default(),
                display_name: s(a, "displayName"),
                due_date_time: s(a, "dueDateTime"),
                status: s(a, "status"),
            })
            .collect()
    }));
    let (documents, documents_error) = split(part("documents").map(|v| {
        v.iter()
            .map(|d| DocumentDto {
                id: s(d, "id").unwrap_or_default(),
                name: s(d, "name"),
                web_url: s(d, "webUrl"),
                last_modified_date_time: s(d, "lastModifiedDateTime"),
                last_modified_by: d
                    .pointer("/lastModifiedBy/user/displayName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
            .collect()
    }));
    let (conversations, conversations_error) = split(part("conversations").map(|v| {
        v.iter()
            .map(|c| ConversationDto {
                id: s(c, "id").unwrap_or_default(),
                topic: s(c, "topic"),
                last_delivered_date_time: s(c, "lastDeliveredDateTime"),
                preview: s(c, "preview"),
            })
            .collect()
    }));
    Ok(web::Json(ClassDetailsResponse {
        class: class(&view.class, view.teachers.iter().map(person).collect()),
        my_role: view.my_role,
        members,
        assignments,
        assignments_error,
        documents,
        documents_error,
        conversations,
        conversations_error,
    }))
}

fn split<T>(r: Result<T, PartError>) -> (Option<T>, Option<PartError>) {
    match r {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    }
}

/// The seating chart: teachers (and admins) see every seat, a student only their own.
#[utoipa::path(operation_id = "get_seating", tag = "education", params(("id" = String, Path, description = "Class id")), responses(
    (status = 200, body = SeatingResponse),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/seating")]
pub async fn get_seating(
    state: web::Data<AppState>,
    member: TenantMember,
    path: web::Path<String>,
) -> Result<web::Json<SeatingResponse>, ApiError> {
    let class_id = path.into_inner();
    let (auth, my_oid) = delegated(&state, &member).await?;
    let view = class_view(&state, &member, &auth, &my_oid, &class_id, false).await?;
    let seats = edu_db::seating::for_class(&state.db, member.tenant_id, &class_id)
        .await?
        .into_iter()
        .filter(|s| view.my_role != "student" || s.student_object_id == my_oid)
        .map(|s| SeatAssignment { student_id: s.student_object_id, row: s.row, col: s.col })
        .collect();
    Ok(web::Json(SeatingResponse { rows: GRID, cols: GRID, seats }))
}

/// Replaces the seating chart. Only the class's teachers; every seat inside the 6 × 6 grid,
/// every student a student of this class, no seat taken twice.
#[utoipa::path(operation_id = "put_seating", tag = "education", params(("id" = String, Path, description = "Class id")), request_body = SeatingRequest, responses(
    (status = 200, body = SeatingResponse),
    (status = 403, description = "`role_required`: only this class's teachers", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 422, description = "`seat_out_of_grid`, `seat_taken`, `not_a_student_of_this_class`, `student_seated_twice`", body = crate::error::ErrorBody),
), security(("session" = []), ("csrf" = [])))]
#[put("/api/classes/{id}/seating")]
pub async fn put_seating(
    state: web::Data<AppState>,
    member: TenantMember,
    path: web::Path<String>,
    body: web::Json<SeatingRequest>,
) -> Result<HttpResponse, ApiError> {
    let class_id = path.into_inner();
    let (auth, my_oid) = delegated(&state, &member).await?;
    let view = class_view(&state, &member, &auth, &my_oid, &class_id, false).await?;
    if view.my_role != "teacher" {
        return Err(ApiError::forbidden("role_required", "Only this class's teachers can arrange its seats."));
    }
    let students: HashSet<String> = view.students.iter().filter_map(|m| s(m, "id")).collect();
    let invalid = |code: &'static str, message: &str| ApiError::Validation422 { code, message: message.to_owned() };
    let (mut taken, mut seated) = (HashSet::new(), HashSet::new());
    let mut seats = Vec::with_capacity(body.seats.len());
    for a in &body.seats {
        if !(0..GRID).contains(&a.row) || !(0..GRID).contains(&a.col) {
            return Err(invalid("seat_out_of_grid", "Every seat must be inside the 6 × 6 grid."));
        }
        if !students.contains(&a.student_id) {
            return Err(invalid("not_a_student_of_this_class", "Only students of this class can be seated."));
        }
        if !seated.insert(a.student_id.clone()) {
            return Err(invalid("student_seated_twice", "A student can have only one seat."));
        }
        if !taken.insert((a.row, a.col)) {
            return Err(invalid("seat_taken", "Two students cannot share a seat."));
        }
        seats.push(edu_db::seating::Seat { student_object_id: a.student_id.clone(), row: a.row, col: a.col });
    }
    edu_db::seating::replace(&state.db, member.tenant_id, &class_id, &seats, member.auth.user_id, state.clock.now_ms())
        .await?;
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action: "class.seating.update",
            target_type: Some("class"),
            target_id: Some(class_id),
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(SeatingResponse { rows: GRID, cols: GRID, seats: body.into_inner().seats }))
}
