//! Brute-force protection (R-A18): a token bucket per client IP (in memory, per instance)
//! and a lock per account (in the database, shared by every instance).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::config::ThrottleSettings;

/// The limiter's clock: the latest `now_ms` a caller passed in (never going back), so the
/// buckets follow the app's clock (tests move a manual one) and not the system's.
#[derive(Debug, Clone, Default)]
struct CallerClock(Arc<AtomicU64>);

impl CallerClock {
    fn advance_to(&self, now_ms: i64) {
        self.0.fetch_max(u64::try_from(now_ms).unwrap_or(0), Ordering::AcqRel);
    }
}

impl Clock for CallerClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::Acquire))
    }
}

/// Token buckets per client IP for the credential endpoints: `governor`'s GCRA, whose
/// check-and-update is atomic, so concurrent requests cannot overdraw a bucket.
#[derive(Debug)]
pub struct IpLimiter {
    limiter: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, CallerClock, NoOpMiddleware<Duration>>,
    clock: CallerClock,
}

/// Beyond this many tracked IPs, full buckets are forgotten.
const MAX_TRACKED: usize = 50_000;

impl IpLimiter {
    /// A limiter with the configured burst and refill rate.
    #[must_use]
    pub fn new(settings: &ThrottleSettings) -> Self {
        let burst = NonZeroU32::new(settings.ip_burst).unwrap_or(NonZeroU32::MIN);
        let per_minute = NonZeroU32::new(settings.ip_per_minute).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let clock = CallerClock::default();
        Self { limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()), clock }
    }

    /// Takes a token for `ip`; `Err(wait)` when the bucket is empty.
    ///
    /// # Errors
    /// How long until a token is available (whole milliseconds, rounded up).
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), Duration> {
        self.clock.advance_to(now_ms);
        if self.limiter.len() > MAX_TRACKED {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let ms = wait.as_nanos().div_ceil(1_000_000);
            Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
        })
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
    fn concurrent_checks_never_overdraw_a_bucket() {
        let l = IpLimiter::new(&settings(5, 1));
        let ip: IpAddr = "10.0.0.3".parse().unwrap();
        let start = std::sync::Barrier::new(8);
        let granted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (l, start) = (&l, &start);
                    s.spawn(move || {
                        start.wait();
                        (0..50).filter(|_| l.check(ip, 5).is_ok()).count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 5, "exactly the burst, however the requests interleave");
        // One a minute refills; a clock that goes back does not refill early.
        assert!(l.check(ip, 0).is_err());
        assert!(l.check(ip, 60_005).is_ok());
    }

    #[test]
    fn account_keys_do_not_contain_the_address() {
        let k = account_key("login", "ann@school.edu");
        assert_eq!(k.len(), 64);
        assert!(!k.contains("ann"));
        assert_ne!(k, account_key("password", "ann@school.edu"));
    }
}
