//! Self-service profile edits (seed 000) and mail to a class (seed 004).

use std::collections::HashSet;

use actix_web::{HttpResponse, get, post, put, web};
use edu_msgraph::models::{ItemBody, MailMessage, Recipient, SendMailRequest, User};
use edu_msgraph::{GraphAuth, UserUpdate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::class_access::{DelegatedGraph, MailClass, TeacherOfClass};
use crate::auth::roles::{TenantAdmin, TenantMember};
use crate::error::{ApiError, ErrorCode};
use crate::services::classes::ClassPerson;
use crate::services::graph;
use crate::state::AppState;

/// Profile fields a tenant admin may open for self-service, with their longest value.
pub const PROFILE_FIELDS: [(&str, usize); 8] = [
    ("mobilePhone", 64),
    ("businessPhones", 64),
    ("streetAddress", 128),
    ("city", 64),
    ("state", 64),
    ("postalCode", 16),
    ("country", 64),
    ("officeLocation", 128),
];

/// Mails a teacher may send per hour (all instances together).
const MAILS_PER_HOUR: i64 = 20;

/// `GET|PUT /api/admin/profile-fields`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileFieldsConfig {
    /// Fields people may edit themselves (a subset of `available`).
    #[schema(value_type = Vec<ProfileField>)]
    pub editable: Vec<String>,
    /// Every field that can be opened (ignored on PUT).
    #[serde(default)]
    #[schema(value_type = Vec<ProfileField>)]
    pub available: Vec<String>,
}

/// A Microsoft profile field a tenant admin can open for self-service editing
/// ([`PROFILE_FIELDS`]; documentation of the wire names).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum ProfileField {
    MobilePhone,
    BusinessPhones,
    StreetAddress,
    City,
    State,
    PostalCode,
    Country,
    OfficeLocation,
}

/// The changes of `POST /api/me/profile` (documentation of the server's limits, checked by
/// `valid_value`): `null` or an empty string clears a field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
#[allow(dead_code, non_snake_case)]
pub struct ProfileChanges {
    /// Digits, spaces and `+ ( ) - . / x`.
    #[schema(max_length = 64, pattern = r"^[0-9 +()./x-]*$")]
    mobilePhone: Option<String>,
    /// The first business phone: digits, spaces and `+ ( ) - . / x`.
    #[schema(max_length = 64, pattern = r"^[0-9 +()./x-]*$")]
    businessPhones: Option<String>,
    /// Street address.
    #[schema(max_length = 128, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    streetAddress: Option<String>,
    /// City.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    city: Option<String>,
    /// State or province.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    state: Option<String>,
    /// Letters, digits, spaces and `-`.
    #[schema(max_length = 16, pattern = r"^[A-Za-z0-9 -]*$")]
    postalCode: Option<String>,
    /// Country.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    country: Option<String>,
    /// Office.
    #[schema(max_length = 128, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    officeLocation: Option<String>,
}

/// `GET /api/me/profile`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyProfileResponse {
    /// Fields you may edit.
    pub editable: Vec<String>,
    /// Current values of those fields (Microsoft's names; `businessPhones` as its first number).
    pub values: Map<String, Value>,
}

/// `POST /api/me/profile`: the fields to change (`null` clears one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChangeRequest {
    /// Field → new value.
    #[schema(value_type = ProfileChanges)]
    pub changes: Map<String, Value>,
}

fn available() -> Vec<String> {
    PROFILE_FIELDS.iter().map(|(f, _)| (*f).to_owned()).collect()
}

async fn audit(
    state: &AppState,
    member: &TenantMember,
    action: &str,
    target: Option<String>,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(member.tenant_id),
            actor: Some(member.auth.user_id),
            action,
            target_type: target.as_ref().map(|_| "object"),
            target_id: target,
            result: "success",
            detail,
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// Which profile fields people of the tenant may edit themselves.
#[utoipa::path(operation_id = "get_profile_fields", tag = "admin", responses((status = 200, body = ProfileFieldsConfig)), security(("session" = [])))]
#[get("/api/admin/profile-fields")]
pub async fn get_profile_fields(
    state: web::Data<AppState>,
    admin: TenantAdmin,
) -> Result<web::Json<ProfileFieldsConfig>, ApiError> {
    let editable = edu_db::tenants::editable_profile_fields(&state.db, admin.0.tenant_id).await?;
    Ok(web::Json(ProfileFieldsConfig { editable, available: available() }))
}

/// Chooses the editable profile fields.
#[utoipa::path(operation_id = "put_profile_fields", tag = "admin", request_body = ProfileFieldsConfig, responses(
    (status = 200, body = ProfileFieldsConfig),
    (status = 422, description = "`unknown_profile_field`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[put("/api/admin/profile-fields")]
pub async fn put_profile_fields(
    state: web::Data<AppState>,
    admin: TenantAdmin,
    body: web::Json<ProfileFieldsConfig>,
) -> Result<web::Json<ProfileFieldsConfig>, ApiError> {
    let mut fields = Vec::new();
    for f in &body.editable {
        let known = PROFILE_FIELDS.iter().find(|(name, _)| name == f).map(|(name, _)| *name).ok_or_else(|| {
            ApiError::Validation422 {
                code: ErrorCode::UnknownProfileField,
                message: format!("Profile fields that can be opened: {}.", available().join(", ")),
            }
        })?;
        if !fields.contains(&known) {
            fields.push(known);
        }
    }
    edu_db::tenants::set_editable_profile_fields(&state.db, admin.0.tenant_id, &fields, state.clock.now_ms()).await?;
    audit(&state, &admin.0, "admin.profile_fields.update", None, Some(&fields.join(","))).await?;
    Ok(web::Json(ProfileFieldsConfig {
        editable: fields.iter().map(|f| (*f).to_owned()).collect(),
        available: available(),
    }))
}

/// Your editable profile fields and their current values.
#[utoipa::path(operation_id = "get_my_profile", tag = "account", responses(
    (status = 200, body = MyProfileResponse),
    (status = 403, description = "`school_account_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/me/profile")]
pub async fn get_my_profile(
    state: web::Data<AppState>,
    caller: DelegatedGraph,
) -> Result<web::Json<MyProfileResponse>, ApiError> {
    my_profile(&state, &caller).await.map(web::Json)
}

/// A profile field's current value (`businessPhones`: its first number).
fn profile_value(me: &User, field: &str) -> Option<String> {
    match field {
        "mobilePhone" => me.mobile_phone.clone(),
        "businessPhones" => me.business_phones.first().cloned(),
        "streetAddress" => me.street_address.clone(),
        "city" => me.city.clone(),
        "state" => me.state.clone(),
        "postalCode" => me.postal_code.clone(),
        "country" => me.country.clone(),
        "officeLocation" => me.office_location.clone(),
        _ => None,
    }
}

async fn my_profile(state: &AppState, caller: &DelegatedGraph) -> Result<MyProfileResponse, ApiError> {
    let editable = edu_db::tenants::editable_profile_fields(&state.db, caller.member.tenant_id).await?;
    let fields: Vec<&str> = PROFILE_FIELDS.iter().map(|(f, _)| *f).collect();
    let me = state.graph.fetch(&caller.auth, graph::my_profile(&fields)).await?;
    let values =
        editable.iter().map(|f| (f.clone(), profile_value(&me, f).map_or(Value::Null, Value::String))).collect();
    Ok(MyProfileResponse { editable, values })
}

/// A new value for a profile field: `None` when it is not valid, `Some(None)` to clear it.
fn valid_value(field: &str, max: usize, v: &Value) -> Option<Option<String>> {
    let s = match v {
        Value::Null => return Some(None),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return None;
    }
    let phone = matches!(field, "mobilePhone" | "businessPhones");
    if phone && !s.chars().all(|c| c.is_ascii_digit() || " +()-./x".contains(c)) {
        return None;
    }
    if field == "postalCode" && !s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') {
        return None;
    }
    Some((!s.is_empty()).then(|| s.to_owned()))
}

/// Changes your own Microsoft profile fields (those your admin opened). The write uses the
/// app's token and only ever your own object id; every change is audited (field names only).
#[utoipa::path(operation_id = "update_my_profile", tag = "account", request_body = ProfileChangeRequest, responses(
    (status = 200, body = MyProfileResponse),
    (status = 403, description = "`field_not_editable`, `school_account_required`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_profile_value`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/me/profile")]
pub async fn update_my_profile(
    state: web::Data<AppState>,
    caller: DelegatedGraph,
    body: web::Json<ProfileChangeRequest>,
) -> Result<web::Json<MyProfileResponse>, ApiError> {
    let member = &caller.member;
    let editable = edu_db::tenants::editable_profile_fields(&state.db, member.tenant_id).await?;
    let mut patch = UserUpdate::default();
    let mut names = Vec::new();
    for (field, value) in &body.changes {
        if !editable.contains(field) {
            return Err(ApiError::forbidden(
                ErrorCode::FieldNotEditable,
                format!("Your school does not let you change {field} here."),
            ));
        }
        let max = PROFILE_FIELDS.iter().find(|(f, _)| f == field).map_or(0, |(_, m)| *m);
        let v = valid_value(field, max, value).ok_or_else(|| ApiError::Validation422 {
            code: ErrorCode::InvalidProfileValue,
            message: format!("The value for {field} is not valid (at most {max} characters; phone numbers only digits and + ( ) - . /)."),
        })?;
        patch.set(field, v);
        names.push(field.as_str());
    }
    if names.is_empty() {
        return Err(ApiError::bad_request(ErrorCode::InvalidJson, "Send at least one change."));
    }
    let app = GraphAuth::app_only(caller.auth.tenant_id().to_owned());
    // Only ever the signed-in person's own object id.
    state.graph.update_user(&app, &caller.oid, &patch).await?;
    let names = names.join(",");
    audit(&state, member, "profile.update", Some(caller.oid.clone()), Some(&names)).await?;
    my_profile(&state, &caller).await.map(web::Json)
}

/// Mail to a class.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassMailRequest {
    /// `class` (everyone), `students`, `teachers`, or `selected` (with `student_ids`).
    #[schema(pattern = "^(class|students|teachers|selected)$")]
    pub audience: String,
    /// For `selected`: students of this class.
    #[serde(default)]
    pub student_ids: Vec<String>,
    /// Subject, 1..=255 characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r#"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"#
    )]
    pub subject: String,
    /// Plain-text body, 1..=20000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
}

/// What was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassMailResponse {
    /// How many people it went to.
    pub recipients: usize,
}

/// A teacher mails their class, its students, some students, or its teachers, from their own
/// mailbox (`/me/sendMail`). Recipients must belong to the class; students are in Bcc (they
/// never see each other's addresses), the teachers in To; at most 20 mails an hour.
#[utoipa::path(operation_id = "send_class_mail", tag = "education", params(("id" = String, Path, description = "Class id")), request_body = ClassMailRequest, responses(
    (status = 202, body = ClassMailResponse),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
    (status = 404, description = "`not_found`", body = crate::error::ErrorBody),
    (status = 422, description = "`invalid_audience`, `not_a_student_of_this_class`, `invalid_mail`, `no_recipients`", body = crate::error::ErrorBody),
    (status = 429, description = "`too_many_requests`", body = crate::error::ErrorBody),
), security(("session" = [], "csrf" = [])))]
#[post("/api/classes/{id}/mail")]
pub async fn send_class_mail(
    state: web::Data<AppState>,
    body: web::Json<ClassMailRequest>,
    teacher: TeacherOfClass<MailClass>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let invalid = |code: ErrorCode, message: &str| ApiError::Validation422 { code, message: message.to_owned() };
    let subject = body.subject.trim();
    if subject.is_empty() || subject.chars().count() > 255 || subject.chars().any(char::is_control) {
        return Err(invalid(ErrorCode::InvalidMail, "Give the mail a subject of at most 255 characters."));
    }
    if body.body.trim().is_empty() || body.body.chars().count() > 20_000 {
        return Err(invalid(ErrorCode::InvalidMail, "Write a message of at most 20,000 characters."));
    }
    let (roster, member, my_oid) = (&teacher.roster, teacher.member(), teacher.oid());
    let students: HashSet<&str> = roster.students.iter().map(|p| p.id.as_str()).collect();
    let people: Vec<&ClassPerson> = match body.audience.as_str() {
        "class" => roster.teachers.iter().chain(roster.students.iter()).collect(),
        "students" => roster.students.iter().collect(),
        "teachers" => roster.teachers.iter().collect(),
        "selected" => {
            if body.student_ids.iter().any(|id| !students.contains(id.as_str())) {
                return Err(invalid(
                    ErrorCode::NotAStudentOfThisClass,
                    "Every recipient must be a student of this class.",
                ));
            }
            roster.students.iter().filter(|p| body.student_ids.contains(&p.id)).collect()
        }
        _ => {
            return Err(invalid(ErrorCode::InvalidAudience, "audience must be class, students, teachers or selected."));
        }
    };
    // Privacy for minors (issue 16.8): students go in Bcc, never visible to each other; the
    // teachers (the sender included, so the class sees who wrote) in To.
    let mailbox = |p: &&ClassPerson| p.mail.clone().map(Recipient::new);
    let others = people.iter().filter(|p| p.id != my_oid);
    let bcc: Vec<Recipient> = others.clone().filter(|p| students.contains(p.id.as_str())).filter_map(mailbox).collect();
    let mut to: Vec<Recipient> = others.filter(|p| !students.contains(p.id.as_str())).filter_map(mailbox).collect();
    let count = to.len() + bcc.len();
    if count == 0 {
        return Err(invalid(ErrorCode::NoRecipients, "Nobody to send to: choose at least one person with a mailbox."));
    }
    to.extend(roster.teachers.iter().filter(|p| p.id == my_oid).filter_map(|p| p.mail.clone()).map(Recipient::new));
    // At most 20 an hour, atomically (issue 17.3): the send is reserved before it happens, so
    // simultaneous sends cannot all pass a count taken before any of them was recorded.
    let key = crate::auth::throttle::account_key("class.mail", &member.auth.user_id.to_string());
    let now = state.clock.now_ms();
    let policy = edu_db::throttle::Policy {
        window_ms: 3_600_000,
        threshold: MAILS_PER_HOUR,
        base_lock_ms: 3_600_000,
        max_lock_ms: 3_600_000,
    };
    if let edu_db::throttle::Reservation::Refused { until } =
        edu_db::throttle::reserve(&state.db, &key, now, policy).await?
    {
        let ms = u64::try_from(until - now).unwrap_or(1000).max(1000);
        return Err(ApiError::TooManyRequests { retry_after: std::time::Duration::from_millis(ms) });
    }
    let mail = SendMailRequest {
        message: MailMessage {
            subject: subject.to_owned(),
            body: ItemBody { content_type: Some("Text".into()), content: Some(body.body) },
            to_recipients: to,
            bcc_recipients: bcc,
            ..MailMessage::default()
        },
        save_to_sent_items: Some(true),
    };
    if let Err(e) = state.graph.send_mail(teacher.auth(), None, &mail).await {
        // Not sent: the reservation is given back.
        edu_db::throttle::release(&state.db, &key).await?;
        return Err(e.into());
    }
    let class_id = teacher.class_id.to_string();
    audit(&state, member, "class.mail", Some(class_id), Some(&format!("recipients={count}"))).await?;
    Ok(HttpResponse::Accepted().json(ClassMailResponse { recipients: count }))
}
