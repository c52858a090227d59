//! A class as the caller may see it: the class, its teachers and students read in one
//! `$batch`, and the caller's role in it decided from that roster. Not a member (and not the
//! tenant's admin): 404, exactly as for an unknown class, so the answer never tells whether a
//! class exists.

use std::collections::{HashMap, HashSet};

use edu_db::roster_members::{self, MemberRole, SyncedClass, SyncedMember};
use edu_domain::{TenantId, UserId};
use edu_msgraph::models::{EducationClass, EducationTerm, EducationUser};
use edu_msgraph::{Batch, GraphAuth, Page, PageOptions};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::services::graph;
use crate::state::AppState;

/// A person (or a class) by id and name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The class and its people, as read for one request (or as stored in our copy).
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// How a read of roster data (a class with its people, a person's classes) may use our copy
/// of it (issue 18 §2, table `graph_roster_cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Our copy when it is at most [`FRESH_MS`] old, else Microsoft; when Microsoft does not
    /// answer, our copy of any age with `stale_as_of` (R-C9). Pages that only read.
    Cached,
    /// Microsoft, unless our copy was read from it less than [`REFRESH_MIN_MS`] ago (a
    /// "Refresh" cannot burn the tenant's throttle budget); stale copy as for `Cached`.
    Refresh,
    /// Always Microsoft, never a copy: the roster decides a write (seating, grading…).
    Live,
}

impl Freshness {
    /// `Refresh` when the request asks for it (`?refresh=1` or `Cache-Control: no-cache`),
    /// else `Cached`.
    #[must_use]
    pub fn of_request(req: &actix_web::HttpRequest) -> Self {
        let query = req.query_string().split('&').any(|p| p == "refresh=1" || p == "refresh=true");
        let header = req
            .headers()
            .get(actix_web::http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("no-cache"));
        if query || header { Self::Refresh } else { Self::Cached }
    }
}

/// Roster data younger than this is served from our copy (5 minutes).
pub const FRESH_MS: i64 = 5 * 60 * 1000;
/// A "Refresh" reads Microsoft again only when our copy is at least this old (30 s).
pub const REFRESH_MIN_MS: i64 = 30 * 1000;
/// The cache scope of a class with its people (key: the class id).
pub const SCOPE_CLASS: &str = "class";
/// The cache scope of a person's own classes (key: their Microsoft object id).
pub const SCOPE_MY_CLASSES: &str = "my_classes";
/// The cache scope of a person's class names, for the to-do (key: their Microsoft object id).
pub const SCOPE_MY_CLASS_NAMES: &str = "my_class_names";

/// Whether a failure means "Microsoft is not answering" (5xx, timeout, transport, throttled
/// past the retry budget, the tenant's circuit open: `503 microsoft_unavailable`): then a
/// stored copy may be served (R-C9). Refusals (401/403/404) never fall back.
#[must_use]
pub fn is_outage(e: &ApiError) -> bool {
    e.code() == ErrorCode::MicrosoftUnavailable
}

/// Unix ms as RFC 3339 (UTC), the format of `stale_as_of`.
#[must_use]
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Whether a stored copy may still be served to this person: their tenant's consent stands
/// and their account is not disabled (nothing is served for a revoked tenant, R-C9).
///
/// # Errors
/// Database errors.
pub async fn may_serve_copy(state: &AppState, tenant: TenantId, user: UserId) -> Result<bool, ApiError> {
    let consented = edu_db::tenants::get(&state.db, tenant).await?.is_some_and(|t| t.consent_state == "consented");
    let enabled = edu_db::users::get(&state.db, user).await?.is_some_and(|u| !u.disabled);
    Ok(consented && enabled)
}

/// Reads our copy of `scope`/`key`: `Some((value, fetched_at))` when there is one that decodes.
///
/// # Errors
/// Database errors.
pub async fn cached<T: DeserializeOwned>(
    state: &AppState,
    tenant: TenantId,
    scope: &str,
    key: &str,
) -> Result<Option<(T, i64)>, ApiError> {
    let Some(row) = edu_db::roster_cache::get(&state.db, tenant, scope, key).await? else { return Ok(None) };
    Ok(serde_json::from_slice(&row.body).ok().map(|v| (v, row.fetched_at)))
}

/// Stores our copy of `scope`/`key`, read from Microsoft now. A failure to store is logged,
/// never the request's failure.
pub async fn store<T: Serialize>(state: &AppState, tenant: TenantId, scope: &str, key: &str, value: &T) {
    let Ok(body) = serde_json::to_vec(value) else { return };
    if let Err(e) = edu_db::roster_cache::put(&state.db, tenant, scope, key, &body, state.clock.now_ms()).await {
        tracing::warn!(error = %e, scope, "roster cache not written");
    }
}

/// Forgets our copies that a roster write made wrong: the group's class copy and the class
/// lists of the people added or removed (they are read from Microsoft at the next view).
///
/// # Errors
/// Database errors.
pub async fn forget(state: &AppState, tenant: TenantId, class_id: &str, people: &[&str]) -> Result<(), ApiError> {
    edu_db::roster_cache::delete(&state.db, tenant, SCOPE_CLASS, class_id).await?;
    for oid in people {
        for scope in [SCOPE_MY_CLASSES, SCOPE_MY_CLASS_NAMES] {
            edu_db::roster_cache::delete(&state.db, tenant, scope, oid).await?;
        }
    }
    Ok(())
}

/// Roster data from Microsoft or from our copy, per `freshness`: `read` is the Graph read,
/// done only when the copy may not answer. When Microsoft does not answer, the newer of our
/// copy and what the sync job stored (`synced`, read only then) is served. Returns the value
/// and, when it is a copy served because Microsoft did not answer, when that copy was read
/// (`stale_as_of`, unix ms).
///
/// # Errors
/// Graph's failure when there is no copy to serve (or the copy may not be served: consent
/// revoked, account disabled).
pub async fn roster_read<T, F, Fut, S, SFut>(
    state: &AppState,
    who: (TenantId, UserId),
    (scope, key): (&str, &str),
    freshness: Freshness,
    read: F,
    synced: S,
) -> Result<(T, Option<i64>), ApiError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
    S: FnOnce() -> SFut,
    SFut: std::future::Future<Output = Result<Option<(T, i64)>, ApiError>>,
{
    let (tenant, user) = who;
    let now = state.clock.now_ms();
    let copy = if freshness == Freshness::Live { None } else { cached::<T>(state, tenant, scope, key).await? };
    if let Some((_, at)) = &copy {
        let max_age = if freshness == Freshness::Refresh { REFRESH_MIN_MS } else { FRESH_MS };
        if now - at < max_age && may_serve_copy(state, tenant, user).await? {
            let (value, _) = copy.expect("checked above");
            return Ok((value, None));
        }
    }
    match read().await {
        Ok(value) => {
            store(state, tenant, scope, key, &value).await;
            Ok((value, None))
        }
        Err(e) if is_outage(&e) => {
            if !may_serve_copy(state, tenant, user).await? {
                return Err(e);
            }
            let synced = synced().await?;
            let newest = match (copy, synced) {
                (Some(c), Some(s)) => Some(if s.1 > c.1 { s } else { c }),
                (c, s) => c.or(s),
            };
            match newest {
                Some((value, at)) => {
                    tracing::info!(scope, stale_as_of = at, "Microsoft Graph not answering: serving the stored copy");
                    Ok((value, Some(at)))
                }
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// A class as read for the caller: their role and the roster it was decided from.
#[derive(Debug)]
pub struct ClassView {
    /// The caller's role.
    pub role: ClassRole,
    /// The class and its people.
    pub roster: Roster,
    /// When the roster is our stored copy because Microsoft did not answer: when it was read
    /// (unix ms).
    pub stale_as_of: Option<i64>,
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
    /// Our tenant (keys our copy of roster data).
    pub tenant: TenantId,
    /// Our user (a disabled account is served no copy).
    pub user: UserId,
}

/// Reads a class with its people in one `$batch` of 3 requests (a second round trip only
/// for a class of more than 999 members), or from our copy per `freshness`, and decides the
/// caller's role in it — from that roster, so a student is let into a class only when the
/// roster (live or stored) lists them.
///
/// # Errors
/// `404 not_found` when the class is unknown, hidden, or not the caller's (and they are not
/// the admin); Graph failures of the roster itself when there is no copy to serve.
pub async fn load(
    state: &AppState,
    viewer: Viewer<'_>,
    id: &GraphId,
    freshness: Freshness,
) -> Result<ClassView, ApiError> {
    let not_found = || ApiError::not_found(ErrorCode::NotFound, "No such class, or you are not in it.");
    let (roster, stale_as_of) = roster_read(
        state,
        (viewer.tenant, viewer.user),
        (SCOPE_CLASS, id.as_str()),
        freshness,
        || read_roster(state, viewer.auth, id),
        || synced_roster(state, viewer.tenant, id.as_str()),
    )
    .await?;
    match role_in(&roster, viewer) {
        Some(role) => Ok(ClassView { role, roster, stale_as_of }),
        // Not in our copy: someone added since it was read is let in by Microsoft's current
        // roster (read live once; a non-member pays what every class page cost before).
        None if freshness != Freshness::Live && stale_as_of.is_none() => {
            let roster = match read_roster(state, viewer.auth, id).await {
                Ok(r) => r,
                Err(e) if is_outage(&e) => return Err(not_found()),
                Err(e) => return Err(e),
            };
            store(state, viewer.tenant, SCOPE_CLASS, id.as_str(), &roster).await;
            let role = role_in(&roster, viewer).ok_or_else(not_found)?;
            Ok(ClassView { role, roster, stale_as_of: None })
        }
        None => Err(not_found()),
    }
}

/// What the synced roster keeps of a class, as Graph's class.
fn synced_class(c: SyncedClass) -> EducationClass {
    let has_term = c.term_name.is_some() || c.term_start.is_some() || c.term_end.is_some();
    EducationClass {
        id: c.ms_class_id,
        display_name: c.display_name,
        mail_nickname: c.mail_nickname,
        class_code: c.class_code,
        external_id: c.external_id,
        grade: c.grade,
        term: has_term.then_some(EducationTerm {
            display_name: c.term_name,
            start_date: c.term_start,
            end_date: c.term_end,
            external_id: None,
        }),
        ..EducationClass::default()
    }
}

fn synced_person(m: SyncedMember) -> ClassPerson {
    ClassPerson { id: m.ms_object_id, display_name: m.display_name, mail: m.mail }
}

/// A class with its people as the sync job last stored them (`roster_classes`,
/// `roster_class_members`, names from `roster_users`) and when its lists were read; `None`
/// when the class was not synced (R-C9).
///
/// # Errors
/// Database errors.
pub async fn synced_roster(
    state: &AppState,
    tenant: TenantId,
    class_id: &str,
) -> Result<Option<(Roster, i64)>, ApiError> {
    let Some(class) = roster_members::class(&state.db, tenant, class_id).await? else { return Ok(None) };
    let at = class.synced_at;
    let (mut teachers, mut students) = (Vec::new(), Vec::new());
    for m in roster_members::members_of(&state.db, tenant, &[class_id]).await? {
        if m.role == MemberRole::Teacher.as_str() {
            teachers.push(synced_person(m))
        } else {
            students.push(synced_person(m))
        }
    }
    Ok(Some((Roster { class: synced_class(class), teachers, students }, at)))
}

/// The classes `oid` is in, each with its teachers, as the sync job last stored them, and when
/// the oldest of their lists was read; `None` when the person is in no synced class (R-C9).
///
/// # Errors
/// Database errors.
pub async fn synced_classes_of(
    state: &AppState,
    tenant: TenantId,
    oid: &str,
) -> Result<Option<(Vec<(EducationClass, Vec<ClassPerson>)>, i64)>, ApiError> {
    let classes = roster_members::classes_of(&state.db, tenant, oid).await?;
    let Some(at) = classes.iter().map(|c| c.synced_at).min() else { return Ok(None) };
    let ids: Vec<&str> = classes.iter().map(|c| c.ms_class_id.as_str()).collect();
    let mut teachers: HashMap<String, Vec<ClassPerson>> = HashMap::new();
    for m in roster_members::members_of(&state.db, tenant, &ids).await? {
        if m.role == MemberRole::Teacher.as_str() {
            teachers.entry(m.ms_class_id.clone()).or_default().push(synced_person(m));
        }
    }
    let out = classes
        .into_iter()
        .map(|c| {
            let t = teachers.remove(&c.ms_class_id).unwrap_or_default();
            (synced_class(c), t)
        })
        .collect();
    Ok(Some((out, at)))
}

fn role_in(roster: &Roster, viewer: Viewer<'_>) -> Option<ClassRole> {
    if roster.is_teacher(viewer.oid) {
        Some(ClassRole::Teacher)
    } else if roster.is_student(viewer.oid) {
        Some(ClassRole::Student)
    } else if viewer.is_admin {
        Some(ClassRole::TenantAdmin)
    } else {
        None
    }
}

async fn read_roster(state: &AppState, auth: &GraphAuth, id: &GraphId) -> Result<Roster, ApiError> {
    let mut batch = Batch::new();
    let class = batch.add(graph::class(id));
    let teachers = batch.add(graph::class_teachers(id));
    let members = batch.add(graph::class_members(id));
    let mut answers = state.graph.send_batch(auth, batch).await?;
    let not_found = || ApiError::not_found(ErrorCode::NotFound, "No such class, or you are not in it.");
    // Graph's 403 on the class itself (another tenant's or a hidden class) is a 404 here too.
    let class = answers
        .take(class)
        .map_err(|e| if e.is_not_found() || e.status() == Some(403) { not_found() } else { ApiError::from(e) })?;
    let first_teachers: Page<EducationUser> = answers.take(teachers)?;
    let mut teachers = first_teachers.value;
    // A class of more than 100 teachers: the rest of the list (issue 18 §4: nothing cut off).
    if let Some(next) = first_teachers.next_link {
        teachers.extend(state.graph.get_all_pages::<EducationUser>(auth, &next, &PageOptions::default()).await?);
    }
    let teachers: Vec<ClassPerson> = teachers.into_iter().map(ClassPerson::from).collect();
    let first: Page<EducationUser> = answers.take(members)?;
    let mut members = first.value;
    // A second round trip only for a class with more than one page of members.
    if let Some(next) = first.next_link {
        let rest: Vec<EducationUser> = state.graph.get_all_pages(auth, &next, &PageOptions::default()).await?;
        members.extend(rest);
    }
    let teacher_ids: HashSet<&str> = teachers.iter().map(|t| t.id.as_str()).collect();
    let students: Vec<ClassPerson> =
        members.into_iter().filter(|m| !teacher_ids.contains(m.id.as_str())).map(ClassPerson::from).collect();
    Ok(Roster { class, teachers, students })
}
