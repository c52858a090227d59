//! Test harness: the real app on port 0, a fresh database per test (SQLite always; MySQL
//! when `EDUGRAPH_TEST_MYSQL_URL` is set), and an HTTP client with a cookie jar that
//! behaves like a browser for our `__Host-` cookies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use edu_api::clock::ManualClock;
use edu_api::state::AppState;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The origin the test app believes it is served from.
pub const PUBLIC_ORIGIN: &str = "http://edugraph.test";

pub use edu_test_db::{Backend, TestDatabase, both_backends, mysql_only};

/// The base configuration of a test app; tests may override any variable.
#[must_use]
pub fn test_vars(database_url: &str) -> HashMap<String, String> {
    [
        ("EDUGRAPH_DATABASE_URL", database_url),
        ("EDUGRAPH_BIND", "127.0.0.1:0"),
        ("EDUGRAPH_METRICS_BIND", "127.0.0.1:0"),
        ("EDUGRAPH_PUBLIC_URL", PUBLIC_ORIGIN),
        ("EDUGRAPH_TOKEN_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
        ("EDUGRAPH_CLIENT_ID", "test-client"),
        ("EDUGRAPH_CLIENT_SECRET", "test-secret"),
        ("EDUGRAPH_WORKERS", "2"),
        ("EDUGRAPH_HASH_CONCURRENCY", "2"),
        ("EDUGRAPH_DATABASE_MAX_CONNECTIONS", "5"),
        ("EDUGRAPH_LOGIN_IP_BURST", "1000"),
        ("EDUGRAPH_LOGIN_IP_PER_MINUTE", "1000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener (`EDUGRAPH_METRICS_BIND`, R-D8).
    pub metrics_address: String,
    /// The app's clock; move it to test timeouts.
    pub clock: ManualClock,
    /// The app's state (database access for assertions).
    pub state: actix_web::web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
    _db: TestDatabase,
}

impl TestApp {
    /// Starts the app against a fresh database of `backend`.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the app with configuration overrides.
    ///
    /// # Panics
    /// When the app cannot start (the test cannot run).
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        let (db, url) = TestDatabase::create(backend).await;
        Self::spawn_on(db, &url, tweak).await
    }

    /// Starts the app on a database created by the caller, reached at `url` (e.g. through a
    /// proxy of the test).
    ///
    /// # Panics
    /// When the app cannot start (the test cannot run).
    pub async fn spawn_on(db: TestDatabase, url: &str, tweak: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        let mut vars = test_vars(url);
        tweak(&mut vars);
        let config = edu_api::Config::from_map(&vars).expect("test config");
        let clock = ManualClock::new();
        let app = edu_api::Application::build_with_clock(config, Arc::new(clock.clone())).await.expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = format!("http://127.0.0.1:{}", app.metrics_port().unwrap_or(0));
        let handle = app.handle();
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        Self { address, metrics_address, clock, state, handle, _db: db }
    }

    /// A new browser-like client (own cookie jar).
    #[must_use]
    pub fn client(&self) -> Client {
        Client::new(&self.address)
    }

    /// A client of the metrics listener (not the public port, R-D8).
    #[must_use]
    pub fn metrics_client(&self) -> Client {
        Client::new(&self.metrics_address)
    }

    /// Registers a local account with a fresh client, follows the confirmation link mailed to
    /// it (R-B3) with the password, and returns that signed-in client.
    ///
    /// # Panics
    /// When registration or confirmation fails.
    pub async fn registered(&self, email: &str, password: &str) -> Client {
        let c = self.client();
        let r = c.register(email, password).await;
        assert_eq!(r.status, 202, "register failed: {}", r.body);
        let v = self.confirm_email(&c, email, password).await;
        assert_eq!(v.status, 200, "confirming the email failed: {}", v.body);
        c
    }

    /// For tests that call [`Client::register`] themselves: follows the newest confirmation
    /// link mailed to `email` with `password` on `client` (which is then signed in on 200).
    ///
    /// # Panics
    /// When no confirmation mail arrives.
    pub async fn confirm_email(&self, client: &Client, email: &str, password: &str) -> Resp {
        let token = self.wait_for_links(email, "verify-email", 1).await.pop().expect("a confirmation link");
        client.verify_email(&token, password).await
    }

    /// The tokens of the links to `{PUBLIC_ORIGIN}/{page}#token=…` in the outbox's mail to
    /// `to` (case-insensitive), oldest first.
    #[must_use]
    pub fn links_to(&self, to: &str, page: &str) -> Vec<String> {
        let to = to.trim().to_lowercase();
        let prefix = format!("{PUBLIC_ORIGIN}/{page}#token=");
        self.state
            .mailer
            .outbox_messages()
            .into_iter()
            .filter(|m| m.to.to_lowercase() == to)
            .filter_map(|m| token_after(&m.body, &prefix))
            .collect()
    }

    /// Waits (mail is sent off the request path) until at least `n` such links arrived; returns them all.
    ///
    /// # Panics
    /// When they do not arrive within 10 s.
    pub async fn wait_for_links(&self, to: &str, page: &str, n: usize) -> Vec<String> {
        for _ in 0..400 {
            let links = self.links_to(to, page);
            if links.len() >= n {
                return links;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("fewer than {n} {page} links reached {to}: {:?}", self.state.mailer.outbox_messages());
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// JSON body (Null when empty or not JSON).
    pub body: Value,
    /// Raw body text.
    pub text: String,
}

impl Resp {
    /// The error code of an error envelope.
    #[must_use]
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// A header as a string.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// Every `Set-Cookie` header.
    #[must_use]
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }
}

/// A browser-like client: keeps cookies (ignoring `Secure`, since tests speak plain HTTP on
/// loopback, as browsers allow for localhost) and sends the CSRF token it last received.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// Cookie jar: name -> value.
    pub cookies: Arc<Mutex<HashMap<String, String>>>,
    /// The CSRF token sent as `X-CSRF-Token`.
    pub csrf: Arc<Mutex<Option<String>>>,
}

impl Client {
    /// A client for `base`.
    ///
    /// # Panics
    /// Never in practice (client construction).
    #[must_use]
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base: base.to_owned(), http, cookies: Arc::default(), csrf: Arc::default() }
    }

    fn cookie_header(&self) -> Option<String> {
        let jar = self.cookies.lock().expect("jar");
        (!jar.is_empty()).then(|| jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    fn absorb(&self, headers: &HeaderMap, body: &Value) {
        let mut jar = self.cookies.lock().expect("jar");
        for sc in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let first = sc.split(';').next().unwrap_or_default();
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let removed = sc.contains("Max-Age=0") || value.is_empty();
            if removed {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        if let Some(t) = body.get("csrf_token").and_then(Value::as_str) {
            *self.csrf.lock().expect("csrf") = Some(t.to_owned());
        }
    }

    /// GET with `path` sent byte for byte (HTTP/1.1 over a plain socket, with the cookies), as
    /// `curl --path-as-is` does: no client-side removal of dot-segments such as `%2E%2E`.
    /// Returns the status code.
    ///
    /// # Panics
    /// When the server cannot be reached or answers something that is not HTTP.
    pub async fn get_path_as_is(&self, path: &str) -> u16 {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let host = self.base.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = tokio::net::TcpStream::connect(host).await.expect("server reachable");
        let cookie = self.cookie_header().map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.expect("request sent");
        let mut head = vec![0u8; 12];
        stream.read_exact(&mut head).await.expect("status line");
        let line = String::from_utf8_lossy(&head);
        line.get(9..12).and_then(|s| s.parse().ok()).expect("HTTP status")
    }

    /// Sends a request. `body`: JSON value, raw `(content_type, bytes)`, or nothing.
    ///
    /// # Panics
    /// When the server cannot be reached.
    pub async fn send(&self, method: Method, path: &str, body: Body, extra: &[(&str, &str)]) -> Resp {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(c) = self.cookie_header() {
            req = req.header("cookie", c);
        }
        if method != Method::GET
            && let Some(t) = self.csrf.lock().expect("csrf").clone()
        {
            req = req.header("x-csrf-token", t);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
        };
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.absorb(&headers, &body);
        Resp { status, headers, body, text }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, Body::None, &[]).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Body::Json(body), &[]).await
    }

    /// Fetches a CSRF token (anonymous: binds it to a pre-session cookie).
    pub async fn fetch_csrf(&self) {
        let r = self.get("/api/auth/csrf").await;
        assert_eq!(r.status, 200);
    }

    /// Registers (fetching a CSRF token first).
    pub async fn register(&self, email: &str, password: &str) -> Resp {
        self.fetch_csrf().await;
        self.post(
            "/api/auth/local/register",
            serde_json::json!({"email": email, "password": password, "favorite_color": "green"}),
        )
        .await
    }

    /// Confirms an email with a link's token and the password (fetching a CSRF token first).
    pub async fn verify_email(&self, token: &str, password: &str) -> Resp {
        self.fetch_csrf().await;
        self.post("/api/auth/email/verify", serde_json::json!({"token": token, "password": password})).await
    }

    /// Asks for a password reset link (fetching a CSRF token first).
    pub async fn forgot_password(&self, email: &str) -> Resp {
        self.fetch_csrf().await;
        self.post("/api/auth/password/forgot", serde_json::json!({"email": email})).await
    }

    /// Sets a new password with a reset link's token (fetching a CSRF token first).
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Resp {
        self.fetch_csrf().await;
        self.post("/api/auth/password/reset", serde_json::json!({"token": token, "new_password": new_password})).await
    }

    /// Signs in (fetching a CSRF token first).
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.fetch_csrf().await;
        self.post("/api/auth/local/login", serde_json::json!({"email": email, "password": password})).await
    }

    /// The session cookie value, if any.
    #[must_use]
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.lock().expect("jar").get("__Host-sid").cloned()
    }
}

/// The token following `prefix` in a mail body (up to the next whitespace).
#[must_use]
pub fn token_after(body: &str, prefix: &str) -> Option<String> {
    let start = body.find(prefix)? + prefix.len();
    let token: String = body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    (!token.is_empty()).then_some(token)
}

/// A request body.
pub enum Body {
    /// No body.
    None,
    /// JSON.
    Json(Value),
    /// Raw bytes with a content type.
    Raw(&'static str, Vec<u8>),
}

/// The redirect URIs the test app registers with the emulator.
pub const CALLBACK: &str = "http://edugraph.test/auth/microsoft/callback";
/// Admin-consent callback.
pub const CONSENT_CALLBACK: &str = "http://edugraph.test/auth/microsoft/consent/callback";

/// An app wired to its own in-process Microsoft emulator (demo district).
pub struct MicrosoftTestApp {
    /// The app.
    pub app: TestApp,
    /// The emulator.
    pub emulator: edu_ms_emulator::RunningEmulator,
}

impl std::ops::Deref for MicrosoftTestApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl MicrosoftTestApp {
    /// Starts the emulator (demo seed) and the app pointed at it.
    ///
    /// # Panics
    /// When either cannot start.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// As [`MicrosoftTestApp::spawn`], with configuration overrides.
    ///
    /// # Panics
    /// When either cannot start.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        let emulator = edu_ms_emulator::start(edu_ms_emulator::EmulatorConfig {
            workers: 1,
            ..edu_ms_emulator::EmulatorConfig::default()
        })
        .await
        .expect("emulator starts");
        let dir = emulator.demo();
        emulator.add_redirect_uri(&dir.app_client_id, CALLBACK);
        emulator.add_redirect_uri(&dir.app_client_id, CONSENT_CALLBACK);
        let (authority, graph) = (emulator.base_url(), emulator.graph_url());
        let app = TestApp::spawn_with(backend, |v| {
            v.insert("EDUGRAPH_MS_AUTHORITY".into(), authority);
            v.insert("EDUGRAPH_GRAPH_URL".into(), graph);
            v.insert("EDUGRAPH_CLIENT_ID".into(), dir.app_client_id.clone());
            v.insert("EDUGRAPH_CLIENT_SECRET".into(), dir.app_client_secret.clone());
            tweak(v);
        })
        .await;
        Self { app, emulator }
    }

    /// The demo tenant `i` (0 = Contoso, consented at Microsoft; 1 = Fabrikam, not consented).
    #[must_use]
    pub fn tenant(&self, i: usize) -> edu_ms_emulator::DemoTenant {
        self.emulator.demo().tenants[i].clone()
    }

    /// Marks a demo tenant as onboarded in EduGraph's database (what a completed admin consent does).
    ///
    /// # Panics
    /// On database errors.
    pub async fn onboard(&self, i: usize) -> edu_domain::TenantId {
        let t = self.tenant(i);
        let db = &self.app.state.db;
        let id = edu_db::tenants::upsert_by_ms_id(db, &t.id, &t.display_name, 0).await.expect("tenant");
        edu_db::tenants::set_consented(db, id, "https://graph.microsoft.com/.default", None, 0).await.expect("consent");
        id
    }

    /// The demo person (admin, teacher or student of any demo tenant) with object id `id`.
    ///
    /// # Panics
    /// When there is none.
    #[must_use]
    pub fn person(&self, id: &str) -> edu_ms_emulator::DemoUser {
        self.emulator
            .demo()
            .tenants
            .iter()
            .flat_map(|t| std::iter::once(&t.admin).chain(&t.teachers).chain(&t.students))
            .find(|p| p.id == id)
            .unwrap_or_else(|| panic!("no demo person {id}"))
            .clone()
    }

    /// Signs `person` in with a fresh browser through Microsoft (`/auth/microsoft/login`) and
    /// checks that the app lands them on `/`; returns the signed-in client.
    ///
    /// # Panics
    /// When the sign-in does not end on `/`.
    pub async fn sign_in(&self, person: &edu_ms_emulator::DemoUser) -> Client {
        let c = self.client();
        let r = self.browser_sign_in(&c, "/auth/microsoft/login", &person.upn, &person.password).await;
        assert_eq!(r.header("location").as_deref(), Some("/"), "{}: {}", person.upn, r.text);
        c
    }

    /// [`MicrosoftTestApp::sign_in`] of the demo person with object id `id`.
    pub async fn sign_in_as(&self, id: &str) -> Client {
        self.sign_in(&self.person(id)).await
    }

    /// The admin of demo tenant `i`, signed in.
    pub async fn admin(&self, i: usize) -> Client {
        self.sign_in(&self.tenant(i).admin).await
    }

    /// The first teacher of `class`, signed in.
    pub async fn teacher_of(&self, class: &edu_ms_emulator::DemoClass) -> Client {
        self.sign_in_as(&class.teacher_ids[0]).await
    }

    /// Student `i` of `class`, signed in.
    pub async fn student_of(&self, class: &edu_ms_emulator::DemoClass, i: usize) -> Client {
        self.sign_in_as(&class.student_ids[i]).await
    }

    /// A teacher of the class's tenant who does not teach `class`.
    ///
    /// # Panics
    /// When every teacher of the tenant teaches it.
    #[must_use]
    pub fn other_teacher_of(&self, class: &edu_ms_emulator::DemoClass) -> edu_ms_emulator::DemoUser {
        let demo = self.emulator.demo();
        let tenant = demo
            .tenants
            .iter()
            .find(|t| t.classes.iter().any(|c| c.id == class.id))
            .unwrap_or_else(|| panic!("no demo tenant has class {}", class.id));
        tenant
            .teachers
            .iter()
            .find(|p| !class.teacher_ids.contains(&p.id))
            .unwrap_or_else(|| panic!("every teacher teaches {}", class.id))
            .clone()
    }

    /// Drives a browser through `start` (a path of the app that redirects to Microsoft),
    /// the emulator's sign-in form (and consent page, accepted), back to the app; returns the
    /// app's answer to the callback.
    pub async fn browser_sign_in(&self, client: &Client, start: &str, upn: &str, password: &str) -> Resp {
        let emu = MicrosoftBrowser::new();
        self.browser_sign_in_with(client, &emu, start, upn, password).await
    }

    /// As [`MicrosoftTestApp::browser_sign_in`] with a given Microsoft-side browser (its
    /// cookies: the emulator's sign-in session).
    ///
    /// # Panics
    /// When a step does not look like Microsoft's.
    pub async fn browser_sign_in_with(
        &self,
        client: &Client,
        emu: &MicrosoftBrowser,
        start: &str,
        upn: &str,
        password: &str,
    ) -> Resp {
        let r = client.get(start).await;
        assert_eq!(r.status, 302, "{start}: {}", r.text);
        let to_microsoft = r.header("location").expect("redirect to Microsoft");
        let callback = emu.sign_in(&to_microsoft, upn, password).await;
        let path =
            callback.strip_prefix("http://edugraph.test").unwrap_or_else(|| panic!("back to the app: {callback}"));
        let landed = client.get(path).await;
        // As the SPA does on landing: ask who am I, which hands over the new session's CSRF token.
        if landed.set_cookies().iter().any(|c| c.starts_with("__Host-sid=") && !c.starts_with("__Host-sid=;")) {
            client.get("/api/me").await;
        }
        landed
    }
}

/// The Microsoft side of a browser: a cookie jar for the emulator's pages.
pub struct MicrosoftBrowser {
    http: reqwest::Client,
}

impl Default for MicrosoftBrowser {
    fn default() -> Self {
        Self::new()
    }
}

fn form_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

fn form_action(html: &str) -> Option<String> {
    let start = html.find("action=\"")? + "action=\"".len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

impl MicrosoftBrowser {
    /// A fresh browser (no Microsoft session).
    ///
    /// # Panics
    /// Never in practice.
    #[must_use]
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { http }
    }

    /// Opens a Microsoft URL (authorize or adminconsent), signs in if asked, accepts a consent
    /// page if shown, and returns the URL Microsoft redirects back to (the app's callback).
    ///
    /// # Panics
    /// When the pages are not as expected.
    pub async fn sign_in(&self, url: &str, upn: &str, password: &str) -> String {
        let base = {
            let u = reqwest::Url::parse(url).expect("url");
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default())
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        };
        let mut resp = self.http.get(url).send().await.expect("authorize");
        for _ in 0..6 {
            if resp.status().is_redirection() {
                return resp.headers()["location"].to_str().expect("location").to_owned();
            }
            let html = resp.text().await.expect("page");
            let ctx = form_value(&html, "ctx").unwrap_or_else(|| panic!("no sign-in form: {html}"));
            let action = form_action(&html).expect("form action");
            let target = format!("{base}{action}");
            let form: Vec<(&str, String)> = if html.contains("id=\"signin\"") {
                vec![("ctx", ctx), ("action", "signin".into()), ("login", upn.into()), ("passwd", password.into())]
            } else if html.contains("id=\"consent\"") {
                vec![("ctx", ctx), ("action", "accept".into()), ("consent_org", "on".into())]
            } else if html.contains("value=\"return\"") {
                vec![("ctx", ctx), ("action", "return".into())]
            } else if html.contains("value=\"pick\"") {
                let account = form_value(&html, "account").expect("account");
                vec![("ctx", ctx), ("action", "pick".into()), ("account", account)]
            } else {
                panic!("unexpected Microsoft page: {html}");
            };
            resp = self.http.post(&target).form(&form).send().await.expect("post");
        }
        panic!("too many Microsoft pages");
    }
}

const SMTP_SINK: &str = r#"
import os, sys
from aiosmtpd.controller import Controller
out = sys.argv[1]
class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out, "%06d.eml" % len(os.listdir(out)))
        with open(name + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".part", name)
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[2]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

/// A real SMTP server process (PyPI `aiosmtpd`, installed by `infra/scripts/ensure-aiosmtpd`)
/// that writes every message it accepts to a directory. Stopped and cleaned up on drop.
pub struct SmtpSink {
    child: std::process::Child,
    dir: std::path::PathBuf,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl SmtpSink {
    /// Starts the server; `None` (the caller skips) when python3 is absent.
    ///
    /// # Panics
    /// When python3 exists but the server does not start (aiosmtpd missing).
    #[must_use]
    pub fn start() -> Option<Self> {
        use std::io::BufRead;
        if std::process::Command::new("python3").arg("--version").output().is_err() {
            eprintln!("SKIPPED: python3 is absent, so no SMTP server (aiosmtpd) can run");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("edugraph-smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("sink dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let mut child = std::process::Command::new("python3")
            .args(["-c", SMTP_SINK])
            .arg(&dir)
            .arg(port.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("sink output");
        let sink = Self { child, dir, port };
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start: run infra/scripts/ensure-aiosmtpd");
        Some(sink)
    }

    /// `smtp://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The raw messages received so far, oldest first.
    #[must_use]
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// Waits until at least `n` messages arrived; returns them with quoted-printable soft line
    /// breaks and `=3D` undone (enough to read our links).
    ///
    /// # Panics
    /// When they do not arrive within 10 s.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..400 {
            let m = self.messages();
            if m.len() >= n {
                return m
                    .into_iter()
                    .map(|raw| raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
                    .collect();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("fewer than {n} messages reached the SMTP server");
    }
}

/// Marks a local account's email confirmed directly in the database (R-B3). For tests and
/// benches that drive separate `edugraph serve` processes, whose mail outbox they cannot read;
/// in-process tests follow the mailed link instead ([`TestApp::registered`]).
///
/// # Panics
/// When the database cannot be reached or no such account exists.
pub async fn confirm_email_in_db(database_url: &str, email: &str) {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url).await.expect("database reachable");
    let done = sqlx::query("UPDATE users SET email_verified_at = created_at WHERE email = ?")
        .bind(email.trim().to_lowercase())
        .execute(&mut conn)
        .await
        .expect("update");
    assert_eq!(done.rows_affected(), 1, "no local account {email}");
}
