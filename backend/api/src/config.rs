//! Configuration from `EDUGRAPH_*` environment variables.
//!
//! Every value is checked at start-up; a missing or malformed one stops the process with
//! one line naming the variable and what it expects (R-A23). Secrets are wrapped so that
//! they never reach `Debug` output or logs.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use url::Url;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (`serve`).
    Json,
    /// Human-readable (`demo`).
    Pretty,
}

/// The 32-byte key that encrypts tokens at rest (and from which other keys are derived).
pub struct TokenKey(SecretBox<[u8; 32]>);

impl TokenKey {
    /// Wraps raw key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// The key bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// Parses standard or URL-safe base64 of exactly 32 bytes.
    ///
    /// # Errors
    /// A message saying what is expected.
    pub fn parse_base64(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s))
            .map_err(|_| "expected base64 of 32 random bytes (e.g. `openssl rand -base64 32`)".to_owned())?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|v: Vec<u8>| format!("expected 32 bytes after base64 decoding, got {}", v.len()))?;
        Ok(Self::from_bytes(arr))
    }
}

impl Clone for TokenKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.expose())
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

/// Session lifetimes (R-A17).
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout: Duration,
}

/// Sign-in throttling (R-A18).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Requests an IP may make at once to the credential endpoints.
    pub ip_burst: u32,
    /// Tokens per minute the IP bucket refills.
    pub ip_per_minute: u32,
    /// Failures per account within the window before a lock.
    pub account_threshold: u32,
    /// The failure-counting window.
    pub account_window: Duration,
    /// The first lock's length; it doubles with each further failure.
    pub account_base_lock: Duration,
    /// The longest lock.
    pub account_max_lock: Duration,
}

/// Everything the API needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `mysql://…` or `sqlite://…` (may hold a password, hence secret).
    pub database_url: SecretString,
    /// Connections in the pool.
    pub database_max_connections: u32,
    /// Address to listen on; port 0 picks a free one.
    pub bind: SocketAddr,
    /// `EDUGRAPH_METRICS_BIND`: where `/metrics` is served, on a listener of its own, never the
    /// public port (R-D8); default `127.0.0.1:9464`, `off` for none; port 0 picks a free one.
    pub metrics_bind: Option<SocketAddr>,
    /// The URL people use to reach the app (scheme, host, port): origin checks, redirects, HSTS.
    pub public_url: Url,
    /// Extra origins allowed on state-changing requests (besides `public_url`'s).
    pub extra_origins: Vec<String>,
    /// Key for encrypting tokens at rest.
    pub token_key: TokenKey,
    /// Earlier token keys, still accepted for reading rows sealed before a rotation.
    pub previous_token_keys: Vec<TokenKey>,
    /// Microsoft identity platform base URL.
    pub ms_authority: Url,
    /// Microsoft Graph base URL.
    pub graph_url: Url,
    /// The app's client id in Entra ID.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: Option<SecretString>,
    /// Session lifetimes.
    pub session: SessionSettings,
    /// Sign-in throttling.
    pub throttle: ThrottleSettings,
    /// Password hashes computed at once (each on its own blocking thread).
    pub hash_concurrency: usize,
    /// actix worker threads.
    pub workers: usize,
    /// Log line format.
    pub log_format: LogFormat,
    /// Largest accepted JSON body, bytes.
    pub max_json_bytes: usize,
    /// Largest file a teacher or student may upload to an assignment or submission, bytes
    /// (Microsoft allows 50 MB of resources per assignment).
    pub max_upload_bytes: u64,
    /// Serve `/api/docs` (the OpenAPI document itself is always served).
    pub api_docs: bool,
    /// Honour `X-Forwarded-For` for the client address (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// `EDUGRAPH_STATIC_DIR`: a built single-page app (`index.html` + `assets/`) on disk, served
    /// by [`crate::spa`] instead of the copy embedded in the binary.
    pub static_dir: Option<PathBuf>,
    /// The app embedded in the binary (set by the `edugraph` binary; empty in tests).
    pub embedded_app: EmbeddedApp,
    /// On SIGTERM, how long in-flight requests may take before the process exits.
    pub shutdown_timeout: Duration,
    /// On SIGTERM, how long `/readyz` answers 503 `shutting_down` (while still serving) before
    /// the listener closes, so load balancers that poll readiness stop sending new requests.
    pub shutdown_delay: Duration,
    /// The SMTP relay for the product's own account mail (`EDUGRAPH_SMTP_URL`, `smtp://…`);
    /// `None` keeps account mail in an in-process outbox (demo mode).
    pub smtp_url: Option<SecretString>,
    /// The sender of account mail (`EDUGRAPH_MAIL_FROM`), required with `smtp_url`.
    pub mail_from: Option<String>,
    /// Serve the in-process outbox at `GET /api/demo/outbox` so links in account mail can be
    /// followed from the browser. Set only by `edugraph demo`; never read from the environment.
    pub demo_outbox: bool,
}

/// Files of the built web app compiled into the binary: (path relative to the build, bytes),
/// sorted by path. Empty when the binary was built without the app.
#[derive(Clone, Copy, Default)]
pub struct EmbeddedApp(pub &'static [(&'static str, &'static [u8])]);

impl std::fmt::Debug for EmbeddedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmbeddedApp({} files)", self.0.len())
    }
}

impl EmbeddedApp {
    /// The bytes of `path` (relative, e.g. `assets/index-Ab12.js`).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&'static [u8]> {
        self.0.binary_search_by(|(p, _)| (*p).cmp(path)).ok().map(|i| self.0[i].1)
    }

    /// Whether it holds a build (an `index.html`).
    #[must_use]
    pub fn is_built(&self) -> bool {
        self.get("index.html").is_some()
    }
}

/// A configuration problem: the variable and what it expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {expected}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong / expected.
    pub expected: String,
}

struct Env<'a>(&'a HashMap<String, String>);

impl Env<'_> {
    fn raw(&self, var: &'static str) -> Option<&str> {
        self.0.get(var).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    fn required(&self, var: &'static str, expected: &str) -> Result<&str, ConfigError> {
        self.raw(var).ok_or_else(|| ConfigError { var, expected: format!("missing; expected {expected}") })
    }

    fn parse<T: std::str::FromStr>(&self, var: &'static str, default: T, expected: &str) -> Result<T, ConfigError> {
        match self.raw(var) {
            None => Ok(default),
            Some(s) => s.parse().map_err(|_| ConfigError { var, expected: format!("expected {expected}, got {s:?}") }),
        }
    }

    fn url(&self, var: &'static str, default: &str) -> Result<Url, ConfigError> {
        let s = self.raw(var).unwrap_or(default);
        let u = Url::parse(s)
            .map_err(|_| ConfigError { var, expected: format!("expected an absolute http(s) URL, got {s:?}") })?;
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return Err(ConfigError { var, expected: format!("expected an absolute http(s) URL, got {s:?}") });
        }
        Ok(u)
    }

    fn secs(&self, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
        let n: u64 = self.parse(var, default, "a whole number of seconds")?;
        if n == 0 {
            return Err(ConfigError { var, expected: "expected a positive number of seconds".into() });
        }
        Ok(Duration::from_secs(n))
    }
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("EDUGRAPH_")).collect();
        Self::from_map(&vars)
    }

    /// Reads configuration from a map of variables (the environment, or a test's).
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Env(vars);
        let database_url =
            env.required("EDUGRAPH_DATABASE_URL", "mysql://user:pass@host:3306/db or sqlite://path/to/file.db")?;
        if edu_db::Dialect::of_url(database_url).is_err() {
            return Err(ConfigError {
                var: "EDUGRAPH_DATABASE_URL",
                expected: "expected a URL starting with mysql:// or sqlite:".into(),
            });
        }
        let bind_raw = env.raw("EDUGRAPH_BIND").unwrap_or("127.0.0.1:8080");
        let bind: SocketAddr = bind_raw.parse().map_err(|_| ConfigError {
            var: "EDUGRAPH_BIND",
            expected: format!("expected host:port such as 127.0.0.1:8080, got {bind_raw:?}"),
        })?;
        let metrics_raw = env.raw("EDUGRAPH_METRICS_BIND").map_or("127.0.0.1:9464", str::trim);
        let metrics_bind = if metrics_raw.eq_ignore_ascii_case("off") {
            None
        } else {
            let addr: SocketAddr = metrics_raw.parse().map_err(|_| ConfigError {
                var: "EDUGRAPH_METRICS_BIND",
                expected: format!("expected host:port such as 127.0.0.1:9464, or off, got {metrics_raw:?}"),
            })?;
            if addr.port() != 0 && addr.port() == bind.port() {
                return Err(ConfigError {
                    var: "EDUGRAPH_METRICS_BIND",
                    expected: format!("must not be the public port {} (EDUGRAPH_BIND)", bind.port()),
                });
            }
            Some(addr)
        };
        let public_url = env.url("EDUGRAPH_PUBLIC_URL", &format!("http://{bind}"))?;
        let token_key = TokenKey::parse_base64(env.required("EDUGRAPH_TOKEN_KEY", "base64 of 32 random bytes")?)
            .map_err(|expected| ConfigError { var: "EDUGRAPH_TOKEN_KEY", expected })?;
        let previous_token_keys = env
            .raw("EDUGRAPH_TOKEN_KEY_PREVIOUS")
            .map(|s| {
                s.split(',')
                    .map(|k| {
                        TokenKey::parse_base64(k)
                            .map_err(|expected| ConfigError { var: "EDUGRAPH_TOKEN_KEY_PREVIOUS", expected })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let ms_authority = env.url("EDUGRAPH_MS_AUTHORITY", "https://login.microsoftonline.com")?;
        let graph_url = env.url("EDUGRAPH_GRAPH_URL", "https://graph.microsoft.com")?;
        let client_id = env.required("EDUGRAPH_CLIENT_ID", "the application (client) id registered in Entra ID")?;
        let client_secret = env.required("EDUGRAPH_CLIENT_SECRET", "the client secret of the Entra ID app")?;
        let extra_origins = env
            .raw("EDUGRAPH_ALLOWED_ORIGINS")
            .map(|s| {
                s.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty()).collect()
            })
            .unwrap_or_default();
        let log_format = match env.raw("EDUGRAPH_LOG_FORMAT").unwrap_or("json") {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            other => {
                return Err(ConfigError {
                    var: "EDUGRAPH_LOG_FORMAT",
                    expected: format!("expected json or pretty, got {other:?}"),
                });
            }
        };
        let smtp_url = env.raw("EDUGRAPH_SMTP_URL");
        let mail_from = env.raw("EDUGRAPH_MAIL_FROM");
        if let Some(url) = smtp_url {
            let from = mail_from.ok_or_else(|| ConfigError {
                var: "EDUGRAPH_MAIL_FROM",
                expected: "missing; expected the sender of account mail (EduGraph <no-reply@school.example>) \
                           because EDUGRAPH_SMTP_URL is set"
                    .into(),
            })?;
            crate::mail::Mailer::smtp(url, from).map_err(|e| match e {
                crate::mail::MailError::Address(_) => ConfigError {
                    var: "EDUGRAPH_MAIL_FROM",
                    expected: format!("expected an email address, got {from:?}"),
                },
                other => ConfigError { var: "EDUGRAPH_SMTP_URL", expected: other.to_string() },
            })?;
        }
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Ok(Self {
            database_url: SecretString::from(database_url.to_owned()),
            database_max_connections: env.parse("EDUGRAPH_DATABASE_MAX_CONNECTIONS", 10, "a number of connections")?,
            bind,
            metrics_bind,
            public_url,
            extra_origins,
            token_key,
            previous_token_keys,
            ms_authority,
            graph_url,
            client_id: client_id.to_owned(),
            client_secret: Some(SecretString::from(client_secret.to_owned())),
            session: SessionSettings {
                idle_timeout: env.secs("EDUGRAPH_SESSION_IDLE_SECS", 30 * 60)?,
                absolute_timeout: env.secs("EDUGRAPH_SESSION_ABSOLUTE_SECS", 12 * 3600)?,
            },
            throttle: ThrottleSettings {
                ip_burst: env.parse("EDUGRAPH_LOGIN_IP_BURST", 30, "a number of requests")?,
                ip_per_minute: env.parse("EDUGRAPH_LOGIN_IP_PER_MINUTE", 30, "a number of requests per minute")?,
                account_threshold: env.parse("EDUGRAPH_LOGIN_ACCOUNT_THRESHOLD", 5, "a number of failures")?,
                account_window: env.secs("EDUGRAPH_LOGIN_ACCOUNT_WINDOW_SECS", 15 * 60)?,
                account_base_lock: env.secs("EDUGRAPH_LOGIN_ACCOUNT_LOCK_SECS", 30)?,
                account_max_lock: env.secs("EDUGRAPH_LOGIN_ACCOUNT_MAX_LOCK_SECS", 15 * 60)?,
            },
            // Leave a core for the request workers so sign-in load cannot starve them.
            hash_concurrency: env.parse(
                "EDUGRAPH_HASH_CONCURRENCY",
                cpus.saturating_sub(1).max(1),
                "a number of threads",
            )?,
            workers: env.parse("EDUGRAPH_WORKERS", cpus.max(1), "a number of worker threads")?,
            log_format,
            max_json_bytes: env.parse("EDUGRAPH_MAX_JSON_BYTES", 64 * 1024, "a number of bytes")?,
            max_upload_bytes: env.parse("EDUGRAPH_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, "a number of bytes")?,
            api_docs: env.parse("EDUGRAPH_API_DOCS", true, "true or false")?,
            trust_forwarded_for: env.parse("EDUGRAPH_TRUST_FORWARDED_FOR", false, "true or false")?,
            shutdown_timeout: env.secs("EDUGRAPH_SHUTDOWN_TIMEOUT_SECS", 30)?,
            shutdown_delay: Duration::from_secs(env.parse(
                "EDUGRAPH_SHUTDOWN_DELAY_SECS",
                0,
                "a whole number of seconds",
            )?),
            static_dir: env.raw("EDUGRAPH_STATIC_DIR").filter(|v| !v.is_empty()).map(PathBuf::from),
            embedded_app: EmbeddedApp::default(),
            smtp_url: smtp_url.map(|u| SecretString::from(u.to_owned())),
            mail_from: mail_from.map(str::to_owned),
            demo_outbox: false,
        })
    }

    /// Whether the app is reached over HTTPS (turns on HSTS).
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The origins allowed to make state-changing requests.
    #[must_use]
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut v = vec![self.public_url.origin().ascii_serialization()];
        v.extend(self.extra_origins.iter().cloned());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HashMap<String, String> {
        [
            ("EDUGRAPH_DATABASE_URL", "sqlite://x.db"),
            ("EDUGRAPH_TOKEN_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            ("EDUGRAPH_CLIENT_ID", "cid"),
            ("EDUGRAPH_CLIENT_SECRET", "super-secret-value"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn a_complete_environment_gives_defaults_for_the_rest() {
        let c = Config::from_map(&base()).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.ms_authority.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(c.session.idle_timeout, Duration::from_secs(1800));
        assert!(!c.is_https());
    }

    // R-A23: fail fast, naming the variable.
    #[test]
    fn each_missing_required_variable_is_named() {
        for var in ["EDUGRAPH_DATABASE_URL", "EDUGRAPH_TOKEN_KEY", "EDUGRAPH_CLIENT_ID", "EDUGRAPH_CLIENT_SECRET"] {
            let mut m = base();
            m.remove(var);
            let e = Config::from_map(&m).unwrap_err();
            assert_eq!(e.var, var);
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[test]
    fn malformed_values_are_named_with_what_is_expected() {
        let cases = [
            ("EDUGRAPH_DATABASE_URL", "postgres://x"),
            ("EDUGRAPH_TOKEN_KEY", "c2hvcnQ="),
            ("EDUGRAPH_TOKEN_KEY", "not base64!"),
            ("EDUGRAPH_BIND", "localhost"),
            ("EDUGRAPH_PUBLIC_URL", "example.org"),
            ("EDUGRAPH_MS_AUTHORITY", "ftp://login"),
            ("EDUGRAPH_SESSION_IDLE_SECS", "0"),
            ("EDUGRAPH_LOG_FORMAT", "xml"),
        ];
        for (var, value) in cases {
            let mut m = base();
            m.insert(var.to_owned(), value.to_owned());
            let e = Config::from_map(&m).unwrap_err();
            assert_eq!(e.var, var, "{value}");
            assert!(e.expected.contains("expected"), "{e}");
        }
    }

    // R-A23: secrets never reach Debug output.
    /// R-D8: /metrics on a listener of its own, never the public port.
    #[test]
    fn metrics_get_their_own_listener() {
        assert_eq!(Config::from_map(&base()).unwrap().metrics_bind.unwrap().to_string(), "127.0.0.1:9464");
        let mut m = base();
        m.insert("EDUGRAPH_METRICS_BIND".into(), "off".into());
        assert_eq!(Config::from_map(&m).unwrap().metrics_bind, None);
        for bad in ["127.0.0.1:8080", "nonsense"] {
            m.insert("EDUGRAPH_METRICS_BIND".into(), bad.into());
            let e = Config::from_map(&m).unwrap_err();
            assert_eq!(e.var, "EDUGRAPH_METRICS_BIND", "{bad}");
        }
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let c = Config::from_map(&base()).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("super-secret-value"));
        assert!(!dbg.contains("AAECAwQF"));
        assert!(!dbg.contains("x.db"));
    }

    #[test]
    fn account_mail_needs_a_sender_and_a_plain_smtp_url() {
        let c = Config::from_map(&base()).unwrap();
        assert!(c.smtp_url.is_none(), "no SMTP: account mail stays in the outbox");
        let with = |pairs: &[(&str, &str)]| {
            let mut m = base();
            m.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            Config::from_map(&m)
        };
        let c =
            with(&[("EDUGRAPH_SMTP_URL", "smtp://127.0.0.1:2525"), ("EDUGRAPH_MAIL_FROM", "EduGraph <a@b.example>")])
                .unwrap();
        assert_eq!(c.smtp_url.unwrap().expose_secret(), "smtp://127.0.0.1:2525");
        assert_eq!(with(&[("EDUGRAPH_SMTP_URL", "smtp://127.0.0.1:2525")]).unwrap_err().var, "EDUGRAPH_MAIL_FROM");
        let e = with(&[("EDUGRAPH_SMTP_URL", "smtp://127.0.0.1"), ("EDUGRAPH_MAIL_FROM", "nobody")]).unwrap_err();
        assert_eq!(e.var, "EDUGRAPH_MAIL_FROM");
        let e =
            with(&[("EDUGRAPH_SMTP_URL", "https://mail.example"), ("EDUGRAPH_MAIL_FROM", "a@b.example")]).unwrap_err();
        assert_eq!(e.var, "EDUGRAPH_SMTP_URL");
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
