//! The fleet benchmark: one round over many tenants by 1 worker, then by W workers started
//! together, against MariaDB/MySQL (or SQLite), with latency added to every Graph call.
//!
//! ```text
//! cargo build --release -p edu_sync --bins --examples
//! target/release/examples/bench_fleet [--tenants 500] [--workers 3] [--latency-ms 100]
//!                                     [--db mysql://root@127.0.0.1:3306 | --db sqlite]
//! ```
//! Starts the emulator (`Seed::Fleet`: the demo district plus N small districts of mixed
//! sizes), registers a fresh certificate, and for 1 worker and then W workers: a fresh
//! database with every consented tenant onboarded, W `edugraph-sync run --once` processes
//! started at the same moment (the binary next to this example's directory, or
//! `EDUGRAPH_SYNC_BIN`), and from their summary lines: the round's wall time, tenants synced
//! (`status=ok`), synced twice, skipped (no `status=ok` line from any worker) and failed.
//! Exits 1 when a tenant was synced twice or skipped.
#![expect(clippy::unwrap_used, reason = "benchmark tool")]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use edu_ms_emulator::{AppRegistration, EmulatorConfig, Fault, FaultKind, Seed};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

struct Round {
    wall: Duration,
    synced: usize,
    twice: usize,
    skipped: usize,
    failed: usize,
    per_worker: Vec<usize>,
}

#[tokio::main]
async fn main() {
    let tenants: usize = arg("--tenants").map_or(500, |t| t.parse().unwrap());
    let workers: usize = arg("--workers").map_or(3, |w| w.parse().unwrap());
    let latency = Duration::from_millis(arg("--latency-ms").map_or(100, |l| l.parse().unwrap()));
    let db_arg = arg("--db").unwrap_or_else(|| "mysql://root@127.0.0.1:3306".into());
    let bin = std::env::var("EDUGRAPH_SYNC_BIN").map_or_else(
        |_| std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("edugraph-sync"),
        PathBuf::from,
    );
    let seeded = Instant::now();
    let emu =
        edu_ms_emulator::start(EmulatorConfig { seed: Seed::Fleet { tenants }, workers: 2, ..Default::default() })
            .await
            .unwrap();
    let demo = emu.demo();
    // Every consented tenant: Contoso and the fleet (Fabrikam, index 1, has not consented).
    let consented: Vec<(String, String)> = demo
        .tenants
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, t)| (t.id.clone(), t.display_name.clone()))
        .collect();
    eprintln!("emulator seeded with {} consented tenants in {:?}", consented.len(), seeded.elapsed());
    let dir = tempfile::tempdir().unwrap();
    let cert = edu_msgraph::generate_self_signed_certificate("bench-fleet", 2).unwrap();
    let (cert_file, key_file) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_file, &cert.cert_pem).unwrap();
    std::fs::write(&key_file, secrecy::ExposeSecret::expose_secret(&cert.private_key_pem)).unwrap();
    emu.register_app(AppRegistration {
        client_id: demo.app_client_id.clone(),
        certificate_der: Some(cert.cert_der.clone()),
        ..Default::default()
    });
    emu.set_fault(Fault { method: None, route: "*".into(), kind: FaultKind::Latency(latency), times: None });
    let base_vars = vec![
        ("EDUGRAPH_MS_AUTHORITY", emu.base_url()),
        ("EDUGRAPH_GRAPH_URL", emu.graph_url()),
        ("EDUGRAPH_CLIENT_ID", demo.app_client_id.clone()),
        ("EDUGRAPH_SYNC_CERT_FILE", cert_file.display().to_string()),
        ("EDUGRAPH_SYNC_KEY_FILE", key_file.display().to_string()),
        ("EDUGRAPH_LOG", "warn".into()),
    ];
    println!(
        "fleet: {} tenants (mixed sizes: 8/40/120/300 students), +{} ms per Microsoft call, database {}",
        consented.len(),
        latency.as_millis(),
        if db_arg.starts_with("sqlite") { "SQLite" } else { "MySQL/MariaDB" }
    );
    let mut bad = false;
    let mut counts = vec![1];
    if workers != 1 {
        counts.push(workers);
    }
    let mut walls = Vec::new();
    for w in counts {
        let (url, mysql) = if db_arg.starts_with("sqlite") {
            (format!("sqlite://{}/fleet-{w}.db", dir.path().display()), None)
        } else {
            let name = format!("edugraph_benchfleet_{}", uuid::Uuid::new_v4().simple());
            edu_db::testing::create_mysql_database(&db_arg, &name).await.unwrap();
            (format!("{}/{name}", db_arg.trim_end_matches('/')), Some(name))
        };
        let db = edu_db::Db::connect(&url, 4).await.unwrap();
        db.migrate().await.unwrap();
        for (id, name) in &consented {
            let t = edu_db::tenants::upsert_by_ms_id(&db, id, name, 0).await.unwrap();
            edu_db::tenants::set_consented(&db, t, "https://graph.microsoft.com/.default", None, 0).await.unwrap();
        }
        let mut vars = base_vars.clone();
        vars.push(("EDUGRAPH_DATABASE_URL", url.clone()));
        let r = round(&bin, &vars, w, &consented).await;
        println!(
            "{w} worker(s): round wall {:.1} s; synced {}, synced twice {}, skipped {}, failed {}; per worker {:?}",
            r.wall.as_secs_f64(),
            r.synced,
            r.twice,
            r.skipped,
            r.failed,
            r.per_worker
        );
        bad |= r.twice > 0 || r.skipped > 0;
        walls.push((w, r.wall));
        db.close().await;
        if let Some(name) = mysql {
            edu_db::testing::drop_mysql_database(&db_arg, &name).await.unwrap();
        }
    }
    if let [(1, one), (w, many)] = walls.as_slice() {
        println!("speed-up {:.2}x with {w} workers (ideal {w}x)", one.as_secs_f64() / many.as_secs_f64());
    }
    if bad {
        std::process::exit(1);
    }
}

/// W workers started together; the round ends when the last one exits.
async fn round(bin: &PathBuf, vars: &[(&str, String)], workers: usize, consented: &[(String, String)]) -> Round {
    let started = Instant::now();
    #[expect(clippy::needless_collect, reason = "every worker is started before any is awaited")]
    let children: Vec<_> = (0..workers)
        .map(|_| {
            let mut c = tokio::process::Command::new(bin);
            c.args(["run", "--once"]).stdout(std::process::Stdio::piped()).kill_on_drop(true);
            for (k, v) in vars {
                c.env(k, v);
            }
            c.spawn().unwrap()
        })
        .collect();
    let outputs =
        futures_util::future::join_all(children.into_iter().map(tokio::process::Child::wait_with_output)).await;
    let wall = started.elapsed();
    let mut ok: HashMap<String, usize> = HashMap::new();
    let (mut failed, mut per_worker) = (0, Vec::new());
    for out in outputs {
        let out = out.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut mine = 0;
        for line in stdout.lines() {
            let tenant = line.split_whitespace().next().and_then(|t| t.strip_prefix("tenant=")).unwrap_or("");
            if line.contains(" status=ok ") {
                *ok.entry(tenant.to_owned()).or_default() += 1;
                mine += 1;
            } else if line.contains(" status=failed") {
                failed += 1;
                eprintln!("{line}");
            }
        }
        per_worker.push(mine);
    }
    let twice = ok.values().filter(|n| **n > 1).count();
    let skipped = consented.iter().filter(|(id, _)| !ok.contains_key(id)).count();
    Round { wall, synced: ok.len(), twice, skipped, failed, per_worker }
}
