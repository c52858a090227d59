//! `edu_msgraph`: Microsoft identity-platform token client and Microsoft Graph
//! v1.0 client shared by the API and the sync job.
//!
//! * [`GraphClient`]: one reqwest client, per-tenant concurrency lanes,
//!   retries on 429/503/504 honouring `Retry-After` (seconds, decimals, HTTP
//!   date) else exponential backoff with jitter, timeouts, paging over
//!   `@odata.nextLink`, `$batch` with chunking and per-item retries, typed
//!   helpers for every call the product makes (see [`api`]).
//! * [`TokenClient`]: app-only client-credentials tokens (secret or
//!   certificate assertion, PS256 + `x5t#S256` by default), cached per tenant;
//!   delegated code exchange and refresh for the API's sign-in.
//! * [`GraphError`] / [`OAuthError`]: typed errors keeping Graph's code,
//!   message and request-id.
//!
//! Nothing here logs tokens, secrets or query strings; `Debug` of secret
//! holders is redacted.

pub mod api;
pub mod batch;
pub mod cert;
pub mod client;
pub mod error;
pub mod models;
pub mod query;
pub mod settings;
pub mod token;

pub use api::{DeltaStart, ListUsersOptions};
pub use batch::{BatchItemResult, BatchRequest, BatchResponse, BatchResults, MAX_BATCH_SIZE};
pub use cert::{CertError, GeneratedCertificate, generate_self_signed_certificate};
pub use client::{GraphAuth, GraphClient, GraphRequest, GraphResponse, PageOptions, RequestBody};
pub use error::{ErrorDetail, GraphError, OAuthError, TokenError};
pub use models::{DeltaItem, DeltaPage, Page, RemovedReason};
pub use query::{Query, odata_string, seg};
pub use settings::{GraphSettings, Sleeper, TokioSleeper, parse_retry_after};
pub use token::{
    AssertionAlg, AssertionClaims, ClientCredential, TokenClient, TokenResponse,
    build_client_assertion, x5t_s256, x5t_sha1,
};
