//! Configuration and the retry/backoff policy.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::SecretString;

/// Hard upper bound on `max_retries` (Kiota's MaxMaxRetry).
pub const MAX_RETRIES_LIMIT: u32 = 10;

/// Settings shared by [`crate::GraphClient`] and [`crate::TokenClient`].
///
/// `Debug` is derived: `client_secret` is a [`SecretString`], whose `Debug`
/// prints `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// e.g. `https://graph.microsoft.com` or `http://127.0.0.1:PORT/graph`;
    /// `/v1.0/...` is appended.
    pub graph_base_url: String,
    /// e.g. `https://login.microsoftonline.com`; `/{tenant}/oauth2/v2.0/token`
    /// is appended.
    pub authority_base_url: String,
    pub client_id: String,
    /// Used when no explicit [`crate::ClientCredential`] is given.
    pub client_secret: Option<SecretString>,
    /// Scope requested for app-only tokens.
    pub app_scope: String,
    /// Total per-attempt timeout (connect + response).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt (clamped to [`MAX_RETRIES_LIMIT`]).
    pub max_retries: u32,
    /// First exponential backoff step (3 s by default: 3 s · 2^n).
    pub base_backoff: Duration,
    /// Cap of one backoff wait; a `Retry-After` above it is not waited for:
    /// the call fails with `Throttled { retry_after }` so the caller can
    /// reschedule.
    pub max_backoff: Duration,
    /// Concurrent Graph requests per tenant at first (at least 1). The limit then adapts
    /// (see `crate::client`'s tenant lanes): +1 for every `limit` calls answered without a
    /// 429, ×¾ on a 429 (at most once per second), between 1 and
    /// [`GraphSettings::max_per_tenant_concurrency`].
    pub per_tenant_concurrency: usize,
    /// Upper bound of the adaptive per-tenant concurrency.
    pub max_per_tenant_concurrency: usize,
    /// Concurrent Graph requests over all tenants (at least 1).
    pub max_concurrency: usize,
    /// Upper bound on the total time one call may spend waiting between
    /// retries; a retry whose wait would exceed it is not made.
    pub retry_budget: Duration,
    /// Upper bound on pages followed by `get_all_pages` / delta helpers.
    pub max_pages: usize,
    /// Tokens are refreshed this long before they expire at most; a short-lived token is
    /// refreshed when a fifth of its lifetime is left ([`refresh_margin`]).
    pub token_refresh_margin: Duration,
    /// Circuit breaker (R-C9): after this many calls in a row for one tenant end in a
    /// timeout, a connection failure or a 5xx (after retries), calls for that tenant fail
    /// at once for [`GraphSettings::breaker_cooldown`]; then one call probes. 0 turns it off.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses calls before a probe.
    pub breaker_cooldown: Duration,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            graph_base_url: "https://graph.microsoft.com".to_owned(),
            authority_base_url: "https://login.microsoftonline.com".to_owned(),
            client_id: String::new(),
            client_secret: None,
            app_scope: "https://graph.microsoft.com/.default".to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_retries: 3,
            base_backoff: Duration::from_secs(3),
            max_backoff: Duration::from_secs(180),
            per_tenant_concurrency: 4,
            max_per_tenant_concurrency: 32,
            max_concurrency: 32,
            retry_budget: Duration::from_secs(600),
            max_pages: 1000,
            token_refresh_margin: Duration::from_secs(300),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

impl GraphSettings {
    pub fn new(
        graph_base_url: impl Into<String>,
        authority_base_url: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            graph_base_url: graph_base_url.into(),
            authority_base_url: authority_base_url.into(),
            client_id: client_id.into(),
            ..Self::default()
        }
    }

    pub(crate) fn effective_max_retries(&self) -> u32 {
        self.max_retries.min(MAX_RETRIES_LIMIT)
    }

    /// Exponential backoff for retry number `retry` (0-based):
    /// `min(max_backoff, base · 2^retry)` with "equal jitter", i.e. a uniform
    /// value in `[d/2, d]`.
    pub fn backoff_delay(&self, retry: u32) -> Duration {
        let full = self.backoff_ceiling(retry);
        let half = full / 2;
        let jitter_range = full.saturating_sub(half).as_millis() as u64;
        let jitter = if jitter_range == 0 { 0 } else { rand::random_range(0..=jitter_range) };
        half + Duration::from_millis(jitter)
    }

    /// Upper bound of [`GraphSettings::backoff_delay`] for retry `retry`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX);
        self.base_backoff.checked_mul(factor).unwrap_or(self.max_backoff).min(self.max_backoff)
    }
}

/// How long before expiry a token of `lifetime` is refreshed: a fifth of its lifetime, at most
/// `cap` (5 minutes by default). A fixed margin larger than the lifetime would refresh the token
/// at every use (50 concurrent requests, 50 refreshes, with 5-minute tokens); relative to the
/// lifetime, a token is used for four fifths of it whatever the lifetime.
#[must_use]
pub fn refresh_margin(cap: Duration, lifetime: Duration) -> Duration {
    cap.min(lifetime / 5)
}

/// Parses `Retry-After`: integer seconds, decimal seconds (`2.128`) or an
/// HTTP date (RFC 1123). A date in the past gives zero. Garbage gives `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = v.parse().ok()?;
        if !secs.is_finite() || !(0.0..=86_400.0 * 7.0).contains(&secs) {
            return None;
        }
        return Some(Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How the client waits between retries. Replaceable so tests can record the
/// computed delays without really sleeping for seconds.
pub trait Sleeper: Send + Sync + 'static {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The production sleeper: `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

pub(crate) fn default_sleeper() -> Arc<dyn Sleeper> {
    Arc::new(TokioSleeper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_formats() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 2.128 ", now), Some(Duration::from_millis(2128)));
        assert_eq!(parse_retry_after("0.5", now), Some(Duration::from_millis(500)));
        // Wed, 21 Oct 2015 07:28:00 GMT == 1445412480
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn backoff_is_exponential_jittered_and_capped() {
        let s = GraphSettings::default();
        for retry in 0..8 {
            let ceiling = Duration::from_secs(3 * (1 << retry)).min(Duration::from_secs(180));
            assert_eq!(s.backoff_ceiling(retry), ceiling);
            for _ in 0..20 {
                let d = s.backoff_delay(retry);
                assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry}: {d:?}");
            }
        }
        assert_eq!(s.backoff_ceiling(40), Duration::from_secs(180));
    }

    #[test]
    fn the_refresh_margin_is_relative_to_the_lifetime() {
        let cap = Duration::from_secs(300);
        assert_eq!(refresh_margin(cap, Duration::from_secs(3600)), cap);
        assert_eq!(refresh_margin(cap, Duration::from_secs(300)), Duration::from_secs(60));
        assert_eq!(refresh_margin(cap, Duration::from_secs(60)), Duration::from_secs(12));
        assert_eq!(refresh_margin(cap, Duration::ZERO), Duration::ZERO);
    }
}
