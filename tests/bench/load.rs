//! Load test under Microsoft throttling (issue 18 §5). Run: `infra/scripts/bench load
//! [--fault-429 0.2 --fault-503 0.05] [--users 32] [--seconds 15] [--backend sqlite|mysql|both]`.
//!
//! Two EduGraph replicas (one database, one emulator of Microsoft) serve `--users` signed-in
//! teachers and students, each in a closed loop alternating between the two replicas, with two
//! workloads: "roster" (`GET /api/classes` and `GET /api/classes/{id}`, the load test:
//! served from our 5-minute copy once read) and "live" (those two plus
//! `GET /api/classes/{id}/assignments`, always read from Microsoft). For each, first a fault-free
//! run, then (with
//! `--fault-429`/`--fault-503`) a run where the emulator answers that share of Graph calls 429
//! (`Retry-After: 1`) or 503. Prints requests, failures by status, p50/p95/p99 and req/s of
//! both runs, the inner Graph requests they caused, and the throughput under faults as a share of
//! the fault-free run.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]
#![expect(clippy::cast_precision_loss, reason = "request counts are far below 2^52")]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edu_tests::{Backend, Client, MicrosoftTestApp};

struct Args {
    p429: f64,
    p503: f64,
    users: usize,
    seconds: u64,
    backends: Vec<Backend>,
}

fn args() -> Args {
    let mut a = Args { p429: 0.0, p503: 0.0, users: 32, seconds: 15, backends: vec![Backend::Sqlite, Backend::MySql] };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--fault-429" => a.p429 = v.parse().expect("--fault-429 takes a share, e.g. 0.2"),
            "--fault-503" => a.p503 = v.parse().expect("--fault-503 takes a share, e.g. 0.05"),
            "--users" => a.users = v.parse().expect("--users takes a number"),
            "--seconds" => a.seconds = v.parse().expect("--seconds takes a number"),
            "--backend" => {
                a.backends = match v.as_str() {
                    "sqlite" => vec![Backend::Sqlite],
                    "mysql" => vec![Backend::MySql],
                    "both" => vec![Backend::Sqlite, Backend::MySql],
                    other => panic!("--backend sqlite|mysql|both, not {other}"),
                }
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small indices")]
    let i = (((sorted.len() as f64) * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<(u16, String), u64>,
}

#[derive(Clone, Copy)]
enum Workload {
    /// The class list and a class page (roster data).
    Roster,
    /// Those and the class's assignments (always live).
    Live,
}

impl Workload {
    fn path(self, n: usize, class: &str) -> String {
        let kinds = match self {
            Self::Roster => 2,
            Self::Live => 3,
        };
        match (n / 2) % kinds {
            0 => "/api/classes".to_owned(),
            1 => format!("/api/classes/{class}"),
            _ => format!("/api/classes/{class}/assignments"),
        }
    }
}

/// One closed-loop run; returns requests per second.
async fn run(
    label: &str,
    work: Workload,
    app: &MicrosoftTestApp,
    users: &[(Client, Client, String)],
    seconds: u64,
) -> f64 {
    app.emulator.reset_request_log();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (r1, r2, class)) in users.iter().enumerate() {
        let (r1, r2, class, tally) = (r1.clone(), r2.clone(), class.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = i;
            while Instant::now() < stop {
                let c = if n % 2 == 0 { &r1 } else { &r2 };
                let path = work.path(n, &class);
                let t = Instant::now();
                let r = c.get(&path).await;
                let took = t.elapsed();
                let mut g = tally.lock().unwrap();
                g.latencies.push(took);
                if r.status != 200 {
                    *g.statuses.entry((r.status, r.code().to_owned())).or_default() += 1;
                }
                n += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    let mut g = tally.lock().unwrap();
    g.latencies.sort();
    let total = g.latencies.len();
    let failed: u64 = g.statuses.values().sum();
    let rate = total as f64 / wall;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {label}: {total} requests, {failed} failed ({:.2}%), {rate:.0} req/s, p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        failed as f64 * 100.0 / total.max(1) as f64,
        ms(percentile(&g.latencies, 0.50)),
        ms(percentile(&g.latencies, 0.95)),
        ms(percentile(&g.latencies, 0.99)),
    );
    for ((status, code), n) in &g.statuses {
        println!("    failures: {n} × {status} {code}");
    }
    println!("    inner Graph requests: {}", app.emulator.graph_usage().requests);
    rate
}

async fn bench(backend: Backend, a: &Args) {
    let vars: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let keep = vars.clone();
    let app = MicrosoftTestApp::spawn_with(backend, move |v| {
        v.insert("EDUGRAPH_DATABASE_MAX_CONNECTIONS".into(), "20".into());
        v.insert("EDUGRAPH_SESSION_IDLE_SECS".into(), "86400".into());
        *keep.lock().unwrap() = v.clone();
    })
    .await;
    app.onboard(0).await;
    // The second replica: same database, same emulator, same keys.
    let config = edu_api::Config::from_map(&vars.lock().unwrap()).unwrap();
    let second = edu_api::Application::build(config).await.unwrap();
    let second_base = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());

    let t = app.tenant(0);
    let mut users = Vec::new();
    // Students of the demo list with a class of theirs.
    let students: Vec<(edu_ms_emulator::DemoUser, String)> = t
        .students
        .iter()
        .filter_map(|s| t.classes.iter().find(|c| c.student_ids.contains(&s.id)).map(|c| (s.clone(), c.id.clone())))
        .collect();
    for i in 0..a.users {
        let (r1, class_id) = if i % 2 == 0 || students.is_empty() {
            let class = &t.classes[i / 2 % t.classes.len()];
            (app.teacher_of(class).await, class.id.clone())
        } else {
            let (s, class_id) = &students[i / 2 % students.len()];
            (app.sign_in(s).await, class_id.clone())
        };
        let mut r2 = Client::new(&second_base);
        r2.cookies = r1.cookies.clone();
        r2.csrf = r1.csrf.clone();
        assert_eq!(r2.get(&format!("/api/classes/{class_id}")).await.status, 200, "replica 2 serves the session");
        users.push((r1, r2, class_id));
    }
    println!("{backend:?}: {} users over two replicas, {} s per run", a.users, a.seconds);
    for (name, work) in [("roster", Workload::Roster), ("live", Workload::Live)] {
        println!(" workload {name}:");
        let clean = run("no faults", work, &app, &users, a.seconds).await;
        if a.p429 > 0.0 || a.p503 > 0.0 {
            app.emulator.set_random_faults(a.p429, a.p503);
            let label =
                format!("{:.0}% of Graph calls 429 (Retry-After 1) + {:.0}% 503", a.p429 * 100.0, a.p503 * 100.0);
            let faulty = run(&label, work, &app, &users, a.seconds).await;
            app.emulator.set_random_faults(0.0, 0.0);
            println!(
                "  throughput under faults: {:.0}% of the fault-free run",
                faulty * 100.0 / clean.max(f64::EPSILON)
            );
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    for backend in a.backends.clone() {
        bench(backend, &a).await;
    }
}
