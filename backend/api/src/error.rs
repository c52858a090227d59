//! The one error type at the HTTP edge.
//!
//! Every failure becomes `{"error":{"code":"snake_case","message":"…"}}` with a stable code.
//! 5xx bodies are opaque; their cause chain is logged once, here, without personal data.

use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use edu_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API answers with: the stable `code` of the error envelope, which the
/// SPA switches on. On the wire each is its snake_case name (e.g. `role_required`); the
/// OpenAPI document carries the whole set as the `ErrorCode` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// `invalid_json` (400).
    InvalidJson,
    /// `invalid_query` (400).
    InvalidQuery,
    /// `invalid_body` (400).
    InvalidBody,
    /// `invalid_cursor` (400).
    InvalidCursor,
    /// `reset_link_invalid` (400): a password reset link that is unknown, expired or used.
    ResetLinkInvalid,
    /// `verification_link_invalid` (400): an email verification link that is unknown,
    /// expired or used.
    VerificationLinkInvalid,
    /// `incomplete_upload` (400).
    IncompleteUpload,
    /// `unauthenticated` (401).
    Unauthenticated,
    /// `invalid_credentials` (401).
    InvalidCredentials,
    /// `microsoft_signin_required` (401).
    MicrosoftSigninRequired,
    /// `csrf_failed` (403).
    CsrfFailed,
    /// `account_disabled` (403).
    AccountDisabled,
    /// `email_unverified` (403): the local account's email is not confirmed yet (R-B3).
    EmailUnverified,
    /// `school_account_required` (403).
    SchoolAccountRequired,
    /// `role_required` (403).
    RoleRequired,
    /// `microsoft_forbidden` (403).
    MicrosoftForbidden,
    /// `field_not_editable` (403).
    FieldNotEditable,
    /// `not_found` (404).
    NotFound,
    /// `not_a_member` (404).
    NotAMember,
    /// `email_taken` (409).
    EmailTaken,
    /// `no_local_password` (409).
    NoLocalPassword,
    /// `job_already_running` (409).
    JobAlreadyRunning,
    /// `local_account_exists` (409).
    LocalAccountExists,
    /// `local_account_already_linked` (409).
    LocalAccountAlreadyLinked,
    /// `microsoft_account_required` (409).
    MicrosoftAccountRequired,
    /// `not_linked` (409).
    NotLinked,
    /// `local_password_required` (409).
    LocalPasswordRequired,
    /// `already_a_teacher` (409).
    AlreadyATeacher,
    /// `assignment_not_editable` (409).
    AssignmentNotEditable,
    /// `submission_turned_in` (409).
    SubmissionTurnedIn,
    /// `submission_state_conflict` (409).
    SubmissionStateConflict,
    /// `uploads_in_progress` (409).
    UploadsInProgress,
    /// `already_a_member` (409).
    AlreadyAMember,
    /// `cannot_delete_self` (409).
    CannotDeleteSelf,
    /// `cannot_disable_self` (409).
    CannotDisableSelf,
    /// `cannot_unlink_self` (409).
    CannotUnlinkSelf,
    /// `upn_taken` (409).
    UpnTaken,
    /// `no_licenses_available` (409).
    NoLicensesAvailable,
    /// `license_not_assigned` (409).
    LicenseNotAssigned,
    /// `length_required` (411).
    LengthRequired,
    /// `payload_too_large` (413).
    PayloadTooLarge,
    /// `file_too_large` (413).
    FileTooLarge,
    /// `unsupported_media_type` (415).
    UnsupportedMediaType,
    /// `invalid_email` (422).
    InvalidEmail,
    /// `password_too_short` (422).
    PasswordTooShort,
    /// `password_too_long` (422).
    PasswordTooLong,
    /// `password_too_common` (422).
    PasswordTooCommon,
    /// `invalid_color` (422).
    InvalidColor,
    /// `invalid_id` (422).
    InvalidId,
    /// `seat_out_of_grid` (422).
    SeatOutOfGrid,
    /// `seat_taken` (422).
    SeatTaken,
    /// `not_a_student_of_this_class` (422).
    NotAStudentOfThisClass,
    /// `student_seated_twice` (422).
    StudentSeatedTwice,
    /// `not_a_teacher` (422).
    NotATeacher,
    /// `unknown_profile_field` (422).
    UnknownProfileField,
    /// `invalid_profile_value` (422).
    InvalidProfileValue,
    /// `invalid_mail` (422).
    InvalidMail,
    /// `invalid_audience` (422).
    InvalidAudience,
    /// `no_recipients` (422).
    NoRecipients,
    /// `invalid_assignment` (422).
    InvalidAssignment,
    /// `invalid_due_date` (422).
    InvalidDueDate,
    /// `invalid_link` (422).
    InvalidLink,
    /// `nothing_to_change` (422).
    NothingToChange,
    /// `invalid_file_name` (422).
    InvalidFileName,
    /// `empty_file` (422).
    EmptyFile,
    /// `group_not_found` (422).
    GroupNotFound,
    /// `group_name_ambiguous` (422).
    GroupNameAmbiguous,
    /// `invalid_upn` (422).
    InvalidUpn,
    /// `upn_domain_not_verified` (422).
    UpnDomainNotVerified,
    /// `unknown_license` (422).
    UnknownLicense,
    /// `usage_location_required` (422).
    UsageLocationRequired,
    /// `invalid_points` (422): below 0, above the assignment's maximum, or not a number.
    InvalidPoints,
    /// `feedback_too_long` (422).
    FeedbackTooLong,
    /// `invalid_rubric` (422).
    InvalidRubric,
    /// `assignment_not_graded` (409): points for an assignment without points.
    AssignmentNotGraded,
    /// `too_many_requests` (429).
    TooManyRequests,
    /// `internal_error` (500).
    InternalError,
    /// `microsoft_error` (502).
    MicrosoftError,
    /// `service_unavailable` (503).
    ServiceUnavailable,
    /// `microsoft_unavailable` (503).
    MicrosoftUnavailable,
    /// `database_unavailable` (503: the database does not answer; try again shortly).
    DatabaseUnavailable,
    /// `shutting_down` (503).
    ShuttingDown,
    /// `frontend_not_built` (503: the SPA's files are missing; `/` only).
    FrontendNotBuilt,
    /// `method_not_allowed` (405: the path exists, not with this method; `Allow` lists them).
    MethodNotAllowed,
}

impl ErrorCode {
    /// Every code, in the order of the enum.
    pub const ALL: &[ErrorCode] = &[
        Self::InvalidJson,
        Self::InvalidQuery,
        Self::InvalidBody,
        Self::InvalidCursor,
        Self::ResetLinkInvalid,
        Self::VerificationLinkInvalid,
        Self::IncompleteUpload,
        Self::Unauthenticated,
        Self::InvalidCredentials,
        Self::MicrosoftSigninRequired,
        Self::CsrfFailed,
        Self::AccountDisabled,
        Self::EmailUnverified,
        Self::SchoolAccountRequired,
        Self::RoleRequired,
        Self::MicrosoftForbidden,
        Self::FieldNotEditable,
        Self::NotFound,
        Self::NotAMember,
        Self::EmailTaken,
        Self::NoLocalPassword,
        Self::JobAlreadyRunning,
        Self::LocalAccountExists,
        Self::LocalAccountAlreadyLinked,
        Self::MicrosoftAccountRequired,
        Self::NotLinked,
        Self::LocalPasswordRequired,
        Self::AlreadyATeacher,
        Self::AssignmentNotEditable,
        Self::SubmissionTurnedIn,
        Self::SubmissionStateConflict,
        Self::UploadsInProgress,
        Self::AlreadyAMember,
        Self::CannotDeleteSelf,
        Self::CannotDisableSelf,
        Self::CannotUnlinkSelf,
        Self::UpnTaken,
        Self::NoLicensesAvailable,
        Self::LicenseNotAssigned,
        Self::LengthRequired,
        Self::PayloadTooLarge,
        Self::FileTooLarge,
        Self::UnsupportedMediaType,
        Self::InvalidEmail,
        Self::PasswordTooShort,
        Self::PasswordTooLong,
        Self::PasswordTooCommon,
        Self::InvalidColor,
        Self::InvalidId,
        Self::SeatOutOfGrid,
        Self::SeatTaken,
        Self::NotAStudentOfThisClass,
        Self::StudentSeatedTwice,
        Self::NotATeacher,
        Self::UnknownProfileField,
        Self::InvalidProfileValue,
        Self::InvalidMail,
        Self::InvalidAudience,
        Self::NoRecipients,
        Self::InvalidAssignment,
        Self::InvalidDueDate,
        Self::InvalidLink,
        Self::NothingToChange,
        Self::InvalidFileName,
        Self::EmptyFile,
        Self::GroupNotFound,
        Self::GroupNameAmbiguous,
        Self::InvalidUpn,
        Self::UpnDomainNotVerified,
        Self::UnknownLicense,
        Self::UsageLocationRequired,
        Self::InvalidPoints,
        Self::FeedbackTooLong,
        Self::InvalidRubric,
        Self::AssignmentNotGraded,
        Self::TooManyRequests,
        Self::InternalError,
        Self::MicrosoftError,
        Self::ServiceUnavailable,
        Self::MicrosoftUnavailable,
        Self::DatabaseUnavailable,
        Self::ShuttingDown,
        Self::FrontendNotBuilt,
        Self::MethodNotAllowed,
    ];

    /// The code as sent on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidBody => "invalid_body",
            Self::InvalidCursor => "invalid_cursor",
            Self::ResetLinkInvalid => "reset_link_invalid",
            Self::VerificationLinkInvalid => "verification_link_invalid",
            Self::IncompleteUpload => "incomplete_upload",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::MicrosoftSigninRequired => "microsoft_signin_required",
            Self::CsrfFailed => "csrf_failed",
            Self::AccountDisabled => "account_disabled",
            Self::EmailUnverified => "email_unverified",
            Self::SchoolAccountRequired => "school_account_required",
            Self::RoleRequired => "role_required",
            Self::MicrosoftForbidden => "microsoft_forbidden",
            Self::FieldNotEditable => "field_not_editable",
            Self::NotFound => "not_found",
            Self::NotAMember => "not_a_member",
            Self::EmailTaken => "email_taken",
            Self::NoLocalPassword => "no_local_password",
            Self::JobAlreadyRunning => "job_already_running",
            Self::LocalAccountExists => "local_account_exists",
            Self::LocalAccountAlreadyLinked => "local_account_already_linked",
            Self::MicrosoftAccountRequired => "microsoft_account_required",
            Self::NotLinked => "not_linked",
            Self::LocalPasswordRequired => "local_password_required",
            Self::AlreadyATeacher => "already_a_teacher",
            Self::AssignmentNotEditable => "assignment_not_editable",
            Self::SubmissionTurnedIn => "submission_turned_in",
            Self::SubmissionStateConflict => "submission_state_conflict",
            Self::UploadsInProgress => "uploads_in_progress",
            Self::AlreadyAMember => "already_a_member",
            Self::CannotDeleteSelf => "cannot_delete_self",
            Self::CannotDisableSelf => "cannot_disable_self",
            Self::CannotUnlinkSelf => "cannot_unlink_self",
            Self::UpnTaken => "upn_taken",
            Self::NoLicensesAvailable => "no_licenses_available",
            Self::LicenseNotAssigned => "license_not_assigned",
            Self::LengthRequired => "length_required",
            Self::PayloadTooLarge => "payload_too_large",
            Self::FileTooLarge => "file_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidEmail => "invalid_email",
            Self::PasswordTooShort => "password_too_short",
            Self::PasswordTooLong => "password_too_long",
            Self::PasswordTooCommon => "password_too_common",
            Self::InvalidColor => "invalid_color",
            Self::InvalidId => "invalid_id",
            Self::SeatOutOfGrid => "seat_out_of_grid",
            Self::SeatTaken => "seat_taken",
            Self::NotAStudentOfThisClass => "not_a_student_of_this_class",
            Self::StudentSeatedTwice => "student_seated_twice",
            Self::NotATeacher => "not_a_teacher",
            Self::UnknownProfileField => "unknown_profile_field",
            Self::InvalidProfileValue => "invalid_profile_value",
            Self::InvalidMail => "invalid_mail",
            Self::InvalidAudience => "invalid_audience",
            Self::NoRecipients => "no_recipients",
            Self::InvalidAssignment => "invalid_assignment",
            Self::InvalidDueDate => "invalid_due_date",
            Self::InvalidLink => "invalid_link",
            Self::NothingToChange => "nothing_to_change",
            Self::InvalidFileName => "invalid_file_name",
            Self::EmptyFile => "empty_file",
            Self::GroupNotFound => "group_not_found",
            Self::GroupNameAmbiguous => "group_name_ambiguous",
            Self::InvalidUpn => "invalid_upn",
            Self::UpnDomainNotVerified => "upn_domain_not_verified",
            Self::UnknownLicense => "unknown_license",
            Self::UsageLocationRequired => "usage_location_required",
            Self::InvalidPoints => "invalid_points",
            Self::FeedbackTooLong => "feedback_too_long",
            Self::InvalidRubric => "invalid_rubric",
            Self::AssignmentNotGraded => "assignment_not_graded",
            Self::TooManyRequests => "too_many_requests",
            Self::InternalError => "internal_error",
            Self::MicrosoftError => "microsoft_error",
            Self::ServiceUnavailable => "service_unavailable",
            Self::MicrosoftUnavailable => "microsoft_unavailable",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::ShuttingDown => "shutting_down",
            Self::FrontendNotBuilt => "frontend_not_built",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&DomainError> for ErrorCode {
    fn from(e: &DomainError) -> Self {
        match e {
            DomainError::InvalidEmail => Self::InvalidEmail,
            DomainError::PasswordTooShort { .. } => Self::PasswordTooShort,
            DomainError::PasswordTooLong { .. } => Self::PasswordTooLong,
            DomainError::PasswordTooCommon => Self::PasswordTooCommon,
            DomainError::InvalidColor => Self::InvalidColor,
            DomainError::InvalidId => Self::InvalidId,
        }
    }
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable code and a human message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code the SPA switches on.
    pub code: ErrorCode,
    /// A message a person can read.
    pub message: String,
    /// For failures of Microsoft Graph: what Graph said, to report to Microsoft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphErrorInfo>,
    /// For `microsoft_signin_required`: where to send the browser so that Microsoft confirms
    /// the person (append `&return_to=<path>` to come back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_url: Option<String>,
}

/// Microsoft Graph's own error details (no personal data: Graph's message is not included).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GraphErrorInfo {
    /// HTTP status Graph answered with.
    pub status: Option<u16>,
    /// Graph's error code, e.g. `generalException`.
    pub code: Option<String>,
    /// Graph's request id.
    pub request_id: Option<String>,
    /// Graph's own message, only on the tenant admin's endpoints (it may name objects of the
    /// admin's own directory; it is never logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A value failed domain validation (422).
    #[error("{0}")]
    Validation(#[from] DomainError),
    /// A request that is well-formed but breaks a rule of the resource (422), with its own code.
    #[error("{message}")]
    Validation422 {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// The request body or query could not be read (400).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// No valid session (401).
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// The cached Microsoft tokens cannot be used; the person must sign in with Microsoft again (401).
    #[error("Sign in with Microsoft again to continue.")]
    MicrosoftSignInRequired,
    /// Wrong email or password, or no such account; deliberately indistinguishable (401).
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    /// A CSRF or origin check failed (403).
    #[error("{0}")]
    Csrf(&'static str),
    /// Signed in, but not allowed (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// Nothing there, or nothing the caller may see (404).
    #[error("{message}")]
    NotFound {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// The body is too large (413).
    #[error("The request body is too large (at most {limit} bytes).")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not JSON (415).
    #[error("Send the body as JSON with Content-Type: application/json.")]
    UnsupportedMediaType,
    /// A file upload not sent as a raw `application/octet-stream` body (415).
    #[error("Send the file as the raw request body with Content-Type: application/octet-stream.")]
    OctetStreamRequired,
    /// A file upload without `Content-Length` (411).
    #[error("Send the file with a Content-Length header.")]
    LengthRequired,
    /// An uploaded file is over the limit (413).
    #[error("The file is too large (at most {} MiB).", limit / (1024 * 1024))]
    FileTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Too many attempts (429), with when to retry.
    #[error("Too many attempts. Try again in {} seconds.", retry_after.as_secs().max(1))]
    TooManyRequests {
        /// When the client may retry.
        retry_after: Duration,
    },
    /// Microsoft Graph failed (502, or 503 when throttled or unreachable).
    #[error("{message}")]
    Upstream {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
        /// 502 or 503.
        status: u16,
        /// Graph's details.
        graph: GraphErrorInfo,
    },
    /// A dependency (the database) is unavailable (503).
    #[error("The service is temporarily unavailable. Try again shortly.")]
    Unavailable,
    /// The database does not answer (503 within the pool's acquire timeout, issue 18 §5).
    #[error("The database is not answering. Try again in a moment.")]
    DatabaseUnavailable,
    /// The process received SIGTERM and is draining (503 on `/readyz`).
    #[error("This instance is shutting down; another instance will answer.")]
    ShuttingDown,
    /// A bug or an unexpected failure (500); the cause is logged, not returned.
    #[error("Something went wrong on our side. The error has been logged.")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 with a code and message.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    /// A 404 with a code and message.
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::NotFound { code, message: message.into() }
    }

    /// A 409 with a code and message.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// A 403 with a code and message.
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Forbidden { code, message: message.into() }
    }

    /// An unexpected failure, from anything displayable.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The stable code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(d) => ErrorCode::from(d),
            Self::BadRequest { code, .. }
            | Self::Validation422 { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Upstream { code, .. } => *code,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::MicrosoftSignInRequired => ErrorCode::MicrosoftSigninRequired,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::Csrf(_) => ErrorCode::CsrfFailed,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType | Self::OctetStreamRequired => ErrorCode::UnsupportedMediaType,
            Self::LengthRequired => ErrorCode::LengthRequired,
            Self::FileTooLarge { .. } => ErrorCode::FileTooLarge,
            Self::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            Self::Unavailable => ErrorCode::ServiceUnavailable,
            Self::DatabaseUnavailable => ErrorCode::DatabaseUnavailable,
            Self::ShuttingDown => ErrorCode::ShuttingDown,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }
}

/// A Graph failure as our envelope (see [`graph_error`]), so handlers write `?`: throttling,
/// timeouts, transport failures, an open circuit breaker and 5xx are `503
/// microsoft_unavailable`; 403 `microsoft_forbidden`; 404 `not_found`; 401 and token failures
/// `401 microsoft_signin_required`; anything else `502 microsoft_error`.
impl From<edu_msgraph::GraphError> for ApiError {
    fn from(e: edu_msgraph::GraphError) -> Self {
        graph_error(e)
    }
}

impl From<edu_db::DbError> for ApiError {
    fn from(e: edu_db::DbError) -> Self {
        match e {
            edu_db::DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
                tracing::error!(error = %e, "database unavailable");
                Self::DatabaseUnavailable
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::Validation422 { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials | Self::MicrosoftSignInRequired => {
                StatusCode::UNAUTHORIZED
            }
            Self::Csrf(_) | Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType | Self::OctetStreamRequired => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::LengthRequired => StatusCode::LENGTH_REQUIRED,
            Self::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::DatabaseUnavailable | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream { status, .. } => StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY),
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            // The whole chain, once; never returned to the client.
            tracing::error!(error.chain = format!("{cause:#}"), "request failed with an internal error");
        }
        let graph = match self {
            Self::Upstream { graph, .. } => Some(graph.clone()),
            _ => None,
        };
        let continue_url = matches!(self, Self::MicrosoftSignInRequired).then(|| MICROSOFT_CONTINUE_URL.to_owned());
        let body =
            ErrorBody { error: ErrorDetail { code: self.code(), message: self.to_string(), graph, continue_url } };
        let mut resp = HttpResponse::build(self.status_code());
        if let Self::TooManyRequests { retry_after } = self {
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs.max(1))));
        }
        if matches!(self, Self::Unauthenticated) {
            resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Cookie realm=\"edugraph\"")));
        }
        resp.json(body)
    }
}

/// Where `microsoft_signin_required` sends the browser: Microsoft confirms the person of the
/// session (silently when it can), then the browser comes back (issue 17.1).
pub const MICROSOFT_CONTINUE_URL: &str = "/auth/microsoft/login?intent=confirm";

/// Turns actix's JSON extractor failures into our envelope (400/413/415, never 500).
pub fn json_error(err: actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::ContentType => ApiError::UnsupportedMediaType,
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::PayloadTooLarge { limit },
        J::Deserialize(e) => {
            let message = if e.is_data() {
                // serde's message names the field and the expected type, never echoes values.
                format!("The JSON body has a missing or wrongly typed field: {e}")
            } else {
                "The request body is not valid JSON.".to_owned()
            };
            ApiError::bad_request(ErrorCode::InvalidJson, message)
        }
        _ => ApiError::bad_request(ErrorCode::InvalidBody, "The request body could not be read."),
    }
}

/// Turns query-string extractor failures into our envelope.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidQuery, format!("The query string is not valid: {err}"))
}

/// Turns path extractor failures into our envelope.
pub fn path_error(_err: actix_web::error::PathError) -> ApiError {
    ApiError::not_found(ErrorCode::NotFound, "There is nothing at this address.")
}

/// [`graph_error`] for a tenant admin's own request: Graph's message is included too, so the
/// admin can report the failure to Microsoft (code, message, request id).
pub fn admin_graph_error(e: edu_msgraph::GraphError) -> ApiError {
    let message = e.message().map(|m| m.chars().take(500).collect::<String>());
    let mut api = graph_error(e);
    if let ApiError::Upstream { graph, .. } = &mut api {
        graph.message = message;
    }
    api
}

/// Maps a Microsoft Graph failure to our envelope, keeping Graph's code and request id.
pub fn graph_error(e: edu_msgraph::GraphError) -> ApiError {
    use edu_msgraph::GraphError as G;
    let info = GraphErrorInfo {
        status: e.status(),
        code: e.code().map(str::to_owned),
        request_id: e.request_id().map(str::to_owned),
        message: None,
    };
    match e {
        G::Unauthorized(_) => ApiError::MicrosoftSignInRequired,
        G::Token(t) => {
            tracing::info!(error = %t, "Microsoft token failure");
            ApiError::MicrosoftSignInRequired
        }
        G::NotFound(_) => {
            ApiError::not_found(ErrorCode::NotFound, "Microsoft 365 has no such item, or you may not see it.")
        }
        G::Forbidden(_) => ApiError::Upstream {
            code: ErrorCode::MicrosoftForbidden,
            message: "Microsoft 365 refused this request: the app or your account lacks the permission.".into(),
            status: 403,
            graph: info,
        },
        G::Throttled { .. } | G::Timeout(_) | G::Transport { .. } | G::CircuitOpen { .. } | G::Server(_) => {
            tracing::warn!(
                graph.code = info.code.as_deref().unwrap_or(""),
                graph.request_id = info.request_id.as_deref().unwrap_or(""),
                "Microsoft Graph unavailable"
            );
            ApiError::Upstream {
                code: ErrorCode::MicrosoftUnavailable,
                message: "Microsoft 365 is not answering right now. Try again in a minute.".into(),
                status: 503,
                graph: info,
            }
        }
        other => {
            tracing::warn!(error = %other, "Microsoft Graph error");
            ApiError::Upstream {
                code: ErrorCode::MicrosoftError,
                message: "Microsoft 365 answered with an error.".into(),
                status: 502,
                graph: info,
            }
        }
    }
}
