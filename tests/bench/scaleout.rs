//! Scale-out benchmark. Run it with `infra/scripts/bench-scaleout`.
//!
//! Two release `edugraph serve` processes against one MySQL/MariaDB database, in the same run:
//! 1. Requests/s of ONE instance vs TWO instances (load spread evenly) for `GET /healthz`
//!    (no I/O) and `GET /api/me` (the session check, then the user and their linked
//!    identity: three indexed SELECTs for a local account), closed loop, `BENCH_CONCURRENCY` connections (default 32), `BENCH_SECONDS`
//!    per measurement (default 10).
//! 2. The session check's cost per request: `/api/me` minus `/healthz` latency on one
//!    connection without load (`BENCH_LATENCY_SECONDS`, default 3), and server + database
//!    CPU time per request under load.
//!
//! The load generator, both servers and the database share this machine's cores, so two
//! instances can only beat one where one instance leaves cores idle.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]
#![expect(clippy::cast_precision_loss, reason = "request counts and times are far below 2^52")]

#[path = "../scaleout/instance.rs"]
#[allow(dead_code, reason = "shared with the scale-out test, which uses all of it")]
mod instance;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use instance::Instance;
use serde_json::json;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small indices")]
    let i = (((sorted.len() as f64) * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// CPU time (user + system) a process has used so far.
fn cpu_time(pid: u32, ticks_per_sec: f64) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after ')'.
    let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
    Duration::from_secs_f64(ticks / ticks_per_sec)
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn database_pid() -> Option<u32> {
    ["mariadbd", "mysqld"].iter().find_map(|name| {
        let out = std::process::Command::new("pidof").arg(name).output().ok()?;
        String::from_utf8(out.stdout).ok()?.split_whitespace().next()?.parse().ok()
    })
}

struct Run {
    ok: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    server_cpu: Duration,
    db_cpu: Duration,
}

impl Run {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_us_per_request(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() * 1e6 / self.ok.max(1) as f64
    }
}

struct Bench {
    http: reqwest::Client,
    cookie: String,
    pids: Vec<u32>,
    db_pid: Option<u32>,
    ticks: f64,
}

impl Bench {
    /// `concurrency` closed loops for `duration`, loop `i` on `targets[i % targets.len()]`.
    async fn load(&self, targets: &[&str], path: &str, concurrency: usize, duration: Duration) -> Run {
        let stop = Arc::new(AtomicBool::new(false));
        let cpu_before: Duration = self.pids.iter().map(|&p| cpu_time(p, self.ticks)).sum();
        let db_before = self.db_pid.map_or(Duration::ZERO, |p| cpu_time(p, self.ticks));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..concurrency {
            let url = format!("{}{path}", targets[i % targets.len()]);
            let (http, cookie, stop) = (self.http.clone(), self.cookie.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut errors, mut lat) = (0, 0, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match http.get(&url).header("cookie", &cookie).send().await {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                            ok += 1;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (ok, errors, lat)
            }));
        }
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
        let mut run = Run {
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
            server_cpu: Duration::ZERO,
            db_cpu: Duration::ZERO,
        };
        for t in tasks {
            let (ok, errors, lat) = t.await.unwrap();
            run.ok += ok;
            run.errors += errors;
            run.latencies.extend(lat);
        }
        run.elapsed = started.elapsed();
        run.server_cpu = self.pids.iter().map(|&p| cpu_time(p, self.ticks)).sum::<Duration>() - cpu_before;
        run.db_cpu = self.db_pid.map_or(Duration::ZERO, |p| cpu_time(p, self.ticks)) - db_before;
        run.latencies.sort();
        run
    }

    /// Sequential requests on one kept-alive connection: latency without queueing.
    async fn latency(&self, url: &str, duration: Duration) -> Vec<Duration> {
        let mut lat = Vec::new();
        let started = Instant::now();
        while started.elapsed() < duration {
            let t = Instant::now();
            let r = self.http.get(url).header("cookie", &self.cookie).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            let _ = r.bytes().await;
            lat.push(t.elapsed());
        }
        lat.sort();
        lat
    }
}

fn mean(v: &[Duration]) -> Duration {
    v.iter().sum::<Duration>() / u32::try_from(v.len().max(1)).unwrap_or(u32::MAX)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bin = std::env::args().nth(1).map_or_else(instance::edugraph_binary, PathBuf::from);
    let seconds = Duration::from_secs(env_or("BENCH_SECONDS", 10));
    let latency_seconds = Duration::from_secs(env_or("BENCH_LATENCY_SECONDS", 3));
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let server = std::env::var("EDUGRAPH_TEST_MYSQL_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "mysql://root@127.0.0.1:3306".to_owned());
    let server = server.trim_end_matches('/').to_owned();
    let name = format!("edugraph_bench_{}", uuid::Uuid::new_v4().simple());
    edu_db::testing::create_mysql_database(&server, &name).await.unwrap();
    let url = format!("{server}/{name}");

    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "bench-scaleout: {} ({cores} cores shared by the load generator, both instances and the database), \
         {concurrency} connections, {} s per measurement",
        bin.display(),
        seconds.as_secs()
    );
    instance::migrate(&bin, &url);
    let mut a = Instance::start(&bin, &url, &[]);
    let mut b = Instance::start(&bin, &url, &[]);
    a.wait_ready(Duration::from_secs(60)).await;
    b.wait_ready(Duration::from_secs(60)).await;

    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency * 2).build().unwrap();
    let csrf = http.get(format!("{}/api/auth/csrf", a.address)).send().await.unwrap();
    let pre = csrf.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = csrf.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let reg = http
        .post(format!("{}/api/auth/local/register", a.address))
        .header("cookie", &pre)
        .header("x-csrf-token", &token)
        .json(&json!({"email": "bench@school.edu", "password": "benchmark password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), 202);
    // R-B3: the account is confirmed in the database (this process cannot read the instances' outbox).
    edu_tests::confirm_email_in_db(&url, "bench@school.edu").await;
    let reg = http
        .post(format!("{}/api/auth/local/login", a.address))
        .header("cookie", &pre)
        .header("x-csrf-token", &token)
        .json(&json!({"email": "bench@school.edu", "password": "benchmark password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), 200);
    let sid = reg
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-sid="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let bench = Bench { http, cookie: sid, pids: vec![a.pid(), b.pid()], db_pid: database_pid(), ticks: clock_ticks() };
    let one = [a.address.as_str()];
    let two = [a.address.as_str(), b.address.as_str()];

    // Warm up both instances (connections, pools, caches).
    bench.load(&two, "/api/me", concurrency, Duration::from_secs(1)).await;

    println!();
    println!("| endpoint | instances | requests/s | p50 | p99 | errors | server CPU/req | DB CPU/req |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut runs = Vec::new();
    for path in ["/healthz", "/api/me"] {
        for (label, targets) in [("1", &one[..]), ("2", &two[..])] {
            let run = bench.load(targets, path, concurrency, seconds).await;
            println!(
                "| GET {path} | {label} | {:.0} | {} | {} | {} | {:.0} µs | {} |",
                run.rps(),
                ms(percentile(&run.latencies, 0.5)),
                ms(percentile(&run.latencies, 0.99)),
                run.errors,
                run.cpu_us_per_request(run.server_cpu),
                bench
                    .db_pid
                    .map_or_else(|| "n/a".to_owned(), |_| format!("{:.0} µs", run.cpu_us_per_request(run.db_cpu))),
            );
            runs.push((path, label, run));
        }
    }
    println!();
    for path in ["/healthz", "/api/me"] {
        let rps = |l: &str| runs.iter().find(|(p, lab, _)| *p == path && *lab == l).map_or(0.0, |(_, _, r)| r.rps());
        println!("GET {path}: two instances / one instance = {:.2}x", rps("2") / rps("1").max(1.0));
    }

    // Session check cost.
    let health = bench.latency(&format!("{}/healthz", a.address), latency_seconds).await;
    let me = bench.latency(&format!("{}/api/me", a.address), latency_seconds).await;
    println!();
    println!(
        "one connection, no load: /healthz p50 {} mean {} ({} requests); /api/me p50 {} mean {} ({} requests)",
        ms(percentile(&health, 0.5)),
        ms(mean(&health)),
        health.len(),
        ms(percentile(&me, 0.5)),
        ms(mean(&me)),
        me.len()
    );
    println!(
        "session check cost per request (latency /api/me - /healthz): p50 {} mean {}",
        ms(percentile(&me, 0.5).saturating_sub(percentile(&health, 0.5))),
        ms(mean(&me).saturating_sub(mean(&health)))
    );
    let cpu = |path: &str| {
        runs.iter()
            .find(|(p, l, _)| *p == path && *l == "1")
            .map_or((0.0, 0.0), |(_, _, r)| (r.cpu_us_per_request(r.server_cpu), r.cpu_us_per_request(r.db_cpu)))
    };
    let ((hs, hd), (ms_, md)) = (cpu("/healthz"), cpu("/api/me"));
    println!(
        "session check cost per request (CPU, one instance under load): server {:.0} µs, database {}",
        ms_ - hs,
        if bench.db_pid.is_some() { format!("{:.0} µs", md - hd) } else { "n/a".to_owned() }
    );

    a.terminate();
    b.terminate();
    let _ = a.wait_exit(Duration::from_secs(35)).await;
    let _ = b.wait_exit(Duration::from_secs(35)).await;
    edu_db::testing::drop_mysql_database(&server, &name).await.unwrap();
}
