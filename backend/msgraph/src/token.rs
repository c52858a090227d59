//! Identity platform (Entra ID v2.0) token client: client-credentials tokens
//! (secret or certificate assertion) cached per tenant, plus the delegated
//! code exchange and refresh used by the API's sign-in.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{OAuthError, TokenError};
use crate::retry::{Attempt, RetryPolicy, RetryState, Step};
use crate::settings::{GraphSettings, Sleeper, default_sleeper, parse_retry_after};

/// `client_assertion_type` for certificate credentials.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Lifetime of a client assertion (`exp - nbf`); Entra asks for 5-10 minutes.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// Signature algorithm of the client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionAlg {
    /// RSASSA-PSS SHA-256 with `x5t#S256` (current Entra guidance, default).
    #[default]
    Ps256,
    /// RSASSA-PKCS1-v1_5 SHA-256 with the legacy SHA-1 `x5t`.
    Rs256,
}

/// How the app authenticates at the token endpoint.
#[derive(Clone)]
pub enum ClientCredential {
    Secret(SecretString),
    Certificate {
        /// DER of the X.509 certificate registered in Entra.
        cert_der: Vec<u8>,
        /// RSA private key, PEM (PKCS#8 or PKCS#1).
        private_key_pem: SecretString,
        alg: AssertionAlg,
    },
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientCredential::Secret(_) => f.write_str("ClientCredential::Secret([REDACTED])"),
            ClientCredential::Certificate { cert_der, alg, .. } => f
                .debug_struct("ClientCredential::Certificate")
                .field("x5t#S256", &x5t_s256(cert_der))
                .field("alg", alg)
                .field("private_key_pem", &"[REDACTED]")
                .finish(),
        }
    }
}

impl ClientCredential {
    /// Certificate credential from PEM texts (the certificate PEM may hold a
    /// chain: the first certificate is used). Fails if the key doesn't parse.
    pub fn certificate_from_pem(
        cert_pem: &str,
        private_key_pem: SecretString,
        alg: AssertionAlg,
    ) -> Result<Self, TokenError> {
        let cert = pem::parse_many(cert_pem)
            .map_err(|e| TokenError::Config(format!("certificate PEM: {e}")))?
            .into_iter()
            .find(|p| p.tag() == "CERTIFICATE")
            .ok_or_else(|| TokenError::Config("no CERTIFICATE block in PEM".to_owned()))?;
        Self::certificate(cert.into_contents(), private_key_pem, alg)
    }

    /// Certificate credential; checks that the private key parses.
    pub fn certificate(
        cert_der: Vec<u8>,
        private_key_pem: SecretString,
        alg: AssertionAlg,
    ) -> Result<Self, TokenError> {
        EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
            .map_err(|e| TokenError::Config(format!("private key: {e}")))?;
        if cert_der.is_empty() {
            return Err(TokenError::Config("empty certificate".to_owned()));
        }
        Ok(ClientCredential::Certificate { cert_der, private_key_pem, alg })
    }
}

/// base64url (no padding) SHA-256 thumbprint of a DER certificate (`x5t#S256`).
pub fn x5t_s256(cert_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(cert_der))
}

/// base64url (no padding) SHA-1 thumbprint of a DER certificate (`x5t`).
pub fn x5t_sha1(cert_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha1::digest(cert_der))
}

/// Claims of a client assertion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssertionClaims {
    pub aud: String,
    pub iss: String,
    pub sub: String,
    pub jti: String,
    pub nbf: u64,
    pub iat: u64,
    pub exp: u64,
}

/// Builds and signs a client assertion JWT for `token_endpoint`.
pub fn build_client_assertion(
    client_id: &str,
    token_endpoint: &str,
    cert_der: &[u8],
    private_key_pem: &SecretString,
    alg: AssertionAlg,
    now: SystemTime,
) -> Result<String, TokenError> {
    let now = now.duration_since(UNIX_EPOCH).map_err(|_| TokenError::Config("clock before 1970".to_owned()))?.as_secs();
    let mut header = match alg {
        AssertionAlg::Ps256 => {
            let mut h = Header::new(Algorithm::PS256);
            h.x5t_s256 = Some(x5t_s256(cert_der));
            h
        }
        AssertionAlg::Rs256 => {
            let mut h = Header::new(Algorithm::RS256);
            h.x5t = Some(x5t_sha1(cert_der));
            h
        }
    };
    header.typ = Some("JWT".to_owned());
    let claims = AssertionClaims {
        aud: token_endpoint.to_owned(),
        iss: client_id.to_owned(),
        sub: client_id.to_owned(),
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: now,
        iat: now,
        exp: now + ASSERTION_LIFETIME.as_secs(),
    };
    let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
        .map_err(|e| TokenError::Config(format!("private key: {e}")))?;
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| TokenError::Config(format!("cannot sign client assertion: {e}")))
}

/// A successful token response.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// The raw ID token (validate it before use; it holds personal data and is
    /// redacted from `Debug`).
    pub id_token: Option<String>,
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
    pub ext_expires_in: Option<u64>,
    /// Space-separated granted scopes (absent for client credentials).
    pub scope: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[REDACTED]"))
            .field("id_token", &self.id_token.as_ref().map(|_| "[REDACTED]"))
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("ext_expires_in", &self.ext_expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "de_opt_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "de_opt_u64")]
    ext_expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// `expires_in` is a number in v2.0 and a string in some v1.0 answers.
fn de_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(u64),
        Str(String),
    }
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Str(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl TokenResponse {
    /// Parses a token endpoint success body. A missing `expires_in` is taken
    /// as 3599 s.
    pub fn from_json(body: &[u8]) -> Result<Self, TokenError> {
        let raw: RawTokenResponse = serde_json::from_slice(body).map_err(|e| TokenError::Decode(e.to_string()))?;
        if raw.access_token.is_empty() {
            return Err(TokenError::Decode("empty access_token".to_owned()));
        }
        Ok(TokenResponse {
            access_token: SecretString::from(raw.access_token),
            refresh_token: raw.refresh_token.map(SecretString::from),
            id_token: raw.id_token,
            token_type: raw.token_type.unwrap_or_else(|| "Bearer".to_owned()),
            expires_in: raw.expires_in.unwrap_or(3599),
            ext_expires_in: raw.ext_expires_in,
            scope: raw.scope,
        })
    }
}

#[derive(Clone)]
struct CachedToken {
    access_token: SecretString,
    expires_at: Instant,
    /// Refresh once `expires_at - refresh_margin` is past (relative to the token's lifetime).
    refresh_margin: Duration,
}

type TenantSlot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

struct TokenInner {
    http: reqwest::Client,
    settings: GraphSettings,
    sleeper: Arc<dyn Sleeper>,
    authority: String,
    client_id: String,
    app_scope: String,
    credential: Option<ClientCredential>,
    refresh_margin: Duration,
    cache: Mutex<HashMap<String, TenantSlot>>,
}

/// Token endpoint client. Cheap to clone.
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<TokenInner>,
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClient")
            .field("authority", &self.inner.authority)
            .field("client_id", &self.inner.client_id)
            .field("credential", &self.inner.credential)
            .finish_non_exhaustive()
    }
}

/// Accepts tenant GUIDs, verified domains and `organizations`/`common`:
/// the value goes into a URL path, so nothing else is allowed.
pub(crate) fn validate_tenant(tenant: &str) -> Result<(), TokenError> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 256
        && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !tenant.starts_with('.');
    if ok { Ok(()) } else { Err(TokenError::Config("invalid tenant id".to_owned())) }
}

impl TokenClient {
    /// Token client using `settings.client_secret` as credential (if any).
    pub fn new(settings: &GraphSettings) -> Result<Self, TokenError> {
        let credential = settings.client_secret.clone().map(ClientCredential::Secret);
        Self::with_credential(settings, credential)
    }

    /// Token client with an explicit credential (certificate for the sync job).
    pub fn with_credential(settings: &GraphSettings, credential: Option<ClientCredential>) -> Result<Self, TokenError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TokenError::Config(e.to_string()))?;
        Ok(Self::with_http(settings, credential, http, default_sleeper()))
    }

    pub(crate) fn with_http(
        settings: &GraphSettings,
        credential: Option<ClientCredential>,
        http: reqwest::Client,
        sleeper: Arc<dyn Sleeper>,
    ) -> Self {
        TokenClient {
            inner: Arc::new(TokenInner {
                http,
                settings: settings.clone(),
                sleeper,
                authority: settings.authority_base_url.trim_end_matches('/').to_owned(),
                client_id: settings.client_id.clone(),
                app_scope: settings.app_scope.clone(),
                credential,
                refresh_margin: settings.token_refresh_margin,
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self, tenant: &str) -> Result<String, TokenError> {
        validate_tenant(tenant)?;
        Ok(format!("{}/{tenant}/oauth2/v2.0/token", self.inner.authority))
    }

    /// App-only access token for `tenant`, from the cache when it is still
    /// valid for longer than the refresh margin. Concurrent callers for the
    /// same tenant wait for a single fetch.
    pub async fn app_token(&self, tenant: &str) -> Result<SecretString, TokenError> {
        validate_tenant(tenant)?;
        let slot = self.slot(tenant);
        let mut guard = slot.lock().await;
        if let Some(cached) = guard.as_ref()
            && cached.expires_at > Instant::now() + cached.refresh_margin
        {
            return Ok(cached.access_token.clone());
        }
        let started = Instant::now();
        let resp = self.client_credentials(tenant).await?;
        let token = resp.access_token.clone();
        let lifetime = Duration::from_secs(resp.expires_in);
        *guard = Some(CachedToken {
            access_token: resp.access_token,
            expires_at: started + lifetime,
            refresh_margin: crate::settings::refresh_margin(self.inner.refresh_margin, lifetime),
        });
        Ok(token)
    }

    /// Drops the cached app-only token of `tenant` (e.g. after a 401).
    pub async fn invalidate(&self, tenant: &str) {
        let slot = self.slot(tenant);
        *slot.lock().await = None;
    }

    fn slot(&self, tenant: &str) -> TenantSlot {
        let mut map = self.inner.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(tenant.to_ascii_lowercase()).or_default().clone()
    }

    /// One client-credentials request (no cache).
    pub async fn client_credentials(&self, tenant: &str) -> Result<TokenResponse, TokenError> {
        let form = vec![("grant_type", "client_credentials".to_owned()), ("scope", self.inner.app_scope.clone())];
        self.token_request(tenant, form, true).await
    }

    /// Redeems an authorization code (auth-code flow with PKCE).
    pub async fn exchange_code(
        &self,
        tenant: &str,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: &str,
        scopes: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("code_verifier", pkce_verifier.to_owned()),
            ("scope", scopes.join(" ")),
        ];
        self.token_request(tenant, form, false).await
    }

    /// Redeems a refresh token. Entra returns a new refresh token: replace
    /// the stored one.
    pub async fn refresh(
        &self,
        tenant: &str,
        refresh_token: &SecretString,
        scopes: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose_secret().to_owned()),
            ("scope", scopes.join(" ")),
        ];
        self.token_request(tenant, form, false).await
    }

    async fn token_request(
        &self,
        tenant: &str,
        mut form: Vec<(&'static str, String)>,
        credential_required: bool,
    ) -> Result<TokenResponse, TokenError> {
        let endpoint = self.token_endpoint(tenant)?;
        form.push(("client_id", self.inner.client_id.clone()));
        if self.inner.credential.is_none() && credential_required {
            return Err(TokenError::Config("no client credential configured for app-only tokens".to_owned()));
        }
        let grant = form.first().map(|(_, v)| v.clone()).unwrap_or_default();
        // A redeemed code is single-use: never resend it after a timeout.
        let retry_timeouts = grant != "authorization_code";
        let mut call = TokenCall { client: self, endpoint, form, grant, retry_timeouts };
        let reply = RetryPolicy::call(&self.inner.settings).run(self.inner.sleeper.as_ref(), &mut call).await?;
        if (200..300).contains(&reply.status) {
            return TokenResponse::from_json(&reply.body);
        }
        match OAuthError::from_json(reply.status, &reply.body) {
            Ok(e) => {
                tracing::warn!(
                    token.status = reply.status,
                    token.error = %e.error,
                    token.error_codes = ?e.error_codes,
                    token.trace_id = e.trace_id.as_deref().unwrap_or(""),
                    "token endpoint error"
                );
                Err(TokenError::OAuth(Box::new(e)))
            }
            Err(_) => Err(TokenError::Http { status: reply.status }),
        }
    }
}

/// An answer of the token endpoint (any status).
struct TokenReply {
    status: u16,
    body: Vec<u8>,
}

/// One token request under the [`RetryPolicy`].
struct TokenCall<'a> {
    client: &'a TokenClient,
    endpoint: String,
    form: Vec<(&'static str, String)>,
    grant: String,
    retry_timeouts: bool,
}

impl TokenCall<'_> {
    /// The form of one attempt, with the credential (a fresh assertion, i.e. a new `jti`,
    /// for every attempt).
    fn attempt_form(&self) -> Result<String, TokenError> {
        let inner = &self.client.inner;
        let mut attempt_form = self.form.clone();
        match &inner.credential {
            Some(ClientCredential::Secret(s)) => {
                attempt_form.push(("client_secret", s.expose_secret().to_owned()));
            }
            Some(ClientCredential::Certificate { cert_der, private_key_pem, alg }) => {
                let assertion = build_client_assertion(
                    &inner.client_id,
                    &self.endpoint,
                    cert_der,
                    private_key_pem,
                    *alg,
                    SystemTime::now(),
                )?;
                attempt_form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
                attempt_form.push(("client_assertion", assertion));
            }
            None => {}
        }
        serde_urlencoded::to_string(&attempt_form).map_err(|e| TokenError::Config(format!("form encoding: {e}")))
    }
}

impl Attempt for TokenCall<'_> {
    type Output = Result<TokenReply, TokenError>;

    /// Retries 429/503/504 answers and connection failures (timeouts too, except for a
    /// code redemption).
    async fn attempt(&mut self, state: &mut RetryState, _previous: Option<Self::Output>) -> Step<Self::Output> {
        let body = match self.attempt_form() {
            Ok(body) => body,
            Err(e) => return Step::Done(Err(e)),
        };
        let started = Instant::now();
        let sent = self
            .client
            .inner
            .http
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await;
        let result = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                resp.bytes().await.map(|b| (status, retry_after, b))
            }
            Err(e) => Err(e),
        };
        let (status, retry_after, bytes) = match result {
            Ok(r) => r,
            Err(e) => {
                let timeout = e.is_timeout();
                let retryable = e.is_connect() || (timeout && self.retry_timeouts);
                let err = if timeout { TokenError::Timeout } else { TokenError::Transport(e.to_string()) };
                return if retryable {
                    Step::Retry { last: Err(err), retry_after: None }
                } else {
                    Step::Done(Err(err))
                };
            }
        };
        tracing::debug!(
            token.grant = %self.grant,
            token.status = status,
            duration_ms = started.elapsed().as_millis() as u64,
            retry = state.attempt,
            "token endpoint call"
        );
        let reply = TokenReply { status, body: bytes.to_vec() };
        if matches!(status, 429 | 503 | 504) {
            Step::Retry { last: Ok(reply), retry_after }
        } else {
            Step::Done(Ok(reply))
        }
    }
}
