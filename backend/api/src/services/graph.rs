//! Every Microsoft Graph request the education pages make, one typed constructor each: its
//! path, `$select` and answer type in one place. A request is sent alone with
//! `state.graph.fetch(&auth, req)` or put into an `edu_msgraph::Batch`.

use edu_msgraph::models::{
    Conversation, DriveItem, EducationAssignment, EducationAssignmentSettings, EducationClass, EducationOutcome,
    EducationRubric, EducationSchool, EducationSubmission, EducationUser, ODataRef, OutcomeUpdate, User,
};
use edu_msgraph::{GraphError, GraphReq, Page, seg};
use reqwest::Method;

use crate::ids::GraphId;

const SCHOOL: &[&str] = &["id", "displayName", "principalName", "lowestGrade", "highestGrade"];
const CLASS: &[&str] = &["id", "displayName", "classCode", "description", "term"];

/// The caller's own schools.
#[must_use]
pub fn my_schools() -> GraphReq<Page<EducationSchool>> {
    GraphReq::get("/education/me/schools").select(SCHOOL)
}

/// Every school of the tenant (one page of up to 999).
#[must_use]
pub fn all_schools() -> GraphReq<Page<EducationSchool>> {
    GraphReq::get("/education/schools").select(SCHOOL).top(999)
}

/// A class with its teachers expanded (`$expand=teachers`): the classes page reads a page of
/// classes and every class's teachers in ONE request (issue 18 §2: it was 1 + one per class).
/// Microsoft expands at most 20 related objects; the class page reads the full list.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ClassWithTeachers {
    /// The class.
    #[serde(flatten)]
    pub class: EducationClass,
    /// Its teachers (up to 20).
    #[serde(default)]
    pub teachers: Vec<EducationUser>,
}

/// A page of the caller's classes, each with its teachers.
#[must_use]
pub fn my_classes(top: u32) -> GraphReq<Page<ClassWithTeachers>> {
    GraphReq::get("/education/me/classes").select(CLASS).expand("teachers").top(top)
}

/// The ids of the caller's classes (one page of up to 999: a person is in far fewer).
#[must_use]
pub fn my_class_ids() -> GraphReq<Page<EducationClass>> {
    GraphReq::get("/education/me/classes").select(&["id"]).top(999)
}

/// The organization (tenant) the caller signs in to: its display name names the school
/// district in EduGraph (issue 16), not its domain. `User.Read` suffices (delegated).
#[must_use]
pub fn organization() -> GraphReq<Page<Organization>> {
    GraphReq::get("/organization").select(&["id", "displayName"])
}

/// `GET /organization` (only what EduGraph reads).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The tenant id.
    #[serde(default)]
    pub id: String,
    /// "Contoso Education District".
    pub display_name: Option<String>,
}

/// A page of a school's classes, each with its teachers.
#[must_use]
pub fn school_classes(school: &GraphId, top: u32) -> GraphReq<Page<ClassWithTeachers>> {
    GraphReq::get(format!("/education/schools/{}/classes", seg(school.as_str())))
        .select(CLASS)
        .expand("teachers")
        .top(top)
}

/// The caller's classes, names only (one page of up to 999).
#[must_use]
pub fn my_class_names() -> GraphReq<Page<EducationClass>> {
    GraphReq::get("/education/me/classes").select(&["id", "displayName"]).top(999)
}

/// The next page of a list, from its `@odata.nextLink`.
#[must_use]
pub fn next_page<T>(link: &str) -> GraphReq<Page<T>> {
    GraphReq::get(link)
}

/// A class (term included).
#[must_use]
pub fn class(id: &GraphId) -> GraphReq<EducationClass> {
    GraphReq::get(format!("/education/classes/{}", seg(id.as_str()))).select(CLASS)
}

/// A class's teachers with their mail addresses (the roster).
#[must_use]
pub fn class_teachers(id: &GraphId) -> GraphReq<Page<EducationUser>> {
    GraphReq::get(format!("/education/classes/{}/teachers", seg(id.as_str()))).select(&[
        "id",
        "displayName",
        "mail",
        "userPrincipalName",
    ])
}

/// A class's members, teachers included (first page of up to 999).
#[must_use]
pub fn class_members(id: &GraphId) -> GraphReq<Page<EducationUser>> {
    GraphReq::get(format!("/education/classes/{}/members", seg(id.as_str())))
        .select(&["id", "displayName", "primaryRole", "mail", "userPrincipalName"])
        .top(999)
}

/// The top folder of the class group's drive.
#[must_use]
pub fn class_documents(id: &GraphId) -> GraphReq<Page<DriveItem>> {
    GraphReq::get(format!("/groups/{}/drive/root/children", seg(id.as_str()))).select(&[
        "id",
        "name",
        "webUrl",
        "lastModifiedDateTime",
        "lastModifiedBy",
    ])
}

/// The class group's conversations.
#[must_use]
pub fn class_conversations(id: &GraphId) -> GraphReq<Page<Conversation>> {
    GraphReq::get(format!("/groups/{}/conversations", seg(id.as_str()))).select(&[
        "id",
        "topic",
        "lastDeliveredDateTime",
        "preview",
    ])
}

/// A drive item's address and size; `path` is `/drives/{d}/items/{i}`, already checked.
#[must_use]
pub fn drive_item_details(path: &str) -> GraphReq<DriveItem> {
    GraphReq::get(path).select(&["id", "webUrl", "size"])
}

/// The caller's Microsoft profile for "About me".
#[must_use]
pub fn about_me() -> GraphReq<User> {
    GraphReq::get("/me").select(&["displayName", "mail", "jobTitle", "department", "mobilePhone", "officeLocation"])
}

/// The caller's own profile fields (`id` and `fields`).
#[must_use]
pub fn my_profile(fields: &[&str]) -> GraphReq<User> {
    let select: Vec<&str> = std::iter::once("id").chain(fields.iter().copied()).collect();
    GraphReq::get("/me").select(&select)
}

// ---------------------------------------------------------------- grading (issue 15)

const GRADED_ASSIGNMENT: &[&str] = &["id", "displayName", "dueDateTime", "status", "grading", "createdDateTime"];
const SUBMISSION: &[&str] =
    &["id", "status", "recipient", "submittedDateTime", "returnedDateTime", "reassignedDateTime", "excusedDateTime"];
/// Sent with every submission request whose answer carries a status: without it Microsoft
/// reports `excused` and `reassigned` as `returned`.
const PREFER_ALL_STATUSES: &str = "include-unknown-enum-members";

fn assignment_path(class: &GraphId, assignment: &GraphId) -> String {
    format!("/education/classes/{}/assignments/{}", seg(class.as_str()), seg(assignment.as_str()))
}

fn submission_path(class: &GraphId, assignment: &GraphId, submission: &str) -> String {
    format!("{}/submissions/{}", assignment_path(class, assignment), seg(submission))
}

/// A class's assignments with their grading (the gradebook's columns; one page of up to 999).
#[must_use]
pub fn graded_assignments(class: &GraphId) -> GraphReq<Page<EducationAssignment>> {
    GraphReq::get(format!("/education/classes/{}/assignments", seg(class.as_str()))).select(GRADED_ASSIGNMENT).top(999)
}

/// One assignment with its grading.
#[must_use]
pub fn graded_assignment(class: &GraphId, assignment: &GraphId) -> GraphReq<EducationAssignment> {
    GraphReq::get(assignment_path(class, assignment)).select(GRADED_ASSIGNMENT)
}

/// An assignment's submissions with their outcomes (`$expand=outcomes`), every status named.
#[must_use]
pub fn submissions_with_outcomes(class: &GraphId, assignment: &GraphId) -> GraphReq<Page<EducationSubmission>> {
    GraphReq::get(format!("{}/submissions", assignment_path(class, assignment)))
        .select(SUBMISSION)
        .expand("outcomes")
        .header("Prefer", PREFER_ALL_STATUSES)
}

/// An assignment's submissions with their files and outcomes (the submissions view).
#[must_use]
pub fn submissions_for_view(class: &GraphId, assignment: &GraphId) -> GraphReq<Page<EducationSubmission>> {
    GraphReq::get(format!("{}/submissions", assignment_path(class, assignment)))
        .select(SUBMISSION)
        .expand("resources,outcomes")
        .header("Prefer", PREFER_ALL_STATUSES)
}

/// One submission's outcomes (their ids are what a PATCH addresses).
#[must_use]
pub fn submission_outcomes(
    class: &GraphId,
    assignment: &GraphId,
    submission: &GraphId,
) -> GraphReq<Page<EducationOutcome>> {
    GraphReq::get(format!("{}/outcomes", submission_path(class, assignment, submission.as_str())))
}

/// `PATCH` of one outcome: only what is set (never the `published*` properties).
///
/// # Errors
/// The body does not serialize.
pub fn update_outcome(
    class: &GraphId,
    assignment: &GraphId,
    submission: &GraphId,
    outcome: &str,
    update: &OutcomeUpdate,
) -> Result<GraphReq<EducationOutcome>, GraphError> {
    GraphReq::new(
        Method::PATCH,
        format!("{}/outcomes/{}", submission_path(class, assignment, submission.as_str()), seg(outcome)),
    )
    .json(update)
}

/// A submission action (`return`, `reassign`, `excuse`) with `Prefer:
/// include-unknown-enum-members`, so that `excused`/`reassigned` come back as themselves.
#[must_use]
pub fn submission_action(
    class: &GraphId,
    assignment: &GraphId,
    submission: &str,
    action: &str,
) -> GraphReq<EducationSubmission> {
    GraphReq::new(Method::POST, format!("{}/{action}", submission_path(class, assignment, submission)))
        .header("Prefer", PREFER_ALL_STATUSES)
}

/// The caller's assignments across classes; a student's own submissions expanded (one call:
/// the to-do list).
#[must_use]
pub fn my_assignments_with_submissions() -> GraphReq<Page<EducationAssignment>> {
    GraphReq::get("/education/me/assignments")
        .select(&["id", "classId", "displayName", "dueDateTime", "status", "grading"])
        .expand("submissions")
        .header("Prefer", PREFER_ALL_STATUSES)
}

/// Creates a rubric of the caller's (`POST /education/me/rubrics`).
///
/// # Errors
/// The body does not serialize.
pub fn create_rubric(rubric: &EducationRubric) -> Result<GraphReq<EducationRubric>, GraphError> {
    GraphReq::post("/education/me/rubrics", rubric)
}

/// Attaches a rubric to an assignment (`PUT …/rubric/$ref`; `odata_id` is the rubric's
/// absolute `…/education/me/rubrics/{id}` address).
///
/// # Errors
/// The body does not serialize.
pub fn attach_rubric(class: &GraphId, assignment: &GraphId, odata_id: String) -> Result<GraphReq<()>, GraphError> {
    GraphReq::new(Method::PUT, format!("{}/rubric/$ref", assignment_path(class, assignment)))
        .json(&ODataRef { odata_id })
}

/// An assignment's rubric.
#[must_use]
pub fn assignment_rubric(class: &GraphId, assignment: &GraphId) -> GraphReq<EducationRubric> {
    GraphReq::get(format!("{}/rubric", assignment_path(class, assignment)))
}

/// A class's assignment settings (its grading categories).
#[must_use]
pub fn assignment_settings(class: &GraphId) -> GraphReq<EducationAssignmentSettings> {
    GraphReq::get(format!("/education/classes/{}/assignmentSettings", seg(class.as_str())))
}

/// Puts an assignment in a grading category (`PUT …/gradingCategory/$ref`).
///
/// # Errors
/// The body does not serialize.
pub fn attach_grading_category(
    class: &GraphId,
    assignment: &GraphId,
    odata_id: String,
) -> Result<GraphReq<()>, GraphError> {
    GraphReq::new(Method::PUT, format!("{}/gradingCategory/$ref", assignment_path(class, assignment)))
        .json(&ODataRef { odata_id })
}

/// The items of a first page and of every page after it (issue 18 §4: a list longer than one
/// Graph page is never cut off silently). Usually there is no next page: no extra round trip.
///
/// # Errors
/// Graph failures of a later page.
pub async fn every_page<T: serde::de::DeserializeOwned>(
    state: &crate::state::AppState,
    auth: &edu_msgraph::GraphAuth,
    first: edu_msgraph::Page<T>,
) -> Result<Vec<T>, crate::error::ApiError> {
    let mut items = first.value;
    if let Some(link) = first.next_link {
        items.extend(state.graph.get_all_pages::<T>(auth, &link, &edu_msgraph::PageOptions::default()).await?);
    }
    Ok(items)
}

/// The name Graph gives an enum value (`assigned`, `teacher`, …), as it is passed on to the
/// SPA.
#[must_use]
pub fn enum_name<T: serde::Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}
