//! Typed models for the Graph resources the product uses. Only the fields we
//! use are modelled; unknown fields are ignored (Graph adds properties over
//! time). Optional values are `Option`, collections default to empty.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// A collection page.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(default, rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
    /// Only on the first page, and only with `$count=true` + `ConsistencyLevel`.
    #[serde(default, rename = "@odata.count")]
    pub count: Option<i64>,
    #[serde(default, rename = "@odata.context")]
    pub context: Option<String>,
}

/// `identity` inside an `identitySet`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `identitySet` (education serializes empty ones as nulls inside).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySet {
    #[serde(default)]
    pub application: Option<Identity>,
    #[serde(default)]
    pub device: Option<Identity>,
    #[serde(default)]
    pub user: Option<Identity>,
}

impl IdentitySet {
    /// The user id, if a user is set.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().and_then(|u| u.id.as_deref())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    #[serde(default)]
    pub disabled_plans: Vec<String>,
    pub sku_id: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectIdentity {
    #[serde(default)]
    pub sign_in_type: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub issuer_assigned_id: Option<String>,
}

/// `user` (directory). `id` is empty when not `$select`ed.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    #[serde(default)]
    pub preferred_language: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub usage_location: Option<String>,
    #[serde(default)]
    pub street_address: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub employee_id: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub other_mails: Vec<String>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
    #[serde(default)]
    pub identities: Vec<ObjectIdentity>,
}

/// Fields selected by the typed user helpers when the caller passes none.
pub const USER_SELECT: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "jobTitle",
    "department",
    "mobilePhone",
    "accountEnabled",
    "userType",
    "usageLocation",
];

/// A `directoryObject` (manager, members, memberOf): user, group,
/// orgContact, directoryRole, servicePrincipal...
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    /// directoryRole only.
    #[serde(default)]
    pub role_template_id: Option<String>,
}

impl DirectoryObject {
    pub fn is_user(&self) -> bool {
        self.odata_type.as_deref() == Some("#microsoft.graph.user")
    }
    pub fn is_group(&self) -> bool {
        self.odata_type.as_deref() == Some("#microsoft.graph.group")
    }
    pub fn is_directory_role(&self) -> bool {
        self.odata_type.as_deref() == Some("#microsoft.graph.directoryRole")
    }
}

/// Result of `GET /me?$expand=manager($levels=max;$select=id,displayName)`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ManagerChain {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub manager: Option<Box<ManagerChain>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssignLicenseRequest {
    pub add_licenses: Vec<AssignedLicense>,
    pub remove_licenses: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LicenseUnits {
    #[serde(default)]
    pub enabled: i64,
    #[serde(default)]
    pub locked_out: i64,
    #[serde(default)]
    pub suspended: i64,
    #[serde(default)]
    pub warning: i64,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlanInfo {
    #[serde(default)]
    pub service_plan_id: Option<String>,
    #[serde(default)]
    pub service_plan_name: Option<String>,
    #[serde(default)]
    pub provisioning_status: Option<String>,
    #[serde(default)]
    pub applies_to: Option<String>,
}

/// `subscribedSku`; `id` is `{tenantId}_{skuId}`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub id: String,
    pub sku_id: String,
    #[serde(default)]
    pub sku_part_number: Option<String>,
    #[serde(default)]
    pub applies_to: Option<String>,
    #[serde(default)]
    pub capability_status: Option<String>,
    #[serde(default)]
    pub consumed_units: i64,
    #[serde(default)]
    pub prepaid_units: Option<LicenseUnits>,
    #[serde(default)]
    pub service_plans: Vec<ServicePlanInfo>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub subscription_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub group_types: Vec<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub resource_provisioning_options: Vec<String>,
}

pub const GROUP_SELECT: &[&str] = &[
    "id",
    "displayName",
    "description",
    "mail",
    "mailNickname",
    "groupTypes",
    "securityEnabled",
    "mailEnabled",
    "visibility",
];

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    pub is_initial: Option<bool>,
}

/// `organization` (the tenant).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub service_principal_type: Option<String>,
    #[serde(default)]
    pub app_role_assignment_required: Option<bool>,
}

fn ser_secret_opt<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(secret) => s.serialize_some(secret.expose_secret()),
        None => s.serialize_none(),
    }
}

/// `passwordProfile` (write-only use). `Debug` redacts the password.
#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_change_password_next_sign_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_change_password_next_sign_in_with_mfa: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_secret_opt")]
    pub password: Option<SecretString>,
}

impl fmt::Debug for PasswordProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordProfile")
            .field("force_change_password_next_sign_in", &self.force_change_password_next_sign_in)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Body of `POST /users`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub account_enabled: bool,
    pub display_name: String,
    pub mail_nickname: String,
    pub user_principal_name: String,
    pub password_profile: PasswordProfile,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
}

/// `itemBody`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: EmailAddress,
}

impl Recipient {
    pub fn new(address: impl Into<String>) -> Self {
        Recipient { email_address: EmailAddress { address: address.into(), name: None } }
    }
}

/// `#microsoft.graph.fileAttachment`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileAttachment {
    #[serde(rename = "@odata.type", default = "file_attachment_type")]
    pub odata_type: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// base64.
    pub content_bytes: String,
}

fn file_attachment_type() -> String {
    "#microsoft.graph.fileAttachment".to_owned()
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MailMessage {
    pub subject: String,
    pub body: ItemBody,
    #[serde(default)]
    pub to_recipients: Vec<Recipient>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc_recipients: Vec<Recipient>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc_recipients: Vec<Recipient>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileAttachment>,
}

/// Body of `POST /users/{id}/sendMail`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SendMailRequest {
    pub message: MailMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to_sent_items: Option<bool>,
}

/// `profilePhoto` metadata.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePhoto {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    #[serde(default, rename = "@odata.mediaContentType")]
    pub media_content_type: Option<String>,
}

/// Raw photo bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Photo").field("content_type", &self.content_type).field("len", &self.bytes.len()).finish()
    }
}

// ----------------------------------------------------------------------------
// Education
// ----------------------------------------------------------------------------

/// `educationUser.primaryRole`; unknown values (incl. `unknownFutureValue`)
/// map to `Unknown`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PrimaryRole {
    Student,
    Teacher,
    None,
    #[default]
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalAddress {
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_or_region: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationStudent {
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub student_number: Option<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub graduation_year: Option<String>,
    /// `Edm.Date` (docs sometimes show a date-time).
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationTeacher {
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub teacher_number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationOnPremisesInfo {
    #[serde(default)]
    pub immutable_id: Option<String>,
}

/// `educationUser` (same `id` as the directory user).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationUser {
    pub id: String,
    #[serde(default)]
    pub primary_role: PrimaryRole,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub external_source: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
    #[serde(default)]
    pub student: Option<EducationStudent>,
    #[serde(default)]
    pub teacher: Option<EducationTeacher>,
    #[serde(default)]
    pub on_premises_info: Option<EducationOnPremisesInfo>,
    #[serde(default)]
    pub mailing_address: Option<PhysicalAddress>,
    #[serde(default)]
    pub residence_address: Option<PhysicalAddress>,
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
}

pub const EDUCATION_USER_SELECT: &[&str] = &[
    "id",
    "primaryRole",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "accountEnabled",
    "userType",
    "student",
    "teacher",
    "externalSource",
];

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationSchool {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub external_source: Option<String>,
    #[serde(default)]
    pub principal_email: Option<String>,
    #[serde(default)]
    pub principal_name: Option<String>,
    #[serde(default)]
    pub external_principal_id: Option<String>,
    #[serde(default)]
    pub lowest_grade: Option<String>,
    #[serde(default)]
    pub highest_grade: Option<String>,
    #[serde(default)]
    pub school_number: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub address: Option<PhysicalAddress>,
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
}

pub const EDUCATION_SCHOOL_SELECT: &[&str] = &[
    "id",
    "displayName",
    "description",
    "externalSource",
    "principalEmail",
    "principalName",
    "lowestGrade",
    "highestGrade",
    "schoolNumber",
    "externalId",
    "phone",
    "address",
];

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationTerm {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
}

/// `educationClass`; `id` is the Microsoft 365 group id.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationClass {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub class_code: Option<String>,
    #[serde(default)]
    pub external_name: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub external_source: Option<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub term: Option<EducationTerm>,
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
}

pub const EDUCATION_CLASS_SELECT: &[&str] = &[
    "id",
    "displayName",
    "mailNickname",
    "description",
    "classCode",
    "externalName",
    "externalId",
    "externalSource",
    "grade",
    "term",
];

/// `educationAssignment.status`. `inactive` only comes back with
/// `Prefer: include-unknown-enum-members`; unknown values map to `Unknown`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AssignmentStatus {
    Draft,
    Scheduled,
    Published,
    Assigned,
    Inactive,
    UnknownFutureValue,
    #[default]
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationAssignment {
    pub id: String,
    #[serde(default)]
    pub class_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub status: AssignmentStatus,
    #[serde(default)]
    pub instructions: Option<ItemBody>,
    #[serde(default)]
    pub due_date_time: Option<String>,
    #[serde(default)]
    pub assign_date_time: Option<String>,
    #[serde(default)]
    pub assigned_date_time: Option<String>,
    #[serde(default)]
    pub close_date_time: Option<String>,
    #[serde(default)]
    pub allow_late_submissions: Option<bool>,
    #[serde(default)]
    pub allow_students_to_add_resources_to_submission: Option<bool>,
    /// e.g. `{"@odata.type":"#microsoft.graph.educationAssignmentPointsGradeType","maxPoints":100}`.
    #[serde(default)]
    pub grading: Option<serde_json::Value>,
    #[serde(default)]
    pub assign_to: Option<serde_json::Value>,
    #[serde(default)]
    pub resources_folder_url: Option<String>,
    #[serde(default)]
    pub feedback_resources_folder_url: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub add_to_calendar_action: Option<String>,
    #[serde(default)]
    pub added_student_action: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub last_modified_date_time: Option<String>,
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    /// Only with `$expand=resources`.
    #[serde(default)]
    pub resources: Option<Vec<EducationAssignmentResource>>,
    /// Only with `$expand=submissions` (a student's own; `null` for teachers).
    #[serde(default)]
    pub submissions: Option<Vec<EducationSubmission>>,
}

impl EducationAssignment {
    /// The maximum points, when the assignment is graded with points.
    pub fn max_points(&self) -> Option<f64> {
        self.grading.as_ref()?.get("maxPoints")?.as_f64()
    }
}

pub const EDUCATION_ASSIGNMENT_SELECT: &[&str] = &[
    "id",
    "classId",
    "displayName",
    "status",
    "instructions",
    "dueDateTime",
    "assignDateTime",
    "assignedDateTime",
    "closeDateTime",
    "allowLateSubmissions",
    "allowStudentsToAddResourcesToSubmission",
    "grading",
    "assignTo",
    "resourcesFolderUrl",
    "webUrl",
    "createdDateTime",
    "lastModifiedDateTime",
    "createdBy",
    "lastModifiedBy",
];

/// Body of `POST /education/classes/{id}/assignments` (created as draft).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NewAssignment {
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<ItemBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<serde_json::Value>,
    /// Defaults to the whole class.
    pub assign_to: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_students_to_add_resources_to_submission: Option<bool>,
}

impl NewAssignment {
    /// A draft assignment for the whole class.
    pub fn for_class(display_name: impl Into<String>) -> Self {
        NewAssignment {
            display_name: display_name.into(),
            instructions: None,
            due_date_time: None,
            close_date_time: None,
            grading: None,
            assign_to: serde_json::json!({
                "@odata.type": "#microsoft.graph.educationAssignmentClassRecipient"
            }),
            status: Some("draft".to_owned()),
            allow_students_to_add_resources_to_submission: None,
        }
    }
}

/// `educationSubmission.status`; `excused`/`reassigned` only with
/// `Prefer: include-unknown-enum-members`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SubmissionStatus {
    Working,
    Submitted,
    Returned,
    Reassigned,
    Excused,
    UnknownFutureValue,
    #[default]
    #[serde(other)]
    Unknown,
}

/// `educationFeedback`: a teacher's written feedback on a submission.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationFeedback {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ItemBody>,
    /// Set by Microsoft.
    #[serde(default, skip_serializing)]
    pub feedback_date_time: Option<String>,
    /// Set by Microsoft.
    #[serde(default, skip_serializing)]
    pub feedback_by: Option<IdentitySet>,
}

/// `educationAssignmentPointsGrade`: the points given.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationPointsGrade {
    #[serde(default, rename = "@odata.type", skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub points: Option<f64>,
    /// Set by Microsoft.
    #[serde(default, skip_serializing)]
    pub graded_date_time: Option<String>,
    /// Set by Microsoft.
    #[serde(default, skip_serializing)]
    pub graded_by: Option<IdentitySet>,
}

impl EducationPointsGrade {
    /// A grade of `points`, typed as Graph expects it in a PATCH.
    pub fn of(points: f64) -> Self {
        Self {
            odata_type: Some("#microsoft.graph.educationAssignmentPointsGrade".to_owned()),
            points: Some(points),
            ..Self::default()
        }
    }
}

/// `rubricQualityFeedbackModel`: feedback on one quality of a rubric.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RubricQualityFeedback {
    pub quality_id: String,
    #[serde(default)]
    pub feedback: Option<ItemBody>,
}

/// `rubricQualitySelectedColumnModel`: the level chosen for one quality (`columnId` is the
/// rubric level's `levelId`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RubricQualitySelectedLevel {
    pub quality_id: String,
    #[serde(default)]
    pub column_id: Option<String>,
}

/// An outcome of a submission: `educationFeedbackOutcome` (feedback), `educationPointsOutcome`
/// (points), `educationRubricOutcome` (rubric levels and feedback) or
/// `educationFeedbackResourceOutcome` (a feedback file). The plain properties are the teacher's
/// latest (draft) values; the `published*` ones are what the student was last given back.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationOutcome {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: String,
    #[serde(default)]
    pub last_modified_date_time: Option<String>,
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    #[serde(default)]
    pub feedback: Option<EducationFeedback>,
    #[serde(default)]
    pub published_feedback: Option<EducationFeedback>,
    #[serde(default)]
    pub points: Option<EducationPointsGrade>,
    #[serde(default)]
    pub published_points: Option<EducationPointsGrade>,
    #[serde(default)]
    pub rubric_quality_feedback: Option<Vec<RubricQualityFeedback>>,
    #[serde(default)]
    pub rubric_quality_selected_levels: Option<Vec<RubricQualitySelectedLevel>>,
    #[serde(default)]
    pub published_rubric_quality_feedback: Option<Vec<RubricQualityFeedback>>,
    #[serde(default)]
    pub published_rubric_quality_selected_levels: Option<Vec<RubricQualitySelectedLevel>>,
    #[serde(default)]
    pub feedback_resource: Option<EducationResource>,
    #[serde(default)]
    pub resource_status: Option<String>,
}

/// Which kind of outcome it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Feedback,
    Points,
    Rubric,
    FeedbackResource,
    Other,
}

impl EducationOutcome {
    /// The kind, from `@odata.type`.
    pub fn kind(&self) -> OutcomeKind {
        match self.odata_type.as_deref().unwrap_or_default().trim_start_matches("#microsoft.graph.") {
            "educationFeedbackOutcome" => OutcomeKind::Feedback,
            "educationPointsOutcome" => OutcomeKind::Points,
            "educationRubricOutcome" => OutcomeKind::Rubric,
            "educationFeedbackResourceOutcome" => OutcomeKind::FeedbackResource,
            _ => OutcomeKind::Other,
        }
    }
}

/// Body of `PATCH …/submissions/{id}/outcomes/{id}` (only what is set is sent; never the
/// `published*` properties, which Microsoft sets on return) and of `POST …/outcomes` for a
/// feedback resource.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeUpdate {
    #[serde(rename = "@odata.type")]
    pub odata_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<EducationFeedback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<EducationPointsGrade>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_quality_feedback: Option<Vec<RubricQualityFeedback>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_quality_selected_levels: Option<Vec<RubricQualitySelectedLevel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_resource: Option<EducationResource>,
}

/// The grading of an assignment or a rubric level: `educationAssignmentPointsGradeType`
/// (`maxPoints`) or nothing (`null`: no grade, credit).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationGradeType {
    #[serde(default, rename = "@odata.type", skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_points: Option<f64>,
}

impl EducationGradeType {
    /// Points out of `max`.
    pub fn points(max: f64) -> Self {
        Self {
            odata_type: Some("#microsoft.graph.educationAssignmentPointsGradeType".to_owned()),
            max_points: Some(max),
        }
    }
}

/// A rubric level (a column).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RubricLevel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<ItemBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<EducationGradeType>,
}

/// One cell of a rubric: what a quality looks like at a level.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RubricCriterion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub description: Option<ItemBody>,
}

/// A rubric quality (a row), with one criterion per level.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RubricQuality {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default)]
    pub description: Option<ItemBody>,
    #[serde(default)]
    pub criteria: Vec<RubricCriterion>,
}

/// `educationRubric` (`POST /education/me/rubrics` body and answer): qualities × levels,
/// with points per level or none (credit).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationRubric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<ItemBody>,
    #[serde(default)]
    pub levels: Vec<RubricLevel>,
    #[serde(default)]
    pub qualities: Vec<RubricQuality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<EducationGradeType>,
}

/// Body of a `PUT …/$ref` (an assignment's rubric or grading category).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ODataRef {
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

/// A grading category of a class (`assignmentSettings.gradingCategories`); in a
/// `gradingCategories@delta` list, an entry with `reason: "deleted"` removes one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GradingCategory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage_weight: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `educationAssignmentSettings` of a class (read, and the PATCH body).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationAssignmentSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_animation_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading_categories: Option<Vec<GradingCategory>>,
    #[serde(default, rename = "gradingCategories@delta", skip_serializing_if = "Option::is_none")]
    pub grading_categories_delta: Option<Vec<GradingCategory>>,
}

/// `educationAssignmentDefaults` of a class.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationAssignmentDefaults {
    #[serde(default)]
    pub due_time: Option<String>,
    #[serde(default)]
    pub notification_channel_url: Option<String>,
    #[serde(default)]
    pub added_student_action: Option<String>,
    #[serde(default)]
    pub add_to_calendar_action: Option<String>,
}

/// `educationCategory` (a class's assignment category).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EducationCategory {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionRecipient {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationSubmission {
    pub id: String,
    #[serde(default)]
    pub status: SubmissionStatus,
    #[serde(default)]
    pub recipient: Option<SubmissionRecipient>,
    #[serde(default)]
    pub submitted_date_time: Option<String>,
    #[serde(default)]
    pub submitted_by: Option<IdentitySet>,
    #[serde(default)]
    pub unsubmitted_date_time: Option<String>,
    #[serde(default)]
    pub unsubmitted_by: Option<IdentitySet>,
    #[serde(default)]
    pub returned_date_time: Option<String>,
    #[serde(default)]
    pub returned_by: Option<IdentitySet>,
    #[serde(default)]
    pub reassigned_date_time: Option<String>,
    #[serde(default)]
    pub reassigned_by: Option<IdentitySet>,
    #[serde(default)]
    pub excused_date_time: Option<String>,
    #[serde(default)]
    pub excused_by: Option<IdentitySet>,
    #[serde(default)]
    pub resources_folder_url: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub outcomes: Vec<EducationOutcome>,
    /// Only with `$expand=resources`: the files and links the student added.
    #[serde(default)]
    pub resources: Vec<EducationSubmissionResource>,
}

/// A polymorphic education resource (`educationLinkResource`,
/// `educationFileResource`, `educationWordResource`, ...). Type-specific
/// fields besides `link`/`fileUrl` stay in `other`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationResource {
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    #[serde(default, skip_serializing)]
    pub created_by: Option<IdentitySet>,
    #[serde(default, skip_serializing)]
    pub last_modified_by: Option<IdentitySet>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationAssignmentResource {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribute_for_student_work: Option<bool>,
    /// Present in some responses (doc sample of the create response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_resource_url: Option<String>,
    pub resource: EducationResource,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EducationSubmissionResource {
    pub id: String,
    #[serde(default)]
    pub assignment_resource_url: Option<String>,
    pub resource: EducationResource,
}

/// `driveItem` (group drive root children).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DriveItem {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub last_modified_date_time: Option<String>,
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    #[serde(default)]
    pub folder: Option<serde_json::Value>,
    #[serde(default)]
    pub file: Option<serde_json::Value>,
}

pub const DRIVE_ITEM_SELECT: &[&str] =
    &["id", "name", "webUrl", "size", "lastModifiedDateTime", "lastModifiedBy", "folder", "file"];

/// Group `conversation`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub has_attachments: Option<bool>,
    #[serde(default)]
    pub last_delivered_date_time: Option<String>,
    #[serde(default)]
    pub preview: Option<String>,
    #[serde(default)]
    pub unique_senders: Vec<String>,
}

pub const CONVERSATION_SELECT: &[&str] =
    &["id", "topic", "hasAttachments", "lastDeliveredDateTime", "preview", "uniqueSenders"];

// ----------------------------------------------------------------------------
// Delta
// ----------------------------------------------------------------------------

/// Why an item was removed (`@removed.reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovedReason {
    /// Soft-deleted (restorable).
    Changed,
    /// Permanently deleted.
    Deleted,
    Other(String),
}

/// One entry of a delta page.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaItem<T> {
    /// Created or updated: contains `id` plus at least the changed properties.
    Upsert(T),
    Removed {
        id: String,
        reason: RemovedReason,
    },
}

/// One page of a delta round: exactly one of `next_link` (more pages) and
/// `delta_link` (round complete; persist it) is set on a well-formed page.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaPage<T> {
    pub items: Vec<DeltaItem<T>>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

impl<T: serde::de::DeserializeOwned> DeltaPage<T> {
    /// Parses a delta page body.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        let page: Page<serde_json::Value> = serde_json::from_slice(body)?;
        let mut items = Vec::with_capacity(page.value.len());
        for v in page.value {
            if let Some(removed) = v.get("@removed") {
                let reason = match removed.get("reason").and_then(|r| r.as_str()) {
                    Some("changed") => RemovedReason::Changed,
                    Some("deleted") => RemovedReason::Deleted,
                    Some(other) => RemovedReason::Other(other.to_owned()),
                    None => RemovedReason::Other(String::new()),
                };
                let id = v.get("id").and_then(|i| i.as_str()).unwrap_or_default().to_owned();
                items.push(DeltaItem::Removed { id, reason });
            } else {
                items.push(DeltaItem::Upsert(serde_json::from_value(v)?));
            }
        }
        Ok(DeltaPage { items, next_link: page.next_link, delta_link: page.delta_link })
    }

    pub fn is_last(&self) -> bool {
        self.next_link.is_none()
    }
}

/// `uploadSession` (driveItem `createUploadSession`; also the 202 answer to a range).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UploadSession {
    /// Pre-authenticated URL accepting `PUT`s of byte ranges (send no bearer token).
    #[serde(default)]
    pub upload_url: Option<String>,
    #[serde(default)]
    pub expiration_date_time: Option<String>,
    /// e.g. `["26-"]` or `["0-"]`.
    #[serde(default)]
    pub next_expected_ranges: Vec<String>,
}

/// Where an upload session stands after one range.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadProgress {
    /// 202 Accepted: more ranges expected.
    More { next_expected_ranges: Vec<String> },
    /// 200/201: the file is complete.
    Done(Box<DriveItem>),
}

/// Microsoft's limit for a simple `PUT …/content` upload in this product: larger files go
/// through an upload session.
pub const SIMPLE_UPLOAD_MAX: u64 = 4 * 1024 * 1024;
/// Upload-session ranges must be multiples of 320 KiB (327,680 bytes), except the last.
pub const UPLOAD_FRAGMENT_UNIT: u64 = 320 * 1024;

/// Why [`crate::GraphClient::upload_file`] failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError<E> {
    /// Microsoft Graph refused or failed.
    #[error(transparent)]
    Graph(#[from] crate::error::GraphError),
    /// Reading the caller's body failed.
    #[error("reading the file failed")]
    Body(E),
    /// The body ended before the announced size.
    #[error("the file ended after {received} bytes")]
    Incomplete { received: u64 },
}
