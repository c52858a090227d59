//! A small Prometheus text-format registry: request counts and latencies per route and
//! status, sign-in outcomes, and password hashing in flight. Route labels are the matched
//! route patterns, never raw paths, so the label set stays bounded and holds no ids.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Histogram bucket bounds, seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    logins: Mutex<BTreeMap<&'static str, u64>>,
    token_refreshes: AtomicU64,
    started_at_secs: AtomicU64,
}

impl Metrics {
    /// A registry stamped with the process start time.
    #[must_use]
    pub fn new() -> Self {
        let m = Self::default();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        m.started_at_secs.store(now, Ordering::Relaxed);
        m
    }

    /// Records one finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_owned()).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// Records a sign-in outcome (`success`, `failure`, `throttled`).
    pub fn observe_login(&self, outcome: &'static str) {
        if let Ok(mut l) = self.logins.lock() {
            *l.entry(outcome).or_default() += 1;
        }
    }

    /// Records one refresh of a person's Microsoft access token.
    pub fn observe_token_refresh(&self) {
        self.token_refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// Refreshes of Microsoft access tokens so far.
    #[must_use]
    pub fn token_refreshes(&self) -> u64 {
        self.token_refreshes.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    #[must_use]
    pub fn render(&self, hashing_threads: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP edugraph_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE edugraph_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((method, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "edugraph_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP edugraph_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE edugraph_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let route = escape(route);
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "edugraph_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "edugraph_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(out, "edugraph_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(out, "edugraph_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
            }
        }
        out.push_str("# HELP edugraph_logins_total Local sign-in attempts by outcome.\n");
        out.push_str("# TYPE edugraph_logins_total counter\n");
        if let Ok(l) = self.logins.lock() {
            for (outcome, n) in l.iter() {
                let _ = writeln!(out, "edugraph_logins_total{{outcome=\"{outcome}\"}} {n}");
            }
        }
        out.push_str("# HELP edugraph_password_hash_threads Threads computing password hashes.\n");
        out.push_str("# TYPE edugraph_password_hash_threads gauge\n");
        let _ = writeln!(out, "edugraph_password_hash_threads {hashing_threads}");
        out.push_str("# HELP edugraph_token_refreshes_total Refreshes of people's Microsoft access tokens.\n");
        out.push_str("# TYPE edugraph_token_refreshes_total counter\n");
        let _ = writeln!(out, "edugraph_token_refreshes_total {}", self.token_refreshes());
        out.push_str("# HELP edugraph_process_start_time_seconds Start time of the process, unix seconds.\n");
        out.push_str("# TYPE edugraph_process_start_time_seconds gauge\n");
        let _ = writeln!(out, "edugraph_process_start_time_seconds {}", self.started_at_secs.load(Ordering::Relaxed));
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_per_route_and_status_with_cumulative_buckets() {
        let m = Metrics::new();
        m.observe_request("GET", "/healthz", 200, 0.002);
        m.observe_request("GET", "/healthz", 200, 0.2);
        let text = m.render(1);
        assert!(text.contains("edugraph_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("edugraph_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1"));
        assert!(text.contains("edugraph_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.25\"} 2"));
        assert!(text.contains("edugraph_http_request_duration_seconds_count{route=\"/healthz\"} 2"));
    }
}
