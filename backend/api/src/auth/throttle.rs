//! Brute-force protection (R-A18): a token bucket per client IP (in memory, per instance)
//! and a lock per account (in the database, shared by every instance).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::config::ThrottleSettings;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

/// Token buckets per client IP for the credential endpoints.
#[derive(Debug)]
pub struct IpLimiter {
    burst: f64,
    per_ms: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

/// Beyond this many tracked IPs, full buckets are forgotten.
const MAX_TRACKED: usize = 50_000;

impl IpLimiter {
    /// A limiter with the configured burst and refill rate.
    #[must_use]
    pub fn new(settings: &ThrottleSettings) -> Self {
        Self {
            burst: f64::from(settings.ip_burst.max(1)),
            per_ms: f64::from(settings.ip_per_minute.max(1)) / 60_000.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `ip`; `Err(wait)` when the bucket is empty.
    ///
    /// # Errors
    /// How long until a token is available.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; fail open for availability, the
            // per-account lock still applies.
            return Ok(());
        };
        if buckets.len() > MAX_TRACKED {
            let (burst, per_ms) = (self.burst, self.per_ms);
            #[expect(clippy::cast_precision_loss, reason = "elapsed milliseconds are far below 2^52")]
            buckets.retain(|_, b| b.tokens + ((now_ms - b.updated_ms) as f64) * per_ms < burst);
        }
        let b = buckets.entry(ip).or_insert(Bucket { tokens: self.burst, updated_ms: now_ms });
        #[expect(clippy::cast_precision_loss, reason = "elapsed milliseconds are far below 2^52")]
        let elapsed = (now_ms - b.updated_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * self.per_ms).min(self.burst);
        b.updated_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = ((1.0 - b.tokens) / self.per_ms).ceil();
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "positive and bounded by 60 s")]
            Err(Duration::from_millis(wait_ms as u64))
        }
    }
}

/// The per-account throttle key: a hash, so no address is stored (and unknown addresses
/// are throttled exactly like known ones).
#[must_use]
pub fn account_key(scope: &str, normalised_login: &str) -> String {
    let d = Sha256::digest(format!("{scope}\0{normalised_login}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The per-account policy in the storage layer's terms.
#[must_use]
pub fn account_policy(s: &ThrottleSettings) -> edu_db::throttle::Policy {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    edu_db::throttle::Policy {
        window_ms: ms(s.account_window),
        threshold: i64::from(s.account_threshold.max(1)),
        base_lock_ms: ms(s.account_base_lock),
        max_lock_ms: ms(s.account_max_lock),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(burst: u32, per_minute: u32) -> ThrottleSettings {
        ThrottleSettings {
            ip_burst: burst,
            ip_per_minute: per_minute,
            account_threshold: 5,
            account_window: Duration::from_secs(900),
            account_base_lock: Duration::from_secs(30),
            account_max_lock: Duration::from_secs(900),
        }
    }

    #[test]
    fn an_ip_gets_its_burst_then_waits_for_the_refill() {
        let l = IpLimiter::new(&settings(3, 60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(ip, 0).is_ok());
        }
        let wait = l.check(ip, 0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        assert!(l.check(ip, 1_000).is_ok());
        // Another IP is unaffected.
        assert!(l.check("10.0.0.2".parse().unwrap(), 0).is_ok());
    }

    #[test]
    fn account_keys_do_not_contain_the_address() {
        let k = account_key("login", "ann@school.edu");
        assert_eq!(k.len(), 64);
        assert!(!k.contains("ann"));
        assert_ne!(k, account_key("password", "ann@school.edu"));
    }
}
