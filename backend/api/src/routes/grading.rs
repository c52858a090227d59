//! Grading and feedback (issue 15): teachers of a class grade a submission (points, written
//! feedback, rubric levels: PATCHes of its outcomes, never of the `published*` values), excuse
//! it, return every graded submission of an assignment as a background job, attach a rubric,
//! and read or export the class gradebook; everyone sees their to-do list across classes.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, patch, post, web};
use edu_db::jobs;
use edu_msgraph::models::{
    EducationAssignment, EducationFeedback, EducationOutcome, EducationPointsGrade, EducationRubric, ItemBody,
    OutcomeKind, OutcomeUpdate, RubricCriterion, RubricLevel, RubricQuality, RubricQualityFeedback,
    RubricQualitySelectedLevel, SubmissionStatus,
};
use edu_msgraph::{Batch, GraphError};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::class_access::{ClassAccess, DelegatedGraph, TeacherAction, TeacherOfClass};
use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::jobs::grading::{ReturnRun, class_prefix, kind, run_return};
use crate::jobs::{JobView, STALE_AFTER_MS};
use crate::services::classes::{self, ClassRole};
use crate::services::grading::{
    self, FEEDBACK_MAX_CHARS, GradeDto, GradebookDto, POINTS_LIMIT, graded_not_returned, status_name,
};
use crate::services::graph;
use crate::state::AppState;

/// A field that is present (`null` included) or absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// One rubric quality's level (and feedback) in a grade.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricPickRequest {
    /// The quality (row) of the assignment's rubric.
    pub quality_id: String,
    /// The chosen level (column); `null` clears it.
    pub level_id: Option<String>,
    /// Feedback on this quality.
    pub feedback: Option<String>,
}

/// Rubric levels chosen for a submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricGradeRequest {
    /// One entry per quality graded.
    pub qualities: Vec<RubricPickRequest>,
}

/// `PATCH …/submissions/{submission_id}/outcome`: only the fields given change; `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct OutcomePatchRequest {
    /// Points from 0 to the assignment's maximum (decimals allowed); `null` clears.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 0, exclusive_maximum = 9_999_999)]
    pub points: Option<serde_json::Value>,
    /// Written feedback (plain text, at most 5000 characters); `null` or empty clears.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub feedback: Option<Option<String>>,
    /// Rubric levels; `null` clears every level and quality feedback.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<RubricGradeRequest>)]
    pub rubric: Option<Option<RubricGradeRequest>>,
}

/// A submission's grade: the teacher's latest values and what the student was given back.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionGradeDto {
    /// The submission.
    pub submission_id: String,
    /// The teacher's latest values (not visible to the student until returned).
    pub draft: GradeDto,
    /// What the student was last given back.
    pub returned: GradeDto,
}

fn invalid_points(max: Option<f64>) -> ApiError {
    let message = match max {
        Some(m) => format!("Give points from 0 to {m}."),
        None => "Give points as a number from 0.".to_owned(),
    };
    ApiError::Validation422 { code: ErrorCode::InvalidPoints, message }
}

fn points_value(v: &serde_json::Value) -> Result<Option<f64>, ApiError> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => {
            n.as_f64().filter(|x| x.is_finite() && *x >= 0.0 && *x < POINTS_LIMIT).map(Some).ok_or(invalid_points(None))
        }
        _ => Err(invalid_points(None)),
    }
}

fn invalid_rubric(message: &str) -> ApiError {
    ApiError::Validation422 { code: ErrorCode::InvalidRubric, message: message.to_owned() }
}

fn text(t: &str) -> ItemBody {
    ItemBody { content_type: Some("text".into()), content: Some(t.to_owned()) }
}

fn feedback_text(f: Option<String>) -> Result<Option<String>, ApiError> {
    let f = f.filter(|t| !t.trim().is_empty());
    if f.as_ref().is_some_and(|t| t.chars().count() > FEEDBACK_MAX_CHARS) {
        return Err(ApiError::Validation422 {
            code: ErrorCode::FeedbackTooLong,
            message: format!("Feedback can be at most {FEEDBACK_MAX_CHARS} characters."),
        });
    }
    Ok(f)
}

/// The PATCH bodies for the rubric outcome `o`: every quality of the rubric, the given ones set.
fn rubric_update(o: &EducationOutcome, picks: Option<RubricGradeRequest>) -> Result<OutcomeUpdate, ApiError> {
    let qualities: Vec<String> = o
        .rubric_quality_selected_levels
        .iter()
        .flatten()
        .map(|l| l.quality_id.clone())
        .chain(o.rubric_quality_feedback.iter().flatten().map(|f| f.quality_id.clone()))
        .fold(Vec::new(), |mut acc, q| {
            if !acc.contains(&q) {
                acc.push(q);
            }
            acc
        });
    let picks = picks.map(|p| p.qualities).unwrap_or_default();
    let mut levels: Vec<RubricQualitySelectedLevel> =
        qualities.iter().map(|q| RubricQualitySelectedLevel { quality_id: q.clone(), column_id: None }).collect();
    let mut feedback: Vec<RubricQualityFeedback> =
        qualities.iter().map(|q| RubricQualityFeedback { quality_id: q.clone(), feedback: None }).collect();
    // Keep what was there for qualities not given (a PATCH replaces the whole collection).
    for (l, old) in levels.iter_mut().zip(qualities.iter()) {
        l.column_id = o
            .rubric_quality_selected_levels
            .iter()
            .flatten()
            .find(|x| &x.quality_id == old)
            .and_then(|x| x.column_id.clone())
            .filter(|_| !picks.is_empty());
    }
    for (f, old) in feedback.iter_mut().zip(qualities.iter()) {
        f.feedback = o
            .rubric_quality_feedback
            .iter()
            .flatten()
            .find(|x| &x.quality_id == old)
            .and_then(|x| x.feedback.clone())
            .filter(|_| !picks.is_empty());
    }
    for p in picks {
        if !GraphId::is_valid(&p.quality_id) || p.level_id.as_deref().is_some_and(|l| !GraphId::is_valid(l)) {
            return Err(invalid_rubric("Not a quality or level of this assignment's rubric."));
        }
        let Some(i) = qualities.iter().position(|q| *q == p.quality_id) else {
            return Err(invalid_rubric("Not a quality of this assignment's rubric."));
        };
        levels[i].column_id = p.level_id;
        feedback[i].feedback = feedback_text(p.feedback)?.map(|t| text(&t));
    }
    Ok(OutcomeUpdate {
        odata_type: "#microsoft.graph.educationRubricOutcome".into(),
        rubric_quality_selected_levels: Some(levels),
        rubric_quality_feedback: Some(feedback),
        ..OutcomeUpdate::default()
    })
}

/// Grades a submission (teachers of the class): points, written feedback and rubric levels,
/// saved as the teacher's latest values of its outcomes. The student sees them once the
/// submission is returned. Three Graph round trips: the class, then the assignment with the
/// submission's outcomes (one `$batch`), then the PATCHes (one `$batch`).
#[utoipa::path(operation_id = "grade_submission", tag = "assignments",
    params(("class_id" = String, Path), ("assignment_id" = String, Path), ("submission_id" = String, Path)),
    request_body = OutcomePatchRequest, responses(
    (status = 200, body = SubmissionGradeDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 409, description = "`assignment_not_graded`: points for an assignment without points", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_points`, `feedback_too_long`, `invalid_rubric`, `nothing_to_change`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[patch("/api/classes/{class_id}/assignments/{assignment_id}/submissions/{submission_id}/outcome")]
pub async fn grade_submission(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Json<OutcomePatchRequest>,
    teacher: TeacherOfClass,
) -> Result<web::Json<SubmissionGradeDto>, ApiError> {
    let (_, aid, sid) = path.into_inner();
    let (aid, sid) = (GraphId::parse(&aid)?, GraphId::parse(&sid)?);
    let body = body.into_inner();
    let points = body.points.as_ref().map(points_value).transpose()?;
    let feedback = body.feedback.map(feedback_text).transpose()?;
    if points.is_none() && feedback.is_none() && body.rubric.is_none() {
        return Err(ApiError::Validation422 {
            code: ErrorCode::NothingToChange,
            message: "Give at least one of points, feedback, rubric.".into(),
        });
    }
    let (auth, class) = (teacher.auth(), &teacher.class_id);
    let mut batch = Batch::new();
    let a = batch.add(graph::graded_assignment(class, &aid));
    let o = batch.add(graph::submission_outcomes(class, &aid, &sid));
    let mut answers = state.graph.send_batch(auth, batch).await?;
    let assignment = answers.take(a)?;
    let mut outcomes = answers.take(o)?.value;
    let max = assignment.max_points();
    if let Some(Some(p)) = points {
        let Some(m) = max else {
            return Err(ApiError::conflict(
                ErrorCode::AssignmentNotGraded,
                "This assignment has no points. Give it a maximum of points first.",
            ));
        };
        if p > m {
            return Err(invalid_points(Some(m)));
        }
    }
    let find = |k: OutcomeKind| outcomes.iter().find(|o| o.kind() == k);
    let mut updates: Vec<(String, OutcomeUpdate)> = vec![];
    if let Some(p) = points {
        let o = find(OutcomeKind::Points).ok_or_else(|| {
            ApiError::conflict(ErrorCode::AssignmentNotGraded, "This assignment has no points to give.")
        })?;
        let update = OutcomeUpdate {
            odata_type: "#microsoft.graph.educationPointsOutcome".into(),
            points: Some(p.map_or_else(EducationPointsGrade::default, EducationPointsGrade::of)),
            ..OutcomeUpdate::default()
        };
        let update = if p.is_none() {
            // Clearing: `"points": null`.
            OutcomeUpdate { points: None, ..update }
        } else {
            update
        };
        updates.push((o.id.clone(), update));
    }
    if let Some(f) = feedback {
        let o = find(OutcomeKind::Feedback)
            .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "This submission has no feedback outcome."))?;
        updates.push((
            o.id.clone(),
            OutcomeUpdate {
                odata_type: "#microsoft.graph.educationFeedbackOutcome".into(),
                feedback: Some(EducationFeedback {
                    text: Some(text(f.as_deref().unwrap_or_default())),
                    ..Default::default()
                }),
                ..OutcomeUpdate::default()
            },
        ));
    }
    if let Some(r) = body.rubric {
        let o = find(OutcomeKind::Rubric).ok_or_else(|| invalid_rubric("This assignment has no rubric."))?;
        updates.push((o.id.clone(), rubric_update(o, r)?));
    }
    let mut batch = Batch::new();
    let mut parts = vec![];
    for (id, update) in &updates {
        let mut req = graph::update_outcome(class, &aid, &sid, id, update)?;
        if update.odata_type.ends_with("PointsOutcome") && update.points.is_none() {
            req = req.json(&serde_json::json!({"@odata.type": update.odata_type, "points": null}))?;
        }
        parts.push((id.clone(), batch.add(req)));
    }
    let mut answers = state.graph.send_batch(auth, batch).await?;
    for (id, part) in parts {
        let updated = answers.take(part).map_err(|e| match e {
            GraphError::BadRequest(_) => invalid_points(max),
            e => ApiError::from(e),
        })?;
        if let Some(slot) = outcomes.iter_mut().find(|o| o.id == id) {
            *slot = updated;
        }
    }
    audit(&state, &teacher, "submission.grade", &sid).await?;
    Ok(web::Json(SubmissionGradeDto {
        submission_id: sid.into_string(),
        draft: grading::grade(&outcomes, false),
        returned: grading::grade(&outcomes, true),
    }))
}

async fn audit(state: &AppState, access: &ClassAccess, action: &str, target: &str) -> Result<(), ApiError> {
    let member = access.member();
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action,
            target_type: Some("submission"),
            target_id: Some(target.to_owned()),
            result: "success",
            detail: None,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// A submission's status after an action.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionStatusDto {
    /// The submission.
    pub id: String,
    /// `excused`, `returned`, …
    pub status: String,
    /// The student's Microsoft object id.
    pub student_id: Option<String>,
}

/// Excuses a student from an assignment (teachers of the class): the submission leaves
/// average grades; Microsoft deletes its feedback and rubric grading. Sent with `Prefer:
/// include-unknown-enum-members`, so the answer says `excused` (without it Microsoft says
/// `returned`).
#[utoipa::path(operation_id = "excuse_submission", tag = "assignments",
    params(("class_id" = String, Path), ("assignment_id" = String, Path), ("submission_id" = String, Path)), responses(
    (status = 200, body = SubmissionStatusDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 409, description = "`submission_state_conflict`: already excused", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{class_id}/assignments/{assignment_id}/submissions/{submission_id}/excuse")]
pub async fn excuse_submission(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    teacher: TeacherOfClass,
) -> Result<web::Json<SubmissionStatusDto>, ApiError> {
    let (_, aid, sid) = path.into_inner();
    let (aid, sid) = (GraphId::parse(&aid)?, GraphId::parse(&sid)?);
    let s = state
        .graph
        .fetch(teacher.auth(), graph::submission_action(&teacher.class_id, &aid, &sid, "excuse"))
        .await
        .map_err(crate::routes::assignments::submission_state_error)?;
    audit(&state, &teacher, "submission.excuse", &sid).await?;
    Ok(web::Json(SubmissionStatusDto {
        id: s.id,
        status: status_name(s.status),
        student_id: s.recipient.and_then(|r| r.user_id),
    }))
}

/// `?format=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GradebookQuery {
    /// `json` (default), `csv` (UTF-8 with BOM, for Excel) or `oneroster` (a zip of OneRoster
    /// 1.2 CSV files).
    #[param(pattern = "^(json|csv|oneroster)$")]
    pub format: Option<String>,
}

/// The class gradebook: students × assignments with status, late, the teacher's latest points
/// and the points given back. Teachers of the class and the tenant admin. Graph round trips
/// after the class: one for the assignments, then one `$batch` per 20 assignments
/// (submissions with `$expand=outcomes`), never one per student.
#[utoipa::path(operation_id = "get_gradebook", tag = "assignments", params(("class_id" = String, Path), GradebookQuery), responses(
    (status = 200, body = GradebookDto, description = "JSON; or `text/csv` (`?format=csv`), or `application/zip` (`?format=oneroster`)"),
    (status = 400, description = "`invalid_query`", body = crate::error::ErrorBody),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{class_id}/gradebook")]
pub async fn get_gradebook(
    state: web::Data<AppState>,
    query: web::Query<GradebookQuery>,
    access: ClassAccess,
) -> Result<HttpResponse, ApiError> {
    let format = query.into_inner().format.unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "oneroster") {
        return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "format is json, csv or oneroster."));
    }
    if access.role == ClassRole::Student {
        return Err(ApiError::forbidden(ErrorCode::RoleRequired, "Only this class's teachers can see its gradebook."));
    }
    let grades = grading::load_class_grades(&state, access.auth(), &access.class_id, None).await?;
    let book = grading::gradebook(&access.roster, &grades);
    let file = |ext: &str| format!("attachment; filename=\"gradebook-{}.{ext}\"", access.class_id.as_str());
    Ok(match format.as_str() {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", file("csv")))
            .body(grading::gradebook_csv(&book)),
        "oneroster" => HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header(("Content-Disposition", file("zip")))
            .body(grading::oneroster_zip(&book)?),
        _ => HttpResponse::Ok().json(book),
    })
}

/// `POST …/return-graded`: which submissions were found to return.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnJobDto {
    /// The job (poll `GET /api/classes/{class_id}/jobs/{job_id}`).
    #[serde(flatten)]
    pub job: JobView,
}

/// Returns every graded submission of the assignment that its student has not been given back
/// yet (teachers of the class), as a background job: `$batch`es of 20, a result per student.
#[utoipa::path(operation_id = "return_graded", tag = "assignments",
    params(("class_id" = String, Path), ("assignment_id" = String, Path)), responses(
    (status = 202, body = ReturnJobDto, description = "Started; poll `GET /api/classes/{class_id}/jobs/{id}`"),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 409, description = "`job_already_running`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{class_id}/assignments/{assignment_id}/return-graded")]
pub async fn return_graded(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    teacher: TeacherOfClass,
) -> Result<HttpResponse, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let grades = grading::load_class_grades(&state, teacher.auth(), &teacher.class_id, Some(&aid)).await?;
    let items: Vec<(String, String)> = grades
        .submissions
        .get(aid.as_str())
        .into_iter()
        .flatten()
        .filter(|s| graded_not_returned(s))
        .map(|s| (s.id.clone(), s.recipient.as_ref().and_then(|r| r.user_id.clone()).unwrap_or_default()))
        .collect();
    let member = teacher.member();
    let now = state.clock.now_ms();
    let job = match jobs::create(
        &state.db,
        member.tenant_id,
        &kind(teacher.class_id.as_str(), aid.as_str()),
        Some(member.auth.user_id),
        now,
        now - STALE_AFTER_MS,
    )
    .await
    {
        Ok(j) => j,
        Err(edu_db::DbError::Conflict(_)) => {
            return Err(ApiError::conflict(
                ErrorCode::JobAlreadyRunning,
                "Graded work of this assignment is already being returned; wait for it to finish.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(job.id = %job.id, job.items = items.len(), "return-graded job started");
    let run = ReturnRun {
        tenant: member.tenant_id,
        teacher: member.auth.user_id,
        ms_tenant_id: teacher.auth().tenant_id().to_owned(),
        teacher_oid: teacher.oid().to_owned(),
        job_id: job.id.clone(),
        class_id: teacher.class_id.clone(),
        assignment_id: aid,
        items,
    };
    tokio::spawn(run_return(state.clone(), run));
    Ok(HttpResponse::Accepted().json(ReturnJobDto { job: JobView::from(job) }))
}

/// One student's result in a "return all graded" job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnItemDto {
    /// The student's Microsoft object id.
    pub student_id: String,
    /// Their name, from the class roster.
    pub student_name: Option<String>,
    /// `done` or `failed`.
    pub result: String,
    /// For a failure: Microsoft's code and message.
    pub error: Option<String>,
}

/// A class's background job with its per-student results.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassJobDto {
    /// The job and its progress.
    #[serde(flatten)]
    pub job: JobView,
    /// One result per student handled so far.
    pub items: Vec<ReturnItemDto>,
}

/// A "return all graded" job of this class, with its progress and per-student results
/// (teachers of the class; another class's or tenant's job is `404`).
#[utoipa::path(operation_id = "get_class_job", tag = "assignments", params(("class_id" = String, Path), ("job_id" = String, Path)), responses(
    (status = 200, body = ClassJobDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{class_id}/jobs/{job_id}")]
pub async fn get_class_job(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    teacher: TeacherOfClass<TeacherAction>,
) -> Result<web::Json<ClassJobDto>, ApiError> {
    let job_id = path.into_inner().1;
    let tenant = teacher.member().tenant_id;
    let job = jobs::get_in_tenant(&state.db, tenant, &job_id)
        .await?
        .filter(|j| j.kind.starts_with(&class_prefix(teacher.class_id.as_str())))
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such job in this class."))?;
    let names = teacher.roster.student_names();
    let items = jobs::items(&state.db, tenant, &job.id, -1, 1000)
        .await?
        .into_iter()
        .map(|i| ReturnItemDto {
            student_name: names.get(&i.item_id).cloned().flatten(),
            student_id: i.item_id,
            result: i.result,
            error: i.error,
        })
        .collect();
    Ok(web::Json(ClassJobDto { job: JobView::from(job), items }))
}

/// One level of a new rubric.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricLevelRequest {
    /// Name, e.g. "Good".
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub name: String,
    /// Points for this level; omit every level's points for a credit (no points) rubric.
    pub points: Option<f64>,
}

/// One quality of a new rubric.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricQualityRequest {
    /// What is judged, e.g. "Argument".
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub name: String,
    /// What each level looks like, one per level in order.
    pub criteria: Vec<String>,
    /// Weight in percent (points rubrics); the weights add up to 100.
    pub weight: Option<f64>,
}

/// `POST …/rubric`: a new rubric (qualities × levels) for the assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRubricRequest {
    /// Name.
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub display_name: String,
    /// Levels (columns), best first; 1..=10.
    #[schema(min_items = 1, max_items = 10)]
    pub levels: Vec<RubricLevelRequest>,
    /// Qualities (rows); 1..=20.
    #[schema(min_items = 1, max_items = 20)]
    pub qualities: Vec<RubricQualityRequest>,
}

/// A rubric level.
#[derive(Debug, Serialize, ToSchema)]
pub struct RubricLevelDto {
    /// Level id (the `level_id` of a grade).
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Points, for a points rubric.
    pub points: Option<f64>,
}

/// A rubric quality.
#[derive(Debug, Serialize, ToSchema)]
pub struct RubricQualityDto {
    /// Quality id (the `quality_id` of a grade).
    pub id: Option<String>,
    /// What is judged.
    pub name: Option<String>,
    /// One per level.
    pub criteria: Vec<Option<String>>,
    /// Weight in percent.
    pub weight: Option<f64>,
}

/// A rubric.
#[derive(Debug, Serialize, ToSchema)]
pub struct RubricDto {
    /// Id.
    pub id: Option<String>,
    /// Name.
    pub display_name: Option<String>,
    /// Levels.
    pub levels: Vec<RubricLevelDto>,
    /// Qualities.
    pub qualities: Vec<RubricQualityDto>,
}

fn rubric_dto(r: EducationRubric) -> RubricDto {
    let content = |b: Option<ItemBody>| b.and_then(|b| b.content);
    RubricDto {
        id: r.id,
        display_name: r.display_name,
        levels: r
            .levels
            .into_iter()
            .map(|l| RubricLevelDto {
                id: l.level_id,
                name: l.display_name,
                points: l.grading.and_then(|g| g.max_points),
            })
            .collect(),
        qualities: r
            .qualities
            .into_iter()
            .map(|q| RubricQualityDto {
                id: q.quality_id,
                name: content(q.description),
                criteria: q.criteria.into_iter().map(|c| content(c.description)).collect(),
                weight: q.weight,
            })
            .collect(),
    }
}

fn new_rubric(body: NewRubricRequest) -> Result<EducationRubric, ApiError> {
    let name = body.display_name.trim();
    let points = body.levels.iter().any(|l| l.points.is_some());
    let ok = !name.is_empty()
        && name.chars().count() <= 256
        && (1..=10).contains(&body.levels.len())
        && (1..=20).contains(&body.qualities.len())
        && body
            .levels
            .iter()
            .all(|l| !l.name.trim().is_empty() && (!points || l.points.is_some_and(|p| p >= 0.0 && p.is_finite())))
        && body.qualities.iter().all(|q| !q.name.trim().is_empty() && q.criteria.len() == body.levels.len());
    if !ok {
        return Err(invalid_rubric(
            "Give the rubric a name, 1 to 10 levels (all with points or none) and 1 to 20 qualities with one description per level.",
        ));
    }
    let grade_type = |p: f64| edu_msgraph::models::EducationGradeType::points(p);
    Ok(EducationRubric {
        id: None,
        display_name: Some(name.to_owned()),
        description: Some(text("")),
        levels: body
            .levels
            .into_iter()
            .map(|l| RubricLevel {
                level_id: None,
                display_name: Some(l.name.trim().to_owned()),
                description: Some(text("")),
                grading: l.points.map(grade_type),
            })
            .collect(),
        qualities: body
            .qualities
            .into_iter()
            .map(|q| RubricQuality {
                quality_id: None,
                weight: q.weight,
                description: Some(text(q.name.trim())),
                criteria: q.criteria.iter().map(|c| RubricCriterion { id: None, description: Some(text(c)) }).collect(),
            })
            .collect(),
        grading: points.then(|| edu_msgraph::models::EducationGradeType {
            odata_type: Some("#microsoft.graph.educationAssignmentPointsGradeType".into()),
            max_points: None,
        }),
    })
}

/// Creates a rubric (in the teacher's own rubrics) and attaches it to the assignment (teachers
/// of the class): `POST /education/me/rubrics`, then `PUT …/rubric/$ref`.
#[utoipa::path(operation_id = "create_assignment_rubric", tag = "assignments",
    params(("class_id" = String, Path), ("assignment_id" = String, Path)), request_body = NewRubricRequest, responses(
    (status = 201, body = RubricDto),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_rubric`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{class_id}/assignments/{assignment_id}/rubric")]
pub async fn create_assignment_rubric(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<NewRubricRequest>,
    teacher: TeacherOfClass,
) -> Result<HttpResponse, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let rubric = new_rubric(body.into_inner())?;
    let auth = teacher.auth();
    let created = state.graph.fetch(auth, graph::create_rubric(&rubric)?).await?;
    let id = created.id.clone().ok_or_else(|| ApiError::internal(anyhow::anyhow!("Graph gave the rubric no id")))?;
    let odata_id = state.graph.resolve(&format!("/education/me/rubrics/{}", edu_msgraph::seg(&id)))?.to_string();
    state.graph.fetch(auth, graph::attach_rubric(&teacher.class_id, &aid, odata_id)?).await?;
    audit(&state, &teacher, "assignment.rubric.attach", &aid).await?;
    Ok(HttpResponse::Created().json(rubric_dto(created)))
}

/// The assignment's rubric (`404 not_found` when it has none): its teachers and students.
#[utoipa::path(operation_id = "get_assignment_rubric", tag = "assignments",
    params(("class_id" = String, Path), ("assignment_id" = String, Path)), responses(
    (status = 200, body = RubricDto),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{class_id}/assignments/{assignment_id}/rubric")]
pub async fn get_assignment_rubric(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    access: ClassAccess,
) -> Result<web::Json<RubricDto>, ApiError> {
    let aid = GraphId::parse(&path.1)?;
    let r = state.graph.fetch(access.auth(), graph::assignment_rubric(&access.class_id, &aid)).await?;
    Ok(web::Json(rubric_dto(r)))
}

/// A grading category of a class.
#[derive(Debug, Serialize, ToSchema)]
pub struct GradingCategoryDto {
    /// Id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Weight in percent.
    pub percentage_weight: Option<i64>,
}

/// The class's grading categories, where it defines them (empty otherwise): teachers of the
/// class.
#[utoipa::path(operation_id = "list_grading_categories", tag = "assignments", params(("class_id" = String, Path)), responses(
    (status = 200, body = [GradingCategoryDto]),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/classes/{class_id}/grading-categories")]
pub async fn list_grading_categories(
    state: web::Data<AppState>,
    teacher: TeacherOfClass,
) -> Result<web::Json<Vec<GradingCategoryDto>>, ApiError> {
    let s = state.graph.fetch(teacher.auth(), graph::assignment_settings(&teacher.class_id)).await?;
    Ok(web::Json(
        s.grading_categories
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| {
                Some(GradingCategoryDto {
                    id: c.id?,
                    display_name: c.display_name,
                    percentage_weight: c.percentage_weight,
                })
            })
            .collect(),
    ))
}

/// One entry of the to-do list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TodoItemDto {
    /// The class.
    pub class_id: Option<String>,
    /// The class's name.
    pub class_name: Option<String>,
    /// The assignment.
    pub assignment_id: String,
    /// Its name.
    pub display_name: Option<String>,
    /// Due (UTC).
    pub due_date_time: Option<String>,
    /// Students: `overdue`, `due_soon` (within 7 days), `upcoming`, `submitted`, `returned`,
    /// `excused`. Teachers: `to_grade`.
    pub state: String,
    /// The student's submission.
    pub submission_id: Option<String>,
    /// Maximum points.
    pub max_points: Option<f64>,
    /// Students, once returned: the grade and feedback given back (never a draft).
    pub grade: Option<GradeDto>,
    /// Teachers: handed in and not returned yet.
    pub to_grade: Option<i64>,
    /// Teachers: graded and not returned yet.
    pub graded_not_returned: Option<i64>,
}

/// `GET /api/me/assignments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TodoDto {
    /// `student`, `teacher` or `none` (no assignments).
    pub role: String,
    /// The entries, most urgent first.
    pub items: Vec<TodoItemDto>,
    /// Microsoft Graph round trips this answer took.
    pub graph_round_trips: u32,
}

const DUE_SOON_MS: i128 = 7 * 24 * 3600 * 1000;
/// A student's home shows the grade of this many returned pieces of work (the newest).
const HOME_GRADES: usize = 1;

/// When the student's work behind a to-do item was returned (RFC 3339 sorts as text).
fn returned_at(assignments: &[EducationAssignment], item: &(usize, GraphId, GraphId, GraphId)) -> Option<String> {
    assignments
        .iter()
        .find(|a| a.id == item.2.as_str())
        .and_then(|a| a.submissions.as_ref()?.first()?.returned_date_time.clone())
}

/// A teacher's to-do reads the submissions of at most this many current assignments.
const TEACHER_ASSIGNMENTS: usize = 40;

fn state_rank(s: &str) -> u8 {
    match s {
        "to_grade" => 0,
        "overdue" => 1,
        "due_soon" => 2,
        "returned" => 3,
        "upcoming" => 4,
        "submitted" => 5,
        _ => 6,
    }
}

/// The caller's to-do list across their classes. Students: what is overdue, due soon or
/// upcoming, handed in, and returned with the grade and feedback given back — one Graph round
/// trip (`/education/me/assignments` with their submissions, and the class names, in one
/// `$batch`), plus one `$batch` for the outcomes of returned work. Teachers: work waiting to be
/// graded across their classes (submissions of current assignments, `$batch`es of 20).
#[utoipa::path(operation_id = "get_my_assignments", tag = "assignments", responses(
    (status = 200, body = TodoDto),
    (status = 401, description = "`unauthenticated`, `microsoft_signin_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/me/assignments")]
pub async fn get_my_assignments(
    state: web::Data<AppState>,
    caller: DelegatedGraph,
) -> Result<web::Json<TodoDto>, ApiError> {
    let auth = &caller.auth;
    let mut round_trips = 1;
    // The assignments are always live; the class names are roster data, read from our copy
    // while it is at most 5 minutes old (issue 18 §2: a student's home costs 1 + at most 1
    // inner Graph request).
    let who = (caller.member.tenant_id, caller.member.auth.user_id);
    let copy =
        classes::cached::<HashMap<String, Option<String>>>(&state, who.0, classes::SCOPE_MY_CLASS_NAMES, &caller.oid)
            .await?;
    let fresh = copy.filter(|(_, at)| state.clock.now_ms() - at < classes::FRESH_MS);
    let (assignments, class_names) = if let Some((names, _)) = fresh {
        let page = state.graph.fetch(auth, graph::my_assignments_with_submissions()).await?;
        (graph::every_page(&state, auth, page).await?, names)
    } else {
        let mut batch = Batch::new();
        let mine = batch.add(graph::my_assignments_with_submissions());
        let names = batch.add(graph::my_class_names());
        let mut answers = state.graph.send_batch(auth, batch).await?;
        let assignments = graph::every_page(&state, auth, answers.take(mine)?).await?;
        let names: Option<HashMap<String, Option<String>>> = match answers.take(names) {
            Ok(first) => Some(
                graph::every_page(&state, auth, first).await?.into_iter().map(|c| (c.id, c.display_name)).collect(),
            ),
            Err(_) => None,
        };
        if let Some(names) = &names {
            classes::store(&state, who.0, classes::SCOPE_MY_CLASS_NAMES, &caller.oid, names).await;
        }
        (assignments, names.unwrap_or_default())
    };
    let now_ms = i128::from(state.clock.now_ms());
    let ms = |t: Option<&str>| {
        t.and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .map(|d| d.unix_timestamp_nanos() / 1_000_000)
    };
    let teacher = assignments.iter().any(|a| a.submissions.is_none());
    let mut items = vec![];
    if !teacher {
        let mut returned = vec![];
        for a in &assignments {
            let Some(s) = a.submissions.as_ref().and_then(|s| s.first()) else { continue };
            let due = ms(a.due_date_time.as_deref());
            let state = match s.status {
                SubmissionStatus::Submitted => "submitted",
                SubmissionStatus::Returned => "returned",
                SubmissionStatus::Excused => "excused",
                _ => match due {
                    Some(d) if d < now_ms => "overdue",
                    Some(d) if d - now_ms <= DUE_SOON_MS => "due_soon",
                    _ => "upcoming",
                },
            };
            if state == "returned"
                && let (Some(c), Ok(aid), Ok(sid)) = (
                    a.class_id.as_deref().and_then(|c| GraphId::parse(c).ok()),
                    GraphId::parse(&a.id),
                    GraphId::parse(&s.id),
                )
            {
                returned.push((items.len(), c, aid, sid));
            }
            items.push(TodoItemDto {
                class_name: a.class_id.as_ref().and_then(|c| class_names.get(c).cloned().flatten()),
                class_id: a.class_id.clone(),
                assignment_id: a.id.clone(),
                display_name: a.display_name.clone(),
                due_date_time: a.due_date_time.clone(),
                state: state.into(),
                submission_id: Some(s.id.clone()),
                max_points: a.max_points(),
                grade: None,
                to_grade: None,
                graded_not_returned: None,
            });
        }
        // The grade and feedback given back, for the most recently returned work only (issue
        // 18 §2: the home page costs at most 2 inner Graph requests); the others show theirs on
        // the assignment's page.
        returned.sort_by_key(|r| std::cmp::Reverse(returned_at(&assignments, r)));
        returned.truncate(HOME_GRADES);
        if !returned.is_empty() {
            round_trips += 1;
            let mut batch = Batch::new();
            let parts: Vec<_> =
                returned.iter().map(|(i, c, a, s)| (*i, batch.add(graph::submission_outcomes(c, a, s)))).collect();
            let mut answers = state.graph.send_batch(auth, batch).await?;
            for (i, part) in parts {
                if let Ok(page) = answers.take(part) {
                    items[i].grade = Some(grading::grade(&page.value, true));
                }
            }
        }
    } else {
        // Current assignments of the classes they teach, most recently due first.
        let mut current: Vec<_> = assignments
            .iter()
            .filter(|a| a.submissions.is_none() && graph::enum_name(&a.status).as_deref() == Some("assigned"))
            .collect();
        current.sort_by(|a, b| b.due_date_time.cmp(&a.due_date_time));
        current.truncate(TEACHER_ASSIGNMENTS);
        for chunk in current.chunks(edu_msgraph::MAX_BATCH_SIZE) {
            round_trips += 1;
            let mut batch = Batch::new();
            let parts: Vec<_> = chunk
                .iter()
                .filter_map(|a| {
                    let c = GraphId::parse(a.class_id.as_deref()?).ok()?;
                    let aid = GraphId::parse(&a.id).ok()?;
                    Some((*a, batch.add(graph::submissions_with_outcomes(&c, &aid))))
                })
                .collect();
            let mut answers = state.graph.send_batch(auth, batch).await?;
            for (a, part) in parts {
                let Ok(first) = answers.take(part) else { continue };
                // Every page of a class of more than 100 students (issue 18 §4).
                let value = match first.next_link.as_deref() {
                    None => first.value,
                    Some(next) => {
                        let mut all = first.value;
                        let opts = edu_msgraph::PageOptions {
                            headers: vec![("Prefer".into(), "include-unknown-enum-members".into())],
                            ..edu_msgraph::PageOptions::default()
                        };
                        all.extend(
                            state
                                .graph
                                .get_all_pages::<edu_msgraph::models::EducationSubmission>(auth, next, &opts)
                                .await?,
                        );
                        all
                    }
                };
                let to_grade = value.iter().filter(|s| s.status == SubmissionStatus::Submitted).count();
                let graded = value.iter().filter(|s| graded_not_returned(s)).count();
                if to_grade + graded == 0 {
                    continue;
                }
                items.push(TodoItemDto {
                    class_name: a.class_id.as_ref().and_then(|c| class_names.get(c).cloned().flatten()),
                    class_id: a.class_id.clone(),
                    assignment_id: a.id.clone(),
                    display_name: a.display_name.clone(),
                    due_date_time: a.due_date_time.clone(),
                    state: "to_grade".into(),
                    submission_id: None,
                    max_points: a.max_points(),
                    grade: None,
                    to_grade: Some(i64::try_from(to_grade).unwrap_or(i64::MAX)),
                    graded_not_returned: Some(i64::try_from(graded).unwrap_or(i64::MAX)),
                });
            }
        }
    }
    items.sort_by(|a, b| {
        state_rank(&a.state).cmp(&state_rank(&b.state)).then_with(|| a.due_date_time.cmp(&b.due_date_time))
    });
    let role = if assignments.is_empty() {
        "none"
    } else if teacher {
        "teacher"
    } else {
        "student"
    };
    Ok(web::Json(TodoDto { role: role.into(), items, graph_round_trips: round_trips }))
}
