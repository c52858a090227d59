//! Schools, classes, class details and seating charts, read from
//! Microsoft Graph with the person's delegated token and checked on the server:
//! a person sees only classes they belong to (admins: their tenant's), and only the
//! teachers of a class edit its seating chart. Other tenants' ids answer 404.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, get, put, web};
use edu_domain::Role;
use edu_msgraph::models::{EducationClass, EducationSchool, EducationUser};
use edu_msgraph::{Batch, GraphAuth};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::class_access::{ArrangeSeats, ClassAccess, ClassPage, DelegatedGraph, TeacherOfClass};
use crate::auth::roles::TenantMember;
use crate::cursor::{self, CursorScope};
use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::services::classes::{self, ClassPerson, Freshness, PersonDto};
use crate::services::graph;
use crate::state::AppState;

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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TermDto {
    /// Name.
    pub display_name: Option<String>,
    /// First day (YYYY-MM-DD).
    pub start_date: Option<String>,
    /// Last day.
    pub end_date: Option<String>,
}

/// A class.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    /// In a school's list (`scope=all`): whether you are a member (teacher or student) of the
    /// class, so the list can say which ones open for you. Absent in `scope=mine` (all yours).
    pub member: Option<bool>,
}

/// `GET /api/classes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassesResponse {
    /// This page.
    pub items: Vec<ClassDto>,
    /// Pass as `cursor` for the next page ("see more"); absent on the last page.
    pub next_cursor: Option<String>,
    /// Set when Microsoft 365 is not answering and this list is our stored copy of your
    /// classes: when that copy was read from Microsoft (RFC 3339, UTC). Absent on a live or
    /// fresh answer (R-C9).
    pub stale_as_of: Option<String>,
}

/// `GET /api/classes` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ClassesQuery {
    /// `mine` (default) or `all` (needs `school_id`).
    #[param(pattern = "^(mine|all)$")]
    pub scope: Option<String>,
    /// The school, for `scope=all`.
    pub school_id: Option<String>,
    /// Case-insensitive part of the name or code.
    pub q: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// `1`: read Microsoft again rather than our copy of your classes (at most every 30 s;
    /// `Cache-Control: no-cache` does the same).
    pub refresh: Option<String>,
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

/// `GET /api/classes/{id}`: the class page's first tab — the class, your role and its
/// people. Each other tab reads its part when opened (`/assignments`, `/documents`,
/// `/conversations`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassDetailsResponse {
    /// The class.
    pub class: ClassDto,
    /// The caller's role in it: `teacher`, `student` or `admin`.
    pub my_role: String,
    /// Teachers and students, with colours and seats (students see only their own seat).
    pub members: Vec<MemberDto>,
    /// Set when Microsoft 365 is not answering and the class and its people are our stored
    /// copy: when that copy was read from Microsoft (RFC 3339, UTC). Absent otherwise (R-C9).
    pub stale_as_of: Option<String>,
}

/// `PUT /api/classes/{id}/seating`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatingRequest {
    /// Every seated student; students not listed have no seat.
    #[schema(max_items = 36)]
    pub seats: Vec<SeatAssignment>,
}

/// A student's seat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatAssignment {
    /// The student's Microsoft object id.
    #[schema(max_length = 128, pattern = r#"^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"#)]
    pub student_id: String,
    /// Row, 0..6.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 5)]
    pub row: i64,
    /// Column, 0..6.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 5)]
    pub col: i64,
}

/// An integer that may arrive as a whole JSON float (`3.0` is the integer 3 in JSON Schema).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        .ok_or_else(|| serde::de::Error::custom("expected a whole number"))
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

impl From<EducationSchool> for SchoolDto {
    fn from(s: EducationSchool) -> Self {
        Self {
            id: s.id,
            display_name: s.display_name,
            principal_name: s.principal_name,
            lowest_grade: s.lowest_grade,
            highest_grade: s.highest_grade,
        }
    }
}

fn person(u: EducationUser) -> PersonDto {
    PersonDto { id: u.id, display_name: u.display_name }
}

fn class(c: EducationClass, teachers: Vec<PersonDto>) -> ClassDto {
    ClassDto {
        id: c.id,
        display_name: c.display_name,
        class_code: c.class_code,
        description: c.description,
        term: c.term.map(|t| TermDto { display_name: t.display_name, start_date: t.start_date, end_date: t.end_date }),
        teachers,
        member: None,
    }
}

/// Your schools first, then the others (one Graph round trip: a `$batch` of two requests, and
/// one more per page beyond the first of a list longer than 999 schools).
#[utoipa::path(operation_id = "list_schools", tag = "education", responses(
    (status = 200, body = SchoolsResponse),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 403, description = "`school_account_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/schools")]
pub async fn list_schools(
    state: web::Data<AppState>,
    caller: DelegatedGraph,
) -> Result<web::Json<SchoolsResponse>, ApiError> {
    let mut batch = Batch::new();
    let mine = batch.add(graph::my_schools());
    let all = batch.add(graph::all_schools());
    let mut answers = state.graph.send_batch(&caller.auth, batch).await?;
    let mine = graph::every_page(&state, &caller.auth, answers.take(mine)?).await?;
    let all = graph::every_page(&state, &caller.auth, answers.take(all)?).await?;
    let mine: Vec<SchoolDto> = mine.into_iter().map(SchoolDto::from).collect();
    let my_ids: HashSet<String> = mine.iter().map(|s| s.id.clone()).collect();
    let others = all.into_iter().map(SchoolDto::from).filter(|s| !my_ids.contains(&s.id)).collect();
    Ok(web::Json(SchoolsResponse { mine, others }))
}

/// Our copy of the first page of a person's classes (`graph_roster_cache`, scope
/// `my_classes`, keyed by their Microsoft object id).
#[derive(Debug, Serialize, Deserialize)]
struct MyClassesCopy {
    classes: Vec<ClassDto>,
    next_link: Option<String>,
}

/// Classes: yours (`scope=mine`) or a school's (`scope=all&school_id=…`), a page at a time,
/// each with its term and teachers: ONE Graph request (`$expand=teachers`), plus the caller's
/// class ids for a school's list — whatever the number of classes (issue 18 §2). The first
/// page of your own classes comes from our copy when it is at most 5 minutes old
/// (`refresh=1` reads Microsoft again, at most every 30 s), and — when Microsoft 365 is not
/// answering — from our stored copy of any age, with `stale_as_of` (R-C9).
#[utoipa::path(operation_id = "list_classes", tag = "education", params(ClassesQuery), responses(
    (status = 200, body = ClassesResponse),
    (status = 400, description = "`invalid_query`, `invalid_cursor`", body = crate::error::ErrorBody),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable` and no stored copy to show", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes")]
pub async fn list_classes(
    state: web::Data<AppState>,
    caller: DelegatedGraph,
    q: web::Query<ClassesQuery>,
    req: actix_web::HttpRequest,
) -> Result<web::Json<ClassesResponse>, ApiError> {
    let q = q.into_inner();
    let user = caller.member.auth.user_id;
    let scope = q.scope.as_deref().unwrap_or("mine");
    let to_dtos = |page: Vec<graph::ClassWithTeachers>| -> Vec<ClassDto> {
        page.into_iter().map(|c| class(c.class, c.teachers.into_iter().map(person).collect())).collect()
    };
    let (classes, next_link, stale_as_of, my_ids) = match (&q.cursor, scope) {
        (Some(c), _) => {
            let link = cursor::open(&state, CursorScope::Education, user, "classes", c)?;
            let page = state.graph.fetch(&caller.auth, graph::next_page::<graph::ClassWithTeachers>(&link)).await?;
            (to_dtos(page.value), page.next_link, None, None)
        }
        (None, "mine") => {
            let freshness = if q.refresh.as_deref().is_some_and(|r| r == "1" || r == "true") {
                Freshness::Refresh
            } else {
                Freshness::of_request(&req)
            };
            let (copy, stale) = classes::roster_read(
                &state,
                (caller.member.tenant_id, user),
                (classes::SCOPE_MY_CLASSES, caller.oid.as_str()),
                freshness,
                || async {
                    let page = state.graph.fetch(&caller.auth, graph::my_classes(PAGE_SIZE)).await?;
                    Ok(MyClassesCopy { classes: to_dtos(page.value), next_link: page.next_link })
                },
                // What the sync job stored: every class of theirs, no further page.
                || async {
                    let synced =
                        classes::synced_classes_of(&state, caller.member.tenant_id, caller.oid.as_str()).await?;
                    Ok(synced.map(|(list, at)| {
                        let classes = list
                            .into_iter()
                            .map(|(c, teachers)| {
                                let teachers = teachers
                                    .into_iter()
                                    .map(|t| PersonDto { id: t.id, display_name: t.display_name })
                                    .collect();
                                class(c, teachers)
                            })
                            .collect();
                        (MyClassesCopy { classes, next_link: None }, at)
                    }))
                },
            )
            .await?;
            (copy.classes, copy.next_link, stale, None)
        }
        (None, "all") => {
            let school = GraphId::parse(
                q.school_id
                    .as_deref()
                    .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidQuery, "scope=all needs school_id."))?,
            )?;
            // A school's list marks the caller's own classes (issue 16: no "Class not found"
            // dead end): their class ids ride in the same `$batch` (2 inner requests).
            let mut batch = Batch::new();
            let page = batch.add(graph::school_classes(&school, PAGE_SIZE));
            let mine = batch.add(graph::my_class_ids());
            let mut answers = state.graph.send_batch(&caller.auth, batch).await?;
            let page = answers.take(page)?;
            let my_ids: HashSet<String> = match answers.take(mine) {
                Ok(first) => graph::every_page(&state, &caller.auth, first).await?.into_iter().map(|c| c.id).collect(),
                Err(_) => HashSet::new(),
            };
            (to_dtos(page.value), page.next_link, None, Some(my_ids))
        }
        (None, _) => return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "scope must be mine or all.")),
    };
    let needle = q.q.as_deref().map(str::to_lowercase).filter(|n| !n.is_empty());
    let items = classes
        .into_iter()
        .filter(|c| {
            needle.as_ref().is_none_or(|n| {
                [&c.display_name, &c.class_code].into_iter().flatten().any(|v| v.to_lowercase().contains(n.as_str()))
            })
        })
        .map(|c| {
            let member = my_ids.as_ref().map(|ids| ids.contains(&c.id));
            ClassDto { member, ..c }
        })
        .collect();
    Ok(web::Json(ClassesResponse {
        items,
        next_cursor: next_link.map(|l| cursor::seal(&state, CursorScope::Education, user, "classes", &l)),
        stale_as_of: stale_as_of.map(classes::rfc3339),
    }))
}

/// `GET /api/schools/{id}/people` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SchoolPeopleQuery {
    /// `all` (default), `teachers` or `students`.
    #[param(pattern = "^(all|teachers|students)$")]
    pub role: Option<String>,
    /// People read from Microsoft per page, 1..=100 (default 100).
    #[param(minimum = 1, maximum = 100)]
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
    let school_id = GraphId::parse(&path.into_inner())?;
    let role = match q.role.as_deref().unwrap_or("all") {
        "all" => None,
        "teachers" => Some("teacher"),
        "students" => Some("student"),
        _ => return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "role must be all, teachers or students.")),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "limit must be between 1 and 100."));
    }
    let admin = member.has(Role::Admin);
    if !admin && !member.has(Role::Teacher) {
        return Err(ApiError::forbidden(
            ErrorCode::RoleRequired,
            "Only teachers and administrators see a school's people.",
        ));
    }
    let user = member.auth.user_id;
    let purpose = format!("school-people\0{school_id}\0{}", role.unwrap_or("all"));
    let link =
        q.cursor.as_deref().map(|c| cursor::open(&state, CursorScope::Education, user, &purpose, c)).transpose()?;
    // Checked above, before any token is read: who may see the school's people.
    let caller = DelegatedGraph::for_member(&state, &member).await?;
    let app = GraphAuth::app_only(caller.auth.tenant_id().to_owned());
    let page = state.graph.school_users_page(&app, school_id.as_str(), limit, link.as_deref());
    let page = if admin {
        page.await
    } else {
        let (mine, page) = futures_util::future::join(state.graph.my_schools(&caller.auth), page).await;
        if !mine?.iter().any(|s| s.id == school_id.as_str()) {
            return Err(ApiError::not_found(ErrorCode::NotFound, "No such school, or you are not in it."));
        }
        page
    }?;
    let items = page
        .value
        .into_iter()
        .map(|u| SchoolPersonDto {
            role: graph::enum_name(&u.primary_role).unwrap_or_else(|| "none".into()),
            id: u.id,
            display_name: u.display_name,
            mail: u.mail.or(u.user_principal_name),
        })
        .filter(|p| role.is_none_or(|r| p.role == r))
        .collect();
    Ok(web::Json(SchoolPeopleResponse {
        items,
        next_cursor: page.next_link.map(|l| cursor::seal(&state, CursorScope::Education, user, &purpose, &l)),
    }))
}

/// The class page's first tab: the class, term, teachers and students with favourite
/// colours and seats — 3 Graph requests in one `$batch` (a second round trip only for a class
/// of more than 999 members), or none while our copy of the roster is at most 5 minutes old
/// (`?refresh=1` reads Microsoft again, at most every 30 s). When Microsoft 365 is not
/// answering, our stored copy with `stale_as_of` (R-C9). The other tabs read their part
/// when opened.
#[utoipa::path(operation_id = "get_class", tag = "education", params(("id" = String, Path, description = "Class id"), ("refresh" = Option<String>, Query, description = "`1`: read Microsoft again (at most every 30 s)")), responses(
    (status = 200, body = ClassDetailsResponse),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable` and no stored copy to show", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}")]
pub async fn get_class(
    state: web::Data<AppState>,
    page: ClassPage,
) -> Result<web::Json<ClassDetailsResponse>, ApiError> {
    let ClassPage { access, stale_as_of } = page;
    let tenant = access.member().tenant_id;
    let roster = &access.roster;
    let ids: Vec<String> = roster.teachers.iter().chain(roster.students.iter()).map(|m| m.id.clone()).collect();
    let colors = edu_db::seating::colors(&state.db, tenant, &ids).await?;
    let seats: HashMap<String, SeatDto> = edu_db::seating::for_class(&state.db, tenant, access.class_id.as_str())
        .await?
        .into_iter()
        .map(|s| (s.student_object_id, SeatDto { row: s.row, col: s.col }))
        .collect();
    let see_all_seats = access.role.sees_everyone();
    let to_member = |m: &ClassPerson, role: &str| MemberDto {
        seat: if see_all_seats || m.id == access.oid() { seats.get(&m.id).cloned() } else { None },
        favorite_color: colors.get(&m.id).cloned(),
        display_name: m.display_name.clone(),
        role: role.to_owned(),
        id: m.id.clone(),
    };
    let members = roster
        .teachers
        .iter()
        .map(|m| to_member(m, "teacher"))
        .chain(roster.students.iter().map(|m| to_member(m, "student")))
        .collect();
    Ok(web::Json(ClassDetailsResponse {
        class: class(roster.class.clone(), roster.teacher_dtos()),
        my_role: access.role.as_str().to_owned(),
        members,
        stale_as_of: stale_as_of.map(classes::rfc3339),
    }))
}

/// The class page's Documents tab: the top folder of the class group's drive, every page of
/// it (issue 18 §4). Read live when the tab opens (1 Graph request; the roster check costs
/// none while our copy is fresh). `503 microsoft_unavailable` when Microsoft 365 is not
/// answering: there is no stored copy of documents.
#[utoipa::path(operation_id = "list_class_documents", tag = "education", params(("id" = String, Path, description = "Class id")), responses(
    (status = 200, body = [DocumentDto]),
    (status = 403, description = "`microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/documents")]
pub async fn list_class_documents(
    state: web::Data<AppState>,
    page: ClassPage,
) -> Result<web::Json<Vec<DocumentDto>>, ApiError> {
    let auth = page.access.auth();
    let first = state.graph.fetch(auth, graph::class_documents(&page.access.class_id)).await?;
    let items = graph::every_page(&state, auth, first).await?;
    Ok(web::Json(
        items
            .into_iter()
            .map(|d| DocumentDto {
                last_modified_by: d.last_modified_by.and_then(|b| b.user).and_then(|u| u.display_name),
                id: d.id,
                name: d.name,
                web_url: d.web_url,
                last_modified_date_time: d.last_modified_date_time,
            })
            .collect(),
    ))
}

/// The class page's Conversations tab: the class group's conversations, every page (issue
/// 18 §4). Read live when the tab opens, as documents.
#[utoipa::path(operation_id = "list_class_conversations", tag = "education", params(("id" = String, Path, description = "Class id")), responses(
    (status = 200, body = [ConversationDto]),
    (status = 403, description = "`microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/conversations")]
pub async fn list_class_conversations(
    state: web::Data<AppState>,
    page: ClassPage,
) -> Result<web::Json<Vec<ConversationDto>>, ApiError> {
    let auth = page.access.auth();
    let first = state.graph.fetch(auth, graph::class_conversations(&page.access.class_id)).await?;
    let items = graph::every_page(&state, auth, first).await?;
    Ok(web::Json(
        items
            .into_iter()
            .map(|c| ConversationDto {
                id: c.id,
                topic: c.topic,
                last_delivered_date_time: c.last_delivered_date_time,
                preview: c.preview,
            })
            .collect(),
    ))
}

/// The seating chart: teachers (and admins) see every seat, a student only their own.
#[utoipa::path(operation_id = "get_seating", tag = "education", params(("id" = String, Path, description = "Class id")), responses(
    (status = 200, body = SeatingResponse),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/seating")]
pub async fn get_seating(
    state: web::Data<AppState>,
    access: ClassAccess,
) -> Result<web::Json<SeatingResponse>, ApiError> {
    let seats = edu_db::seating::for_class(&state.db, access.member().tenant_id, access.class_id.as_str())
        .await?
        .into_iter()
        .filter(|s| access.role.sees_everyone() || s.student_object_id == access.oid())
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
), security(("session" = [], "csrf" = [])))]
#[put("/api/classes/{id}/seating")]
pub async fn put_seating(
    state: web::Data<AppState>,
    body: web::Json<SeatingRequest>,
    teacher: TeacherOfClass<ArrangeSeats>,
) -> Result<HttpResponse, ApiError> {
    let invalid = |code: ErrorCode, message: &str| ApiError::Validation422 { code, message: message.to_owned() };
    let (mut taken, mut seated) = (HashSet::new(), HashSet::new());
    let mut seats = Vec::with_capacity(body.seats.len());
    for a in &body.seats {
        if !(0..GRID).contains(&a.row) || !(0..GRID).contains(&a.col) {
            return Err(invalid(ErrorCode::SeatOutOfGrid, "Every seat must be inside the 6 × 6 grid."));
        }
        if !teacher.roster.is_student(&a.student_id) {
            return Err(invalid(ErrorCode::NotAStudentOfThisClass, "Only students of this class can be seated."));
        }
        if !seated.insert(a.student_id.clone()) {
            return Err(invalid(ErrorCode::StudentSeatedTwice, "A student can have only one seat."));
        }
        if !taken.insert((a.row, a.col)) {
            return Err(invalid(ErrorCode::SeatTaken, "Two students cannot share a seat."));
        }
        seats.push(edu_db::seating::Seat { student_object_id: a.student_id.clone(), row: a.row, col: a.col });
    }
    let member = teacher.member();
    let class_id = teacher.class_id.as_str();
    edu_db::seating::replace(&state.db, member.tenant_id, class_id, &seats, member.auth.user_id, state.clock.now_ms())
        .await?;
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action: "class.seating.update",
            target_type: Some("class"),
            target_id: Some(class_id.to_owned()),
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(SeatingResponse { rows: GRID, cols: GRID, seats: body.into_inner().seats }))
}
