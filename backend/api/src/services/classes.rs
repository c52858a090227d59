//! A class as the caller may see it: the class, its teachers and students read in one
//! `$batch`, and the caller's role in it decided from that roster. Not a member (and not the
//! tenant's admin): 404, exactly as for an unknown class, so the answer never tells whether a
//! class exists.

use std::collections::{HashMap, HashSet};

use edu_msgraph::models::{Conversation, DriveItem, EducationAssignment, EducationClass, EducationUser};
use edu_msgraph::{Batch, GraphAuth, GraphError, Page, PageOptions};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::services::graph;
use crate::state::AppState;

/// A person (or a class) by id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto {
    /// Microsoft object id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
}

/// The caller's role in one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassRole {
    /// On the class's teacher list.
    Teacher,
    /// A member of the class who is not one of its teachers.
    Student,
    /// Not in the class, but the tenant's administrator.
    TenantAdmin,
}

impl ClassRole {
    /// The role as the API names it: `teacher`, `student` or `admin`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Teacher => "teacher",
            Self::Student => "student",
            Self::TenantAdmin => "admin",
        }
    }

    /// Teachers and admins see every seat and every submission; a student only their own.
    #[must_use]
    pub fn sees_everyone(self) -> bool {
        self != Self::Student
    }
}

/// A teacher or student of a class.
#[derive(Debug, Clone)]
pub struct ClassPerson {
    /// Microsoft object id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Mail address (the UPN when there is no mail).
    pub mail: Option<String>,
}

impl From<EducationUser> for ClassPerson {
    fn from(u: EducationUser) -> Self {
        Self { id: u.id, display_name: u.display_name, mail: u.mail.or(u.user_principal_name) }
    }
}

/// The class and its people, as read for one request.
#[derive(Debug, Clone)]
pub struct Roster {
    /// The class (term included).
    pub class: EducationClass,
    /// Its teachers.
    pub teachers: Vec<ClassPerson>,
    /// Its members who are not teachers.
    pub students: Vec<ClassPerson>,
}

impl Roster {
    /// Whether `id` teaches the class.
    #[must_use]
    pub fn is_teacher(&self, id: &str) -> bool {
        self.teachers.iter().any(|t| t.id == id)
    }

    /// Whether `id` is a student of the class.
    #[must_use]
    pub fn is_student(&self, id: &str) -> bool {
        self.students.iter().any(|s| s.id == id)
    }

    /// Student id → name, to name submissions without a call per submission.
    #[must_use]
    pub fn student_names(&self) -> HashMap<String, Option<String>> {
        self.students.iter().map(|s| (s.id.clone(), s.display_name.clone())).collect()
    }

    /// The teachers as id and name.
    #[must_use]
    pub fn teacher_dtos(&self) -> Vec<PersonDto> {
        self.teachers.iter().map(|t| PersonDto { id: t.id.clone(), display_name: t.display_name.clone() }).collect()
    }
}

/// The parts of the class page that are read in the same `$batch` as the roster and can
/// fail on their own (e.g. documents 403): each is that part's answer or its error.
#[derive(Debug)]
pub struct ClassParts {
    /// The class's assignments.
    pub assignments: Result<Vec<EducationAssignment>, GraphError>,
    /// The top folder of the class group's drive.
    pub documents: Result<Vec<DriveItem>, GraphError>,
    /// The class group's conversations.
    pub conversations: Result<Vec<Conversation>, GraphError>,
}

/// A class as read for the caller: their role, the roster it was decided from, and the page
/// parts when they were asked for.
#[derive(Debug)]
pub struct ClassView {
    /// The caller's role.
    pub role: ClassRole,
    /// The class and its people.
    pub roster: Roster,
    /// Assignments, documents and conversations (only with `with_parts`).
    pub parts: Option<ClassParts>,
}

/// Who is asking: their delegated Graph access, their object id, and whether they are the
/// tenant's administrator.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// The caller's delegated Graph access.
    pub auth: &'a GraphAuth,
    /// The caller's Microsoft object id.
    pub oid: &'a str,
    /// Whether the caller administers the tenant.
    pub is_admin: bool,
}

/// Reads a class with its people in one `$batch` (plus the page parts when `with_parts`;
/// still one round trip, a second only for a class of more than 999 members) and decides the
/// caller's role in it.
///
/// # Errors
/// `404 not_found` when the class is unknown, hidden, or not the caller's (and they are not
/// the admin); Graph failures of the roster itself.
pub async fn load(state: &AppState, viewer: Viewer<'_>, id: &GraphId, with_parts: bool) -> Result<ClassView, ApiError> {
    let mut batch = Batch::new();
    let class = batch.add(graph::class(id));
    let teachers = batch.add(graph::class_teachers(id));
    let members = batch.add(graph::class_members(id));
    let parts = with_parts.then(|| {
        (
            batch.add(graph::class_assignment_summaries(id)),
            batch.add(graph::class_documents(id)),
            batch.add(graph::class_conversations(id)),
        )
    });
    let mut answers = state.graph.send_batch(viewer.auth, batch).await?;
    let not_found = || ApiError::not_found(ErrorCode::NotFound, "No such class, or you are not in it.");
    // Graph's 403 on the class itself (another tenant's or a hidden class) is a 404 here too.
    let class = answers
        .take(class)
        .map_err(|e| if e.is_not_found() || e.status() == Some(403) { not_found() } else { ApiError::from(e) })?;
    let teachers: Vec<ClassPerson> = answers.take(teachers)?.value.into_iter().map(ClassPerson::from).collect();
    let first: Page<EducationUser> = answers.take(members)?;
    let mut members = first.value;
    // A second round trip only for a class with more than one page of members.
    if let Some(next) = first.next_link {
        let rest: Vec<EducationUser> = state.graph.get_all_pages(viewer.auth, &next, &PageOptions::default()).await?;
        members.extend(rest);
    }
    let teacher_ids: HashSet<&str> = teachers.iter().map(|t| t.id.as_str()).collect();
    let students: Vec<ClassPerson> =
        members.into_iter().filter(|m| !teacher_ids.contains(m.id.as_str())).map(ClassPerson::from).collect();
    let roster = Roster { class, teachers, students };
    let role = if roster.is_teacher(viewer.oid) {
        ClassRole::Teacher
    } else if roster.is_student(viewer.oid) {
        ClassRole::Student
    } else if viewer.is_admin {
        ClassRole::TenantAdmin
    } else {
        return Err(not_found());
    };
    let parts = parts.map(|(assignments, documents, conversations)| ClassParts {
        assignments: answers.take(assignments).map(|p| p.value),
        documents: answers.take(documents).map(|p| p.value),
        conversations: answers.take(conversations).map(|p| p.value),
    });
    Ok(ClassView { role, roster, parts })
}
