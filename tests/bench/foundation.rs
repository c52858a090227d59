//! Foundation benchmark. Run it with `infra/scripts/bench foundation`.
//!
//! 1. Argon2id hash time on this machine (median of 20).
//! 2. `edugraph serve` (release binary, SQLite): time from start to ready, idle RSS.
//! 3. 32 sign-ins kept in flight for 10 s while `/healthz` is probed every 10 ms:
//!    p50/p99/max of `/healthz` (target p99 < 20 ms) and sign-in throughput/latency.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "small indices"
    )]
    let i = (((sorted.len() as f64) * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bin = std::env::args().nth(1).unwrap_or_else(|| "target/release/edugraph".into());
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);

    // 1. Argon2id.
    let mut hashes = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        edu_api::auth::password::hash_blocking(b"benchmark password").unwrap();
        hashes.push(t.elapsed());
    }
    hashes.sort();
    println!(
        "argon2id (m=19456 KiB, t=2, p=1) hash: median {} (min {}, max {}) over 20",
        ms(hashes[10]),
        ms(hashes[0]),
        ms(hashes[19])
    );

    // 2. Start to ready, idle RSS.
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/bench.db", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .arg("serve")
        .env("EDUGRAPH_DATABASE_URL", &db_url)
        .env("EDUGRAPH_BIND", format!("127.0.0.1:{port}"))
        .env("EDUGRAPH_METRICS_BIND", "127.0.0.1:0")
        .env("EDUGRAPH_TOKEN_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        .env("EDUGRAPH_CLIENT_ID", "bench")
        .env("EDUGRAPH_CLIENT_SECRET", "bench")
        .env("EDUGRAPH_LOGIN_IP_BURST", "1000000")
        .env("EDUGRAPH_LOGIN_IP_PER_MINUTE", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    loop {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not ready in 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(child.id());
    println!(
        "edugraph serve: start to ready {} (fresh SQLite, migrations applied); idle RSS {:.1} MB",
        ms(ready),
        idle_rss as f64 / 1024.0
    );

    // 3. Sign-in load vs. health probe.
    let csrf = http.get(format!("{base}/api/auth/csrf")).send().await.unwrap();
    let pre = csrf.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = csrf.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let users = 32;
    for i in 0..users {
        let r = http
            .post(format!("{base}/api/auth/local/register"))
            .header("cookie", &pre)
            .header("x-csrf-token", &token)
            .json(&json!({"email": format!("bench{i}@school.edu"), "password": "benchmark password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        // R-B3: confirmed in the database (this process cannot read the server's outbox).
        edu_tests::confirm_email_in_db(&db_url, &format!("bench{i}@school.edu")).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for i in 0..users {
        let (http, base, pre, token, stop) = (http.clone(), base.clone(), pre.clone(), token.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/api/auth/local/login"))
                    .header("cookie", &pre)
                    .header("x-csrf-token", &token)
                    .json(&json!({"email": format!("bench{i}@school.edu"), "password": "benchmark password"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    // Let the queue of sign-ins build up, then probe.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let probe_http = reqwest::Client::new();
    let mut probes = Vec::new();
    let load_started = Instant::now();
    while load_started.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        let r = probe_http.get(format!("{base}/healthz")).send().await.unwrap();
        assert!(r.status().is_success());
        probes.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut logins = Vec::new();
    for w in workers {
        logins.extend(w.await.unwrap());
    }
    let loaded_rss = rss_kib(child.id());
    probes.sort();
    logins.sort();
    println!(
        "/healthz with 32 sign-ins in flight: p50 {} p99 {} max {} over {} probes (target p99 < 20 ms)",
        ms(percentile(&probes, 0.5)),
        ms(percentile(&probes, 0.99)),
        ms(*probes.last().unwrap()),
        probes.len()
    );
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let rate = logins.len() as f64 / (seconds as f64 + 0.5);
    println!(
        "sign-ins: {} in {:.1} s ({rate:.1}/s); latency p50 {} p99 {} (queued behind {} hashing slot(s))",
        logins.len(),
        seconds as f64 + 0.5,
        ms(percentile(&logins, 0.5)),
        ms(percentile(&logins, 0.99)),
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
    );
    println!("RSS after load: {:.1} MB", loaded_rss as f64 / 1024.0);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}
