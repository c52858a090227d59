//! Profile photos (cached proxy), About me, and adding a co-teacher.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use edu_domain::Role;
use edu_msgraph::{BatchRequest, GraphAuth};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::roles::TenantMember;
use crate::error::{ApiError, graph_error};
use crate::microsoft::tokens;
use crate::photos::CachedPhoto;
use crate::routes::education::{PersonDto, graph_id};
use crate::state::AppState;

/// Shown for people without a photo: a neutral silhouette (static SVG, no script).
const DEFAULT_AVATAR: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#dfe3ea"/><circle cx="32" cy="25" r="12" fill="#8a94a6"/><path d="M10 58c3-12 12-18 22-18s19 6 22 18" fill="#8a94a6"/></svg>"##;

async fn delegated(state: &AppState, member: &TenantMember) -> Result<(GraphAuth, String), ApiError> {
    let identity =
        edu_db::identities::of_user(&state.db, member.auth.user_id).await?.ok_or(ApiError::MicrosoftSignInRequired)?;
    let token = tokens::access_token(state, member.tenant_id, &identity.ms_tenant_id, &identity.ms_object_id).await?;
    Ok((GraphAuth::delegated(identity.ms_tenant_id.clone(), token), identity.ms_object_id))
}

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
    let person = path.into_inner();
    graph_id(&person)?;
    let photo = match state.photos.get(member.tenant_id, &person) {
        Some(p) => p,
        None => {
            let (auth, _) = delegated(&state, &member).await?;
            let fetched = match state.graph.photo(&auth, Some(&person)).await {
                Ok(p) => p,
                // Another tenant's or an unknown person: the same default avatar.
                Err(e) if e.is_not_found() || e.status() == Some(403) => None,
                Err(e) => return Err(graph_error(e)),
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
    member: TenantMember,
) -> Result<web::Json<AboutResponse>, ApiError> {
    let (auth, _) = delegated(&state, &member).await?;
    let mut answers = state
        .graph
        .batch(
            &auth,
            vec![
                BatchRequest::get("me", "/me?$select=displayName,mail,jobTitle,department,mobilePhone,officeLocation"),
                BatchRequest::get("classes", "/education/me/classes?$select=id,displayName&$top=999"),
            ],
        )
        .await
        .map_err(graph_error)?
        .into_map();
    let mut take = |id: &str| match answers.remove(id) {
        Some(Ok(r)) => Ok(r.body.unwrap_or(Value::Null)),
        Some(Err(e)) => Err(graph_error(e)),
        None => Err(ApiError::internal(anyhow::anyhow!("no batch answer"))),
    };
    let me = take("me")?;
    let classes = take("classes")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let user = edu_db::users::get(&state.db, member.auth.user_id).await?.ok_or(ApiError::Unauthenticated)?;
    Ok(web::Json(AboutResponse {
        display_name: s(&me, "displayName"),
        mail: s(&me, "mail"),
        job_title: s(&me, "jobTitle"),
        department: s(&me, "department"),
        mobile_phone: s(&me, "mobilePhone"),
        office_location: s(&me, "officeLocation"),
        roles: member.roles.clone(),
        favorite_color: user.favorite_color,
        classes: classes
            .get("value")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| PersonDto { id: s(c, "id").unwrap_or_default(), display_name: s(c, "displayName") })
                    .collect()
            })
            .unwrap_or_default(),
    }))
}

/// Add a co-teacher.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTeacherRequest {
    /// The teacher's Microsoft object id.
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
), security(("session" = []), ("csrf" = [])))]
#[post("/api/classes/{id}/teachers")]
pub async fn add_class_teacher(
    state: web::Data<AppState>,
    member: TenantMember,
    path: web::Path<String>,
    body: web::Json<AddTeacherRequest>,
) -> Result<HttpResponse, ApiError> {
    let class_id = path.into_inner();
    let (auth, my_oid) = delegated(&state, &member).await?;
    let view = crate::routes::education::class_roles(&state, &member, &auth, &my_oid, &class_id).await?;
    if view.my_role != "teacher" {
        return Err(ApiError::forbidden("role_required", "Only this class's teachers can add a co-teacher."));
    }
    let new_teacher = graph_id(&body.teacher_id).map_err(|_| ApiError::Validation422 {
        code: "not_a_teacher",
        message: "Choose a teacher of your school.".into(),
    })?;
    if view.teacher_ids.contains(new_teacher) {
        return Err(ApiError::conflict("already_a_teacher", "This person already teaches this class."));
    }
    let profile = state.graph.education_user(&auth, new_teacher, &["id", "primaryRole"]).await;
    let is_teacher = matches!(&profile, Ok(u) if u.primary_role == edu_msgraph::models::PrimaryRole::Teacher);
    if !is_teacher {
        return Err(ApiError::Validation422 {
            code: "not_a_teacher",
            message: "Choose a teacher of your school.".into(),
        });
    }
    // Graph allows this write only to applications (EduRoster.ReadWrite.All, app-only); the
    // server has just checked that the caller teaches this class.
    let app = GraphAuth::app_only(auth.tenant_id().to_owned());
    state.graph.add_class_teacher(&app, &class_id, new_teacher).await.map_err(graph_error)?;
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action: "class.teacher.add",
            target_type: Some("class"),
            target_id: Some(class_id),
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
