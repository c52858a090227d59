//! Profile photos (cached proxy), About me, and adding a co-teacher.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use edu_domain::Role;
use edu_msgraph::{Batch, GraphAuth};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::class_access::{AddCoTeacher, DelegatedGraph, TeacherOfClass};
use crate::auth::roles::TenantMember;
use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::photos::CachedPhoto;
use crate::services::classes::PersonDto;
use crate::services::graph;
use crate::state::AppState;

/// Shown for people without a photo: a neutral silhouette (static SVG, no script).
const DEFAULT_AVATAR: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#dfe3ea"/><circle cx="32" cy="25" r="12" fill="#8a94a6"/><path d="M10 58c3-12 12-18 22-18s19 6 22 18" fill="#8a94a6"/></svg>"##;

/// A person's profile photo (JPEG/PNG/GIF), or a default avatar when they have none.
/// Cached for an hour on the server and in the browser (`ETag`, `Cache-Control: private`).
#[utoipa::path(operation_id = "get_person_photo", tag = "education", params(("id" = String, Path, description = "Microsoft object id")), responses(
    (status = 200, description = "The photo, or the default avatar (image/svg+xml)", content_type = "image/*"),
    (status = 304, description = "Not modified"),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/people/{id}/photo")]
pub async fn get_person_photo(
    state: web::Data<AppState>,
    member: TenantMember,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let person = GraphId::parse(&path.into_inner())?;
    let photo = match state.photos.get(member.tenant_id, &person) {
        Some(p) => p,
        None => {
            // Only on a cache miss: the token is not read for a cached photo.
            let caller = DelegatedGraph::for_member(&state, &member).await?;
            let fetched = match state.graph.photo(&caller.auth, Some(&person)).await {
                Ok(p) => p,
                // Another tenant's or an unknown person: the same default avatar.
                Err(e) if e.is_not_found() || e.status() == Some(403) => None,
                Err(e) => return Err(e.into()),
            };
            let cached = fetched.and_then(|p| {
                let ct = p.content_type.unwrap_or_default().to_ascii_lowercase();
                // Only raster images we know: never serve Graph's bytes as HTML or SVG.
                ["image/jpeg", "image/png", "image/gif"].contains(&ct.as_str()).then(|| CachedPhoto {
                    etag: format!(
                        "\"{}\"",
                        Sha256::digest(&p.bytes).iter().take(12).map(|b| format!("{b:02x}")).collect::<String>()
                    ),
                    content_type: ct,
                    bytes: std::sync::Arc::new(p.bytes),
                })
            });
            state.photos.put(member.tenant_id, &person, cached.clone());
            cached
        }
    };
    let (body, content_type, etag) = match &photo {
        Some(p) => (p.bytes.as_ref().clone(), p.content_type.clone(), p.etag.clone()),
        None => (DEFAULT_AVATAR.as_bytes().to_vec(), "image/svg+xml".to_owned(), "\"default-avatar-1\"".to_owned()),
    };
    let cache = (header::CACHE_CONTROL, "private, max-age=3600");
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok(HttpResponse::NotModified().insert_header(cache).insert_header((header::ETAG, etag)).finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(cache)
        .insert_header((header::ETAG, etag))
        .body(body))
}

/// About me.
#[derive(Debug, Serialize, ToSchema)]
pub struct AboutResponse {
    /// Name.
    pub display_name: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Mobile phone.
    pub mobile_phone: Option<String>,
    /// Office.
    pub office_location: Option<String>,
    /// Roles in EduGraph.
    pub roles: Vec<Role>,
    /// `#rrggbb`.
    pub favorite_color: Option<String>,
    /// My classes.
    pub classes: Vec<PersonDto>,
}

/// About me: Microsoft profile, roles, favourite colour and my classes (one `$batch`).
#[utoipa::path(operation_id = "get_about_me", tag = "education", responses(
    (status = 200, body = AboutResponse),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
    (status = 403, description = "`school_account_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/me/about")]
pub async fn get_about_me(
    state: web::Data<AppState>,
    caller: DelegatedGraph,
) -> Result<web::Json<AboutResponse>, ApiError> {
    let mut batch = Batch::new();
    let me = batch.add(graph::about_me());
    let classes = batch.add(graph::my_class_names());
    let mut answers = state.graph.send_batch(&caller.auth, batch).await?;
    let me = answers.take(me)?;
    // Every page (issue 18 §4).
    let classes = graph::every_page(&state, &caller.auth, answers.take(classes)?).await?;
    let member = &caller.member;
    let user = edu_db::users::get(&state.db, member.auth.user_id).await?.ok_or(ApiError::Unauthenticated)?;
    Ok(web::Json(AboutResponse {
        display_name: me.display_name,
        mail: me.mail,
        job_title: me.job_title,
        department: me.department,
        mobile_phone: me.mobile_phone,
        office_location: me.office_location,
        roles: member.roles.clone(),
        favorite_color: user.favorite_color,
        classes: classes.into_iter().map(|c| PersonDto { id: c.id, display_name: c.display_name }).collect(),
    }))
}

/// Add a co-teacher.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTeacherRequest {
    /// The teacher's Microsoft object id.
    #[schema(max_length = 128, pattern = r#"^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"#)]
    pub teacher_id: String,
}

/// Adds a co-teacher to a class. Only the class's teachers; the new person must be a
/// teacher of the tenant. The Graph write uses the app's own token (Graph supports no
/// delegated permission for it) after EduGraph's check.
#[utoipa::path(operation_id = "add_class_teacher", tag = "education", params(("id" = String, Path, description = "Class id")), request_body = AddTeacherRequest, responses(
    (status = 204, description = "Added"),
    (status = 403, description = "`role_required`: only this class's teachers", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`: no such class, or not yours", body = crate::error::ErrorBody),
    (status = 409, description = "`already_a_teacher`", body = crate::error::ErrorBody),
    (status = 422, description = "`not_a_teacher`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/teachers")]
pub async fn add_class_teacher(
    state: web::Data<AppState>,
    body: web::Json<AddTeacherRequest>,
    teacher: TeacherOfClass<AddCoTeacher>,
) -> Result<HttpResponse, ApiError> {
    let (auth, class_id, member) = (teacher.auth(), teacher.class_id.as_str(), teacher.member());
    let new_teacher = GraphId::parse(&body.teacher_id).map_err(|_| ApiError::Validation422 {
        code: ErrorCode::NotATeacher,
        message: "Choose a teacher of your school.".into(),
    })?;
    if teacher.roster.is_teacher(&new_teacher) {
        return Err(ApiError::conflict(ErrorCode::AlreadyATeacher, "This person already teaches this class."));
    }
    let profile = state.graph.education_user(auth, &new_teacher, &["id", "primaryRole"]).await;
    let is_teacher = matches!(&profile, Ok(u) if u.primary_role == edu_msgraph::models::PrimaryRole::Teacher);
    if !is_teacher {
        return Err(ApiError::Validation422 {
            code: ErrorCode::NotATeacher,
            message: "Choose a teacher of your school.".into(),
        });
    }
    // Graph allows this write only to applications (EduRoster.ReadWrite.All, app-only); the
    // server has just checked that the caller teaches this class.
    let app = GraphAuth::app_only(auth.tenant_id().to_owned());
    state.graph.add_class_teacher(&app, class_id, &new_teacher).await?;
    // Our roster copies of the class and of the new teacher's classes are out of date now.
    crate::services::classes::forget(&state, member.tenant_id, class_id, &[new_teacher.as_str()]).await?;
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action: "class.teacher.add",
            target_type: Some("class"),
            target_id: Some(class_id.to_owned()),
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
