//! Typed errors: Graph errors (keeping Graph's code, message and request-id) and
//! identity-platform (token endpoint) errors.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// What Graph told us about a failed call. Kept on every [`GraphError`] variant
/// that comes from an HTTP response.
///
/// `Display` deliberately omits `message`: Graph messages can echo query values
/// (e-mail addresses in `$filter`), so only status, code and request-id are
/// printed. Use [`ErrorDetail::message`] explicitly when it is safe to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    /// HTTP status (`None` for errors without a response, e.g. transport).
    pub status: Option<u16>,
    /// Graph's top-level `error.code` (e.g. `Request_ResourceNotFound`).
    pub code: Option<String>,
    /// Graph's `error.message`.
    pub message: Option<String>,
    /// Codes of nested `innerError`s, outermost first (most specific last).
    pub inner_codes: Vec<String>,
    /// `innerError.request-id`, else the `request-id` response header.
    pub request_id: Option<String>,
    /// `innerError.client-request-id`, else the `client-request-id` header.
    pub client_request_id: Option<String>,
    /// `innerError.date` (Graph sends it without a zone).
    pub date: Option<String>,
}

impl ErrorDetail {
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref().or(self.client_request_id.as_deref())
    }

    /// True when the code (or any inner code) equals `code`, ignoring case.
    pub fn has_code(&self, code: &str) -> bool {
        self.code.iter().chain(self.inner_codes.iter()).any(|c| c.eq_ignore_ascii_case(code))
    }

    /// Builds the detail from a Graph error body (`{"error":{...}}`) and the
    /// response headers. Non-JSON or unexpected bodies still yield status and
    /// header request ids.
    pub fn from_response(status: u16, headers: Option<&HeaderMap>, body: &[u8]) -> Self {
        let mut detail =
            serde_json::from_slice::<GraphErrorEnvelope>(body).map(|env| env.error.into_detail()).unwrap_or_default();
        detail.status = Some(status);
        if let Some(headers) = headers {
            detail.fill_from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned));
        }
        detail
    }

    /// Same as [`ErrorDetail::from_response`] for a JSON body already parsed
    /// (used for `$batch` inner responses).
    pub fn from_json_value(
        status: u16,
        header_lookup: impl Fn(&str) -> Option<String>,
        body: Option<&serde_json::Value>,
    ) -> Self {
        let mut detail = body
            .and_then(|b| serde_json::from_value::<GraphErrorEnvelope>(b.clone()).ok())
            .map(|env| env.error.into_detail())
            .unwrap_or_default();
        detail.status = Some(status);
        detail.fill_from_headers(header_lookup);
        detail
    }

    fn fill_from_headers(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if self.request_id.is_none() {
            self.request_id = lookup("request-id");
        }
        if self.client_request_id.is_none() {
            self.client_request_id = lookup("client-request-id");
        }
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "status {s}")?,
            None => write!(f, "no status")?,
        }
        if let Some(code) = &self.code {
            write!(f, ", code {code}")?;
        }
        if let Some(id) = self.request_id() {
            write!(f, ", request-id {id}")?;
        }
        Ok(())
    }
}

/// The Graph error envelope `{"error": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct GraphErrorEnvelope {
    pub error: GraphErrorBody,
}

/// `error` object of the envelope. Accepts both `innerError` (what the
/// service sends) and `innererror` (what the schema text says).
#[derive(Debug, Clone, Deserialize)]
pub struct GraphErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "innerError", alias = "innererror")]
    pub inner_error: Option<Box<GraphInnerError>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GraphInnerError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "request-id", alias = "requestId")]
    pub request_id: Option<String>,
    #[serde(default, rename = "client-request-id", alias = "clientRequestId")]
    pub client_request_id: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default, rename = "innerError", alias = "innererror")]
    pub inner_error: Option<Box<GraphInnerError>>,
}

impl GraphErrorBody {
    fn into_detail(self) -> ErrorDetail {
        let mut d = ErrorDetail { code: self.code, message: self.message, ..ErrorDetail::default() };
        let mut next = self.inner_error;
        // Bounded walk through nested innerErrors.
        let mut depth = 0;
        while let Some(inner) = next {
            depth += 1;
            if depth > 16 {
                break;
            }
            let inner = *inner;
            if let Some(c) = inner.code {
                d.inner_codes.push(c);
            }
            if d.request_id.is_none() {
                d.request_id = inner.request_id;
            }
            if d.client_request_id.is_none() {
                d.client_request_id = inner.client_request_id;
            }
            if d.date.is_none() {
                d.date = inner.date;
            }
            next = inner.inner_error;
        }
        d
    }
}

/// Errors of the Graph client.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// 401: token missing, expired or for the wrong audience.
    #[error("graph: unauthorized ({0})")]
    Unauthorized(Box<ErrorDetail>),
    /// 403: insufficient privileges / missing consent.
    #[error("graph: forbidden ({0})")]
    Forbidden(Box<ErrorDetail>),
    /// 404.
    #[error("graph: not found ({0})")]
    NotFound(Box<ErrorDetail>),
    /// 429 (or 503 with Retry-After) after the retry budget was used up.
    #[error("graph: throttled, retry after {retry_after:?} ({detail})")]
    Throttled { retry_after: Option<Duration>, detail: Box<ErrorDetail> },
    /// 409 / 412.
    #[error("graph: conflict ({0})")]
    Conflict(Box<ErrorDetail>),
    /// 400 and other 4xx not covered by another variant.
    #[error("graph: bad request ({0})")]
    BadRequest(Box<ErrorDetail>),
    /// Delta token expired / invalid: 410 Gone, `syncStateNotFound`,
    /// `resyncRequired`. The caller must restart a full delta round.
    /// `location` is the `Location` header of a 410 (fresh delta URL) if sent.
    #[error("graph: delta resync required ({detail})")]
    ResyncRequired { location: Option<String>, detail: Box<ErrorDetail> },
    /// 5xx (after retries for 503/504).
    #[error("graph: server error ({0})")]
    Server(Box<ErrorDetail>),
    /// Request timed out (after retries where allowed).
    #[error("graph: timeout")]
    Timeout(Box<ErrorDetail>),
    /// Connection / TLS / protocol error.
    #[error("graph: transport error: {message}")]
    Transport { message: String, detail: Box<ErrorDetail> },
    /// The tenant's circuit breaker is open (R-C9): Graph failed `failures` calls in a row
    /// for this tenant, so it is not called until a probe after `retry_in`. The text is the
    /// one an open circuit had as a `Transport` error, because the sync job stores it as the
    /// stream's last error, which the sync status shows.
    #[error(
        "graph: transport error: circuit open: Microsoft Graph failed {failures} calls in a row for this tenant; not called for another {} s",
        retry_in.as_secs().max(1)
    )]
    CircuitOpen { failures: u32, retry_in: Duration },
    /// Response body did not match the expected model.
    #[error("graph: cannot decode response: {message} ({detail})")]
    Decode { message: String, detail: Box<ErrorDetail> },
    /// Getting an app-only token failed.
    #[error("graph: token acquisition failed: {0}")]
    Token(#[from] TokenError),
    /// A paged read needed more than the configured number of pages.
    #[error("graph: more than {max_pages} pages")]
    PageLimitExceeded { max_pages: usize },
    /// Client-side misuse (bad URL, foreign nextLink host, invalid batch...).
    #[error("graph: invalid request: {0}")]
    InvalidRequest(String),
}

impl GraphError {
    /// Maps a non-success Graph response to the typed error.
    pub fn from_status(status: u16, detail: ErrorDetail, location: Option<String>) -> Self {
        let detail = Box::new(detail);
        if status == 410 || detail.has_code("syncStateNotFound") || detail.has_code("resyncRequired") {
            return GraphError::ResyncRequired { location, detail };
        }
        match status {
            401 => GraphError::Unauthorized(detail),
            403 => GraphError::Forbidden(detail),
            404 => GraphError::NotFound(detail),
            409 | 412 => GraphError::Conflict(detail),
            429 => GraphError::Throttled { retry_after: None, detail },
            500..=599 => GraphError::Server(detail),
            _ => GraphError::BadRequest(detail),
        }
    }

    /// The detail (status, code, message, request ids), if any.
    pub fn detail(&self) -> Option<&ErrorDetail> {
        match self {
            GraphError::Unauthorized(d)
            | GraphError::Forbidden(d)
            | GraphError::NotFound(d)
            | GraphError::Conflict(d)
            | GraphError::BadRequest(d)
            | GraphError::Server(d)
            | GraphError::Timeout(d) => Some(d),
            GraphError::Throttled { detail, .. }
            | GraphError::ResyncRequired { detail, .. }
            | GraphError::Transport { detail, .. }
            | GraphError::Decode { detail, .. } => Some(detail),
            GraphError::Token(_)
            | GraphError::InvalidRequest(_)
            | GraphError::PageLimitExceeded { .. }
            | GraphError::CircuitOpen { .. } => None,
        }
    }

    /// Graph's `error.code`.
    pub fn code(&self) -> Option<&str> {
        self.detail().and_then(ErrorDetail::code)
    }

    /// Graph's `error.message`.
    pub fn message(&self) -> Option<&str> {
        self.detail().and_then(ErrorDetail::message)
    }

    /// `request-id` (from `innerError` or the response headers).
    pub fn request_id(&self) -> Option<&str> {
        self.detail().and_then(ErrorDetail::request_id)
    }

    /// HTTP status of the failed response.
    pub fn status(&self) -> Option<u16> {
        self.detail().and_then(ErrorDetail::status)
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, GraphError::NotFound(_))
    }

    pub fn is_resync_required(&self) -> bool {
        matches!(self, GraphError::ResyncRequired { .. })
    }
}

/// An error answer of the identity platform's token endpoint.
///
/// `Display` leaves out `error_description`, which can carry user names.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Vec<i64>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
    /// Non-standard sub-error (`consent_required`, `basic_action`, ...).
    #[serde(default)]
    pub suberror: Option<String>,
    /// HTTP status of the response (not part of the JSON).
    #[serde(skip)]
    pub status: u16,
}

impl OAuthError {
    /// Parses an error body; `status` is the HTTP status it came with.
    pub fn from_json(status: u16, body: &[u8]) -> Result<Self, serde_json::Error> {
        let mut e: OAuthError = serde_json::from_slice(body)?;
        e.status = status;
        Ok(e)
    }

    pub fn has_error_code(&self, code: i64) -> bool {
        self.error_codes.contains(&code)
    }

    /// Code/refresh token invalid, expired, revoked or redeemed: sign in again.
    pub fn is_invalid_grant(&self) -> bool {
        self.error == "invalid_grant"
    }

    /// The user must interact (MFA, conditional access, prompt=none failed...).
    pub fn is_interaction_required(&self) -> bool {
        self.error == "interaction_required"
            || self.error == "login_required"
            || self.suberror.as_deref() == Some("basic_action")
            || [50076, 50079, 50058, 53003].iter().any(|c| self.has_error_code(*c))
    }

    /// Consent missing (AADSTS65001) or `consent_required`.
    pub fn is_consent_required(&self) -> bool {
        self.error == "consent_required"
            || self.suberror.as_deref() == Some("consent_required")
            || self.has_error_code(65001)
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (status {}", self.error, self.status)?;
        if !self.error_codes.is_empty() {
            let codes: Vec<String> = self.error_codes.iter().map(|c| format!("AADSTS{c}")).collect();
            write!(f, ", {}", codes.join(","))?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, ", trace_id {t}")?;
        }
        if let Some(c) = &self.correlation_id {
            write!(f, ", correlation_id {c}")?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for OAuthError {}

/// Errors of the [`crate::TokenClient`].
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint answered with an OAuth error.
    #[error("token endpoint error: {0}")]
    OAuth(Box<OAuthError>),
    /// Non-success answer that is not an OAuth error body.
    #[error("token endpoint answered HTTP {status}")]
    Http { status: u16 },
    #[error("token endpoint timeout")]
    Timeout,
    #[error("token endpoint transport error: {0}")]
    Transport(String),
    #[error("cannot decode token response: {0}")]
    Decode(String),
    /// Missing/invalid credential, bad tenant id, key that does not parse...
    #[error("token client configuration error: {0}")]
    Config(String),
}

impl TokenError {
    pub fn oauth(&self) -> Option<&OAuthError> {
        match self {
            TokenError::OAuth(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}
