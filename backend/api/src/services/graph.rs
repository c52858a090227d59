//! Every Microsoft Graph request the education pages make, one typed constructor each: its
//! path, `$select` and answer type in one place. A request is sent alone with
//! `state.graph.fetch(&auth, req)` or put into an `edu_msgraph::Batch`.

use edu_msgraph::models::{
    Conversation, DriveItem, EducationAssignment, EducationClass, EducationSchool, EducationUser, User,
};
use edu_msgraph::{GraphReq, Page, seg};

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

/// A page of the caller's classes.
#[must_use]
pub fn my_classes(top: u32) -> GraphReq<Page<EducationClass>> {
    GraphReq::get("/education/me/classes").select(CLASS).top(top)
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

/// A page of a school's classes.
#[must_use]
pub fn school_classes(school: &GraphId, top: u32) -> GraphReq<Page<EducationClass>> {
    GraphReq::get(format!("/education/schools/{}/classes", seg(school.as_str()))).select(CLASS).top(top)
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

/// A class's teachers, names only (the class list).
#[must_use]
pub fn class_teacher_names(id: &str) -> GraphReq<Page<EducationUser>> {
    GraphReq::get(format!("/education/classes/{}/teachers", seg(id))).select(&["id", "displayName"])
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

/// A class's assignments, summaries only (the class page).
#[must_use]
pub fn class_assignment_summaries(id: &GraphId) -> GraphReq<Page<EducationAssignment>> {
    GraphReq::get(format!("/education/classes/{}/assignments", seg(id.as_str()))).select(&[
        "id",
        "displayName",
        "dueDateTime",
        "status",
    ])
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

/// The name Graph gives an enum value (`assigned`, `teacher`, …), as it is passed on to the
/// SPA.
#[must_use]
pub fn enum_name<T: serde::Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}
