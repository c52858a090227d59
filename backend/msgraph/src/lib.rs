//! `edu_msgraph`: Microsoft identity-platform token client and Microsoft Graph
//! v1.0 client shared by the API and the sync job.
//!
//! * [`GraphClient`]: one reqwest client, per-tenant concurrency lanes,
//!   retries on 429/503/504 honouring `Retry-After` (seconds, decimals, HTTP
//!   date) else exponential backoff with jitter, timeouts, paging over
//!   `@odata.nextLink`, `$batch` with chunking and per-item retries, typed
//!   helpers for every call the product makes (see [`api`]). Graph calls, token
//!   requests, `$batch` items and upload ranges are retried under one policy
//!   (`src/retry.rs`); a tenant whose calls keep failing gets an open circuit
//!   ([`GraphError::CircuitOpen`]).
//! * [`TokenClient`]: app-only client-credentials tokens (secret or
//!   certificate assertion, PS256 + `x5t#S256` by default), cached per tenant;
//!   delegated code exchange and refresh for the API's sign-in.
//! * [`GraphError`] / [`OAuthError`]: typed errors keeping Graph's code,
//!   message and request-id.
//!
//! Nothing here logs tokens, secrets or query strings; `Debug` of secret
//! holders is redacted.
//!
//! ```no_run
//! use edu_msgraph::{
//!     AssertionAlg, ClientCredential, DeltaItem, DeltaStart, GraphAuth, GraphClient,
//!     GraphError, GraphSettings,
//! };
//! use secrecy::SecretString;
//!
//! # async fn demo(cert_pem: &str, key_pem: SecretString, access_token: SecretString)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! // Sync job: app-only with a certificate (PS256 + x5t#S256).
//! let settings = GraphSettings::new(
//!     "https://graph.microsoft.com",
//!     "https://login.microsoftonline.com",
//!     "00000000-0000-0000-0000-000000000001",
//! );
//! let cred = ClientCredential::certificate_from_pem(cert_pem, key_pem, AssertionAlg::Ps256)?;
//! let graph = GraphClient::with_credential(settings, Some(cred))?;
//! let app = GraphAuth::app_only("contoso-tenant-guid");
//! let mut link: Option<String> = None; // load the saved nextLink/deltaLink
//! loop {
//!     let start = match &link {
//!         Some(l) => DeltaStart::Link(l),
//!         None => DeltaStart::Initial { select: &[] },
//!     };
//!     let page = match graph.education_users_delta(&app, start).await {
//!         Ok(p) => p,
//!         Err(GraphError::ResyncRequired { .. }) => {
//!             link = None; // full resync (mark-and-sweep)
//!             continue;
//!         }
//!         Err(e) => return Err(e.into()),
//!     };
//!     for item in page.items {
//!         match item {
//!             DeltaItem::Upsert(_user) => { /* upsert by (tenant, id) */ }
//!             DeltaItem::Removed { .. } => { /* archive */ }
//!         }
//!     }
//!     match (page.next_link, page.delta_link) {
//!         (Some(next), _) => link = Some(next), // checkpoint with the page
//!         (None, delta) => { link = delta; break } // persist the deltaLink
//!     }
//! }
//!
//! // API: delegated call with the signed-in user's token.
//! let me = graph
//!     .me(&GraphAuth::delegated("contoso-tenant-guid", access_token), &[])
//!     .await?;
//! # let _ = me;
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod batch;
pub mod cert;
pub mod client;
pub mod error;
pub mod models;
pub mod query;
mod retry;
pub mod settings;
pub mod token;

/// Typed requests ([`GraphReq`]) sent alone or together in one `$batch`.
pub mod request;

pub use api::{DeltaStart, ListUsersOptions};
pub use batch::{BatchItemResult, BatchRequest, BatchResponse, BatchResults, MAX_BATCH_SIZE};
pub use cert::{CertError, GeneratedCertificate, generate_self_signed_certificate};
pub use client::{GraphAuth, GraphClient, GraphRequest, GraphResponse, PageOptions, RequestBody};
pub use error::{ErrorDetail, GraphError, OAuthError, TokenError};
pub use models::{DeltaItem, DeltaPage, Page, RemovedReason};
pub use query::{Query, odata_string, seg};
pub use request::{AssignmentUpdate, Batch, BatchAnswers, GraphReq, Part, UserUpdate};
pub use retry::with_deadline;
pub use settings::{GraphSettings, Sleeper, TokioSleeper, parse_retry_after};
pub use token::{
    AssertionAlg, AssertionClaims, ClientCredential, TokenClient, TokenResponse, build_client_assertion, x5t_s256,
    x5t_sha1,
};
