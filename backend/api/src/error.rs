//! The one error type at the HTTP edge.
//!
//! Every failure becomes `{"error":{"code":"snake_case","message":"…"}}` with a stable code.
//! 5xx bodies are opaque; their cause chain is logged once, here, without personal data.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use edu_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

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
    #[schema(example = "invalid_credentials")]
    pub code: String,
    /// A message a person can read.
    pub message: String,
    /// For failures of Microsoft Graph: what Graph said, to report to Microsoft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphErrorInfo>,
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
        code: &'static str,
        /// Human message.
        message: String,
    },
    /// The request body or query could not be read (400).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
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
        code: &'static str,
        /// Human message.
        message: String,
    },
    /// Nothing there, or nothing the caller may see (404).
    #[error("{message}")]
    NotFound {
        /// Stable code.
        code: &'static str,
        /// Human message.
        message: String,
    },
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
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
        code: &'static str,
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
    /// The process received SIGTERM and is draining (503 on `/readyz`).
    #[error("This instance is shutting down; another instance will answer.")]
    ShuttingDown,
    /// A bug or an unexpected failure (500); the cause is logged, not returned.
    #[error("Something went wrong on our side. The error has been logged.")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    /// A 404 with a code and message.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound { code, message: message.into() }
    }

    /// A 409 with a code and message.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// A 403 with a code and message.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden { code, message: message.into() }
    }

    /// An unexpected failure, from anything displayable.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(d) => d.code(),
            Self::BadRequest { code, .. }
            | Self::Validation422 { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Upstream { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::MicrosoftSignInRequired => "microsoft_signin_required",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Csrf(_) => "csrf_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType | Self::OctetStreamRequired => "unsupported_media_type",
            Self::LengthRequired => "length_required",
            Self::FileTooLarge { .. } => "file_too_large",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable => "service_unavailable",
            Self::ShuttingDown => "shutting_down",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl From<edu_db::DbError> for ApiError {
    fn from(e: edu_db::DbError) -> Self {
        match e {
            edu_db::DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
                tracing::error!(error = %e, "database unavailable");
                Self::Unavailable
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
            Self::Unavailable | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
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
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.to_string(), graph } };
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
            ApiError::bad_request("invalid_json", message)
        }
        _ => ApiError::bad_request("invalid_body", "The request body could not be read."),
    }
}

/// Turns query-string extractor failures into our envelope.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::bad_request("invalid_query", format!("The query string is not valid: {err}"))
}

/// Turns path extractor failures into our envelope.
pub fn path_error(_err: actix_web::error::PathError) -> ApiError {
    ApiError::not_found("not_found", "There is nothing at this address.")
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
        G::NotFound(_) => ApiError::not_found("not_found", "Microsoft 365 has no such item, or you may not see it."),
        G::Forbidden(_) => ApiError::Upstream {
            code: "microsoft_forbidden",
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
                code: "microsoft_unavailable",
                message: "Microsoft 365 is not answering right now. Try again in a minute.".into(),
                status: 503,
                graph: info,
            }
        }
        other => {
            tracing::warn!(error = %other, "Microsoft Graph error");
            ApiError::Upstream {
                code: "microsoft_error",
                message: "Microsoft 365 answered with an error.".into(),
                status: 502,
                graph: info,
            }
        }
    }
}
