//! Education endpoints: schools, classes, education users, assignments, submissions.

use super::dir::{drive_id, new_drive_item};
use super::*;

const EDU_D: &[&str] = &["EduRoster.ReadBasic", "EduRoster.Read", "EduRoster.ReadWrite"];
const EDU_A: &[&str] = &["EduRoster.ReadBasic.All", "EduRoster.Read.All", "EduRoster.ReadWrite.All"];
const EDU_A_FULL: &[&str] = &["EduRoster.Read.All", "EduRoster.ReadWrite.All"];
const EDU_W_A: &[&str] = &["EduRoster.ReadWrite.All"];
const ASG_R_D: &[&str] =
    &["EduAssignments.ReadBasic", "EduAssignments.ReadWriteBasic", "EduAssignments.Read", "EduAssignments.ReadWrite"];
const ASG_R_A: &[&str] = &[
    "EduAssignments.ReadBasic.All",
    "EduAssignments.ReadWriteBasic.All",
    "EduAssignments.Read.All",
    "EduAssignments.ReadWrite.All",
];
const ASG_W_D: &[&str] = &["EduAssignments.ReadWriteBasic", "EduAssignments.ReadWrite"];
const ASG_W_A: &[&str] = &["EduAssignments.ReadWriteBasic.All", "EduAssignments.ReadWrite.All"];
const SUB_W_D: &[&str] = &["EduAssignments.ReadWrite", "EduAssignments.ReadWriteBasic"];
const SUB_W_A: &[&str] = &["EduAssignments.ReadWrite.All"];

// ---------------------------------------------------------------- renderers

pub fn edu_user(u: &User, limited: bool) -> Value {
    let e = u.edu.as_ref();
    let role = e.map(|e| e.role.as_str()).unwrap_or("none");
    let student = match e {
        Some(e) if e.role == "student" => {
            json!({"birthDate": null, "externalId": e.external_id, "gender": null, "grade": e.grade, "graduationYear": e.grade.as_ref().and_then(|g| g.parse::<u32>().ok()).map(|g| (2026 + 12 - g.min(12)).to_string()), "studentNumber": e.number})
        }
        _ => {
            json!({"birthDate": null, "externalId": null, "gender": null, "grade": null, "graduationYear": null, "studentNumber": null})
        }
    };
    let teacher = match e {
        Some(e) if e.role == "teacher" => {
            json!({"externalId": e.external_id, "teacherNumber": e.number})
        }
        _ => json!({"externalId": null, "teacherNumber": null}),
    };
    let g = |k: &str| u.props.get(k).cloned().unwrap_or(Value::Null);
    if limited {
        return json!({"id": u.id, "primaryRole": role, "accountEnabled": g("accountEnabled"), "displayName": g("displayName"), "givenName": g("givenName"),
            "surname": g("surname"), "userPrincipalName": g("userPrincipalName"), "userType": g("userType"), "onPremisesInfo": {"immutableId": g("onPremisesImmutableId")},
            "student": {"externalId": student.get("externalId")}, "teacher": {"externalId": teacher.get("externalId")}});
    }
    json!({
        "id": u.id, "primaryRole": role, "middleName": null, "externalSource": if e.is_some() { "sis" } else { "manual" },
        "externalSourceDetail": e.map(|_| "EduGraph demo SIS"), "residenceAddress": {"city": null, "countryOrRegion": null, "postalCode": null, "state": null, "street": null},
        "mailingAddress": {"city": null, "countryOrRegion": null, "postalCode": null, "state": null, "street": null},
        "student": student, "teacher": teacher, "createdBy": {"application": null, "device": null, "user": {"id": null, "displayName": "EduGraph SIS sync"}},
        "accountEnabled": g("accountEnabled"), "assignedLicenses": u.props.get("assignedLicenses").cloned().unwrap_or(json!([])), "assignedPlans": [],
        "businessPhones": u.props.get("businessPhones").cloned().unwrap_or(json!([])), "department": g("department"), "displayName": g("displayName"),
        "givenName": g("givenName"), "mail": g("mail"), "mailNickname": g("mailNickname"), "mobilePhone": g("mobilePhone"), "passwordPolicies": null,
        "passwordProfile": {"forceChangePasswordNextSignIn": false, "password": null}, "officeLocation": g("officeLocation"), "preferredLanguage": g("preferredLanguage"),
        "provisionedPlans": [], "refreshTokensValidFromDateTime": g("createdDateTime"), "showInAddressList": true, "surname": g("surname"),
        "usageLocation": g("usageLocation"), "userPrincipalName": g("userPrincipalName"), "userType": g("userType"),
        "onPremisesInfo": {"immutableId": g("onPremisesImmutableId")},
    })
}

pub fn class_obj(g: &Group) -> Value {
    let gp = |k: &str| g.props.get(k).cloned().unwrap_or(Value::Null);
    let mut m = Map::new();
    m.insert("id".into(), json!(g.id));
    m.insert("displayName".into(), gp("displayName"));
    m.insert("mailNickname".into(), gp("mailNickname"));
    m.insert("description".into(), gp("description"));
    if let Some(c) = &g.class {
        for k in [
            "createdBy",
            "classCode",
            "externalName",
            "externalId",
            "externalSource",
            "externalSourceDetail",
            "grade",
            "term",
        ] {
            m.insert(k.into(), c.props.get(k).cloned().unwrap_or(Value::Null));
        }
    }
    Value::Object(m)
}

fn with_type(t: &str, v: Value) -> Value {
    let mut o = Map::new();
    o.insert("@odata.type".into(), json!(t));
    if let Value::Object(m) = v {
        o.extend(m);
    }
    Value::Object(o)
}

fn school_obj(s: &School) -> Value {
    with_type("#microsoft.graph.educationSchool", Value::Object(s.props.clone()))
}

pub fn new_assignment_props(
    id: &str,
    class_id: &str,
    creator: &str,
    body: &Value,
    created: &str,
) -> Map<String, Value> {
    let b = |k: &str| body.get(k).cloned();
    let boolish = |k: &str, d: bool| match body.get(k) {
        Some(Value::Bool(x)) => *x,
        Some(Value::String(s)) => s == "true",
        _ => d,
    };
    let web = format!(
        "https://teams.microsoft.com/l/entity/66aeee93-507d-479a-a3ef-8f494af43945/classroom?context=%7B%22subEntityId%22%3A%22%7B%5C%22version%5C%22%3A%5C%221.0%5C%22,%5C%22config%5C%22%3A%7B%5C%22classes%5C%22%3A%5B%7B%5C%22id%5C%22%3A%5C%22{class_id}%5C%22,%5C%22assignmentIds%5C%22%3A%5B%5C%22{id}%5C%22%5D%7D%5D%7D,%5C%22action%5C%22%3A%5C%22navigate%5C%22,%5C%22view%5C%22%3A%5C%22assignment-viewer%5C%22%7D%22,%22channelId%22%3Anull%7D"
    );
    let v = json!({
        "classId": class_id, "displayName": b("displayName").unwrap_or(Value::Null), "closeDateTime": b("closeDateTime").unwrap_or(Value::Null),
        "dueDateTime": b("dueDateTime").unwrap_or(Value::Null), "assignDateTime": b("assignDateTime").unwrap_or(Value::Null), "assignedDateTime": null,
        "allowLateSubmissions": boolish("allowLateSubmissions", true), "resourcesFolderUrl": null, "feedbackResourcesFolderUrl": null,
        "createdDateTime": created, "lastModifiedDateTime": created,
        "allowStudentsToAddResourcesToSubmission": boolish("allowStudentsToAddResourcesToSubmission", true), "status": "draft",
        "notificationChannelUrl": b("notificationChannelUrl").unwrap_or(Value::Null), "webUrl": web,
        "addToCalendarAction": b("addToCalendarAction").unwrap_or(json!("none")), "addedStudentAction": b("addedStudentAction").unwrap_or(json!("none")),
        "moduleUrl": null, "id": id,
        "instructions": b("instructions").unwrap_or(json!({"content": "", "contentType": "text"})),
        "grading": b("grading").unwrap_or(Value::Null),
        "assignTo": b("assignTo").unwrap_or(json!({"@odata.type": "#microsoft.graph.educationAssignmentClassRecipient"})),
        "createdBy": identity_set(Some((creator, None))), "lastModifiedBy": identity_set(Some((creator, None))),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub fn new_submission(key: &str, assignment_id: &str, user_id: &str) -> Submission {
    let id = det_id(&format!("submission/{key}/{assignment_id}/{user_id}"));
    let v = json!({
        "status": "working", "submittedDateTime": null, "unsubmittedDateTime": null, "returnedDateTime": null, "reassignedDateTime": null,
        "excusedDateTime": null, "resourcesFolderUrl": null, "webUrl": null, "id": id,
        "recipient": {"@odata.type": "#microsoft.graph.educationSubmissionIndividualRecipient", "userId": user_id},
        "submittedBy": identity_set(None), "unsubmittedBy": identity_set(None), "returnedBy": identity_set(None),
        "reassignedBy": identity_set(None), "excusedBy": identity_set(None),
    });
    let props = match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Submission {
        id,
        user_id: user_id.into(),
        props,
        resources: vec![],
        submitted_resources: vec![],
        grades: Map::new(),
    }
}

fn prefer_unknown(req: &GReq) -> bool {
    req.header("Prefer").is_some_and(|p| p.to_ascii_lowercase().contains("include-unknown-enum-members"))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn render_assignment(a: &Assignment, req: &GReq) -> Value {
    let mut m = a.props.clone();
    // Publishing finishes in the background: once its time has come, it reads as assigned.
    if let Some(at) = m.remove("_assignedAtMs").and_then(|v| v.as_u64())
        && m.get("status").and_then(Value::as_str) == Some("published")
        && now_ms() >= at
    {
        m.insert("status".into(), json!("assigned"));
        m.insert("assignedDateTime".into(), json!(iso(at / 1000)));
    }
    if m.get("status").and_then(Value::as_str) == Some("inactive") && !prefer_unknown(req) {
        m.insert("status".into(), json!("unknownFutureValue"));
    }
    Value::Object(m)
}

fn render_submission(s: &Submission, req: &GReq) -> Value {
    let mut m = s.props.clone();
    let status = m.get("status").and_then(Value::as_str).unwrap_or("working").to_string();
    if !prefer_unknown(req) && (status == "reassigned" || status == "excused") {
        m.insert("status".into(), json!("returned"));
        let (when, who) = if status == "reassigned" {
            ("reassignedDateTime", "reassignedBy")
        } else {
            ("excusedDateTime", "excusedBy")
        };
        if let Some(v) = m.get(when).cloned() {
            m.insert("returnedDateTime".into(), v);
        }
        if let Some(v) = m.get(who).cloned() {
            m.insert("returnedBy".into(), v);
        }
    }
    Value::Object(m)
}

// ---------------------------------------------------------------- helpers

fn tenant<'a>(st: &'a Store, ctx: &Ctx) -> Result<&'a Tenant, GErr> {
    st.tenant(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))
}

fn is_member(g: &Group, uid: &str) -> bool {
    g.members.iter().any(|m| m == uid) || g.owners.iter().any(|m| m == uid)
}

fn class<'a>(t: &'a Tenant, ctx: &Ctx, id: &str) -> Result<&'a Group, GErr> {
    let g = t.groups.get(id).filter(|g| g.class.is_some()).ok_or_else(|| GErr::not_found(id))?;
    if let Some(u) = &ctx.user
        && !is_member(g, u)
        && !ctx.is_admin()
    {
        return Err(GErr::denied());
    }
    Ok(g)
}

fn is_teacher(g: &Group, ctx: &Ctx) -> bool {
    ctx.user.as_ref().is_some_and(|u| g.owners.contains(u))
}

fn user_key(ctx: &Ctx, tpl: &str, p: &[String]) -> Result<(String, bool), GErr> {
    if tpl.starts_with("/education/me") {
        Ok((ctx.me()?.to_string(), true))
    } else {
        Ok((p.first().cloned().unwrap_or_default(), false))
    }
}

fn expand_user(t: &Tenant, u: &User, v: &mut Value, q: &Q) {
    let Some(o) = v.as_object_mut() else { return };
    if q.expand.iter().any(|e| e == "schools") {
        let schools: Vec<Value> = t
            .schools
            .iter()
            .filter(|s| u.edu.as_ref().is_some_and(|e| e.schools.contains(&s.id)))
            .map(school_obj)
            .collect();
        o.insert("schools".into(), Value::Array(schools));
    }
    if q.expand.iter().any(|e| e == "classes") {
        o.insert("classes".into(), Value::Array(t.classes_of(&u.id).into_iter().map(class_obj).collect()));
    }
    if q.expand.iter().any(|e| e == "taughtClasses") {
        o.insert(
            "taughtClasses".into(),
            Value::Array(t.classes_of(&u.id).into_iter().filter(|g| g.owners.contains(&u.id)).map(class_obj).collect()),
        );
    }
}

fn expand_class(t: &Tenant, g: &Group, v: &mut Value, q: &Q) {
    let Some(o) = v.as_object_mut() else { return };
    if q.expand.iter().any(|e| e == "schools") {
        let ids = g.class.as_ref().map(|c| c.schools.clone()).unwrap_or_default();
        o.insert(
            "schools".into(),
            Value::Array(t.schools.iter().filter(|s| ids.contains(&s.id)).map(school_obj).collect()),
        );
    }
    if q.expand.iter().any(|e| e == "teachers") {
        o.insert(
            "teachers".into(),
            Value::Array(g.owners.iter().filter_map(|u| t.users.get(u)).map(|u| edu_user(u, true)).collect()),
        );
    }
}

// ---------------------------------------------------------------- routing

pub fn route(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, m: &str, tpl: &str, p: &[String]) -> GResult {
    match (m, tpl) {
        ("GET", "/education/me") | ("GET", "/education/users/{id}") => get_user(sh, req, ctx, q, tpl, p),
        ("GET", "/education/users") => list_users(sh, req, ctx, q),
        ("GET", "/education/me/schools") | ("GET", "/education/users/{id}/schools") => {
            user_schools(sh, req, ctx, q, tpl, p)
        }
        ("GET", "/education/me/classes")
        | ("GET", "/education/users/{id}/classes")
        | ("GET", "/education/me/taughtClasses")
        | ("GET", "/education/users/{id}/taughtClasses") => user_classes(sh, req, ctx, q, tpl, p),
        ("GET", "/education/me/assignments") | ("GET", "/education/users/{id}/assignments") => {
            user_assignments(sh, req, ctx, q, tpl, p)
        }
        ("GET", "/education/schools") => schools(sh, req, ctx, q),
        ("GET", "/education/schools/{id}") => school(sh, req, ctx, q, p),
        ("GET", "/education/schools/{id}/classes") => school_classes(sh, req, ctx, q, p),
        ("GET", "/education/schools/{id}/users") => school_users(sh, req, ctx, q, p),
        ("GET", "/education/classes") => classes(sh, req, ctx, q),
        ("POST", "/education/classes") => create_class(sh, req, ctx),
        ("GET", "/education/classes/delta") => classes_delta(sh, req, ctx, q),
        ("GET", "/education/users/delta") => users_delta(sh, req, ctx, q),
        ("GET", "/education/classes/{id}") => get_class(sh, req, ctx, q, p),
        ("DELETE", "/education/classes/{id}") => delete_class(sh, req, ctx, p),
        ("GET", "/education/classes/{id}/members") | ("GET", "/education/classes/{id}/teachers") => {
            class_people(sh, req, ctx, q, tpl, p)
        }
        ("GET", "/education/classes/{id}/schools") => class_schools(sh, req, ctx, q, p),
        ("POST", "/education/classes/{id}/members/$ref") | ("POST", "/education/classes/{id}/teachers/$ref") => {
            add_ref(sh, req, ctx, tpl, p)
        }
        ("DELETE", "/education/classes/{id}/members/{id}/$ref")
        | ("DELETE", "/education/classes/{id}/teachers/{id}/$ref") => remove_ref(sh, req, ctx, tpl, p),
        ("GET", "/education/classes/{id}/assignments") => list_assignments(sh, req, ctx, q, p),
        ("POST", "/education/classes/{id}/assignments") => create_assignment(sh, req, ctx, p),
        ("GET", "/education/classes/{id}/assignments/{id}") => get_assignment(sh, req, ctx, q, p),
        ("PATCH", "/education/classes/{id}/assignments/{id}") => patch_assignment(sh, req, ctx, p),
        ("DELETE", "/education/classes/{id}/assignments/{id}") => delete_assignment(sh, req, ctx, p),
        ("POST", "/education/classes/{id}/assignments/{id}/publish") => publish(sh, req, ctx, p),
        ("POST", "/education/classes/{id}/assignments/{id}/setUpResourcesFolder")
        | ("GET", "/education/classes/{id}/assignments/{id}/GetResourcesFolderUrl") => {
            resources_folder(sh, req, ctx, tpl, p)
        }
        ("GET", "/education/classes/{id}/assignments/{id}/resources") => list_resources(sh, req, ctx, q, p),
        ("POST", "/education/classes/{id}/assignments/{id}/resources") => add_resource(sh, req, ctx, p),
        ("GET", "/education/classes/{id}/assignments/{id}/submissions") => list_submissions(sh, req, ctx, q, p),
        ("GET", "/education/classes/{id}/assignments/{id}/submissions/{id}") => get_submission(sh, req, ctx, q, p),
        ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/submit")
        | ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/unsubmit")
        | ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/return")
        | ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/reassign")
        | ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/excuse") => {
            submission_action(sh, req, ctx, tpl, p)
        }
        ("PATCH", "/education/classes/{id}/assignments/{id}/submissions/{id}/outcomes/{id}") => {
            patch_outcome(sh, req, ctx, p)
        }
        ("POST", "/education/me/rubrics") => create_rubric(sh, req, ctx),
        ("GET", "/education/me/rubrics") => list_rubrics(sh, req, ctx, q),
        ("GET", "/education/me/rubrics/{id}") => get_rubric(sh, req, ctx, p),
        ("PUT", "/education/classes/{id}/assignments/{id}/rubric/$ref") => put_rubric_ref(sh, req, ctx, p),
        ("DELETE", "/education/classes/{id}/assignments/{id}/rubric/$ref") => delete_rubric_ref(sh, req, ctx, p),
        ("GET", "/education/classes/{id}/assignments/{id}/rubric") => get_assignment_rubric(sh, req, ctx, p),
        ("GET", "/education/classes/{id}/assignmentSettings") => get_settings(sh, req, ctx, p),
        ("PATCH", "/education/classes/{id}/assignmentSettings") => patch_settings(sh, req, ctx, p),
        ("PUT", "/education/classes/{id}/assignments/{id}/gradingCategory/$ref") => put_category_ref(sh, req, ctx, p),
        ("GET", "/education/classes/{id}/assignments/{id}/submissions/{id}/resources")
        | ("GET", "/education/classes/{id}/assignments/{id}/submissions/{id}/submittedResources")
        | ("GET", "/education/classes/{id}/assignments/{id}/submissions/{id}/outcomes") => {
            submission_children(sh, req, ctx, q, tpl, p)
        }
        ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/resources") => {
            add_submission_resource(sh, req, ctx, p)
        }
        ("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/setUpResourcesFolder") => {
            submission_folder(sh, req, ctx, p)
        }
        _ => Err(not_routed(req, tpl)),
    }
}

fn get_user(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let (key, _) = user_key(ctx, tpl, p)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    let mut v = with_type("#microsoft.graph.educationUser", edu_user(u, !ctx.app_only()));
    expand_user(t, u, &mut v, q);
    Ok(entity(sh, req, "education/users", q, v))
}

fn list_users(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(&[], EDU_A_FULL)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let items: Vec<Value> = t
        .user_order
        .iter()
        .filter_map(|id| t.users.get(id))
        .map(|u| with_type("#microsoft.graph.educationUser", edu_user(u, false)))
        .collect();
    let items = apply_filter(items, q, "educationUser", &[], false)?;
    collection(sh, req, q, "education/users", items, 100, 999)
}

fn user_schools(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let (key, _) = user_key(ctx, tpl, p)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    if !ctx.app_only() && ctx.user.as_deref() != Some(u.id.as_str()) && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let ids = u.edu.as_ref().map(|e| e.schools.clone()).unwrap_or_default();
    let items: Vec<Value> = t.schools.iter().filter(|s| ids.contains(&s.id)).map(school_obj).collect();
    collection(sh, req, q, "education/schools", items, 100, 999)
}

fn user_classes(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let (key, _) = user_key(ctx, tpl, p)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    if !ctx.app_only() && ctx.user.as_deref() != Some(u.id.as_str()) && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let taught = tpl.ends_with("taughtClasses");
    let items: Vec<Value> = t
        .classes_of(&u.id)
        .into_iter()
        .filter(|g| !taught || g.owners.contains(&u.id))
        .map(|g| {
            let mut v = with_type("#microsoft.graph.educationClass", class_obj(g));
            expand_class(t, g, &mut v, q);
            v
        })
        .collect();
    let items = apply_filter(items, q, "educationClass", &[], false)?;
    collection(sh, req, q, "education/classes", items, 100, 999)
}

fn visible_assignment(a: &Assignment, g: &Group, ctx: &Ctx) -> bool {
    if ctx.app_only() || is_teacher(g, ctx) {
        return true;
    }
    let status = a.props.get("status").and_then(Value::as_str).unwrap_or_default();
    matches!(status, "assigned" | "published")
        && ctx.user.as_ref().is_some_and(|u| a.submissions.iter().any(|s| s.user_id == *u))
}

fn user_assignments(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let (key, _) = user_key(ctx, tpl, p)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    let mut items = vec![];
    for g in t.classes_of(&u.id) {
        for aid in t.class_assignments.get(&g.id).into_iter().flatten() {
            if let Some(a) = t.assignments.get(aid) {
                let mine = g.owners.contains(&u.id) || a.submissions.iter().any(|s| s.user_id == u.id);
                if mine && visible_assignment(a, g, ctx) {
                    let mut v = render_assignment(a, req);
                    if let Some(o) = v.as_object_mut() {
                        // educationuser-list-assignments.md: these "will always display null" here.
                        for k in ["instructions", "assignedDateTime", "assignTo", "resourcesFolderUrl", "webUrl"] {
                            o.insert(k.into(), Value::Null);
                        }
                        if q.expand.iter().any(|e| e == "submissions" || e == "*") {
                            // Expanded only for a student (null for teachers).
                            let subs: Vec<Value> = a
                                .submissions
                                .iter()
                                .filter(|s| s.user_id == u.id)
                                .map(|s| render_submission(s, req))
                                .collect();
                            let subs = if g.owners.contains(&u.id) { Value::Null } else { Value::Array(subs) };
                            o.insert("submissions".into(), subs);
                        }
                    }
                    items.push(v);
                }
            }
        }
    }
    let items = apply_filter(items, q, "educationAssignment", &[], false)?;
    let expanded = if q.expand.iter().any(|e| e == "submissions") { "(submissions())" } else { "" };
    collection(sh, req, q, &format!("education/users('{}')/assignments{expanded}", u.id), items, 100, 999)
}

fn schools(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let items = apply_filter(t.schools.iter().map(school_obj).collect(), q, "educationSchool", &[], false)?;
    collection(sh, req, q, "education/schools", items, 100, 999)
}

fn school(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    let s = t.schools.iter().find(|s| s.id == id).ok_or_else(|| GErr::not_found(&id))?;
    Ok(entity(sh, req, "education/schools", q, school_obj(s)))
}

fn school_classes(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    if !t.schools.iter().any(|s| s.id == id) {
        return Err(GErr::not_found(&id));
    }
    let items: Vec<Value> = t
        .group_order
        .iter()
        .filter_map(|g| t.groups.get(g))
        .filter(|g| g.class.as_ref().is_some_and(|c| c.schools.contains(&id)))
        .map(|g| {
            let mut v = with_type("#microsoft.graph.educationClass", class_obj(g));
            expand_class(t, g, &mut v, q);
            v
        })
        .collect();
    let items = apply_filter(items, q, "educationClass", &[], false)?;
    collection(sh, req, q, "education/classes", items, 100, 999)
}

fn school_users(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(&[], EDU_A_FULL)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    if !t.schools.iter().any(|s| s.id == id) {
        return Err(GErr::not_found(&id));
    }
    let items: Vec<Value> = t
        .user_order
        .iter()
        .filter_map(|u| t.users.get(u))
        .filter(|u| u.edu.as_ref().is_some_and(|e| e.schools.contains(&id)))
        .map(|u| with_type("#microsoft.graph.educationUser", edu_user(u, false)))
        .collect();
    let items = apply_filter(items, q, "educationUser", &[], false)?;
    collection(sh, req, q, "education/users", items, 100, 999)
}

fn classes(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let items: Vec<Value> = t
        .group_order
        .iter()
        .filter_map(|g| t.groups.get(g))
        .filter(|g| g.class.is_some())
        .filter(|g| ctx.user.as_ref().is_none_or(|u| is_member(g, u)))
        .map(|g| {
            let mut v = with_type("#microsoft.graph.educationClass", class_obj(g));
            expand_class(t, g, &mut v, q);
            v
        })
        .collect();
    let items = apply_filter(items, q, "educationClass", &[], false)?;
    collection(sh, req, q, "education/classes", items, 100, 999)
}

fn get_class(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let g = class(t, ctx, &p.first().cloned().unwrap_or_default())?;
    let mut v = class_obj(g);
    expand_class(t, g, &mut v, q);
    Ok(entity(sh, req, "education/classes", q, v))
}

fn create_class(sh: &Shared, req: &GReq, ctx: &Ctx) -> GResult {
    ctx.need(&[], EDU_W_A)?;
    let body = req.json_body()?;
    for f in ["displayName", "mailNickname"] {
        if body.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(GErr::bad(
                "Request_BadRequest",
                format!("Invalid value specified for property '{f}' of resource 'educationClass'."),
            ));
        }
    }
    let id = new_id();
    let g = crate::admin::class_group(&id, &body, vec![]);
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let v = class_obj(&g);
    t.add_group(g);
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context(sh, "education/classes", &None, true)));
    if let Value::Object(m) = v {
        out.extend(m);
    }
    Ok(ok_json(req, 201, Value::Object(out)))
}

fn delete_class(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(&[], EDU_W_A)?;
    let id = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    if t.groups.get(&id).is_none_or(|g| g.class.is_none()) {
        return Err(GErr::not_found(&id));
    }
    t.groups.remove(&id);
    t.group_order.retain(|g| *g != id);
    t.record(Kind::Class, &id, Some("deleted"));
    Ok(no_content(req, 204))
}

fn class_people(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    if ctx.app_only() {
        ctx.need(&[], EDU_A)?;
    } else {
        ctx.need(EDU_D, &[])?;
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let g = class(t, ctx, &p.first().cloned().unwrap_or_default())?;
    let list = if tpl.ends_with("/teachers") { &g.owners } else { &g.members };
    let items: Vec<Value> = list
        .iter()
        .filter_map(|u| t.users.get(u))
        .map(|u| with_type("#microsoft.graph.educationUser", edu_user(u, !ctx.app_only())))
        .collect();
    let items = apply_filter(items, q, "educationUser", &[], false)?;
    collection(sh, req, q, "education/users", items, 100, 999)
}

fn class_schools(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let g = class(t, ctx, &p.first().cloned().unwrap_or_default())?;
    let ids = g.class.as_ref().map(|c| c.schools.clone()).unwrap_or_default();
    collection(
        sh,
        req,
        q,
        "education/schools",
        t.schools.iter().filter(|s| ids.contains(&s.id)).map(school_obj).collect(),
        100,
        999,
    )
}

fn add_ref(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    ctx.need(&[], EDU_W_A)?;
    let body = req.json_body()?;
    let r = body
        .get("@odata.id")
        .and_then(Value::as_str)
        .ok_or_else(|| GErr::bad("Request_BadRequest", "The request body must contain '@odata.id'."))?;
    let uid_key = r.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
    let id = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let uid = t.user_id(&uid_key).ok_or_else(|| GErr::not_found(&uid_key))?;
    let teachers = tpl.contains("/teachers/");
    let g = t.groups.get_mut(&id).filter(|g| g.class.is_some()).ok_or_else(|| GErr::not_found(&id))?;
    let list = if teachers { &mut g.owners } else { &mut g.members };
    if list.contains(&uid) {
        return Err(GErr::bad(
            "Request_BadRequest",
            format!(
                "One or more added object references already exist for the following modified properties: '{}'.",
                if teachers { "owners" } else { "members" }
            ),
        ));
    }
    list.push(uid.clone());
    if teachers && !g.members.contains(&uid) {
        g.members.push(uid);
    }
    t.record(Kind::Class, &id, None);
    Ok(no_content(req, 204))
}

fn remove_ref(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    ctx.need(&[], EDU_W_A)?;
    let id = p.first().cloned().unwrap_or_default();
    let key = p.get(1).cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let uid = t.user_id(&key).unwrap_or(key.clone());
    let g = t.groups.get_mut(&id).filter(|g| g.class.is_some()).ok_or_else(|| GErr::not_found(&id))?;
    let list = if tpl.contains("/teachers/") { &mut g.owners } else { &mut g.members };
    let n = list.len();
    list.retain(|m| *m != uid);
    if n == list.len() {
        return Err(GErr::not_found(&key));
    }
    t.record(Kind::Class, &id, None);
    Ok(no_content(req, 204))
}

fn classes_delta(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let user = ctx.user.clone();
    let ids = |o: usize, n: usize| {
        let all: Vec<&String> =
            t.group_order.iter().filter(|g| t.groups.get(*g).is_some_and(|g| g.class.is_some())).collect();
        let total = all.len();
        (all.into_iter().skip(o).take(n).cloned().collect(), total)
    };
    let render = |id: &str, _selected: bool| {
        t.groups
            .get(id)
            .filter(|g| g.class.is_some())
            .filter(|g| user.as_ref().is_none_or(|u| is_member(g, u)))
            .map(|g| with_type("#microsoft.graph.educationClass", class_obj(g)))
    };
    let c = format!("{}/v1.0/$metadata#Collection(educationClass)", sh.graph_base());
    super::delta(sh, req, q, t, "educlasses", Kind::Class, "/education/classes/delta", &c, &c, &ids, &render, false)
}

fn users_delta(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(EDU_D, EDU_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let limited = !ctx.app_only();
    let ids = |o: usize, n: usize| (t.user_order.iter().skip(o).take(n).cloned().collect(), t.user_order.len());
    let render = |id: &str, _selected: bool| {
        t.users.get(id).map(|u| with_type("#microsoft.graph.educationUser", edu_user(u, limited)))
    };
    let c = format!("{}/v1.0/$metadata#Collection(educationUser)", sh.graph_base());
    super::delta(sh, req, q, t, "eduusers", Kind::User, "/education/users/delta", &c, &c, &ids, &render, true)
}

// ---------------------------------------------------------------- assignments

fn assignment<'a>(t: &'a Tenant, ctx: &Ctx, p: &[String]) -> Result<(&'a Group, &'a Assignment), GErr> {
    let cid = p.first().cloned().unwrap_or_default();
    let aid = p.get(1).cloned().unwrap_or_default();
    let g = class(t, ctx, &cid)?;
    let a = t
        .assignments
        .get(&aid)
        .filter(|a| a.class_id == cid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{aid}' not found.")))?;
    if !visible_assignment(a, g, ctx) {
        return Err(GErr::new(404, "ResourceNotFound", format!("Resource '{aid}' not found.")));
    }
    Ok((g, a))
}

fn asg_ctx(sh: &Shared, cid: &str, aid: Option<&str>, rest: &str) -> String {
    match aid {
        Some(a) => format!("{}/v1.0/$metadata#education/classes('{cid}')/assignments('{a}'){rest}", sh.graph_base()),
        None => format!("{}/v1.0/$metadata#education/classes('{cid}')/assignments{rest}", sh.graph_base()),
    }
}

fn with_ctx(c: String, v: Value, odata_type: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("@odata.context".into(), json!(c));
    if let Some(t) = odata_type {
        o.insert("@odata.type".into(), json!(t));
    }
    if let Value::Object(m) = v {
        o.extend(m);
    }
    Value::Object(o)
}

fn list_assignments(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let cid = p.first().cloned().unwrap_or_default();
    let g = class(t, ctx, &cid)?;
    let mut items: Vec<Value> = t
        .class_assignments
        .get(&cid)
        .into_iter()
        .flatten()
        .filter_map(|a| t.assignments.get(a))
        .filter(|a| visible_assignment(a, g, ctx))
        .map(|a| render_assignment(a, req))
        .collect();
    if q.expand.iter().any(|e| e == "submissions" || e == "*") {
        for (v, a) in items.iter_mut().zip(
            t.class_assignments
                .get(&cid)
                .into_iter()
                .flatten()
                .filter_map(|a| t.assignments.get(a))
                .filter(|a| visible_assignment(a, g, ctx)),
        ) {
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "submissions".into(),
                    Value::Array(
                        a.submissions
                            .iter()
                            .filter(|s| {
                                ctx.app_only() || is_teacher(g, ctx) || ctx.user.as_deref() == Some(s.user_id.as_str())
                            })
                            .map(|s| render_submission(s, req))
                            .collect(),
                    ),
                );
            }
        }
    }
    let mut items = apply_filter(items, q, "educationAssignment", &[], false)?;
    apply_orderby(&mut items, q);
    collection(sh, req, q, &format!("education/classes('{cid}')/assignments"), items, 100, 999)
}

fn create_assignment(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_W_D, ASG_W_A)?;
    let body = req.json_body()?;
    let cid = p.first().cloned().unwrap_or_default();
    if let Some(s) = body.get("status").and_then(Value::as_str)
        && s != "draft"
    {
        return Err(GErr::bad(
            "BadRequest",
            "Status can only be set to 'draft' when creating an assignment. Use the publish action to publish it.",
        ));
    }
    if body.get("displayName").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
        return Err(GErr::bad("BadRequest", "The displayName property is required."));
    }
    if let (Some(due), Some(close)) =
        (body.get("dueDateTime").and_then(Value::as_str), body.get("closeDateTime").and_then(Value::as_str))
        && close < due
    {
        return Err(GErr::bad("BadRequest", "closeDateTime must be greater than or equal to dueDateTime."));
    }
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let g = class(t, ctx, &cid)?;
    if !ctx.app_only() && !is_teacher(g, ctx) {
        return Err(GErr::new(403, "AccessDenied", "Only a teacher of the class can create assignments."));
    }
    let creator = ctx.user.clone().unwrap_or_else(|| ctx.client_id.clone());
    let id = new_id();
    let props = new_assignment_props(&id, &cid, &creator, &body, &iso_now());
    let a = Assignment { id: id.clone(), class_id: cid.clone(), props, resources: vec![], submissions: vec![] };
    let out = with_ctx(asg_ctx(sh, &cid, None, "/$entity"), render_assignment(&a, req), None);
    t.class_assignments.entry(cid).or_default().push(id.clone());
    t.assignments.insert(id, a);
    Ok(ok_json(req, 201, out))
}

fn get_assignment(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let (g, a) = assignment(t, ctx, p)?;
    let mut v = render_assignment(a, req);
    if let Some(o) = v.as_object_mut() {
        if q.expand.iter().any(|e| e == "resources" || e == "*") {
            o.insert("resources".into(), Value::Array(a.resources.clone()));
        }
        if q.expand.iter().any(|e| e == "submissions" || e == "*") {
            o.insert(
                "submissions".into(),
                Value::Array(
                    a.submissions
                        .iter()
                        .filter(|s| {
                            ctx.app_only() || is_teacher(g, ctx) || ctx.user.as_deref() == Some(s.user_id.as_str())
                        })
                        .map(|s| render_submission(s, req))
                        .collect(),
                ),
            );
        }
    }
    Ok(ok_json(req, 200, with_ctx(asg_ctx(sh, &a.class_id, None, "/$entity"), project(&v, &q.select), None)))
}

fn teacher_of<'a>(t: &'a mut Tenant, ctx: &Ctx, p: &[String]) -> Result<&'a mut Assignment, GErr> {
    let cid = p.first().cloned().unwrap_or_default();
    let aid = p.get(1).cloned().unwrap_or_default();
    let g = class(t, ctx, &cid)?;
    if !ctx.app_only() && !is_teacher(g, ctx) {
        return Err(GErr::new(403, "AccessDenied", "Only a teacher in the class can make this call."));
    }
    t.assignments
        .get_mut(&aid)
        .filter(|a| a.class_id == cid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{aid}' not found.")))
}

fn patch_assignment(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_W_D, ASG_W_A)?;
    let body = req.json_body()?;
    let obj = body.as_object().ok_or_else(|| GErr::bad("BadRequest", "Invalid request body."))?.clone();
    if obj.contains_key("status") {
        return Err(GErr::bad("BadRequest", "The status property cannot be patched. Use the publish action."));
    }
    // educationassignment-update.md: only these properties are updatable; the rest are
    // read-only (status changes go through publish).
    if let Some(k) = obj.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
        return Err(GErr::bad("BadRequest", format!("The property '{k}' is read-only and cannot be updated.")));
    }
    if obj.get("displayName").is_some_and(|v| v.as_str().is_none_or(|s| s.trim().is_empty())) {
        return Err(GErr::bad("BadRequest", "The displayName property cannot be empty."));
    }
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let a = teacher_of(t, ctx, p)?;
    let status = a.props.get("status").and_then(Value::as_str).unwrap_or("draft").to_string();
    if status == "inactive" {
        return Err(GErr::bad("BadRequest", "An inactive assignment cannot be updated."));
    }
    if status != "draft" {
        // resources/educationassignment.md: "Updating the notificationChannelUrl isn't allowed
        // after the assignment is published"; assignTo and the scheduled assign date are
        // fixed once it is out, as Teams shows.
        if let Some(k) =
            obj.keys().find(|k| matches!(k.as_str(), "notificationChannelUrl" | "assignTo" | "assignDateTime"))
        {
            return Err(GErr::bad(
                "BadRequest",
                format!("The property '{k}' cannot be updated after the assignment is published."),
            ));
        }
    }
    let merged = |k: &str| obj.get(k).or_else(|| a.props.get(k)).and_then(Value::as_str).map(str::to_string);
    if let (Some(due), Some(close)) = (merged("dueDateTime"), merged("closeDateTime"))
        && close < due
    {
        return Err(GErr::bad("BadRequest", "closeDateTime must be greater than or equal to dueDateTime."));
    }
    for (k, v) in obj {
        a.props.insert(k, v);
    }
    a.props.insert("lastModifiedDateTime".into(), json!(iso_now()));
    if let Some(u) = &ctx.user {
        a.props.insert("lastModifiedBy".into(), identity_set(Some((u, None))));
    }
    let out = with_ctx(asg_ctx(sh, &a.class_id, None, "/$entity"), render_assignment(a, req), None);
    Ok(ok_json(req, 200, out))
}

/// Updatable properties of an educationAssignment (educationassignment-update.md).
const PATCHABLE: &[&str] = &[
    "addedStudentAction",
    "addToCalendarAction",
    "allowLateSubmissions",
    "allowStudentsToAddResourcesToSubmission",
    "assignDateTime",
    "assignTo",
    "closeDateTime",
    "displayName",
    "dueDateTime",
    "grading",
    "instructions",
    "notificationChannelUrl",
];

fn delete_assignment(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_W_D, ASG_W_A)?;
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let id = teacher_of(t, ctx, p)?.id.clone();
    t.assignments.remove(&id);
    for v in t.class_assignments.values_mut() {
        v.retain(|x| *x != id);
    }
    Ok(no_content(req, 204))
}

fn publish(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_W_D, ASG_W_A)?;
    let mut st = sh.write();
    let delay = st.publish_delay;
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let cid = p.first().cloned().unwrap_or_default();
    let students: Vec<String> = t
        .groups
        .get(&cid)
        .map(|g| g.members.iter().filter(|m| !g.owners.contains(m)).cloned().collect())
        .unwrap_or_default();
    let a = teacher_of(t, ctx, p)?;
    let status = a.props.get("status").and_then(Value::as_str).unwrap_or_default().to_string();
    if status != "draft" && status != "scheduled" {
        return Err(GErr::bad(
            "BadRequest",
            format!("The assignment is in status '{status}' and cannot be published."),
        ));
    }
    // Respond "published" (publishing in progress); the stored state is already "assigned", as a
    // client polling with GET will observe.
    let mut shown = a.props.clone();
    shown.insert("status".into(), json!("published"));
    shown.insert("assignedDateTime".into(), Value::Null);
    let now = iso_now();
    if delay.is_zero() {
        a.props.insert("status".into(), json!("assigned"));
        a.props.insert("assignedDateTime".into(), json!(now));
    } else {
        a.props.insert("status".into(), json!("published"));
        a.props.insert("_assignedAtMs".into(), json!(now_ms() + delay.as_millis() as u64));
    }
    a.props.insert("lastModifiedDateTime".into(), json!(now));
    let aid = a.id.clone();
    for s in students {
        if !a.submissions.iter().any(|x| x.user_id == s) {
            let mut sub = new_submission(&new_id(), &aid, &s);
            sub.resources = a
                .resources
                .iter()
                .filter(|r| r.get("distributeForStudentWork").and_then(Value::as_bool) == Some(true))
                .cloned()
                .collect();
            a.submissions.push(sub);
        }
    }
    let out = with_ctx(
        format!("{}/v1.0/$metadata#educationAssignment", sh.graph_base()),
        Value::Object(shown),
        Some("#microsoft.graph.educationAssignment"),
    );
    Ok(ok_json(req, 200, out))
}

fn resources_folder(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let cid = p.first().cloned().unwrap_or_default();
    if tpl.ends_with("GetResourcesFolderUrl") {
        ctx.need(ASG_R_D, ASG_R_A)?;
    } else {
        ctx.need(ASG_W_D, ASG_W_A)?;
    }
    let a = teacher_of(t, ctx, p)?;
    let existing = a.props.get("resourcesFolderUrl").and_then(Value::as_str).map(str::to_string);
    let name = a.props.get("displayName").and_then(Value::as_str).unwrap_or("Assignment").to_string();
    let url = match existing {
        Some(u) => u,
        None => {
            let item = new_drive_item(sh, &cid, "root", &format!("Assignments - {name}"), true, None, None);
            let iid = item.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            let url = format!("{}/v1.0/drives/{}/items/{iid}", sh.graph_base(), drive_id(&cid));
            a.props.insert("resourcesFolderUrl".into(), json!(url));
            t.drive_items.entry(cid).or_default().push(item);
            url
        }
    };
    if tpl.ends_with("GetResourcesFolderUrl") {
        return Ok(ok_json(
            req,
            200,
            json!({"@odata.context": format!("{}/v1.0/$metadata#Edm.String", sh.graph_base()), "value": url}),
        ));
    }
    let a = t
        .assignments
        .get(p.get(1).map(String::as_str).unwrap_or_default())
        .ok_or_else(|| GErr::not_found("assignment"))?;
    let out = with_ctx(
        format!("{}/v1.0/$metadata#educationAssignment", sh.graph_base()),
        render_assignment(a, req),
        Some("#microsoft.graph.educationAssignment"),
    );
    Ok(ok_json(req, 200, out))
}

fn list_resources(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let (_, a) = assignment(t, ctx, p)?;
    collection(
        sh,
        req,
        q,
        &format!("education/classes('{}')/assignments('{}')/resources", a.class_id, a.id),
        a.resources.clone(),
        100,
        999,
    )
}

const RESOURCE_TYPES: &[&str] = &[
    "#microsoft.graph.educationFileResource",
    "#microsoft.graph.educationWordResource",
    "#microsoft.graph.educationExcelResource",
    "#microsoft.graph.educationPowerPointResource",
    "#microsoft.graph.educationLinkResource",
    "#microsoft.graph.educationMediaResource",
    "#microsoft.graph.educationTeamsAppResource",
    "#microsoft.graph.educationChannelResource",
];

fn make_resource(body: &Value, by: &str, folder_needed: bool) -> Result<(Value, bool), GErr> {
    let res = body
        .get("resource")
        .and_then(Value::as_object)
        .ok_or_else(|| GErr::bad("BadRequest", "The 'resource' property is required."))?;
    let ty = res.get("@odata.type").and_then(Value::as_str).unwrap_or_default();
    if !RESOURCE_TYPES.contains(&ty) {
        return Err(GErr::bad("BadRequest", format!("Resource type '{ty}' is not supported or cannot be created.")));
    }
    let is_file = !matches!(
        ty,
        "#microsoft.graph.educationLinkResource"
            | "#microsoft.graph.educationTeamsAppResource"
            | "#microsoft.graph.educationChannelResource"
    );
    if is_file && folder_needed {
        return Err(GErr::bad("BadRequest", "Resources folder is not set up. Call setUpResourcesFolder first."));
    }
    let now = iso_now();
    let mut r = res.clone();
    r.insert("createdDateTime".into(), json!(now));
    r.insert("lastModifiedDateTime".into(), json!(now));
    r.insert("createdBy".into(), identity_set(Some((by, None))));
    r.insert("lastModifiedBy".into(), identity_set(Some((by, None))));
    Ok((Value::Object(r), body.get("distributeForStudentWork").and_then(Value::as_bool).unwrap_or(false)))
}

/// A file resource's `fileUrl` must name a file of the owner's resources folder
/// (`…/drives/{drive}/items/{item}`), uploaded there first.
fn check_file_in_folder(t: &Tenant, cid: &str, body: &Value, folder: Option<&str>) -> Result<(), GErr> {
    let res = body.get("resource").cloned().unwrap_or(Value::Null);
    let ty = res.get("@odata.type").and_then(Value::as_str).unwrap_or_default();
    if !matches!(
        ty,
        "#microsoft.graph.educationFileResource"
            | "#microsoft.graph.educationWordResource"
            | "#microsoft.graph.educationExcelResource"
            | "#microsoft.graph.educationPowerPointResource"
            | "#microsoft.graph.educationMediaResource"
    ) {
        return Ok(());
    }
    let Some(folder) = folder else {
        return Err(GErr::bad("BadRequest", "Resources folder is not set up. Call setUpResourcesFolder first."));
    };
    let bad = || GErr::bad("BadRequest", "The fileUrl must point to a file in the resources folder.");
    let url = res.get("fileUrl").and_then(Value::as_str).ok_or_else(bad)?;
    let (drive, folder_id) = folder.rsplit_once("/items/").ok_or_else(bad)?;
    let (file_drive, file_id) = url.rsplit_once("/items/").ok_or_else(bad)?;
    if drive != file_drive {
        return Err(bad());
    }
    let found = t.drive_items.get(cid).into_iter().flatten().any(|i| {
        i.get("id").and_then(Value::as_str) == Some(file_id)
            && i.get("_parent").and_then(Value::as_str) == Some(folder_id)
            && i.get("file").is_some()
    });
    if found { Ok(()) } else { Err(bad()) }
}

fn add_resource(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_W_D, ASG_W_A)?;
    let body = req.json_body()?;
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let by = ctx.user.clone().unwrap_or_else(|| ctx.client_id.clone());
    let folder = teacher_of(t, ctx, p)?.props.get("resourcesFolderUrl").and_then(Value::as_str).map(str::to_string);
    check_file_in_folder(t, p.first().map(String::as_str).unwrap_or_default(), &body, folder.as_deref())?;
    let a = teacher_of(t, ctx, p)?;
    let (res, distribute) = make_resource(&body, &by, a.props.get("resourcesFolderUrl").is_none_or(Value::is_null))?;
    let id = new_id();
    let stored = json!({"distributeForStudentWork": distribute, "id": id, "resource": res});
    a.resources.push(stored);
    let out = with_ctx(
        asg_ctx(sh, &a.class_id, Some(&a.id), "/resources/$entity"),
        json!({"assignmentResourceUrl": null, "distributeForStudentWork": distribute, "id": id, "resource": res}),
        None,
    );
    Ok(ok_json(req, 201, out))
}

fn list_submissions(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let (g, a) = assignment(t, ctx, p)?;
    let teacher = ctx.app_only() || is_teacher(g, ctx);
    let items: Vec<Value> = a
        .submissions
        .iter()
        .filter(|s| teacher || ctx.user.as_deref() == Some(s.user_id.as_str()))
        .map(|s| {
            let mut v = render_submission(s, req);
            if let Some(o) = v.as_object_mut() {
                if q.expand.iter().any(|e| e == "outcomes" || e == "*") {
                    o.insert("outcomes".into(), Value::Array(render_outcomes(t, a, s)));
                }
                if q.expand.iter().any(|e| e == "resources" || e == "*") {
                    o.insert("resources".into(), Value::Array(s.resources.clone()));
                }
                if q.expand.iter().any(|e| e == "submittedResources" || e == "*") {
                    o.insert("submittedResources".into(), Value::Array(s.submitted_resources.clone()));
                }
            }
            v
        })
        .collect();
    let items = apply_filter(items, q, "educationSubmission", &[], false)?;
    let expand = if q.expand.is_empty() {
        String::new()
    } else {
        let e: Vec<String> = q.expand.iter().map(|e| format!("{e}()")).collect();
        format!("({})", e.join(","))
    };
    collection(
        sh,
        req,
        q,
        &format!("education/classes('{}')/assignments('{}')/submissions{expand}", a.class_id, a.id),
        items,
        100,
        999,
    )
}

fn find_sub<'a>(a: &'a Assignment, sid: &str) -> Result<&'a Submission, GErr> {
    a.submissions
        .iter()
        .find(|s| s.id == sid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{sid}' not found.")))
}

fn get_submission(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let (g, a) = assignment(t, ctx, p)?;
    let s = find_sub(a, p.get(2).map(String::as_str).unwrap_or_default())?;
    if !(ctx.app_only() || is_teacher(g, ctx) || ctx.user.as_deref() == Some(s.user_id.as_str())) {
        return Err(GErr::new(403, "AccessDenied", "Access denied."));
    }
    let v = render_submission(s, req);
    Ok(ok_json(
        req,
        200,
        with_ctx(asg_ctx(sh, &a.class_id, Some(&a.id), "/submissions/$entity"), project(&v, &q.select), None),
    ))
}

fn submission_children(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let (g, a) = assignment(t, ctx, p)?;
    let s = find_sub(a, p.get(2).map(String::as_str).unwrap_or_default())?;
    if !(ctx.app_only() || is_teacher(g, ctx) || ctx.user.as_deref() == Some(s.user_id.as_str())) {
        return Err(GErr::new(403, "AccessDenied", "Access denied."));
    }
    let (items, name) = if tpl.ends_with("/submittedResources") {
        (s.submitted_resources.clone(), "submittedResources")
    } else if tpl.ends_with("/outcomes") {
        (render_outcomes(t, a, s), "outcomes")
    } else {
        (s.resources.clone(), "resources")
    };
    collection(
        sh,
        req,
        q,
        &format!("education/classes('{}')/assignments('{}')/submissions('{}')/{name}", a.class_id, a.id, s.id),
        items,
        100,
        999,
    )
}

fn submission_action(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let action = tpl.rsplit('/').next().unwrap_or_default().to_string();
    if matches!(action.as_str(), "submit" | "unsubmit") {
        ctx.need(SUB_W_D, SUB_W_A)?;
    } else if action == "excuse" {
        // educationsubmission-excuse permissions: delegated EduAssignments.ReadWrite only.
        ctx.need(&["EduAssignments.ReadWrite"], SUB_W_A)?;
    } else {
        ctx.need(&["EduAssignments.ReadWrite", "EduAssignments.ReadWriteBasic"], SUB_W_A)?;
    }
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let cid = p.first().cloned().unwrap_or_default();
    let aid = p.get(1).cloned().unwrap_or_default();
    let sid = p.get(2).cloned().unwrap_or_default();
    let g = class(t, ctx, &cid)?;
    let teacher = is_teacher(g, ctx);
    let a = t
        .assignments
        .get_mut(&aid)
        .filter(|a| a.class_id == cid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{aid}' not found.")))?;
    let s = a
        .submissions
        .iter_mut()
        .find(|s| s.id == sid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{sid}' not found.")))?;
    let own = ctx.user.as_deref() == Some(s.user_id.as_str());
    let allowed = match action.as_str() {
        "submit" => own || ctx.app_only(),
        "unsubmit" => own || teacher || ctx.app_only(),
        _ => teacher || ctx.app_only(),
    };
    if !allowed {
        return Err(GErr::new(403, "AccessDenied", format!("The caller is not allowed to {action} this submission.")));
    }
    let status = s.props.get("status").and_then(Value::as_str).unwrap_or("working").to_string();
    let next = match (action.as_str(), status.as_str()) {
        ("submit", "working" | "returned" | "reassigned") => "submitted",
        ("unsubmit", "submitted") => "working",
        ("return", "working" | "submitted" | "returned" | "reassigned") => "returned",
        ("reassign", "working" | "submitted" | "returned" | "reassigned") => "reassigned",
        ("excuse", "working" | "submitted" | "returned" | "reassigned") => "excused",
        _ => {
            return Err(GErr::bad(
                "BadRequest",
                format!("The '{action}' action is not allowed for a submission in status '{status}'."),
            ));
        }
    };
    let by = identity_set(Some((ctx.user.as_deref().unwrap_or(ctx.client_id.as_str()), None)));
    let now = iso_now();
    let (when, who) = match action.as_str() {
        "submit" => ("submittedDateTime", "submittedBy"),
        "unsubmit" => ("unsubmittedDateTime", "unsubmittedBy"),
        "return" => ("returnedDateTime", "returnedBy"),
        "excuse" => ("excusedDateTime", "excusedBy"),
        _ => ("reassignedDateTime", "reassignedBy"),
    };
    s.props.insert("status".into(), json!(next));
    s.props.insert(when.into(), json!(now));
    s.props.insert(who.into(), by);
    match action.as_str() {
        // Returning (also for revision) publishes the teacher's grade and feedback.
        "return" | "reassign" => {
            for (draft, published) in [
                ("feedback", "publishedFeedback"),
                ("points", "publishedPoints"),
                ("rubricQualityFeedback", "publishedRubricQualityFeedback"),
                ("rubricQualitySelectedLevels", "publishedRubricQualitySelectedLevels"),
            ] {
                let v = s.grades.get(draft).cloned().unwrap_or(Value::Null);
                s.grades.insert(published.into(), v);
            }
        }
        // "Rubric grading and feedback are deleted" (educationsubmission-excuse.md).
        "excuse" => {
            for k in [
                "feedback",
                "publishedFeedback",
                "rubricQualityFeedback",
                "rubricQualitySelectedLevels",
                "publishedRubricQualityFeedback",
                "publishedRubricQualitySelectedLevels",
            ] {
                s.grades.remove(k);
            }
        }
        _ => {}
    }
    if action == "submit" {
        s.submitted_resources = s
            .resources
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if let Some(o) = r.as_object_mut() {
                    o.insert("id".into(), json!(new_id()));
                }
                r
            })
            .collect();
    }
    // educationsubmission-excuse.md names the type with its namespace; the other actions do not.
    let ns = if action == "excuse" { "microsoft.graph." } else { "" };
    let out = with_ctx(
        format!("{}/v1.0/$metadata#{ns}educationSubmission", sh.graph_base()),
        render_submission(s, req),
        Some("#microsoft.graph.educationSubmission"),
    );
    Ok(ok_json(req, 200, out))
}

fn add_submission_resource(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(SUB_W_D, SUB_W_A)?;
    let body = req.json_body()?;
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let cid = p.first().cloned().unwrap_or_default();
    let aid = p.get(1).cloned().unwrap_or_default();
    let sid = p.get(2).cloned().unwrap_or_default();
    // educationsubmission-post-resources.md: "Only teachers and students can perform this
    // operation"; it fails unless allowStudentsToAddResources is true; a file must already be
    // in the submission's resources folder.
    let teacher = is_teacher(class(t, ctx, &cid)?, ctx);
    let a = t.assignments.get_mut(&aid).filter(|a| a.class_id == cid).ok_or_else(|| GErr::not_found(&aid))?;
    let allow = a.props.get("allowStudentsToAddResourcesToSubmission").and_then(Value::as_bool).unwrap_or(true);
    let s = a
        .submissions
        .iter_mut()
        .find(|s| s.id == sid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{sid}' not found.")))?;
    if !ctx.app_only() && !teacher && ctx.user.as_deref() != Some(s.user_id.as_str()) {
        return Err(GErr::new(
            403,
            "AccessDenied",
            "Only the student who owns the submission or a teacher can add resources.",
        ));
    }
    if !allow {
        return Err(GErr::new(403, "AccessDenied", "Students are not allowed to add resources to this submission."));
    }
    let by = ctx.user.clone().unwrap_or_default();
    let folder = s.props.get("resourcesFolderUrl").and_then(Value::as_str).map(str::to_string);
    let (res, _) = make_resource(&body, &by, folder.is_none())?;
    let tenant = st.tenant(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    check_file_in_folder(tenant, &cid, &body, folder.as_deref())?;
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let s = t
        .assignments
        .get_mut(&aid)
        .and_then(|a| a.submissions.iter_mut().find(|s| s.id == sid))
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{sid}' not found.")))?;
    let id = new_id();
    let v = json!({"assignmentResourceUrl": null, "id": id, "resource": res});
    s.resources.push(v.clone());
    let out = with_ctx(
        format!(
            "{}/v1.0/$metadata#education/classes('{cid}')/assignments('{aid}')/submissions('{sid}')/resources/$entity",
            sh.graph_base()
        ),
        v,
        None,
    );
    Ok(ok_json(req, 201, out))
}

fn submission_folder(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(SUB_W_D, SUB_W_A)?;
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let cid = p.first().cloned().unwrap_or_default();
    let aid = p.get(1).cloned().unwrap_or_default();
    let sid = p.get(2).cloned().unwrap_or_default();
    let teacher = is_teacher(class(t, ctx, &cid)?, ctx);
    let a = t.assignments.get_mut(&aid).filter(|a| a.class_id == cid).ok_or_else(|| GErr::not_found(&aid))?;
    let s = a
        .submissions
        .iter_mut()
        .find(|s| s.id == sid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{sid}' not found.")))?;
    if !ctx.app_only() && !teacher && ctx.user.as_deref() != Some(s.user_id.as_str()) {
        return Err(GErr::new(403, "AccessDenied", "Access denied."));
    }
    let mut new_item = None;
    if s.props.get("resourcesFolderUrl").is_none_or(Value::is_null) {
        let item = new_drive_item(sh, &cid, "root", &format!("Submitted files - {sid}"), true, None, None);
        let iid = item.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        s.props.insert(
            "resourcesFolderUrl".into(),
            json!(format!("{}/v1.0/drives/{}/items/{iid}", sh.graph_base(), drive_id(&cid))),
        );
        new_item = Some(item);
    }
    let out = with_ctx(
        format!("{}/v1.0/$metadata#educationSubmission", sh.graph_base()),
        render_submission(s, req),
        Some("#microsoft.graph.educationSubmission"),
    );
    if let Some(i) = new_item {
        t.drive_items.entry(cid).or_default().push(i);
    }
    Ok(ok_json(req, 200, out))
}

// ---------------------------------------------------------------- grading (issue 15)

const GRADE_W_D: &[&str] = &["EduAssignments.ReadWriteBasic", "EduAssignments.ReadWrite"];

fn outcome_id(sid: &str, kind: &str) -> String {
    det_id(&format!("outcome/{sid}/{kind}"))
}

fn max_points(a: &Assignment) -> Option<f64> {
    a.props.get("grading")?.get("maxPoints")?.as_f64()
}

fn rubric_of<'a>(t: &'a Tenant, aid: &str) -> Option<&'a Value> {
    t.assignment_rubrics.get(aid).and_then(|r| t.rubrics.get(r))
}

fn public_rubric(r: &Value) -> Value {
    let mut r = r.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("_owner");
    }
    r
}

/// A submission's outcomes: feedback always, points when the assignment has points, rubric
/// when it has a rubric. Plain properties are the teacher's drafts, `published*` what was
/// returned.
pub fn render_outcomes(t: &Tenant, a: &Assignment, s: &Submission) -> Vec<Value> {
    let g = |k: &str| s.grades.get(k).cloned().unwrap_or(Value::Null);
    let modified = |kind: &str| match s.grades.get(&format!("{kind}Modified")) {
        Some(m) => (m.get("at").cloned().unwrap_or(Value::Null), m.get("by").cloned().unwrap_or(Value::Null)),
        None => (Value::Null, Value::Null),
    };
    let mut out = vec![];
    let (at, by) = modified("feedback");
    out.push(json!({"@odata.type": "#microsoft.graph.educationFeedbackOutcome", "lastModifiedDateTime": at,
        "id": outcome_id(&s.id, "feedback"), "lastModifiedBy": by, "feedback": g("feedback"), "publishedFeedback": g("publishedFeedback")}));
    if max_points(a).is_some() {
        let (at, by) = modified("points");
        out.push(json!({"@odata.type": "#microsoft.graph.educationPointsOutcome", "lastModifiedDateTime": at,
            "id": outcome_id(&s.id, "points"), "lastModifiedBy": by, "points": g("points"), "publishedPoints": g("publishedPoints")}));
    }
    if let Some(r) = rubric_of(t, &a.id) {
        let qualities: Vec<Value> = r
            .get("qualities")
            .and_then(Value::as_array)
            .map(|qs| qs.iter().filter_map(|q| q.get("qualityId").cloned()).collect())
            .unwrap_or_default();
        let fb: Vec<Value> = qualities.iter().map(|q| json!({"qualityId": q, "feedback": null})).collect();
        let lv: Vec<Value> = qualities.iter().map(|q| json!({"qualityId": q, "columnId": null})).collect();
        let pick = |k: &str, d: &[Value]| match s.grades.get(k) {
            Some(v @ Value::Array(_)) => v.clone(),
            _ => Value::Array(d.to_vec()),
        };
        let (at, by) = modified("rubric");
        out.push(json!({"@odata.type": "#microsoft.graph.educationRubricOutcome", "lastModifiedDateTime": at,
            "id": outcome_id(&s.id, "rubric"), "lastModifiedBy": by,
            "rubricQualityFeedback": pick("rubricQualityFeedback", &fb),
            "rubricQualitySelectedLevels": pick("rubricQualitySelectedLevels", &lv),
            "publishedRubricQualityFeedback": pick("publishedRubricQualityFeedback", &fb),
            "publishedRubricQualitySelectedLevels": pick("publishedRubricQualitySelectedLevels", &lv)}));
    }
    out
}

/// `400 invalidGrading`, as in educationoutcome-update.md.
fn invalid_grading(req: &GReq) -> GResult {
    Ok(ok_json(
        req,
        400,
        json!({"error": {"code": "badRequest", "message": "Bad request.", "innerError": {"code": "invalidGrading",
            "message": "Points must be less than 9999999 when using PointsGradeType.", "date": inner_error_date(),
            "request-id": new_id(), "client-request-id": req.header("client-request-id").unwrap_or_default()}}}),
    ))
}

fn patch_outcome(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(GRADE_W_D, SUB_W_A)?;
    let body = req.json_body()?;
    let (cid, aid, sid, oid) = (
        p.first().cloned().unwrap_or_default(),
        p.get(1).cloned().unwrap_or_default(),
        p.get(2).cloned().unwrap_or_default(),
        p.get(3).cloned().unwrap_or_default(),
    );
    // educationoutcome-update.md: the published* properties are for internal use; they are
    // set when the submission is returned.
    if body.as_object().is_some_and(|o| o.keys().any(|k| k.starts_with("published"))) {
        return Err(GErr::bad("invalidRequest", "Published properties cannot be updated; return the submission."));
    }
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let g = class(t, ctx, &cid)?;
    if !(is_teacher(g, ctx) || ctx.app_only()) {
        return Err(GErr::new(403, "AccessDenied", "Only teachers can update outcomes."));
    }
    let has_rubric = t.assignment_rubrics.contains_key(&aid);
    let a = t
        .assignments
        .get_mut(&aid)
        .filter(|a| a.class_id == cid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{aid}' not found.")))?;
    let points_graded = max_points(a).is_some();
    let s = a
        .submissions
        .iter_mut()
        .find(|s| s.id == sid)
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{sid}' not found.")))?;
    let kind = [("feedback", true), ("points", points_graded), ("rubric", has_rubric)]
        .into_iter()
        .find(|(k, exists)| *exists && outcome_id(&s.id, k) == oid)
        .map(|(k, _)| k)
        .ok_or_else(|| GErr::new(404, "20241", format!("Outcome '{oid}' was not found.")))?;
    let by = identity_set(Some((ctx.user.as_deref().unwrap_or(ctx.client_id.as_str()), None)));
    let now = iso_now();
    match kind {
        "feedback" => match body.get("feedback") {
            Some(Value::Null) => {
                s.grades.insert("feedback".into(), Value::Null);
            }
            Some(f) => {
                let text = f.get("text").cloned().unwrap_or(Value::Null);
                s.grades.insert("feedback".into(), json!({"feedbackDateTime": now, "text": text, "feedbackBy": by}));
            }
            None => {}
        },
        "points" => match body.get("points") {
            Some(Value::Null) => {
                s.grades.insert("points".into(), Value::Null);
            }
            Some(pg) => {
                let Some(x) =
                    pg.get("points").and_then(Value::as_f64).filter(|x| x.is_finite() && *x >= 0.0 && *x < 9_999_999.0)
                else {
                    return invalid_grading(req);
                };
                s.grades.insert(
                    "points".into(),
                    json!({"@odata.type": "#microsoft.graph.educationAssignmentPointsGrade", "points": x, "gradedDateTime": now, "gradedBy": by}),
                );
            }
            None => {}
        },
        _ => {
            for k in ["rubricQualityFeedback", "rubricQualitySelectedLevels"] {
                if let Some(v) = body.get(k) {
                    if !v.is_array() {
                        return Err(GErr::bad("invalidRequest", format!("{k} must be a collection.")));
                    }
                    s.grades.insert(k.into(), v.clone());
                }
            }
        }
    }
    s.grades.insert(format!("{kind}Modified"), json!({"at": now, "by": by}));
    let st = &*st;
    let t = tenant(st, ctx)?;
    let a = t.assignments.get(&aid).ok_or_else(|| GErr::not_found(&aid))?;
    let s = find_sub(a, &sid)?;
    let out = render_outcomes(t, a, s).into_iter().find(|o| o.get("id").and_then(Value::as_str) == Some(oid.as_str()));
    Ok(ok_json(req, 200, out.unwrap_or(Value::Null)))
}

fn text_body(v: Option<&Value>) -> Value {
    match v {
        Some(b @ Value::Object(_)) => b.clone(),
        _ => json!({"content": "", "contentType": "text"}),
    }
}

fn create_rubric(sh: &Shared, req: &GReq, ctx: &Ctx) -> GResult {
    // educationuser-post-rubrics.md: delegated only.
    ctx.need(GRADE_W_D, &[])?;
    let me = ctx.me()?.to_string();
    let body = req.json_body()?;
    let name = body.get("displayName").and_then(Value::as_str).map(str::trim).unwrap_or_default();
    let levels = body.get("levels").and_then(Value::as_array).cloned().unwrap_or_default();
    let qualities = body.get("qualities").and_then(Value::as_array).cloned().unwrap_or_default();
    if name.is_empty() || levels.is_empty() || qualities.is_empty() {
        return Err(GErr::bad("invalidRequest", "A rubric needs a displayName, levels and qualities."));
    }
    if qualities.iter().any(|q| q.get("criteria").and_then(Value::as_array).map(Vec::len) != Some(levels.len())) {
        return Err(GErr::bad("invalidRequest", "Each quality needs one criterion per level."));
    }
    let points = levels.iter().any(|l| l.get("grading").is_some_and(|g| !g.is_null()));
    let levels: Vec<Value> = levels
        .iter()
        .map(|l| {
            let mut v = json!({"levelId": new_id(), "displayName": l.get("displayName").cloned().unwrap_or(Value::Null),
                "description": text_body(l.get("description"))});
            if let (Some(o), Some(g)) = (v.as_object_mut(), l.get("grading").filter(|g| !g.is_null())) {
                o.insert("grading".into(), g.clone());
            }
            v
        })
        .collect();
    let qualities: Vec<Value> = qualities
        .iter()
        .map(|q| {
            let criteria: Vec<Value> = q
                .get("criteria")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| json!({"id": new_id(), "description": text_body(c.get("description"))}))
                .collect();
            json!({"qualityId": new_id(), "weight": q.get("weight").cloned().unwrap_or(Value::Null),
                "description": text_body(q.get("description")), "criteria": criteria})
        })
        .collect();
    let id = new_id();
    let now = iso_now();
    let mut r = json!({"displayName": name, "id": id, "description": text_body(body.get("description")), "levels": levels,
        "qualities": qualities, "createdDateTime": now, "lastModifiedDateTime": now,
        "createdBy": identity_set(Some((&me, None))), "lastModifiedBy": identity_set(Some((&me, None)))});
    if let Some(o) = r.as_object_mut() {
        if points {
            o.insert(
                "grading".into(),
                json!({"@odata.type": "#microsoft.graph.educationAssignmentPointsGradeType", "maxPoints": 100}),
            );
        }
        o.insert("_owner".into(), json!(me));
    }
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    t.rubrics.insert(id, r.clone());
    let out =
        with_ctx(format!("{}/v1.0/$metadata#education/me/rubrics/$entity", sh.graph_base()), public_rubric(&r), None);
    Ok(ok_json(req, 201, out))
}

fn list_rubrics(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(ASG_R_D, &[])?;
    let me = ctx.me()?.to_string();
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let mut items: Vec<Value> = t
        .rubrics
        .values()
        .filter(|r| r.get("_owner").and_then(Value::as_str) == Some(me.as_str()))
        .map(public_rubric)
        .collect();
    items.sort_by(|a, b| a["createdDateTime"].as_str().cmp(&b["createdDateTime"].as_str()));
    collection(sh, req, q, "education/me/rubrics", items, 100, 999)
}

fn get_rubric(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, &[])?;
    let me = ctx.me()?.to_string();
    let rid = p.first().cloned().unwrap_or_default();
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let r = t
        .rubrics
        .get(&rid)
        .filter(|r| r.get("_owner").and_then(Value::as_str) == Some(me.as_str()))
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{rid}' not found.")))?;
    Ok(ok_json(
        req,
        200,
        with_ctx(format!("{}/v1.0/$metadata#education/me/rubrics/$entity", sh.graph_base()), public_rubric(r), None),
    ))
}

/// The last segment of an `@odata.id` after `/{collection}/`.
fn ref_id(body: &Value, collection: &str) -> Result<String, GErr> {
    let url = body.get("@odata.id").and_then(Value::as_str).unwrap_or_default();
    let needle = format!("/{collection}/");
    url.rfind(&needle)
        .map(|i| url[i + needle.len()..].trim_end_matches('/').to_string())
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| GErr::bad("invalidRequest", format!("@odata.id must name a {collection} entry.")))
}

fn teacher_assignment(t: &Tenant, ctx: &Ctx, cid: &str, aid: &str) -> Result<(), GErr> {
    let g = class(t, ctx, cid)?;
    if !(is_teacher(g, ctx) || ctx.app_only()) {
        return Err(GErr::new(403, "AccessDenied", "Only teachers can do this."));
    }
    t.assignments
        .get(aid)
        .filter(|a| a.class_id == cid)
        .map(|_| ())
        .ok_or_else(|| GErr::new(404, "ResourceNotFound", format!("Resource '{aid}' not found.")))
}

fn put_rubric_ref(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(GRADE_W_D, &[])?;
    let me = ctx.me()?.to_string();
    let body = req.json_body()?;
    let rid = ref_id(&body, "rubrics")?;
    let (cid, aid) = (p.first().cloned().unwrap_or_default(), p.get(1).cloned().unwrap_or_default());
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    teacher_assignment(t, ctx, &cid, &aid)?;
    if t.rubrics.get(&rid).is_none_or(|r| r.get("_owner").and_then(Value::as_str) != Some(me.as_str())) {
        return Err(GErr::new(404, "ResourceNotFound", format!("Resource '{rid}' not found.")));
    }
    t.assignment_rubrics.insert(aid, rid);
    Ok(no_content(req, 204))
}

fn delete_rubric_ref(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(GRADE_W_D, &[])?;
    let (cid, aid) = (p.first().cloned().unwrap_or_default(), p.get(1).cloned().unwrap_or_default());
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    teacher_assignment(t, ctx, &cid, &aid)?;
    t.assignment_rubrics.remove(&aid);
    Ok(no_content(req, 204))
}

fn get_assignment_rubric(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let (_, a) = assignment(t, ctx, p)?;
    let r = rubric_of(t, &a.id).ok_or_else(|| GErr::new(404, "ResourceNotFound", "The assignment has no rubric."))?;
    let c = asg_ctx(sh, &a.class_id, Some(&a.id), "/rubric/$entity");
    Ok(ok_json(req, 200, with_ctx(c, public_rubric(r), None)))
}

fn settings_value(t: &Tenant, cid: &str) -> Value {
    t.class_settings
        .get(cid)
        .cloned()
        .unwrap_or_else(|| json!({"submissionAnimationDisabled": false, "gradingCategories": []}))
}

fn get_settings(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(ASG_R_D, ASG_R_A)?;
    let cid = p.first().cloned().unwrap_or_default();
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    class(t, ctx, &cid)?;
    let mut v = settings_value(t, &cid);
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "gradingCategories@odata.context".into(),
            json!(format!(
                "{}/v1.0/$metadata#education/classes('{cid}')/assignmentSettings/gradingCategories",
                sh.graph_base()
            )),
        );
    }
    let c = format!("{}/v1.0/$metadata#education/classes('{cid}')/assignmentSettings/$entity", sh.graph_base());
    Ok(ok_json(req, 200, with_ctx(c, v, None)))
}

fn patch_settings(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(GRADE_W_D, SUB_W_A)?;
    let body = req.json_body()?;
    let cid = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    let g = class(t, ctx, &cid)?;
    if !(is_teacher(g, ctx) || ctx.app_only()) {
        return Err(GErr::new(403, "AccessDenied", "Only teachers can update settings."));
    }
    let mut v = settings_value(t, &cid);
    let mut cats: Vec<Value> = v.get("gradingCategories").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(b) = body.get("submissionAnimationDisabled") {
        v["submissionAnimationDisabled"] = b.clone();
    }
    let new_cat = |c: &Value| {
        json!({"id": new_id(), "displayName": c.get("displayName").cloned().unwrap_or(Value::Null),
            "percentageWeight": c.get("percentageWeight").cloned().unwrap_or(json!(0))})
    };
    if let Some(list) = body.get("gradingCategories").and_then(Value::as_array) {
        cats = list.iter().map(new_cat).collect();
    }
    for d in body.get("gradingCategories@delta").and_then(Value::as_array).into_iter().flatten() {
        match d.get("id").and_then(Value::as_str) {
            Some(id) if d.get("reason").and_then(Value::as_str) == Some("deleted") => {
                cats.retain(|c| c["id"].as_str() != Some(id));
            }
            Some(id) => {
                if let Some(c) = cats.iter_mut().find(|c| c["id"].as_str() == Some(id)) {
                    for k in ["displayName", "percentageWeight"] {
                        if let Some(x) = d.get(k) {
                            c[k] = x.clone();
                        }
                    }
                }
            }
            None => cats.push(new_cat(d)),
        }
    }
    let total: i64 = cats.iter().filter_map(|c| c["percentageWeight"].as_i64()).sum();
    if !cats.is_empty() && total != 100 {
        return Err(GErr::bad(
            "invalidRequest",
            "The percentage weights of the grading categories must add up to 100.",
        ));
    }
    v["gradingCategories"] = Value::Array(cats);
    t.class_settings.insert(cid.clone(), v.clone());
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "gradingCategories@odata.context".into(),
            json!(format!(
                "{}/v1.0/$metadata#education/classes('{cid}')/assignmentSettings/gradingCategories",
                sh.graph_base()
            )),
        );
    }
    let c = format!("{}/v1.0/$metadata#education/classes('{cid}')/assignmentSettings/$entity", sh.graph_base());
    Ok(ok_json(req, 200, with_ctx(c, v, None)))
}

fn put_category_ref(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(GRADE_W_D, SUB_W_A)?;
    let body = req.json_body()?;
    let cat = ref_id(&body, "gradingCategories")?;
    let (cid, aid) = (p.first().cloned().unwrap_or_default(), p.get(1).cloned().unwrap_or_default());
    let mut st = sh.write();
    let t = st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))?;
    teacher_assignment(t, ctx, &cid, &aid)?;
    let known = settings_value(t, &cid)
        .get("gradingCategories")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["id"].as_str() == Some(cat.as_str())));
    if !known {
        return Err(GErr::new(404, "ResourceNotFound", format!("Resource '{cat}' not found.")));
    }
    t.assignment_categories.insert(aid, cat);
    Ok(no_content(req, 204))
}
