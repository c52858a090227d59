//! Initial-sync benchmark of the real binary against the emulator's large tenant.
//!
//! ```text
//! cargo build --release -p edu_sync --bins --examples
//! target/release/examples/bench_sync [--users 10000] [--page-size 999] [--changes 100] [--db mysql://root@127.0.0.1:3306]
//! ```
//! Starts the emulator (`Seed::Large`), registers a fresh certificate, creates a database
//! (SQLite in a temp dir, or a fresh MySQL database on the given server), onboards the
//! "Northwind" tenant, runs `edugraph-sync run --once --tenant <northwind>` (the binary next
//! to this example's directory, or `EDUGRAPH_SYNC_BIN`), and prints its wall time and peak
//! RSS (VmHWM from /proc, sampled every 20 ms), then an incremental run with no changes, then
//! `--changes N` users edited in the emulator (job title and department; default 100) and the
//! incremental run that picks them up (its wall time and peak RSS, and a check that every
//! change landed in the database).
#![expect(clippy::unwrap_used, reason = "benchmark tool")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use edu_ms_emulator::{AppRegistration, EmulatorConfig, Seed};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

async fn run_binary(bin: &PathBuf, vars: &[(&str, String)], tenant: &str) -> (Duration, u64, String) {
    let mut c = tokio::process::Command::new(bin);
    c.args(["run", "--once", "--tenant", tenant]).stdout(std::process::Stdio::piped());
    for (k, v) in vars {
        c.env(k, v);
    }
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    let pid = child.id().unwrap();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = peak.max(kib);
        }
        tokio::select! {
            s = child.wait() => break s.unwrap(),
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    };
    let elapsed = started.elapsed();
    let mut out = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stdout.take().unwrap(), &mut out).await.unwrap();
    assert!(status.success(), "{out}");
    (elapsed, peak, out.trim().to_owned())
}

#[tokio::main]
async fn main() {
    let users: usize = arg("--users").map_or(10_000, |u| u.parse().unwrap());
    let page_size = arg("--page-size").unwrap_or_else(|| "999".into());
    let changes: usize = arg("--changes").map_or(100, |c| c.parse().unwrap());
    let bin = std::env::var("EDUGRAPH_SYNC_BIN").map_or_else(
        |_| std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("edugraph-sync"),
        PathBuf::from,
    );
    let seeded = Instant::now();
    let emu = edu_ms_emulator::start(EmulatorConfig { seed: Seed::Large { users }, workers: 2, ..Default::default() })
        .await
        .unwrap();
    eprintln!("emulator seeded with ~{users} users in {:?}", seeded.elapsed());
    let demo = emu.demo();
    let northwind = demo.tenants.iter().find(|t| t.display_name.contains("Northwind")).unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let cert = edu_msgraph::generate_self_signed_certificate("bench", 2).unwrap();
    let (cert_file, key_file) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_file, &cert.cert_pem).unwrap();
    std::fs::write(&key_file, secrecy::ExposeSecret::expose_secret(&cert.private_key_pem)).unwrap();
    emu.register_app(AppRegistration {
        client_id: demo.app_client_id.clone(),
        certificate_der: Some(cert.cert_der.clone()),
        ..Default::default()
    });
    let (url, mysql) = match arg("--db") {
        Some(server) => {
            let name = format!("edugraph_bench_{}", uuid::Uuid::new_v4().simple());
            edu_db::testing::create_mysql_database(&server, &name).await.unwrap();
            (format!("{}/{name}", server.trim_end_matches('/')), Some((server, name)))
        }
        None => (format!("sqlite://{}/bench.db", dir.path().display()), None),
    };
    let db = edu_db::Db::connect(&url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let id = edu_db::tenants::upsert_by_ms_id(&db, &northwind.id, &northwind.display_name, 0).await.unwrap();
    edu_db::tenants::set_consented(&db, id, "https://graph.microsoft.com/.default", None, 0).await.unwrap();
    let vars = vec![
        ("EDUGRAPH_DATABASE_URL", url.clone()),
        ("EDUGRAPH_MS_AUTHORITY", emu.base_url()),
        ("EDUGRAPH_GRAPH_URL", emu.graph_url()),
        ("EDUGRAPH_CLIENT_ID", demo.app_client_id.clone()),
        ("EDUGRAPH_SYNC_CERT_FILE", cert_file.display().to_string()),
        ("EDUGRAPH_SYNC_KEY_FILE", key_file.display().to_string()),
        ("EDUGRAPH_SYNC_PAGE_SIZE", page_size.clone()),
        ("EDUGRAPH_LOG", "warn".into()),
    ];
    let (t1, rss1, line1) = run_binary(&bin, &vars, &northwind.id).await;
    let n = edu_db::sync::profiles(&db, id).await.unwrap().len();
    println!("initial sync: {n} profiles, page size {page_size}, wall {t1:?}, peak RSS {} MiB", rss1 / 1024);
    println!("  {line1}");
    let (t2, rss2, line2) = run_binary(&bin, &vars, &northwind.id).await;
    let rss2 =
        if rss2 == 0 { "n/a (exited before the first sample)".to_owned() } else { format!("{} MiB", rss2 / 1024) };
    println!("incremental (no changes): wall {t2:?}, peak RSS {rss2}");
    println!("  {line2}");

    // N changed users, then the incremental run that picks them up.
    let profiles = edu_db::sync::profiles(&db, id).await.unwrap();
    let step = (profiles.len() / changes.max(1)).max(1);
    let targets: Vec<String> =
        profiles.iter().step_by(step).take(changes).map(|p| p.data.ms_object_id.clone()).collect();
    let http = reqwest::Client::new();
    let admin = emu.admin_url();
    let edits = targets.iter().enumerate().map(|(i, uid)| {
        let (http, url) = (http.clone(), format!("{admin}/tenants/{}/users/{uid}", northwind.id));
        async move {
            let body = serde_json::json!({"jobTitle": format!("Bench title {i}"), "department": "Benchmarking"});
            let r = http.patch(url).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "patch: {}", r.status());
        }
    });
    futures_util::future::join_all(edits).await;
    let (t3, rss3, line3) = run_binary(&bin, &vars, &northwind.id).await;
    let after = edu_db::sync::profiles(&db, id).await.unwrap();
    let landed = after.iter().filter(|p| p.data.department.as_deref() == Some("Benchmarking")).count();
    assert_eq!(landed, targets.len(), "every change is in the database");
    let rss3 =
        if rss3 == 0 { "n/a (exited before the first sample)".to_owned() } else { format!("{} MiB", rss3 / 1024) };
    println!("incremental ({} changed users of {n}): wall {t3:?}, peak RSS {rss3}", targets.len());
    println!("  {line3}");
    db.close().await;
    if let Some((server, name)) = mysql {
        edu_db::testing::drop_mysql_database(&server, &name).await.unwrap();
    }
}
