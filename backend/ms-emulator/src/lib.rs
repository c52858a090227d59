//! Local emulator of the Microsoft identity platform (login.microsoftonline.com v2.0) and
//! Microsoft Graph v1.0 for EduGraph's tests, demo mode and benchmarks. See `README.md`.
//!
//! One listener serves three surfaces:
//! * the identity platform at `/{tenant}/...` (`common`, `organizations`, tenant id or domain),
//! * Graph at `/graph/v1.0/...` ([`RunningEmulator::graph_url`] + `/v1.0/...`),
//! * the emulator's own admin API at `/_emulator/...`.

mod admin;
mod graph;
pub mod keys;
mod model;
mod oauth;
mod seed;
mod util;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{App as ActixApp, HttpResponse, HttpServer, web};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use keys::{AssertionAlg, ClientCertificate};
pub use seed::{
    ADMIN_PASSWORD, DEMO_APP_CLIENT_ID, DEMO_APP_SECRET, DemoClass, DemoDirectory, DemoSchool, DemoTenant, DemoUser,
    STUDENT_PASSWORD, TEACHER_PASSWORD,
};

/// Application permissions (Graph app roles) an app registered through
/// [`RunningEmulator::register_app`] receives when a tenant consents. Change them with
/// [`RunningEmulator::set_app_permissions`].
pub const DEFAULT_APP_PERMISSIONS: &[&str] = &[
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "EduRoster.ReadWrite.All",
    "EduAssignments.ReadWrite.All",
    "LicenseAssignment.ReadWrite.All",
    "Mail.Send",
    "Files.ReadWrite.All",
    "Application.Read.All",
    "ProfilePhoto.Read.All",
    "Member.Read.Hidden",
];

/// Emulator configuration. Construct with `..Default::default()` so new fields don't break you.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Listen address; `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    pub seed: Seed,
    /// Access-token lifetime; `None` = random 60–90 minutes like Microsoft.
    pub token_lifetime: Option<Duration>,
    /// actix worker threads (default 2).
    pub workers: usize,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::Demo,
            token_lifetime: None,
            workers: 2,
        }
    }
}

/// Initial directory content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seed {
    /// No tenants, no apps.
    Empty,
    /// The demo district (Contoso, consented) + Fabrikam (not consented) + the demo app.
    Demo,
    /// `Demo` plus a large consented tenant ("Northwind") with about `users` users.
    Large { users: usize },
    /// `Demo` plus `tenants` small consented districts of mixed sizes ("Fleet 0001" …),
    /// for the multi-worker sync benchmark (`infra/scripts/bench fleet`).
    Fleet { tenants: usize },
}

/// An app registration (the emulator's equivalent of an Entra app registration).
#[derive(Clone, Debug, Default)]
pub struct AppRegistration {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uris: Vec<String>,
    /// DER of the X.509 certificate whose key signs client assertions.
    pub certificate_der: Option<Vec<u8>>,
    pub display_name: String,
}

/// Graph traffic as the throttle budget sees it (issue 18 §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GraphUsage {
    /// HTTP requests to Graph (a `$batch` is one).
    pub round_trips: u64,
    /// Graph requests: each inner request of a `$batch`, each request outside one.
    pub requests: u64,
}

/// A fault injected on a route. `route` is a route template as reported by the request log
/// (e.g. `/users`, `/education/classes/{id}/members`, `/{tenant}/oauth2/v2.0/token`) or `*`.
#[derive(Clone, Debug)]
pub struct Fault {
    /// HTTP method to match (`None` = any).
    pub method: Option<String>,
    pub route: String,
    pub kind: FaultKind,
    /// How many matching requests get the fault (`None` = until cleared).
    pub times: Option<u32>,
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    /// Adds latency, then serves the request normally.
    Latency(Duration),
    /// 429 `TooManyRequests` with this `Retry-After` value (seconds, decimals allowed, e.g. "2.128").
    Throttle { retry_after: String },
    /// 503 `generalException`/`serviceNotAvailable`, optionally with `Retry-After`.
    ServiceUnavailable { retry_after: Option<String> },
    /// 504 `generalException`.
    GatewayTimeout,
    /// Headers are sent, then the connection is dropped mid-body.
    DropConnection,
    /// Any Graph error envelope, e.g. 500 `generalException` "The operation has timed out."
    /// (what Graph answers when a directory write times out inside Microsoft).
    Error { status: u16, code: String, message: String },
}

pub(crate) struct Shared {
    pub base_url: String,
    pub store: RwLock<model::Store>,
    pub log: Mutex<HashMap<(String, String), u64>>,
    /// Graph round trips (HTTP requests to `/graph`, a `$batch` counting once) and Graph
    /// requests as Microsoft's throttling counts them (every inner request of a `$batch`, every
    /// request outside one; the `$batch` envelope itself not).
    pub graph_usage: Mutex<GraphUsage>,
    pub faults: Mutex<Vec<Fault>>,
    /// Random faults of Graph calls (load tests): the share of calls answered 429 (with
    /// `Retry-After: 1`) and 503.
    pub random_faults: Mutex<(f64, f64)>,
    /// Verified Graph access tokens → claims (verification is the expensive part of a request).
    pub token_cache: Mutex<HashMap<String, Arc<serde_json::Value>>>,
}

impl Shared {
    pub fn graph_base(&self) -> String {
        format!("{}/graph", self.base_url)
    }
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, model::Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, model::Store> {
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }
    /// Counts one Graph request; `round_trip` when it is an HTTP request of its own (not inside
    /// a `$batch`), `resource` unless it is the `$batch` envelope.
    pub fn count_graph(&self, round_trip: bool, resource: bool) {
        let mut u = self.graph_usage.lock().unwrap_or_else(|p| p.into_inner());
        u.round_trips += u64::from(round_trip);
        u.requests += u64::from(resource);
    }
    pub fn count(&self, method: &str, template: &str) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        *log.entry((method.to_uppercase(), template.to_string())).or_default() += 1;
    }
    /// A random fault for a Graph call, as [`RunningEmulator::set_random_faults`] asked.
    pub fn random_fault(&self) -> Option<FaultKind> {
        let (p429, p503) = *self.random_faults.lock().unwrap_or_else(|p| p.into_inner());
        if p429 <= 0.0 && p503 <= 0.0 {
            return None;
        }
        let x: f64 = rand::random();
        if x < p429 {
            Some(FaultKind::Throttle { retry_after: "1".into() })
        } else if x < p429 + p503 {
            Some(FaultKind::ServiceUnavailable { retry_after: None })
        } else {
            None
        }
    }
    /// Takes the first matching fault (decrementing its counter).
    pub fn take_fault(&self, method: &str, template: &str) -> Option<FaultKind> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let idx = faults.iter().position(|f| {
            (f.route == "*" || f.route == template)
                && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.times != Some(0)
        })?;
        let f = &mut faults[idx];
        let kind = f.kind.clone();
        if let Some(t) = f.times.as_mut() {
            *t -= 1;
            if *t == 0 {
                faults.remove(idx);
            }
        }
        Some(kind)
    }
}

/// A running emulator. Dropping it does not stop the server; call [`RunningEmulator::stop`].
pub struct RunningEmulator {
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

/// Binds, seeds and serves in the background (works from `#[tokio::test]`).
pub async fn start(config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    let listener = std::net::TcpListener::bind(config.bind)?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let base_url = format!("http://{host}:{}", addr.port());
    let store = build_store(&config.seed, config.token_lifetime)?;
    let shared = Arc::new(Shared {
        base_url,
        store: RwLock::new(store),
        log: Mutex::new(HashMap::new()),
        graph_usage: Mutex::new(GraphUsage::default()),
        faults: Mutex::new(Vec::new()),
        random_faults: Mutex::new((0.0, 0.0)),
        token_cache: Mutex::new(HashMap::new()),
    });
    let data = web::Data::from(shared.clone());
    let server = HttpServer::new(move || {
        ActixApp::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .wrap(actix_web::middleware::from_fn(surface_middleware))
            .configure(admin::configure)
            .configure(graph::configure)
            .configure(oauth::configure)
    })
    .workers(config.workers.max(1))
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(RunningEmulator { shared, handle })
}

pub(crate) fn build_store(seed: &Seed, token_lifetime: Option<Duration>) -> anyhow::Result<model::Store> {
    let mut store = model::Store {
        tenants: vec![],
        apps: HashMap::new(),
        codes: HashMap::new(),
        refresh: HashMap::new(),
        sessions: HashMap::new(),
        pending: HashMap::new(),
        used_jti: Default::default(),
        keys: vec![keys::initial_key()?],
        token_lifetime,
        mailboxes: HashMap::new(),
        demo: DemoDirectory::default(),
        upload_sessions: HashMap::new(),
        publish_delay: Duration::ZERO,
    };
    let mut built = match seed {
        Seed::Empty => vec![],
        Seed::Demo => seed::demo_tenants(),
        Seed::Large { users } => {
            let mut v = seed::demo_tenants();
            v.push(seed::large_tenant(*users));
            v
        }
        Seed::Fleet { tenants } => {
            let mut v = seed::demo_tenants();
            v.extend((0..*tenants).map(seed::fleet_tenant));
            v
        }
    };
    if !built.is_empty() {
        let app = seed::demo_app();
        store.demo.app_client_id = app.client_id.clone();
        store.demo.app_client_secret = app.secret.clone().unwrap_or_default();
        for (i, b) in built.iter_mut().enumerate() {
            // Fabrikam (index 1) has not consented.
            if i != 1 {
                let sp = util::det_id(&format!("sp/{}", b.tenant.id));
                b.tenant.service_principals.insert(app.client_id.clone(), sp.clone());
                b.demo.consented = true;
                seed::assign_some_students(&mut b.tenant, &sp);
            }
        }
        store.apps.insert(app.client_id.clone(), app);
    }
    for b in built {
        store.demo.tenants.push(b.demo);
        store.tenants.push(b.tenant);
    }
    Ok(store)
}

/// Request log + fault injection for the Microsoft surfaces (not for `/_emulator`).
async fn surface_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_string();
    if path.starts_with("/_emulator") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(shared) = req.app_data::<web::Data<Shared>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let method = req.method().as_str().to_string();
    let template = if let Some(rest) = path.strip_prefix("/graph") {
        graph::route_template(&method, rest)
    } else {
        req.match_pattern().unwrap_or_else(|| "unknown".to_string())
    };
    shared.count(&method, &template);
    let is_graph = path.starts_with("/graph");
    if is_graph {
        shared.count_graph(true, template != "/$batch");
    }
    let fault = shared.take_fault(&method, &template).or_else(|| if is_graph { shared.random_fault() } else { None });
    match fault {
        None => Ok(next.call(req).await?.map_into_boxed_body()),
        Some(FaultKind::Latency(d)) => {
            tokio::time::sleep(d).await;
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Some(kind) => {
            let resp = fault_response(&kind, is_graph, &req);
            Ok(req.into_response(resp))
        }
    }
}

fn fault_response(kind: &FaultKind, is_graph: bool, req: &ServiceRequest) -> HttpResponse {
    let crid = req.headers().get("client-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (status, code, message, retry) = match kind {
        FaultKind::Throttle { retry_after } => {
            (429u16, "TooManyRequests", "Please retry again later.", Some(retry_after.clone()))
        }
        FaultKind::ServiceUnavailable { retry_after } => {
            (503, "generalException", "An unspecified error has occurred.", retry_after.clone())
        }
        FaultKind::GatewayTimeout => (504, "generalException", "An unspecified error has occurred.", None),
        FaultKind::Error { status, code, message } => (*status, code.as_str(), message.as_str(), None),
        FaultKind::DropConnection => {
            return HttpResponse::Ok().content_type("application/json").body(BoxBody::new(graph::DropBody));
        }
        FaultKind::Latency(_) => (200, "", "", None),
    };
    if is_graph {
        let mut g = graph::GResp::error(status, code, message, crid.as_deref());
        if status == 429 {
            g.body = graph::GBody::Json(graph::throttle_body(g.request_id()));
        }
        if let Some(r) = retry {
            g.headers.push(("Retry-After".into(), r));
        }
        g.into_http()
    } else {
        let mut r = oauth::oauth_error_response(
            status,
            "temporarily_unavailable",
            50196,
            "The server is temporarily unavailable.",
        );
        if let Some(ra) = retry
            && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&ra)
        {
            r.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
        }
        r
    }
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT` — the authority host (EDUGRAPH_MS_AUTHORITY).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }
    /// `base_url + "/graph"`; append `/v1.0/...` (EDUGRAPH_GRAPH_URL).
    pub fn graph_url(&self) -> String {
        self.shared.graph_base()
    }
    /// `base_url + "/_emulator"`.
    pub fn admin_url(&self) -> String {
        format!("{}/_emulator", self.shared.base_url)
    }
    /// Registers an app, or merges redirect URIs / replaces credentials of an existing one.
    pub fn register_app(&self, app: AppRegistration) {
        admin::register_app(&self.shared, app);
    }
    pub fn add_redirect_uri(&self, client_id: &str, uri: &str) {
        let mut st = self.shared.write();
        if let Some(a) = st.apps.get_mut(client_id)
            && !a.redirect_uris.iter().any(|r| r == uri)
        {
            a.redirect_uris.push(uri.to_string());
        }
    }
    /// Replaces the application permissions (app roles) an app gets in consented tenants.
    pub fn set_app_permissions(&self, client_id: &str, permissions: &[&str]) {
        let mut st = self.shared.write();
        if let Some(a) = st.apps.get_mut(client_id) {
            a.app_permissions = permissions.iter().map(|s| s.to_string()).collect();
        }
    }
    pub fn demo(&self) -> DemoDirectory {
        self.shared.read().demo.clone()
    }
    /// Requests served for `method` + route template (e.g. `("GET", "/me")`,
    /// `("GET", "/education/classes/{id}/members")`, `("POST", "/{tenant}/oauth2/v2.0/token")`).
    pub fn request_count(&self, method: &str, route_template: &str) -> u64 {
        let log = self.shared.log.lock().unwrap_or_else(|p| p.into_inner());
        log.get(&(method.to_uppercase(), route_template.to_string())).copied().unwrap_or(0)
    }
    /// All counters: ((method, template), count).
    pub fn request_log(&self) -> Vec<((String, String), u64)> {
        let log = self.shared.log.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = log.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort();
        v
    }
    pub fn reset_request_log(&self) {
        self.shared.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
        *self.shared.graph_usage.lock().unwrap_or_else(|p| p.into_inner()) = GraphUsage::default();
    }
    /// Graph round trips and Graph requests (inner `$batch` requests counted one by one, as
    /// Microsoft's throttling counts them) since the last [`Self::reset_request_log`].
    pub fn graph_usage(&self) -> GraphUsage {
        *self.shared.graph_usage.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn set_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap_or_else(|p| p.into_inner()).push(fault);
    }
    /// From now on, answers this share of Graph calls (`$batch` included, as one call) 429
    /// `TooManyRequests` with `Retry-After: 1`, and this share 503 (load tests of throttling).
    pub fn set_random_faults(&self, p429: f64, p503: f64) {
        *self.shared.random_faults.lock().unwrap_or_else(|p| p.into_inner()) = (p429, p503);
    }
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    /// Messages received by (or sent from, in "Sent Items") a user, newest last.
    pub fn mailbox(&self, user_upn_or_id: &str) -> Vec<serde_json::Value> {
        admin::mailbox(&self.shared, user_upn_or_id)
    }
    pub fn grant_admin_consent(&self, tenant_id: &str, client_id: &str) {
        admin::set_consent(&self.shared, tenant_id, client_id, true);
    }
    /// Deletes the app's service principal in the tenant (revokes consent).
    pub fn revoke_consent(&self, tenant_id: &str, client_id: &str) {
        admin::set_consent(&self.shared, tenant_id, client_id, false);
    }
    /// Every delta token issued so far becomes invalid (next use → 410 resync).
    pub fn expire_delta_tokens(&self) {
        let mut st = self.shared.write();
        for t in st.tenants.iter_mut() {
            t.delta_epoch += 1;
        }
    }
    /// Makes publishing take this long: until then the assignment reads as `published`
    /// (the answer of the publish call), afterwards as `assigned`, as a client polling
    /// Microsoft observes.
    pub fn set_publish_delay(&self, d: Duration) {
        self.shared.write().publish_delay = d;
    }
    pub fn set_token_lifetime(&self, d: Duration) {
        self.shared.write().token_lifetime = Some(d);
    }
    /// Adds a new signing key and makes it the active one; old keys stay in the JWKS.
    /// Returns the new `kid`.
    pub fn rotate_signing_key(&self) -> anyhow::Result<String> {
        admin::rotate_key(&self.shared)
    }
    /// Sets how many units of a SKU the tenant bought (`prepaidUnits.enabled`); `false` if
    /// the tenant or SKU does not exist.
    pub fn set_sku_units(&self, tenant_id: &str, sku_id: &str, enabled: i64) -> bool {
        let mut st = self.shared.write();
        let Some(t) = st.tenant_mut(tenant_id) else { return false };
        match t.skus.iter_mut().find(|s| s.sku_id.eq_ignore_ascii_case(sku_id)) {
            Some(s) => {
                s.enabled = enabled;
                true
            }
            None => false,
        }
    }
    /// Adds `n` schools to a tenant (copies of its first school with new ids and names
    /// `"{prefix} {i}"`), for tests of lists longer than one Graph page. Returns their ids.
    pub fn add_schools(&self, tenant_id: &str, prefix: &str, n: usize) -> Vec<String> {
        let mut st = self.shared.write();
        let Some(t) = st.tenant_mut(tenant_id) else { return Vec::new() };
        let template = t.schools.first().map(|s| s.props.clone()).unwrap_or_default();
        (0..n)
            .map(|i| {
                let id = util::det_id(&format!("extra-school/{tenant_id}/{prefix}/{i}"));
                let mut props = template.clone();
                props.insert("id".into(), serde_json::Value::String(id.clone()));
                props.insert("displayName".into(), serde_json::Value::String(format!("{prefix} {i}")));
                t.schools.push(model::School { id: id.clone(), props });
                id
            })
            .collect()
    }
    /// Adds `n` classes to a tenant: copies of class `like` (same school, teachers and
    /// students) with new ids and names `"{prefix} {i}"`, for tests of class lists longer than
    /// one page. Returns their ids.
    pub fn add_classes(&self, tenant_id: &str, like: &str, prefix: &str, n: usize) -> Vec<String> {
        let mut st = self.shared.write();
        let Some(t) = st.tenant_mut(tenant_id) else { return Vec::new() };
        let Some(template) = t.groups.get(like).cloned() else { return Vec::new() };
        (0..n)
            .map(|i| {
                let id = util::det_id(&format!("extra-class/{tenant_id}/{prefix}/{i}"));
                let mut g = template.clone();
                g.id.clone_from(&id);
                g.props.insert("id".into(), serde_json::Value::String(id.clone()));
                g.props.insert("displayName".into(), serde_json::Value::String(format!("{prefix} {i}")));
                g.props.insert("mailNickname".into(), serde_json::Value::String(format!("extra-{i}-{id}")));
                if let Some(c) = g.class.as_mut() {
                    c.props.insert("classCode".into(), serde_json::Value::String(format!("X{i}")));
                }
                t.add_group(g);
                id
            })
            .collect()
    }
    /// Adds `n` files to the top folder of a group's drive (`"{prefix} {i}.txt"`), for tests of
    /// lists longer than one Graph page (a drive's children page holds 200).
    pub fn add_drive_files(&self, tenant_id: &str, group_id: &str, prefix: &str, n: usize) {
        let sh = &self.shared;
        let items: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                graph::dir::new_drive_item(sh, group_id, "root", &format!("{prefix} {i}.txt"), false, Some(b"x"), None)
            })
            .collect();
        let mut st = sh.write();
        if let Some(t) = st.tenant_mut(tenant_id) {
            t.drive_items.entry(group_id.to_string()).or_default().extend(items);
        }
    }
    /// Adds `n` conversations to a group (topics `"{prefix} {i}"`), for tests of lists longer
    /// than one Graph page (100).
    pub fn add_conversations(&self, tenant_id: &str, group_id: &str, prefix: &str, n: usize) -> Vec<String> {
        let mut st = self.shared.write();
        let Some(t) = st.tenant_mut(tenant_id) else { return Vec::new() };
        (0..n)
            .map(|i| {
                let id = util::det_id(&format!("extra-conv/{group_id}/{prefix}/{i}"));
                t.conversations.entry(group_id.to_string()).or_default().push(serde_json::json!({
                    "id": id, "topic": format!("{prefix} {i}"), "hasAttachments": false,
                    "lastDeliveredDateTime": "2025-09-02T08:00:00Z", "uniqueSenders": [], "preview": "…"
                }));
                id
            })
            .collect()
    }
    /// A user of a tenant (by id or UPN) with every stored property, as Graph would return it
    /// with `$select` of everything: lets tests check what changed at Microsoft.
    pub fn user(&self, tenant_id: &str, id_or_upn: &str) -> Option<serde_json::Value> {
        let st = self.shared.read();
        let t = st.tenant(tenant_id)?;
        let id = t.user_id(id_or_upn)?;
        t.users.get(&id).map(graph::dir::user_full)
    }
    /// The direct member ids of a group of a tenant (empty if there is no such group).
    pub fn group_members(&self, tenant_id: &str, group_id: &str) -> Vec<String> {
        let st = self.shared.read();
        st.tenant(tenant_id).and_then(|t| t.groups.get(group_id)).map(|g| g.members.clone()).unwrap_or_default()
    }
    /// The content of the files named `name` in a group's drive (any folder), for tests to
    /// check what arrived at Microsoft.
    pub fn drive_files(&self, tenant_id: &str, group_id: &str, name: &str) -> Vec<Vec<u8>> {
        let st = self.shared.read();
        st.tenant(tenant_id)
            .and_then(|t| t.drive_items.get(group_id))
            .map(|items| {
                items
                    .iter()
                    .filter(|i| {
                        i.get("name").and_then(serde_json::Value::as_str) == Some(name) && i.get("file").is_some()
                    })
                    .filter_map(|i| i.get("_content").and_then(serde_json::Value::as_str).and_then(util::b64std_decode))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The ids and display names of a tenant's groups, in creation order.
    pub fn groups(&self, tenant_id: &str) -> Vec<(String, String)> {
        let st = self.shared.read();
        st.tenant(tenant_id)
            .map(|t| {
                t.group_order
                    .iter()
                    .filter_map(|id| t.groups.get(id))
                    .map(|g| {
                        let name = g.props.get("displayName").and_then(serde_json::Value::as_str).unwrap_or_default();
                        (g.id.clone(), name.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
