//! Shared application state, one per process, cloned into every worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::ExposeSecret;

use crate::auth::password::PasswordHasher;
use crate::auth::throttle::IpLimiter;
use crate::clock::Clock;
use crate::config::Config;
use crate::keys::derive_key;
use crate::metrics::Metrics;
use crate::microsoft::id_token::IdTokenValidator;
use crate::microsoft::refresh_locks::RefreshLocks;
use crate::token_cache::TokenCipher;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: edu_db::Db,
    /// The configuration.
    pub config: Config,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Password hashing.
    pub hasher: PasswordHasher,
    /// Per-IP limits on the credential endpoints.
    pub ip_limiter: IpLimiter,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Origins allowed on state-changing requests.
    pub allowed_origins: Vec<String>,
    /// Seals and opens cached OAuth tokens.
    pub token_cipher: TokenCipher,
    /// Microsoft Graph and token endpoint client.
    pub graph: edu_msgraph::GraphClient,
    /// ID-token validation (keys cached).
    pub id_tokens: IdTokenValidator,
    /// One token refresh at a time per person.
    pub refresh_locks: RefreshLocks,
    /// Profile photos, cached for an hour.
    pub photos: crate::photos::PhotoCache,
    /// The product's own account mail (SMTP, or the in-process outbox when none is configured).
    pub mailer: crate::mail::Mailer,
    csrf_key: [u8; 32],
    draining: AtomicBool,
}

impl AppState {
    /// Whether a stop signal arrived (readiness answers 503 from then on).
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Marks the process as stopping.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Builds the state.
    ///
    /// # Errors
    /// The password hasher or the HTTP clients failing to initialise.
    pub fn new(db: edu_db::Db, config: Config, clock: Arc<dyn Clock>) -> Result<Self, anyhow::Error> {
        let hasher = PasswordHasher::new(config.hash_concurrency)?;
        let ip_limiter = IpLimiter::new(&config.throttle);
        let allowed_origins = config.allowed_origins();
        let csrf_key = derive_key(config.token_key.expose(), b"edugraph csrf v1");
        let token_cipher = TokenCipher::new(&config.token_key, &config.previous_token_keys);
        let authority = config.ms_authority.as_str().trim_end_matches('/').to_owned();
        let mut settings = edu_msgraph::GraphSettings::new(
            config.graph_url.as_str().trim_end_matches('/'),
            authority.clone(),
            config.client_id.clone(),
        );
        settings.client_secret.clone_from(&config.client_secret);
        // A person is waiting (issue 18 §5): short backoffs, and no wait longer than the
        // request's whole Graph retry deadline (a longer Retry-After fails fast instead).
        settings.base_backoff = std::time::Duration::from_millis(500);
        settings.max_backoff = crate::middleware::GRAPH_RETRY_DEADLINE;
        let graph = edu_msgraph::GraphClient::new(settings)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let id_tokens = IdTokenValidator::new(http, &authority, &config.client_id);
        let mailer = match (&config.smtp_url, &config.mail_from) {
            (Some(url), Some(from)) => crate::mail::Mailer::smtp(url.expose_secret(), from)?,
            _ => crate::mail::Mailer::outbox(),
        };
        Ok(Self {
            db,
            config,
            clock,
            hasher,
            ip_limiter,
            metrics: Metrics::new(),
            allowed_origins,
            token_cipher,
            graph,
            id_tokens,
            refresh_locks: RefreshLocks::default(),
            photos: crate::photos::PhotoCache::default(),
            mailer,
            csrf_key,
            draining: AtomicBool::new(false),
        })
    }

    /// The key CSRF tokens are derived with (itself derived from the token key, so no
    /// extra secret has to be configured, and it is never the token-encryption key itself).
    #[must_use]
    pub fn csrf_key(&self) -> &[u8; 32] {
        &self.csrf_key
    }
}
