//! The Graph HTTP pipeline: auth, per-tenant lanes, retries, paging.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures_util::Stream;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use crate::error::{ErrorDetail, GraphError};
use crate::models::Page;
use crate::retry::{Attempt, GiveUp, RetryPolicy, RetryState, Step};
use crate::settings::{GraphSettings, Sleeper, default_sleeper, parse_retry_after};
use crate::token::{ClientCredential, TokenClient, validate_tenant};

/// Who a Graph call acts as.
#[derive(Clone)]
pub enum GraphAuth {
    /// A delegated (user) access token. `tenant_id` selects the per-tenant
    /// concurrency lane.
    Delegated { tenant_id: String, access_token: SecretString },
    /// App-only: the [`TokenClient`] gets (and caches) a client-credentials
    /// token for the tenant.
    AppOnly { tenant_id: String },
}

impl GraphAuth {
    pub fn delegated(tenant_id: impl Into<String>, access_token: SecretString) -> Self {
        GraphAuth::Delegated { tenant_id: tenant_id.into(), access_token }
    }

    pub fn app_only(tenant_id: impl Into<String>) -> Self {
        GraphAuth::AppOnly { tenant_id: tenant_id.into() }
    }

    pub fn tenant_id(&self) -> &str {
        match self {
            GraphAuth::Delegated { tenant_id, .. } | GraphAuth::AppOnly { tenant_id } => tenant_id,
        }
    }
}

impl fmt::Debug for GraphAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphAuth::Delegated { tenant_id, .. } => {
                f.debug_struct("Delegated").field("tenant_id", tenant_id).field("access_token", &"[REDACTED]").finish()
            }
            GraphAuth::AppOnly { tenant_id } => f.debug_struct("AppOnly").field("tenant_id", tenant_id).finish(),
        }
    }
}

/// A request body. Everything but `Stream` can be re-sent (is retried).
pub enum RequestBody {
    Empty,
    /// Serialized JSON.
    Json(Vec<u8>),
    Bytes {
        content_type: String,
        data: Vec<u8>,
    },
    /// A body that can be sent only once: never retried.
    Stream {
        content_type: String,
        body: reqwest::Body,
    },
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Empty => f.write_str("Empty"),
            RequestBody::Json(b) => write!(f, "Json({} bytes)", b.len()),
            RequestBody::Bytes { data, .. } => write!(f, "Bytes({} bytes)", data.len()),
            RequestBody::Stream { .. } => f.write_str("Stream"),
        }
    }
}

/// One Graph request: `target` is a path relative to `/v1.0/` (with or
/// without leading `/`, query included) or an absolute nextLink/deltaLink
/// under the configured Graph base.
#[derive(Debug)]
pub struct GraphRequest {
    pub method: Method,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: RequestBody,
}

impl GraphRequest {
    pub fn new(method: Method, target: impl Into<String>) -> Self {
        GraphRequest { method, target: target.into(), headers: Vec::new(), body: RequestBody::Empty }
    }

    pub fn get(target: impl Into<String>) -> Self {
        Self::new(Method::GET, target)
    }

    pub fn delete(target: impl Into<String>) -> Self {
        Self::new(Method::DELETE, target)
    }

    pub fn json<B: Serialize + ?Sized>(
        method: Method,
        target: impl Into<String>,
        body: &B,
    ) -> Result<Self, GraphError> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| GraphError::InvalidRequest(format!("cannot serialize body: {e}")))?;
        let mut r = Self::new(method, target);
        r.body = RequestBody::Json(bytes);
        Ok(r)
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `ConsistencyLevel: eventual` (advanced directory queries).
    pub fn eventual(self) -> Self {
        self.header("ConsistencyLevel", "eventual")
    }

    fn is_rewindable(&self) -> bool {
        !matches!(self.body, RequestBody::Stream { .. })
    }

    fn is_idempotent(&self) -> bool {
        matches!(self.method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS)
    }
}

/// A raw Graph response (any status).
#[derive(Debug, Clone)]
pub struct GraphResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl GraphResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn request_id(&self) -> Option<&str> {
        self.header("request-id").or_else(|| self.header("client-request-id"))
    }

    fn base_detail(&self) -> ErrorDetail {
        ErrorDetail::from_response(self.status, Some(&self.headers), &[])
    }

    /// Decodes the JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GraphError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| GraphError::Decode { message: e.to_string(), detail: Box::new(self.base_detail()) })
    }

    /// Maps a non-success response to the typed error.
    pub fn into_error(self) -> GraphError {
        let detail = ErrorDetail::from_response(self.status, Some(&self.headers), &self.body);
        let retry_after = self.header("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()));
        let location = self.header("location").map(str::to_owned);
        match GraphError::from_status(self.status, detail, location) {
            GraphError::Throttled { detail, .. } => GraphError::Throttled { retry_after, detail },
            other => other,
        }
    }

    /// `Ok(self)` for 2xx, the typed error otherwise.
    pub fn error_for_status(self) -> Result<Self, GraphError> {
        if self.is_success() { Ok(self) } else { Err(self.into_error()) }
    }
}

/// Options applied to every page of a paged read.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// Sends `ConsistencyLevel: eventual` on every page (Graph does not carry
    /// it over to nextLink requests by itself).
    pub eventual: bool,
    /// Extra headers for every page.
    pub headers: Vec<(String, String)>,
    /// Overrides `GraphSettings::max_pages`.
    pub max_pages: Option<usize>,
}

impl PageOptions {
    pub fn eventual() -> Self {
        PageOptions { eventual: true, ..Self::default() }
    }

    fn request(&self, target: &str) -> GraphRequest {
        let mut r = GraphRequest::get(target);
        if self.eventual {
            r = r.eventual();
        }
        for (k, v) in &self.headers {
            r = r.header(k.clone(), v.clone());
        }
        r
    }
}

struct Lane {
    limiter: Limiter,
    /// Set only by a `Retry-After` too long for a call to wait ([`GraphSettings::max_backoff`]):
    /// the tenant is then blocked as a whole. A short `Retry-After` pauses only the call that
    /// was throttled (issue 18 §5); the lane's concurrency shrinks instead.
    paused_until: Mutex<Option<Instant>>,
    breaker: Mutex<Breaker>,
}

/// A tenant's adaptive concurrency limit (issue 18 §5): additive increase (+1 after `limit`
/// calls answered without a 429), multiplicative decrease (×¾ on a 429, at most once
/// per [`Limiter::DECREASE_EVERY`], so a burst of 429s from one throttling episode counts once),
/// between 1 and `max`. Microsoft's budget per tenant is unknown and varies: the lane finds it
/// instead of a fixed 4 calls in flight.
struct Limiter {
    semaphore: Semaphore,
    state: Mutex<LimiterState>,
    max: usize,
}

#[derive(Debug)]
struct LimiterState {
    /// The target number of calls in flight.
    limit: usize,
    /// Permits to retire when they come back (the limit shrank while they were in use).
    debt: usize,
    /// Calls answered without a 429 since the last increase (not reset by a 429: a share of
    /// throttled calls alone must not pin the limit at 1).
    successes: usize,
    last_decrease: Option<Instant>,
}

impl Limiter {
    const DECREASE_EVERY: Duration = Duration::from_secs(1);

    fn new(initial: usize, max: usize) -> Self {
        let max = max.max(1);
        let limit = initial.clamp(1, max);
        Limiter {
            semaphore: Semaphore::new(limit),
            state: Mutex::new(LimiterState { limit, debt: 0, successes: 0, last_decrease: None }),
            max,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current limit.
    fn limit(&self) -> usize {
        self.state().limit
    }

    /// Gives a permit back (or retires it when the limit shrank).
    fn release(&self, permit: tokio::sync::SemaphorePermit<'_>) {
        let mut st = self.state();
        if st.debt > 0 {
            st.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
    }

    /// A call was answered without a 429.
    fn on_success(&self) {
        let mut st = self.state();
        st.successes += 1;
        if st.successes < st.limit || st.limit >= self.max {
            return;
        }
        st.successes = 0;
        st.limit += 1;
        if st.debt > 0 {
            st.debt -= 1;
        } else {
            self.semaphore.add_permits(1);
        }
    }

    /// Microsoft answered 429.
    fn on_throttled(&self, now: Instant) {
        let mut st = self.state();
        if st.last_decrease.is_some_and(|t| now.duration_since(t) < Self::DECREASE_EVERY) {
            return;
        }
        st.last_decrease = Some(now);
        let new = (st.limit * 3 / 4).max(1);
        let cut = st.limit - new;
        st.limit = new;
        let forgotten = self.semaphore.forget_permits(cut);
        st.debt += cut - forgotten;
        if cut > 0 {
            tracing::info!(limit = new, "Microsoft Graph throttled a tenant: its concurrency shrinks");
        }
    }
}

/// A tenant's circuit breaker (R-C9): closed, open until an instant, or half-open with one
/// probe in flight.
#[derive(Debug, Default)]
struct Breaker {
    /// Calls in a row that ended in an outage (timeout, connection failure, 5xx).
    failures: u32,
    /// Refuse calls until then; once passed, the next call is the probe.
    open_until: Option<Instant>,
    /// A probe is in flight: other calls are refused until it ends.
    probing: bool,
}

/// How one call ended, for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Graph answered (any status but 5xx; 429 is [`Outcome::Neutral`]).
    Answered,
    /// Timeout, connection failure, or a 5xx after the retries.
    Outage,
    /// Says nothing about Graph's health (throttling, a bad request of ours, a token error).
    Neutral,
}

fn outcome(r: &Result<GraphResponse, GraphError>) -> Outcome {
    match r {
        Ok(resp) if matches!(resp.status, 500 | 502 | 503 | 504) => Outcome::Outage,
        Ok(resp) if resp.status == 429 => Outcome::Neutral,
        Ok(_) => Outcome::Answered,
        Err(GraphError::Timeout(_) | GraphError::Transport { .. }) => Outcome::Outage,
        Err(_) => Outcome::Neutral,
    }
}

impl Lane {
    fn paused_until(&self) -> Option<Instant> {
        *self.paused_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn pause(&self, until: Instant) {
        let mut g = self.paused_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.is_none_or(|cur| cur < until) {
            *g = Some(until);
        }
    }

    /// `Err(wait)` while the circuit is open (or a probe is in flight); `Ok(probe)` otherwise.
    fn admit(&self, now: Instant) -> Result<bool, (Duration, u32)> {
        let mut b = self.breaker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match b.open_until {
            None => Ok(false),
            Some(until) if now < until => Err((until - now, b.failures)),
            Some(_) if b.probing => Err((Duration::from_secs(1), b.failures)),
            Some(_) => {
                b.probing = true;
                Ok(true)
            }
        }
    }

    /// Records how a call ended; `true` when this opened the circuit.
    fn record(&self, o: Outcome, probe: bool, settings: &GraphSettings, now: Instant) -> bool {
        let mut b = self.breaker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if probe {
            b.probing = false;
        }
        match o {
            Outcome::Answered => {
                *b = Breaker::default();
                false
            }
            Outcome::Neutral => false,
            Outcome::Outage => {
                b.failures = b.failures.saturating_add(1);
                let open = probe || b.failures >= settings.breaker_threshold;
                if open {
                    let was_closed = b.open_until.is_none();
                    b.open_until = Some(now + settings.breaker_cooldown);
                    return was_closed || probe;
                }
                false
            }
        }
    }
}

struct Inner {
    http: reqwest::Client,
    settings: GraphSettings,
    /// `{graph_base}/v1.0/`
    version_root: Url,
    tokens: TokenClient,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
    global: Semaphore,
    sleeper: Arc<dyn Sleeper>,
}

/// Microsoft Graph v1.0 client. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("version_root", &self.inner.version_root.as_str())
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

/// Drops query strings and replaces path segments that look like personal
/// data (UPNs/e-mail addresses) before a path is logged.
pub(crate) fn log_path(url: &Url) -> String {
    url.path()
        .split('/')
        .map(|s| if s.contains('@') || s.contains("%40") { "{upn}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

impl GraphClient {
    /// Client whose app-only credential is `settings.client_secret` (if any).
    pub fn new(settings: GraphSettings) -> Result<Self, GraphError> {
        let credential = settings.client_secret.clone().map(ClientCredential::Secret);
        Self::with_credential(settings, credential)
    }

    /// Client with an explicit app credential (certificate for the sync job).
    pub fn with_credential(settings: GraphSettings, credential: Option<ClientCredential>) -> Result<Self, GraphError> {
        Self::build(settings, credential, default_sleeper())
    }

    /// Same as [`GraphClient::with_credential`] with a custom [`Sleeper`]
    /// (tests use it to record backoff delays instead of sleeping).
    pub fn with_sleeper(
        settings: GraphSettings,
        credential: Option<ClientCredential>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, GraphError> {
        Self::build(settings, credential, sleeper)
    }

    fn build(
        settings: GraphSettings,
        credential: Option<ClientCredential>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, GraphError> {
        let base = settings.graph_base_url.trim_end_matches('/');
        let version_root = Url::parse(&format!("{base}/v1.0/"))
            .map_err(|e| GraphError::InvalidRequest(format!("graph_base_url: {e}")))?;
        if !matches!(version_root.scheme(), "http" | "https") {
            return Err(GraphError::InvalidRequest("graph_base_url must be http(s)".to_owned()));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GraphError::InvalidRequest(format!("http client: {e}")))?;
        let tokens = TokenClient::with_http(&settings, credential, http.clone(), sleeper.clone());
        let global = Semaphore::new(settings.max_concurrency.max(1));
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                settings,
                version_root,
                tokens,
                lanes: Mutex::new(HashMap::new()),
                global,
                sleeper,
            }),
        })
    }

    /// The token client (for the API's sign-in: code exchange and refresh).
    pub fn tokens(&self) -> &TokenClient {
        &self.inner.tokens
    }

    pub fn settings(&self) -> &GraphSettings {
        &self.inner.settings
    }

    /// Resolves a relative path or an absolute link. Absolute links must be
    /// under the configured Graph `/v1.0/` root, so a bearer token is never
    /// sent to another host.
    pub fn resolve(&self, target: &str) -> Result<Url, GraphError> {
        let root = &self.inner.version_root;
        if target.starts_with("http://") || target.starts_with("https://") {
            let url = Url::parse(target).map_err(|e| GraphError::InvalidRequest(format!("bad link: {e}")))?;
            if url.origin() != root.origin() || !url.path().starts_with(root.path()) {
                return Err(GraphError::InvalidRequest("link is not under the configured Graph base URL".to_owned()));
            }
            Ok(url)
        } else {
            let rel = target.trim_start_matches('/');
            root.join(rel).map_err(|e| GraphError::InvalidRequest(format!("bad path: {e}"))).and_then(|u| {
                if u.path().starts_with(root.path()) {
                    Ok(u)
                } else {
                    Err(GraphError::InvalidRequest("path escapes the Graph version root".to_owned()))
                }
            })
        }
    }

    fn lane(&self, tenant: &str) -> Arc<Lane> {
        let mut lanes = self.inner.lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        lanes
            .entry(tenant.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(Lane {
                    limiter: Limiter::new(
                        self.inner.settings.per_tenant_concurrency,
                        self.inner.settings.max_per_tenant_concurrency,
                    ),
                    paused_until: Mutex::new(None),
                    breaker: Mutex::new(Breaker::default()),
                })
            })
            .clone()
    }

    /// The current adaptive concurrency limit of a tenant's lane (for metrics and tests).
    pub fn tenant_concurrency(&self, tenant: &str) -> usize {
        self.lane(tenant).limiter.limit()
    }

    async fn bearer(&self, auth: &GraphAuth) -> Result<SecretString, GraphError> {
        match auth {
            GraphAuth::Delegated { access_token, .. } => Ok(access_token.clone()),
            GraphAuth::AppOnly { tenant_id } => Ok(self.inner.tokens.app_token(tenant_id).await?),
        }
    }

    /// Sends a request with retries (429/503/504 on rewindable bodies,
    /// connect errors, timeouts of idempotent methods) and returns the final
    /// response whatever its status. Behind a per-tenant circuit breaker (R-C9): after
    /// [`GraphSettings::breaker_threshold`] calls in a row end in an outage, calls for the
    /// tenant fail at once with [`GraphError::CircuitOpen`] for
    /// [`GraphSettings::breaker_cooldown`], then one call probes Graph again.
    pub async fn send_raw(&self, auth: &GraphAuth, req: GraphRequest) -> Result<GraphResponse, GraphError> {
        validate_tenant(auth.tenant_id()).map_err(|_| GraphError::InvalidRequest("invalid tenant id".to_owned()))?;
        let settings = &self.inner.settings;
        let lane = self.lane(auth.tenant_id());
        if settings.breaker_threshold == 0 {
            return self.send_once(auth, req, &lane).await;
        }
        let probe = match lane.admit(Instant::now()) {
            Ok(probe) => probe,
            Err((retry_in, failures)) => return Err(GraphError::CircuitOpen { failures, retry_in }),
        };
        let result = self.send_once(auth, req, &lane).await;
        let o = outcome(&result);
        if lane.record(o, probe, settings, Instant::now()) {
            tracing::warn!(
                cooldown_s = settings.breaker_cooldown.as_secs(),
                "Microsoft Graph circuit opened for a tenant: calls fail at once until a probe succeeds"
            );
        } else if probe && o == Outcome::Answered {
            tracing::info!("Microsoft Graph circuit closed: the probe was answered");
        }
        result
    }

    /// One call with its retries (see [`GraphClient::send_raw`]), without the breaker.
    async fn send_once(&self, auth: &GraphAuth, req: GraphRequest, lane: &Lane) -> Result<GraphResponse, GraphError> {
        let url = self.resolve(&req.target)?;
        let mut extra_headers = HeaderMap::new();
        for (k, v) in &req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| GraphError::InvalidRequest(format!("bad header name {k}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| GraphError::InvalidRequest(format!("bad header value for {k}")))?;
            extra_headers.append(name, value);
        }
        let policy = RetryPolicy::call(&self.inner.settings);
        let mut call = GraphCall {
            client: self,
            auth,
            lane,
            policy,
            path_for_log: log_path(&url),
            url,
            extra_headers,
            client_request_id: uuid::Uuid::new_v4().to_string(),
            req,
            reauthenticated: false,
            own_pause: None,
        };
        policy.run(self.inner.sleeper.as_ref(), &mut call).await
    }

    /// [`GraphClient::send_raw`] + mapping of non-2xx to [`GraphError`].
    pub async fn send(&self, auth: &GraphAuth, req: GraphRequest) -> Result<GraphResponse, GraphError> {
        self.send_raw(auth, req).await?.error_for_status()
    }

    /// GET + JSON decode.
    pub async fn get<T: DeserializeOwned>(&self, auth: &GraphAuth, path_and_query: &str) -> Result<T, GraphError> {
        self.send(auth, GraphRequest::get(path_and_query)).await?.json()
    }

    /// GET with extra headers (e.g. `ConsistencyLevel`).
    pub async fn get_with(&self, auth: &GraphAuth, req: GraphRequest) -> Result<GraphResponse, GraphError> {
        self.send(auth, req).await
    }

    /// POST a JSON body; decodes the JSON answer.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        auth: &GraphAuth,
        path: &str,
        body: &B,
    ) -> Result<T, GraphError> {
        self.send(auth, GraphRequest::json(Method::POST, path, body)?).await?.json()
    }

    /// POST a JSON body (or none) where Graph answers 202/204 without body.
    pub async fn post_no_content<B: Serialize + ?Sized>(
        &self,
        auth: &GraphAuth,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), GraphError> {
        let req = match body {
            Some(b) => GraphRequest::json(Method::POST, path, b)?,
            None => GraphRequest::new(Method::POST, path),
        };
        self.send(auth, req).await.map(|_| ())
    }

    /// PATCH; Graph answers 204 (users) or 200 + entity (some education
    /// resources). Returns the body when there is one.
    pub async fn patch<B: Serialize + ?Sized>(
        &self,
        auth: &GraphAuth,
        path: &str,
        body: &B,
    ) -> Result<Option<serde_json::Value>, GraphError> {
        let resp = self.send(auth, GraphRequest::json(Method::PATCH, path, body)?).await?;
        if resp.body.iter().all(u8::is_ascii_whitespace) { Ok(None) } else { resp.json().map(Some) }
    }

    pub async fn delete(&self, auth: &GraphAuth, path: &str) -> Result<(), GraphError> {
        self.send(auth, GraphRequest::delete(path)).await.map(|_| ())
    }

    /// One page of a collection.
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        auth: &GraphAuth,
        target: &str,
        opts: &PageOptions,
    ) -> Result<Page<T>, GraphError> {
        self.send(auth, opts.request(target)).await?.json()
    }

    /// All items of a collection, following `@odata.nextLink` (at most
    /// `max_pages` pages; more is an error, never a silent truncation).
    pub async fn get_all_pages<T: DeserializeOwned>(
        &self,
        auth: &GraphAuth,
        path_and_query: &str,
        opts: &PageOptions,
    ) -> Result<Vec<T>, GraphError> {
        let max_pages = opts.max_pages.unwrap_or(self.inner.settings.max_pages);
        let mut items = Vec::new();
        let mut target = path_and_query.to_owned();
        for _ in 0..max_pages {
            let page: Page<T> = self.get_page(auth, &target, opts).await?;
            items.extend(page.value);
            match page.next_link {
                Some(next) => target = next,
                None => return Ok(items),
            }
        }
        Err(GraphError::PageLimitExceeded { max_pages })
    }

    /// A stream of pages following `@odata.nextLink`, bounded like
    /// [`GraphClient::get_all_pages`]. Stops after the first error.
    pub fn pages<T: DeserializeOwned + Send + 'static>(
        &self,
        auth: GraphAuth,
        path_and_query: &str,
        opts: PageOptions,
    ) -> impl Stream<Item = Result<Page<T>, GraphError>> + Send + 'static {
        let max_pages = opts.max_pages.unwrap_or(self.inner.settings.max_pages);
        let client = self.clone();
        let state = (Some(path_and_query.to_owned()), 0usize);
        futures_util::stream::unfold(state, move |(target, fetched)| {
            let client = client.clone();
            let auth = auth.clone();
            let opts = opts.clone();
            async move {
                let target = target?;
                if fetched >= max_pages {
                    return Some((Err(GraphError::PageLimitExceeded { max_pages }), (None, fetched)));
                }
                match client.get_page::<T>(&auth, &target, &opts).await {
                    Ok(page) => {
                        let next = page.next_link.clone();
                        Some((Ok(page), (next, fetched + 1)))
                    }
                    Err(e) => Some((Err(e), (None, fetched))),
                }
            }
        })
    }

    /// An upload session's `uploadUrl`, checked: `https`, or on the configured Graph origin
    /// (the local emulator).
    fn upload_url(&self, upload_url: &str) -> Result<Url, GraphError> {
        let url = Url::parse(upload_url).map_err(|e| GraphError::InvalidRequest(format!("bad upload url: {e}")))?;
        if url.scheme() != "https" && url.origin() != self.inner.version_root.origin() {
            return Err(GraphError::InvalidRequest("upload url must be https".to_owned()));
        }
        Ok(url)
    }

    /// `PUT` of one byte range to an upload session's `uploadUrl` (driveItem
    /// `createUploadSession`). Microsoft's upload URL is pre-authenticated and on another
    /// host: the bearer token is **not** sent ("Including the Authorization header when
    /// issuing the PUT call might result in an HTTP 401 Unauthorized response"). The URL must
    /// be `https`, or on the configured Graph origin (the local emulator). 202 answers
    /// `nextExpectedRanges`; 200/201 the finished `driveItem`.
    pub async fn upload_range(
        &self,
        upload_url: &str,
        start: u64,
        data: &[u8],
        total: u64,
    ) -> Result<crate::models::UploadProgress, GraphError> {
        let url = self.upload_url(upload_url)?;
        let len = data.len() as u64;
        if len == 0 || start + len > total {
            return Err(GraphError::InvalidRequest("empty or out-of-bounds range".to_owned()));
        }
        let resp = self
            .inner
            .http
            .put(url.clone())
            .header(reqwest::header::CONTENT_RANGE, format!("bytes {}-{}/{}", start, start + len - 1, total))
            .header(reqwest::header::CONTENT_LENGTH, len.to_string())
            .body(data.to_vec())
            .send()
            .await
            .map_err(|e| {
                let detail = Box::new(ErrorDetail::default());
                if e.is_timeout() {
                    GraphError::Timeout(detail)
                } else {
                    GraphError::Transport { message: e.to_string(), detail }
                }
            })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| GraphError::Transport { message: e.to_string(), detail: Box::new(ErrorDetail::default()) })?;
        let resp = GraphResponse { status, headers, body: body.to_vec() }.error_for_status()?;
        tracing::debug!(graph.method = "PUT", graph.path = "{uploadUrl}", graph.status = resp.status, "upload range");
        if resp.status == 202 {
            let s: crate::models::UploadSession = resp.json()?;
            Ok(crate::models::UploadProgress::More { next_expected_ranges: s.next_expected_ranges })
        } else {
            Ok(crate::models::UploadProgress::Done(Box::new(resp.json()?)))
        }
    }

    /// `GET {uploadUrl}` (no bearer token): the session's `nextExpectedRanges`, to resume
    /// after a failed range.
    pub async fn upload_session_status(&self, upload_url: &str) -> Result<crate::models::UploadSession, GraphError> {
        let url = self.upload_url(upload_url)?;
        let resp =
            self.inner.http.get(url).send().await.map_err(|e| GraphError::Transport {
                message: e.to_string(),
                detail: Box::new(ErrorDetail::default()),
            })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.unwrap_or_default().to_vec();
        GraphResponse { status, headers, body }.error_for_status()?.json()
    }

    /// `DELETE {uploadUrl}` (204): drops an unfinished upload session (no bearer token).
    pub async fn cancel_upload_session(&self, upload_url: &str) -> Result<(), GraphError> {
        let url = self.upload_url(upload_url)?;
        let resp =
            self.inner.http.delete(url).send().await.map_err(|e| GraphError::Transport {
                message: e.to_string(),
                detail: Box::new(ErrorDetail::default()),
            })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.unwrap_or_default().to_vec();
        GraphResponse { status, headers, body }.error_for_status().map(|_| ())
    }

    pub(crate) fn sleeper(&self) -> &Arc<dyn Sleeper> {
        &self.inner.sleeper
    }
}

/// One Graph call under the [`RetryPolicy`]: what stays the same across its attempts.
struct GraphCall<'a> {
    client: &'a GraphClient,
    auth: &'a GraphAuth,
    lane: &'a Lane,
    policy: RetryPolicy<'a>,
    url: Url,
    path_for_log: String,
    extra_headers: HeaderMap,
    client_request_id: String,
    req: GraphRequest,
    /// A 401 already made us refetch the app-only token.
    reauthenticated: bool,
    /// The tenant pause this call's own 429 set (it does not wait for it twice).
    own_pause: Option<Instant>,
}

impl GraphCall<'_> {
    /// Waits while the tenant's lane is paused by another request's long 429 `Retry-After`, or
    /// fails fast when the pause is longer than a call may wait.
    async fn wait_for_tenant_pause(&self, state: &mut RetryState) -> Result<(), GraphError> {
        let Some(until) = self.lane.paused_until() else { return Ok(()) };
        let now = Instant::now();
        if self.own_pause == Some(until) || until <= now {
            return Ok(());
        }
        let remaining = until - now;
        if !self.policy.may_wait(state, remaining) {
            // Do not park the caller for minutes: fail fast.
            return Err(GraphError::Throttled {
                retry_after: Some(remaining),
                detail: Box::new(ErrorDetail {
                    client_request_id: Some(self.client_request_id.clone()),
                    message: Some("tenant lane paused after a 429".to_owned()),
                    ..ErrorDetail::default()
                }),
            });
        }
        state.waited += remaining;
        self.client.inner.sleeper.sleep(remaining).await;
        Ok(())
    }

    /// Sends the request once: `Err` for failures before sending (token, closed lane),
    /// `Ok(Err)` when no response came back.
    async fn exchange(&mut self, attempt: u32) -> Result<Result<GraphResponse, reqwest::Error>, GraphError> {
        let inner = &self.client.inner;
        let token = self.client.bearer(self.auth).await?;
        let permit = self
            .lane
            .limiter
            .semaphore
            .acquire()
            .await
            .map_err(|_| GraphError::InvalidRequest("tenant lane closed".to_owned()))?;
        let global_permit =
            inner.global.acquire().await.map_err(|_| GraphError::InvalidRequest("client closed".to_owned()))?;
        let mut rb = inner
            .http
            .request(self.req.method.clone(), self.url.clone())
            .headers(self.extra_headers.clone())
            .bearer_auth(token.expose_secret())
            .header("client-request-id", self.client_request_id.as_str());
        if !self.extra_headers.contains_key(reqwest::header::ACCEPT) {
            rb = rb.header(reqwest::header::ACCEPT, "application/json");
        }
        if attempt > 0 {
            rb = rb.header("Retry-Attempt", attempt.to_string());
        }
        rb = match &mut self.req.body {
            RequestBody::Empty => rb,
            RequestBody::Json(b) => rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.clone()),
            RequestBody::Bytes { content_type, data } => {
                rb.header(reqwest::header::CONTENT_TYPE, content_type.as_str()).body(data.clone())
            }
            RequestBody::Stream { content_type, body } => {
                let ct = content_type.clone();
                let body = std::mem::replace(body, reqwest::Body::from(Vec::<u8>::new()));
                rb.header(reqwest::header::CONTENT_TYPE, ct).body(body)
            }
        };
        let started = Instant::now();
        let result = match rb.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                resp.bytes().await.map(|b| GraphResponse { status, headers, body: b.to_vec() })
            }
            Err(e) => Err(e),
        };
        drop(global_permit);
        match &result {
            Ok(resp) if resp.status == 429 => self.lane.limiter.on_throttled(Instant::now()),
            Ok(_) => self.lane.limiter.on_success(),
            Err(_) => {}
        }
        self.lane.limiter.release(permit);
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Err(e) => tracing::warn!(
                graph.method = %self.req.method,
                graph.path = %self.path_for_log,
                duration_ms,
                retry = attempt,
                timeout = e.is_timeout(),
                "graph request failed without response"
            ),
            Ok(resp) => tracing::debug!(
                graph.method = %self.req.method,
                graph.path = %self.path_for_log,
                graph.status = resp.status,
                graph.request_id = resp.request_id().unwrap_or(""),
                duration_ms,
                retry = attempt,
                "graph request"
            ),
        }
        Ok(result)
    }
}

impl Attempt for GraphCall<'_> {
    type Output = Result<GraphResponse, GraphError>;

    /// Retries 429/503/504 answers and connection failures (timeouts only for idempotent
    /// methods) of requests whose body can be sent again; a 429's `Retry-After` is waited by
    /// this call only (unless it is above `max_backoff`: then the whole tenant lane pauses).
    async fn attempt(&mut self, state: &mut RetryState, _previous: Option<Self::Output>) -> Step<Self::Output> {
        let rewindable = self.req.is_rewindable();
        let sent = loop {
            if let Err(e) = self.wait_for_tenant_pause(state).await {
                return Step::Done(Err(e));
            }
            let sent = match self.exchange(state.attempt).await {
                Ok(sent) => sent,
                Err(e) => return Step::Done(Err(e)),
            };
            if let Ok(resp) = &sent
                && resp.status == 401
                && !self.reauthenticated
                && rewindable
                && let GraphAuth::AppOnly { tenant_id } = self.auth
            {
                // A cached app token may have been revoked: refetch once (not a retry).
                self.reauthenticated = true;
                self.client.inner.tokens.invalidate(tenant_id).await;
                continue;
            }
            break sent;
        };
        match sent {
            Err(e) => {
                let timeout = e.is_timeout();
                let retryable = rewindable && (e.is_connect() || (timeout && self.req.is_idempotent()));
                let detail = Box::new(ErrorDetail {
                    client_request_id: Some(self.client_request_id.clone()),
                    ..ErrorDetail::default()
                });
                let err = if timeout {
                    GraphError::Timeout(detail)
                } else {
                    GraphError::Transport { message: e.to_string(), detail }
                };
                if retryable { Step::Retry { last: Err(err), retry_after: None } } else { Step::Done(Err(err)) }
            }
            Ok(resp) => {
                if !matches!(resp.status, 429 | 503 | 504) {
                    return Step::Done(Ok(resp));
                }
                let retry_after = resp.header("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()));
                // Only a Retry-After too long to wait blocks the whole tenant; a short one is
                // waited out by this call alone (the lane's concurrency already shrank).
                if let Some(ra) = retry_after
                    && resp.status == 429
                    && ra > self.client.inner.settings.max_backoff
                {
                    self.lane.pause(Instant::now() + ra);
                    self.own_pause = self.lane.paused_until();
                }
                if rewindable { Step::Retry { last: Ok(resp), retry_after } } else { Step::Done(Ok(resp)) }
            }
        }
    }

    fn retrying(&self, state: &RetryState, delay: Duration, last: &Self::Output) {
        if let Ok(resp) = last {
            tracing::info!(
                graph.method = %self.req.method,
                graph.path = %self.path_for_log,
                graph.status = resp.status,
                retry = state.attempt + 1,
                delay_ms = delay.as_millis() as u64,
                "graph retry scheduled"
            );
        }
    }

    fn giving_up(&self, state: &RetryState, why: GiveUp, last: &Self::Output) {
        let Ok(resp) = last else { return };
        match why {
            // `attempt > 0`: with `max_retries` 0 nothing was retried, so nothing is exhausted.
            GiveUp::Exhausted if state.attempt > 0 => tracing::warn!(
                graph.method = %self.req.method,
                graph.path = %self.path_for_log,
                graph.status = resp.status,
                retry = state.attempt,
                "graph retries exhausted"
            ),
            GiveUp::OverBudget => tracing::warn!(
                graph.method = %self.req.method,
                graph.path = %self.path_for_log,
                graph.status = resp.status,
                retry = state.attempt,
                "graph retry budget exhausted"
            ),
            // A Retry-After too long to block here: the caller reschedules.
            GiveUp::Exhausted | GiveUp::TooLong => {}
        }
    }
}
