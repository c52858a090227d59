//! Assignments and submissions: teachers of a class create, link resources,
//! publish, delete and see submissions (with names, no call per submission), return and
//! reassign; students see theirs, submit and unsubmit. Every check is on the server.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use edu_msgraph::models::{
    AssignmentStatus, EducationAssignment, EducationAssignmentResource, EducationResource, EducationSubmission,
    ItemBody, NewAssignment, UploadError,
};
use edu_msgraph::{AssignmentUpdate, Batch, GraphAuth};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::auth::class_access::{ClassAccess, ClassPage, StudentAction, StudentOfClass, TeacherAction, TeacherOfClass};
use crate::auth::roles::TenantMember;
use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::services::classes::ClassRole;
use crate::services::graph;
use crate::state::AppState;

/// An assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentDto {
    /// Id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// `draft`, `published`, `assigned`, …
    pub status: String,
    /// Instructions (text).
    pub instructions: Option<String>,
    /// Due, UTC (RFC 3339).
    pub due_date_time: Option<String>,
    /// True while Microsoft is still publishing it (status `published`, the step before
    /// `assigned`): poll `GET /api/classes/{id}/assignments/{aid}` until it is false.
    pub publishing: bool,
    /// Maximum points; `null` when it is not graded with points.
    pub max_points: Option<f64>,
}

/// One assignment with its resources (`GET /api/classes/{id}/assignments/{aid}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentDetailsDto {
    /// The assignment, with its current status.
    #[serde(flatten)]
    pub assignment: AssignmentDto,
    /// Attached files and links.
    pub resources: Vec<ResourceDto>,
}

/// A resource attached to an assignment or a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceDto {
    /// Id.
    pub id: String,
    /// `file`, `link`, `word`, `excel`, `powerpoint`, `media`, `other`.
    pub kind: String,
    /// Shown name.
    pub display_name: Option<String>,
    /// For links: the URL.
    pub link: Option<String>,
    /// For files: the file's web address in Microsoft 365 (its driveItem `webUrl`, read in
    /// `$batch`es, never one call per file); opening it needs the person's Microsoft 365 sign-in.
    pub web_url: Option<String>,
}

/// `PATCH /api/classes/{id}/assignments/{aid}`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct AssignmentPatchRequest {
    /// New name, 1..=256 characters.
    #[schema(nullable = false, min_length = 1, max_length = 256, pattern = r"\S")]
    pub display_name: Option<String>,
    /// New instructions (plain text; empty clears them).
    #[schema(nullable = false)]
    pub instructions: Option<String>,
    /// New due date and time with the person's UTC offset (RFC 3339), stored as UTC.
    #[schema(nullable = false, format = DateTime)]
    pub due: Option<String>,
    /// Maximum points (decimals allowed, above 0); `null` for no grade.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, exclusive_minimum = 0, exclusive_maximum = 9_999_999)]
    pub max_points: Option<Option<f64>>,
}

fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Microsoft's grading for `max` points, or `null` for no grade.
fn grading_for(max: Option<f64>) -> Result<serde_json::Value, ApiError> {
    match max {
        None => Ok(serde_json::Value::Null),
        Some(m) if m.is_finite() && m > 0.0 && m < crate::services::grading::POINTS_LIMIT => Ok(
            serde_json::json!({"@odata.type": "#microsoft.graph.educationAssignmentPointsGradeType", "maxPoints": m}),
        ),
        Some(_) => Err(ApiError::Validation422 {
            code: ErrorCode::InvalidPoints,
            message: "Give a maximum of points above 0 (decimals allowed), or no grade.".into(),
        }),
    }
}

/// The raw bytes of an uploaded file (documentation only: the handler streams the body).
pub struct FileBody(pub Vec<u8>);

impl utoipa::PartialSchema for FileBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .min_length(Some(1))
            .description(Some("The raw bytes of an uploaded file (not empty)."))
            .into()
    }
}

impl ToSchema for FileBody {}

/// `POST …/files?name=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file name (no path), at most 200 characters.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r#"^([^\x00-\x1f\x7f-\x9f"*:<>?/\\|#%\s~.]|[^\x00-\x1f\x7f-\x9f"*:<>?/\\|#%\s~][^\x00-\x1f\x7f-\x9f"*:<>?/\\|#%]*[^\x00-\x1f\x7f-\x9f"*:<>?/\\|#%\s.])$"#
    )]
    pub name: String,
}

/// `POST /api/classes/{id}/assignments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignmentRequest {
    /// Name, 1..=256 characters.
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub display_name: String,
    /// Instructions (plain text).
    pub instructions: Option<String>,
    /// Due date and time in the person's time zone, with its offset (RFC 3339, e.g.
    /// `2026-12-01T17:00:00+01:00`); stored as UTC.
    #[schema(format = DateTime)]
    pub due: Option<String>,
    /// Maximum points (decimals allowed); omit or `null` for no grade.
    #[schema(exclusive_minimum = 0, exclusive_maximum = 9_999_999)]
    pub max_points: Option<f64>,
    /// A grading category of the class (`GET /api/classes/{id}/grading-categories`).
    pub grading_category_id: Option<String>,
}

/// A link resource.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkResourceRequest {
    /// Shown name.
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub display_name: String,
    /// An `https://` URL.
    #[schema(
        max_length = 2048,
        pattern = r#"^https://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(/[A-Za-z0-9._~/-]*)?$"#
    )]
    pub link: String,
}

/// A submission, with the student's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionDto {
    /// Id.
    pub id: String,
    /// `working`, `submitted`, `returned`, `reassigned`, …
    pub status: String,
    /// The student's Microsoft object id.
    pub student_id: Option<String>,
    /// The student's name (from the class roster).
    pub student_name: Option<String>,
    /// When submitted (UTC).
    pub submitted_date_time: Option<String>,
    /// Teachers only: the grade not yet given back (the teacher's latest values).
    pub draft_grade: Option<crate::services::grading::GradeDto>,
    /// The grade and feedback given back to the student (the only grade a student sees).
    pub returned_grade: Option<crate::services::grading::GradeDto>,
    /// The files and links the student added (in the submissions list; empty in the
    /// answer to a submission action).
    pub resources: Vec<SubmissionResourceDto>,
}

/// A file or link a student added to their submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionResourceDto {
    /// Id.
    pub id: String,
    /// `file`, `link`, `word`, `excel`, `powerpoint`, `media`, `other`.
    pub kind: String,
    /// Shown name (the file name).
    pub display_name: Option<String>,
    /// For links: the URL to open. Microsoft gives files no address a browser can open
    /// without a Graph token, so files have none.
    pub link: Option<String>,
    /// When it was added (UTC), as Microsoft reports it.
    pub added_date_time: Option<String>,
    /// Microsoft object id of who added it.
    pub added_by_id: Option<String>,
    /// Their name, when they are on the class roster.
    pub added_by_name: Option<String>,
    /// For files: the file's web address in Microsoft 365 (its driveItem `webUrl`), when
    /// Microsoft gave it; opening it needs the person's Microsoft 365 sign-in.
    pub web_url: Option<String>,
    /// For files: the size in bytes, when Microsoft gave it.
    pub size: Option<i64>,
}

/// The DTO, and for files the driveItem path (`/drives/{d}/items/{i}`) named by `fileUrl`.
fn submission_resource_dto(
    r: edu_msgraph::models::EducationSubmissionResource,
    names: &HashMap<String, Option<String>>,
) -> (SubmissionResourceDto, Option<String>) {
    let base = resource_dto(r.id, &r.resource);
    let by = r.resource.created_by.as_ref().and_then(|b| b.user.as_ref()).and_then(|u| u.id.clone());
    let item = r.resource.file_url.as_deref().and_then(drive_item_path);
    let dto = SubmissionResourceDto {
        id: base.id,
        kind: base.kind,
        display_name: base.display_name,
        link: base.link,
        added_date_time: r.resource.created_date_time,
        added_by_name: by.as_ref().and_then(|id| names.get(id).cloned().flatten()),
        added_by_id: by,
        web_url: None,
        size: None,
    };
    (dto, item)
}

/// `/drives/{d}/items/{i}` out of a Graph `fileUrl` (`https://graph.microsoft.com/v1.0/drives/…`);
/// `None` for any other shape, so nothing else is ever requested.
fn drive_item_path(file_url: &str) -> Option<String> {
    let path = &file_url[file_url.find("/drives/")?..];
    let parts: Vec<&str> = path.split('/').collect();
    let safe = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_!.".contains(c));
    (parts.len() == 5 && parts[3] == "items" && safe(parts[2]) && safe(parts[4])).then(|| path.to_owned())
}

/// Fills in `web_url` and `size` of files from their driveItems: `$batch`, 20 per request,
/// not one call per file. A file whose item cannot be read keeps `None` (it is still
/// listed); a failed batch is logged and leaves them all `None`.
async fn add_file_details(state: &AppState, auth: &GraphAuth, files: Vec<(&mut SubmissionResourceDto, String)>) {
    let paths: Vec<String> = files.iter().map(|(_, p)| p.clone()).collect();
    for ((dto, _), item) in files.into_iter().zip(drive_items(state, auth, &paths).await) {
        if let Some(item) = item {
            dto.web_url = item.web_url;
            dto.size = item.size;
        }
    }
}

/// The driveItems at `paths` (`/drives/{d}/items/{i}`), in order, read in `$batch`es (the typed
/// [`Batch`] splits them 20 per request): `None` for an item that cannot be read, and for all
/// of them when Microsoft does not answer (logged; the files are still listed, without address).
async fn drive_items(
    state: &AppState,
    auth: &GraphAuth,
    paths: &[String],
) -> Vec<Option<edu_msgraph::models::DriveItem>> {
    if paths.is_empty() {
        return Vec::new();
    }
    let mut batch = Batch::new();
    let parts: Vec<_> = paths.iter().map(|path| batch.add(graph::drive_item_details(path))).collect();
    let mut answers = match state.graph.send_batch(auth, batch).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "files: driveItem details unavailable");
            return paths.iter().map(|_| None).collect();
        }
    };
    parts.into_iter().map(|part| answers.take(part).ok()).collect()
}

/// Fills in `web_url` of an assignment's files (issue 16: handouts open for students and teachers).
async fn add_resource_addresses(
    state: &AppState,
    auth: &GraphAuth,
    resources: &[EducationAssignmentResource],
    dtos: &mut [ResourceDto],
) {
    let files: Vec<(usize, String)> = resources
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.resource.file_url.as_deref().and_then(drive_item_path)?)))
        .collect();
    let paths: Vec<String> = files.iter().map(|(_, p)| p.clone()).collect();
    for ((i, _), item) in files.iter().zip(drive_items(state, auth, &paths).await) {
        if let (Some(dto), Some(item)) = (dtos.get_mut(*i), item) {
            dto.web_url = item.web_url;
        }
    }
}

fn status_str<T: Serialize>(s: &T) -> String {
    graph::enum_name(s).unwrap_or_else(|| "unknown".into())
}

fn dto(a: EducationAssignment) -> AssignmentDto {
    let max_points = a.max_points();
    AssignmentDto {
        publishing: a.status == AssignmentStatus::Published,
        status: status_str(&a.status),
        id: a.id,
        display_name: a.display_name,
        max_points,
        instructions: a.instructions.and_then(|i| i.content),
        due_date_time: a.due_date_time,
    }
}

/// A due time given with the person's UTC offset, as UTC (RFC 3339).
fn due_utc(d: &str) -> Result<String, ApiError> {
    OffsetDateTime::parse(d, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .ok_or_else(|| ApiError::Validation422 {
            code: ErrorCode::InvalidDueDate,
            message: "Give the due date and time with its time zone offset, e.g. 2026-12-01T17:00:00+01:00.".into(),
        })
}

fn assignment_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 256 {
        return Err(ApiError::Validation422 {
            code: ErrorCode::InvalidAssignment,
            message: "Give the assignment a name of at most 256 characters.".into(),
        });
    }
    Ok(name)
}

fn resource_dto(id: String, r: &edu_msgraph::models::EducationResource) -> ResourceDto {
    let kind = match r.odata_type.as_deref().unwrap_or_default().trim_start_matches("#microsoft.graph.education") {
        "FileResource" => "file",
        "LinkResource" => "link",
        "WordResource" => "word",
        "ExcelResource" => "excel",
        "PowerPointResource" => "powerpoint",
        "MediaResource" => "media",
        _ => "other",
    };
    ResourceDto { id, kind: kind.to_owned(), display_name: r.display_name.clone(), link: r.link.clone(), web_url: None }
}

async fn audit(state: &AppState, member: &TenantMember, action: &str, target: &str) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action,
            target_type: Some("assignment"),
            target_id: Some(target.to_owned()),
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// The class's assignments (a student sees those assigned to them).
#[utoipa::path(operation_id = "list_assignments", tag = "assignments", params(("id" = String, Path)), responses(
    (status = 200, body = [AssignmentDto]),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/assignments")]
pub async fn list_assignments(
    state: web::Data<AppState>,
    page: ClassPage,
) -> Result<web::Json<Vec<AssignmentDto>>, ApiError> {
    // The roster check may use our copy (issue 18 §2); the assignments are always live.
    let access = page.access;
    let list = state.graph.class_assignments(access.auth(), access.class_id.as_str(), None).await?;
    Ok(web::Json(list.into_iter().map(dto).collect()))
}

/// Creates a draft assignment (teachers of the class). The due time arrives with the
/// person's UTC offset and is stored in UTC.
#[utoipa::path(operation_id = "create_assignment", tag = "assignments", params(("id" = String, Path)), request_body = NewAssignmentRequest, responses(
    (status = 201, body = AssignmentDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_assignment`, `invalid_due_date`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    body: web::Json<NewAssignmentRequest>,
    teacher: TeacherOfClass,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let name = assignment_name(&body.display_name)?;
    let due = body.due.as_deref().map(due_utc).transpose()?;
    let (auth, class_id, member) = (teacher.auth(), teacher.class_id.as_str(), teacher.member());
    let grading = grading_for(body.max_points)?;
    let category =
        body.grading_category_id.as_deref().map(GraphId::parse).transpose().map_err(|_| ApiError::Validation422 {
            code: ErrorCode::InvalidAssignment,
            message: "Not a grading category of this class.".into(),
        })?;
    // A grading category must be one the class defines (checked before anything is created).
    if let Some(cat) = &category {
        let settings = state.graph.fetch(auth, graph::assignment_settings(&teacher.class_id)).await?;
        if !settings.grading_categories.unwrap_or_default().iter().any(|c| c.id.as_deref() == Some(cat.as_str())) {
            return Err(ApiError::Validation422 {
                code: ErrorCode::InvalidAssignment,
                message: "Not a grading category of this class.".into(),
            });
        }
    }
    let mut new = NewAssignment::for_class(name);
    new.due_date_time = due;
    new.grading = (!grading.is_null()).then_some(grading);
    new.instructions =
        body.instructions.map(|text| ItemBody { content_type: Some("text".into()), content: Some(text) });
    let created = state.graph.create_assignment(auth, class_id, &new).await?;
    if let (Some(cat), Ok(aid)) = (category, GraphId::parse(&created.id)) {
        let odata_id = state
            .graph
            .resolve(&format!(
                "/education/classes/{}/assignmentSettings/gradingCategories/{}",
                edu_msgraph::seg(class_id),
                edu_msgraph::seg(cat.as_str())
            ))?
            .to_string();
        state.graph.fetch(auth, graph::attach_grading_category(&teacher.class_id, &aid, odata_id)?).await?;
    }
    audit(&state, member, "assignment.create", &created.id).await?;
    Ok(HttpResponse::Created().json(dto(created)))
}

/// Attaches a link to an assignment (teachers of the class; `https://` links only).
#[utoipa::path(operation_id = "add_assignment_link", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path)), request_body = LinkResourceRequest, responses(
    (status = 201, description = "Attached"),
    (status = 422, description = "`invalid_link`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/assignments/{aid}/links")]
pub async fn add_assignment_link(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<LinkResourceRequest>,
    teacher: TeacherOfClass,
) -> Result<HttpResponse, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let link = url::Url::parse(body.link.trim()).ok().filter(|u| u.scheme() == "https" && u.host().is_some());
    let name = body.display_name.trim();
    let (Some(link), false) = (link, name.is_empty() || name.chars().count() > 256) else {
        return Err(ApiError::Validation422 {
            code: ErrorCode::InvalidLink,
            message: "Give a name and an https:// link.".into(),
        });
    };
    let (auth, class_id, member) = (teacher.auth(), teacher.class_id.as_str(), teacher.member());
    let resource = EducationAssignmentResource {
        distribute_for_student_work: Some(false),
        resource: EducationResource {
            odata_type: Some("#microsoft.graph.educationLinkResource".into()),
            display_name: Some(name.to_owned()),
            link: Some(link.as_str().to_owned()),
            ..EducationResource::default()
        },
        ..EducationAssignmentResource::default()
    };
    state.graph.add_assignment_resource(auth, class_id, &aid, &resource).await?;
    audit(&state, member, "assignment.resource.add", &aid).await?;
    Ok(HttpResponse::Created().finish())
}

/// Publishes (assigns) an assignment, only once no file is still being attached to it
/// (`409 uploads_in_progress`). Graph finishes asynchronously: the answer may say
/// `published` (`publishing: true`); a later read shows `assigned`.
#[utoipa::path(operation_id = "publish_assignment", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path)), responses(
    (status = 200, body = AssignmentDto),
    (status = 409, description = "`uploads_in_progress`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/assignments/{aid}/publish")]
pub async fn publish_assignment(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    teacher: TeacherOfClass,
) -> Result<web::Json<AssignmentDto>, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let (auth, class_id, member) = (teacher.auth(), teacher.class_id.as_str(), teacher.member());
    // Students get what is attached when it is published: not while files are on their way.
    if edu_db::uploads::in_progress(&state.db, member.tenant_id, class_id, &aid, state.clock.now_ms()).await? > 0 {
        return Err(ApiError::conflict(
            ErrorCode::UploadsInProgress,
            "Files are still being attached to this assignment. Publish it when they are done.",
        ));
    }
    let a = state.graph.publish_assignment(auth, class_id, &aid).await?;
    audit(&state, member, "assignment.publish", &aid).await?;
    Ok(web::Json(dto(a)))
}

/// Deletes an assignment (teachers of the class).
#[utoipa::path(operation_id = "delete_assignment", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path)), responses(
    (status = 204, description = "Deleted"),
), security(("session" = [], "csrf" = [])))]
#[delete("/api/classes/{id}/assignments/{aid}")]
pub async fn delete_assignment(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    teacher: TeacherOfClass,
) -> Result<HttpResponse, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    state.graph.delete_assignment(teacher.auth(), teacher.class_id.as_str(), &aid).await?;
    audit(&state, teacher.member(), "assignment.delete", &aid).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Submissions of an assignment, with names from the class roster (no call per
/// submission). A student sees only their own.
#[utoipa::path(operation_id = "list_submissions", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path)), responses(
    (status = 200, body = [SubmissionDto]),
), security(("session" = [])))]
#[get("/api/classes/{id}/assignments/{aid}/submissions")]
pub async fn list_submissions(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    access: ClassAccess,
) -> Result<web::Json<Vec<SubmissionDto>>, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let (auth, my_oid) = (access.auth(), access.oid());
    let names = access.roster.student_names();
    // One Graph call for all submissions with their files and outcomes (more only for more
    // than a page of submissions), not one per submission.
    let mut page = state.graph.fetch(auth, graph::submissions_for_view(&access.class_id, &aid)).await?;
    let mut list: Vec<EducationSubmission> = std::mem::take(&mut page.value);
    while let Some(next) = page.next_link.take() {
        page =
            state.graph.fetch(auth, graph::next_page(&next).header("Prefer", "include-unknown-enum-members")).await?;
        list.append(&mut page.value);
    }
    let teacher = access.role.sees_everyone();
    let mut items: Vec<(SubmissionDto, Vec<Option<String>>)> = list
        .into_iter()
        .filter(|s| {
            access.role.sees_everyone() || s.recipient.as_ref().and_then(|r| r.user_id.as_deref()) == Some(my_oid)
        })
        .map(|s| {
            let student = s.recipient.as_ref().and_then(|r| r.user_id.clone());
            let (resources, paths) = s.resources.into_iter().map(|r| submission_resource_dto(r, &names)).unzip();
            // A student never sees a draft grade: only what was given back.
            let returned = crate::services::grading::grade(&s.outcomes, true);
            let draft = teacher.then(|| crate::services::grading::grade(&s.outcomes, false));
            let dto = SubmissionDto {
                draft_grade: draft,
                returned_grade: (!returned.is_empty()).then_some(returned),
                status: status_str(&s.status),
                student_name: student.as_ref().and_then(|id| names.get(id).cloned().flatten()),
                student_id: student,
                submitted_date_time: s.submitted_date_time,
                resources,
                id: s.id,
            };
            (dto, paths)
        })
        .collect();
    let files = items
        .iter_mut()
        .flat_map(|(s, paths)| s.resources.iter_mut().zip(paths.iter()))
        .filter_map(|(dto, path)| Some((dto, path.clone()?)))
        .collect();
    add_file_details(&state, auth, files).await;
    Ok(web::Json(items.into_iter().map(|(s, _)| s).collect()))
}

/// Microsoft answers 400 to an action the submission's status does not allow (excuse an
/// excused one, unsubmit one that is not turned in): a conflict with the current state, not
/// a Microsoft failure.
pub(crate) fn submission_state_error(e: edu_msgraph::GraphError) -> ApiError {
    match e {
        edu_msgraph::GraphError::BadRequest(_) | edu_msgraph::GraphError::Conflict(_) => ApiError::conflict(
            ErrorCode::SubmissionStateConflict,
            "This work's status does not allow that now (it may already be turned in, returned or excused). Reload to see where it stands.",
        ),
        e => ApiError::from(e),
    }
}

/// A submission action: `submit`/`unsubmit` (the student, on their own submission) or
/// `return`/`reassign` (teachers of the class).
#[utoipa::path(operation_id = "submission_action", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path), ("sid" = String, Path), ("action" = String, Path, description = "submit | unsubmit | return | reassign")), responses(
    (status = 200, body = SubmissionDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 409, description = "`submission_state_conflict`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/assignments/{aid}/submissions/{sid}/{action}")]
pub async fn submission_action(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
    access: ClassAccess,
) -> Result<web::Json<SubmissionDto>, ApiError> {
    let (_, aid, sid, action) = path.into_inner();
    let (aid, sid) = (GraphId::parse(&aid)?, GraphId::parse(&sid)?);
    let (auth, class_id, my_oid) = (access.auth(), access.class_id.as_str(), access.oid());
    let s = match action.as_str() {
        "submit" | "unsubmit" => {
            access.check_student::<StudentAction>()?;
            // Only their own submission: Graph would refuse others, but say so ourselves.
            let mine = state.graph.submissions(auth, class_id, &aid, None, None).await?;
            if !mine.iter().any(|s| {
                s.id == sid.as_str() && s.recipient.as_ref().and_then(|r| r.user_id.as_deref()) == Some(my_oid)
            }) {
                return Err(ApiError::not_found(ErrorCode::NotFound, "No such submission of yours."));
            }
            if action == "submit" {
                state.graph.submit_submission(auth, class_id, &aid, &sid).await
            } else {
                state.graph.unsubmit_submission(auth, class_id, &aid, &sid).await
            }
        }
        "return" | "reassign" => {
            access.check_teacher::<TeacherAction>()?;
            if action == "return" {
                state.graph.return_submission(auth, class_id, &aid, &sid).await
            } else {
                state.graph.reassign_submission(auth, class_id, &aid, &sid).await
            }
        }
        _ => return Err(ApiError::not_found(ErrorCode::NotFound, "No such action.")),
    }
    .map_err(submission_state_error)?;
    audit(&state, access.member(), &format!("submission.{action}"), &sid).await?;
    let student = s.recipient.as_ref().and_then(|r| r.user_id.clone());
    Ok(web::Json(SubmissionDto {
        draft_grade: None,
        returned_grade: None,
        status: status_str(&s.status),
        student_name: None,
        student_id: student,
        submitted_date_time: s.submitted_date_time,
        resources: Vec::new(),
        id: s.id,
    }))
}

/// The files and links on one submission: the student, for their own submission only
/// (`404 not_found` otherwise); teachers of the class, for any. One Graph call.
#[utoipa::path(operation_id = "list_submission_resources", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path), ("sid" = String, Path)), responses(
    (status = 200, body = [SubmissionResourceDto]),
    (status = 404, description = "`not_found`: no such submission, or not yours", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/assignments/{aid}/submissions/{sid}/resources")]
pub async fn list_submission_resources(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    access: ClassAccess,
) -> Result<web::Json<Vec<SubmissionResourceDto>>, ApiError> {
    let (_, aid, sid) = path.into_inner();
    let (aid, sid) = (GraphId::parse(&aid)?, GraphId::parse(&sid)?);
    let (auth, class_id, my_oid) = (access.auth(), access.class_id.as_str(), access.oid());
    let names = access.roster.student_names();
    let list = match access.role {
        ClassRole::Teacher => state.graph.submission_resources(auth, class_id, &aid, &sid).await?,
        ClassRole::Student => {
            // Graph lets a student read only their own; check it ourselves so that another
            // student's submission reads as absent, not as a Microsoft refusal.
            let mine = state.graph.submissions(auth, class_id, &aid, None, Some("resources")).await?;
            let s = mine.into_iter().find(|s| {
                s.id == sid.as_str() && s.recipient.as_ref().and_then(|r| r.user_id.as_deref()) == Some(my_oid)
            });
            s.ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such submission of yours."))?.resources
        }
        ClassRole::TenantAdmin => return Err(ApiError::not_found(ErrorCode::NotFound, "No such submission.")),
    };
    let (mut items, paths): (Vec<_>, Vec<_>) = list.into_iter().map(|r| submission_resource_dto(r, &names)).unzip();
    let files = items.iter_mut().zip(paths).filter_map(|(dto, path)| Some((dto, path?))).collect();
    add_file_details(&state, auth, files).await;
    Ok(web::Json(items))
}

/// One assignment with its resources, as Microsoft has it now (one Graph call,
/// `$expand=resources`). Publishing is asynchronous
/// at Microsoft (`published` → `assigned`): after `publish`, the SPA polls this until
/// `publishing` is false.
#[utoipa::path(operation_id = "get_assignment", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path)), responses(
    (status = 200, body = AssignmentDetailsDto),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{id}/assignments/{aid}")]
pub async fn get_assignment(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    access: ClassAccess,
) -> Result<web::Json<AssignmentDetailsDto>, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    // One Graph call (this is what the SPA polls after publishing).
    let mut a = state.graph.assignment_with_resources(access.auth(), access.class_id.as_str(), &aid).await?;
    let raw = a.resources.take().unwrap_or_default();
    let mut resources: Vec<ResourceDto> = raw.iter().map(|r| resource_dto(r.id.clone(), &r.resource)).collect();
    // Files get their Microsoft 365 address: one `$batch` for all of them (a second Graph round
    // trip only when the assignment has files).
    add_resource_addresses(&state, access.auth(), &raw, &mut resources).await;
    Ok(web::Json(AssignmentDetailsDto { assignment: dto(a), resources }))
}

/// Edits an assignment (teachers of the class): name, instructions, due time (given with
/// the person's UTC offset, sent to Microsoft in UTC). Only the fields given change.
/// Microsoft refuses some edits in some states (e.g. an inactive assignment): `409`.
#[utoipa::path(operation_id = "update_assignment", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path)), request_body = AssignmentPatchRequest, responses(
    (status = 200, body = AssignmentDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 409, description = "`assignment_not_editable`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_assignment`, `invalid_due_date`, `nothing_to_change`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[patch("/api/classes/{id}/assignments/{aid}")]
pub async fn update_assignment(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<AssignmentPatchRequest>,
    teacher: TeacherOfClass,
) -> Result<web::Json<AssignmentDto>, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let body = body.into_inner();
    let patch = AssignmentUpdate {
        display_name: body.display_name.as_deref().map(assignment_name).transpose()?.map(str::to_owned),
        instructions: body.instructions.map(|i| ItemBody { content: Some(i), content_type: Some("text".into()) }),
        due_date_time: body.due.as_deref().map(due_utc).transpose()?,
        grading: body.max_points.map(grading_for).transpose()?,
    };
    if patch.is_empty() {
        return Err(ApiError::Validation422 {
            code: ErrorCode::NothingToChange,
            message: "Give at least one of display_name, instructions, due, max_points.".into(),
        });
    }
    let (auth, class_id, member) = (teacher.auth(), teacher.class_id.as_str(), teacher.member());
    let updated = state.graph.update_assignment(auth, class_id, &aid, &patch).await.map_err(|e| match e {
        edu_msgraph::GraphError::BadRequest(_) | edu_msgraph::GraphError::Conflict(_) => ApiError::conflict(
            ErrorCode::AssignmentNotEditable,
            "Microsoft 365 does not allow this change to the assignment in its current state.",
        ),
        e => ApiError::from(e),
    })?;
    let a = match updated {
        Some(a) => a,
        None => state.graph.assignment(auth, class_id, &aid).await?,
    };
    audit(&state, member, "assignment.update", &aid).await?;
    Ok(web::Json(dto(a)))
}

/// How long an upload row counts if its request dies without cleaning up (process crash).
const UPLOAD_TTL_MS: i64 = 30 * 60 * 1000;

/// An upload into an assignment in flight, recorded in the database so that `publish` on any
/// instance waits for it. Finished explicitly; if the request is dropped (client gone), the
/// row is removed in the background.
struct UploadGuard {
    state: web::Data<AppState>,
    tenant: edu_domain::TenantId,
    id: String,
    done: bool,
}

impl UploadGuard {
    async fn start(
        state: &web::Data<AppState>,
        member: &TenantMember,
        class_id: &str,
        aid: &str,
    ) -> Result<Self, ApiError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = state.clock.now_ms();
        edu_db::uploads::start(
            &state.db,
            &edu_db::uploads::Upload {
                tenant: member.tenant_id,
                upload_id: &id,
                class_id,
                assignment_id: aid,
                by: member.auth.user_id,
                now,
                expires_at: now + UPLOAD_TTL_MS,
            },
        )
        .await?;
        Ok(UploadGuard { state: state.clone(), tenant: member.tenant_id, id, done: false })
    }

    async fn finish(mut self) -> Result<(), ApiError> {
        self.done = true;
        edu_db::uploads::finish(&self.state.db, self.tenant, &self.id).await?;
        Ok(())
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if !self.done {
            let (state, tenant, id) = (self.state.clone(), self.tenant, std::mem::take(&mut self.id));
            actix_web::rt::spawn(async move {
                if let Err(e) = edu_db::uploads::finish(&state.db, tenant, &id).await {
                    tracing::warn!(error = %e, "could not clear an abandoned upload row; it expires on its own");
                }
            });
        }
    }
}

/// A file name Microsoft 365 accepts, without any path.
fn file_name(name: &str) -> Result<&str, ApiError> {
    let n = name.trim();
    let ok = !n.is_empty()
        && n.chars().count() <= 200
        && !n.ends_with('.')
        && !n.starts_with("~$")
        && !n
            .chars()
            .any(|c| c.is_control() || matches!(c, '"' | '*' | ':' | '<' | '>' | '?' | '/' | '\\' | '|' | '#' | '%'));
    if ok {
        Ok(n)
    } else {
        Err(ApiError::Validation422 {
            code: ErrorCode::InvalidFileName,
            message: "Give a file name of at most 200 characters without \" * : < > ? / \\ | # %.".into(),
        })
    }
}

/// Checks an upload's headers before anything is read: raw `application/octet-stream` body
/// (a cross-site form cannot send that type; the CSRF header is required as for JSON),
/// a `Content-Length`, at most the configured size.
fn upload_size(state: &AppState, req: &HttpRequest) -> Result<u64, ApiError> {
    let ct = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.trim().eq_ignore_ascii_case("application/octet-stream") {
        return Err(ApiError::OctetStreamRequired);
    }
    let chunked = req.headers().contains_key(actix_web::http::header::TRANSFER_ENCODING);
    let len = match req.headers().get(actix_web::http::header::CONTENT_LENGTH) {
        Some(v) => v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or(ApiError::LengthRequired)?,
        // A streamed body of unknown size cannot be announced to an upload session.
        None if chunked => return Err(ApiError::LengthRequired),
        None => 0,
    };
    if len > state.config.max_upload_bytes {
        return Err(ApiError::FileTooLarge { limit: state.config.max_upload_bytes });
    }
    if len == 0 {
        return Err(ApiError::Validation422 { code: ErrorCode::EmptyFile, message: "The file is empty.".into() });
    }
    Ok(len)
}

/// An upload's file name (from `?name=`) and length, checked from the query string and the
/// headers alone. An extractor placed before the class access, so that a wrong upload is
/// refused before anything is read and before any Graph call.
pub struct UploadFile {
    name: String,
    len: u64,
}

impl actix_web::FromRequest for UploadFile {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready((|| {
            let state =
                req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal(anyhow::anyhow!("no state")))?;
            let q = web::Query::<FileQuery>::from_query(req.query_string()).map_err(crate::error::query_error)?;
            let name = file_name(&q.name)?.to_owned();
            let len = upload_size(state, req)?;
            Ok(Self { name, len })
        })())
    }
}

/// Uploads into a resources folder (simple PUT up to 4 MiB, else an upload session).
async fn upload(
    state: &AppState,
    auth: &GraphAuth,
    folder: Option<String>,
    name: &str,
    len: u64,
    body: web::Payload,
) -> Result<String, ApiError> {
    let folder = folder.ok_or_else(|| ApiError::internal(anyhow::anyhow!("Graph gave no resourcesFolderUrl")))?;
    let item = state.graph.upload_file(auth, &folder, name, "application/octet-stream", len, body).await.map_err(
        |e| match e {
            UploadError::Graph(g) => ApiError::from(g),
            UploadError::Body(_) | UploadError::Incomplete { .. } => {
                ApiError::bad_request(ErrorCode::IncompleteUpload, "The file did not arrive completely. Try again.")
            }
        },
    )?;
    // The file's Graph URL: same drive as the folder (`…/drives/{d}/items/{id}`).
    let (drive, _) = folder
        .rsplit_once("/items/")
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unexpected resourcesFolderUrl shape")))?;
    Ok(format!("{drive}/items/{}", item.id))
}

fn file_resource(name: &str, file_url: String) -> EducationAssignmentResource {
    EducationAssignmentResource {
        resource: EducationResource {
            odata_type: Some("#microsoft.graph.educationFileResource".into()),
            display_name: Some(name.to_owned()),
            file_url: Some(file_url),
            ..EducationResource::default()
        },
        ..EducationAssignmentResource::default()
    }
}

/// Attaches a file to an assignment (teachers of the class): the raw body
/// (`Content-Type: application/octet-stream`, `Content-Length` required, at most
/// `EDUGRAPH_MAX_UPLOAD_BYTES`, 50 MiB by default) goes into the assignment's resources
/// folder — in one PUT up to 4 MiB, else through an upload session in 5 MiB ranges, never
/// held whole in memory — and is then attached as an `educationFileResource`. Attach files
/// before publishing: students get what is attached when it is published.
#[utoipa::path(operation_id = "upload_assignment_file", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path), FileQuery),
    request_body(content = FileBody, content_type = "application/octet-stream"), responses(
    (status = 201, body = ResourceDto),
    (status = 400, description = "`incomplete_upload`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 411, description = "`length_required`", body = crate::error::ErrorBody),
    (status = 413, description = "`file_too_large`", body = crate::error::ErrorBody),
    (status = 415, description = "`unsupported_media_type`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_file_name`, `empty_file`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/assignments/{aid}/files")]
pub async fn upload_assignment_file(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    file: UploadFile,
    body: web::Payload,
    teacher: TeacherOfClass,
) -> Result<HttpResponse, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let UploadFile { name, len } = file;
    let (auth, class_id, member) = (teacher.auth(), teacher.class_id.as_str(), teacher.member());
    // Publishing waits while this runs (every instance sees the row).
    let guard = UploadGuard::start(&state, member, class_id, &aid).await?;
    let attached = async {
        let a = state.graph.set_up_assignment_resources_folder(auth, class_id, &aid).await?;
        let file_url = upload(&state, auth, a.resources_folder_url, &name, len, body).await?;
        let mut resource = file_resource(&name, file_url);
        resource.distribute_for_student_work = Some(false);
        Ok::<_, ApiError>(state.graph.add_assignment_resource(auth, class_id, &aid, &resource).await?)
    }
    .await;
    guard.finish().await?;
    let added = attached?;
    audit(&state, member, "assignment.resource.upload", &aid).await?;
    Ok(HttpResponse::Created().json(resource_dto(added.id, &added.resource)))
}

/// A student adds a file to their own submission (same body rules as the assignment
/// upload). Not while it is turned in: unsubmit first (`409 submission_turned_in`).
#[utoipa::path(operation_id = "upload_submission_file", tag = "assignments", params(("id" = String, Path), ("aid" = String, Path), ("sid" = String, Path), FileQuery),
    request_body(content = FileBody, content_type = "application/octet-stream"), responses(
    (status = 201, body = ResourceDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: not your submission", body = crate::error::ErrorBody),
    (status = 409, description = "`submission_turned_in`", body = crate::error::ErrorBody),
    (status = 411, description = "`length_required`", body = crate::error::ErrorBody),
    (status = 413, description = "`file_too_large`", body = crate::error::ErrorBody),
    (status = 415, description = "`unsupported_media_type`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_file_name`, `empty_file`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/assignments/{aid}/submissions/{sid}/files")]
pub async fn upload_submission_file(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    file: UploadFile,
    body: web::Payload,
    student: StudentOfClass,
) -> Result<HttpResponse, ApiError> {
    let (_, aid, sid) = path.into_inner();
    let (aid, sid) = (GraphId::parse(&aid)?, GraphId::parse(&sid)?);
    let UploadFile { name, len } = file;
    let (auth, class_id, my_oid) = (student.auth(), student.class_id.as_str(), student.oid());
    let mine = state.graph.submissions(auth, class_id, &aid, None, None).await?;
    let Some(sub) = mine
        .iter()
        .find(|s| s.id == sid.as_str() && s.recipient.as_ref().and_then(|r| r.user_id.as_deref()) == Some(my_oid))
    else {
        return Err(ApiError::not_found(ErrorCode::NotFound, "No such submission of yours."));
    };
    if status_str(&sub.status) == "submitted" {
        return Err(ApiError::conflict(ErrorCode::SubmissionTurnedIn, "Undo the turn-in before adding files."));
    }
    let s = state.graph.set_up_submission_resources_folder(auth, class_id, &aid, &sid).await?;
    let file_url = upload(&state, auth, s.resources_folder_url, &name, len, body).await?;
    let resource = file_resource(&name, file_url);
    let added = state.graph.add_submission_resource(auth, class_id, &aid, &sid, &resource).await?;
    audit(&state, student.member(), "submission.resource.upload", &sid).await?;
    Ok(HttpResponse::Created().json(resource_dto(added.id, &added.resource)))
}

#[cfg(test)]
mod tests {
    use super::drive_item_path;

    #[test]
    fn only_a_drive_item_address_is_taken_from_a_file_url() {
        assert_eq!(
            drive_item_path("https://graph.microsoft.com/v1.0/drives/b!Abc-_1/items/01XYZ").as_deref(),
            Some("/drives/b!Abc-_1/items/01XYZ")
        );
        for bad in [
            "https://graph.microsoft.com/v1.0/me/drive/items/1",
            "https://graph.microsoft.com/v1.0/drives/d/items/1/children",
            "https://graph.microsoft.com/v1.0/drives/d/items/1?$expand=x",
            "https://graph.microsoft.com/v1.0/drives/d/root/1",
            "https://graph.microsoft.com/v1.0/drives//items/1",
        ] {
            assert_eq!(drive_item_path(bad), None, "{bad}");
        }
    }
}
