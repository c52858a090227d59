//! The real `edugraph-sync` binary against the emulator, on SQLite and MySQL: crash safety
//! (SIGKILL at random points, then a final run: the same profiles as an uninterrupted
//! run), two processes at once, `cert generate`, configuration errors, exit codes.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{Backend, Env, comparable};
use edu_db::roster::RosterKind;
use edu_ms_emulator::{AppRegistration, Fault, FaultKind};
use edu_test_db::both_backends;

const BIN: &str = env!("CARGO_BIN_EXE_edugraph-sync");

struct Files {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

/// Generates a certificate with the binary itself and registers it with the demo app.
async fn generated_cert(env: &Env) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(BIN)
        .args(["cert", "generate", "--cn", "edugraph-sync-e2e", "--out"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    for needle in ["thumbprint SHA-1", "x5t#S256", "AsymmetricX509Cert"] {
        assert!(stdout.contains(needle), "{stdout}");
    }
    let cert = dir.path().join("sync-cert.pem");
    let key = dir.path().join("sync-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let pem_text = std::fs::read_to_string(&cert).unwrap();
    let der = pem_der(&pem_text);
    env.emu.register_app(AppRegistration {
        client_id: env.client_id.clone(),
        certificate_der: Some(der),
        ..Default::default()
    });
    Files { _dir: dir, cert, key }
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

fn command(env: &Env, files: &Files, db_url: &str, extra: &[(&str, &str)]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    c.env_clear()
        .env("EDUGRAPH_DATABASE_URL", db_url)
        .env("EDUGRAPH_MS_AUTHORITY", env.emu.base_url())
        .env("EDUGRAPH_GRAPH_URL", env.emu.graph_url())
        .env("EDUGRAPH_CLIENT_ID", &env.client_id)
        .env("EDUGRAPH_SYNC_CERT_FILE", &files.cert)
        .env("EDUGRAPH_SYNC_KEY_FILE", &files.key)
        .env("EDUGRAPH_SYNC_PAGE_SIZE", "10")
        .env("EDUGRAPH_SYNC_LEASE_SECS", "1")
        // Class memberships every run (the crash test compares them with a clean run's).
        .env("EDUGRAPH_SYNC_MEMBERS_EVERY_SECS", "0")
        .env("EDUGRAPH_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in extra {
        c.env(k, v);
    }
    c
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Ran {
    let out = c.args(args).output().await.unwrap();
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `run --once` until it completes (a killed run's lease may still be held for ≤1 s).
async fn run_to_completion(env: &Env, files: &Files, url: &str) -> String {
    for _ in 0..20 {
        let r = run(command(env, files, url, &[]), &["run", "--once"]).await;
        assert_eq!(r.code, Some(0), "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        // Every stream of the run done: the users delta and the roster streams after it.
        if r.stdout.contains("status=ok") && !r.stdout.contains("=busy") {
            return r.stdout;
        }
        assert!(r.stdout.contains("=busy"), "{}", r.stdout);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    panic!("never completed");
}

fn random_below(n: u64) -> u64 {
    u64::try_from(uuid::Uuid::new_v4().as_u128() % u128::from(n)).unwrap()
}

/// Starts the binary and SIGKILLs it after a random delay; true when it was still running.
async fn run_and_kill(env: &Env, files: &Files, url: &str, max_ms: u64) -> bool {
    let mut child = command(env, files, url, &[]).args(["run", "--once"]).spawn().unwrap();
    let delay = Duration::from_millis(50 + random_below(max_ms));
    let mut stdout = child.stdout.take().unwrap();
    tokio::select! {
        _ = child.wait() => {
            let mut out = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut out).await;
            eprintln!("run finished before the kill: {}", out.trim());
            false
        }
        () = tokio::time::sleep(delay) => {
            child.start_kill().unwrap(); // SIGKILL
            let _ = child.wait().await;
            true
        }
    }
}

/// Starts and SIGKILLs runs until one completes on its own (or `max` kills); returns the kills.
async fn kill_until_done(env: &Env, files: &Files, backend: Backend, window_ms: u64, max: u32) -> u32 {
    let mut kills = 0;
    while kills < max {
        if !run_and_kill(env, files, &env.url, window_ms).await {
            break;
        }
        kills += 1;
        if backend == Backend::Sqlite {
            tokio::time::sleep(Duration::from_millis(1100)).await; // the dead run's lease expires
        }
    }
    kills
}

async fn crash_at_random_points_then_identical(backend: Backend) {
    let env = Env::start(backend).await;
    let files = generated_cert(&env).await;
    // Pages of 10, each slowed down, so kills land mid-round.
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users/delta".into(),
        kind: FaultKind::Latency(Duration::from_millis(100)),
        times: None,
    });
    // The roster streams after it too, so that kills also land in them.
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/education/users/delta".into(),
        kind: FaultKind::Latency(Duration::from_millis(60)),
        times: None,
    });
    // The reference: an uninterrupted database, synced at the same moments.
    let (clean_guard, clean_url) = common::TestDatabase::create(backend).await;
    let clean_db = edu_db::Db::connect(&clean_url, 4).await.unwrap();
    clean_db.migrate().await.unwrap();
    let clean_tenant = common::onboard(&clean_db, &env.ms_tenant, "Contoso").await;

    // Round 1: the initial full sync.
    run_to_completion(&env, &files, &clean_url).await;
    let mut interrupted = kill_until_done(&env, &files, backend, 1100, 25).await;
    run_to_completion(&env, &files, &env.url).await;
    assert_eq!(
        comparable(&env.profiles().await),
        comparable(&edu_db::sync::profiles(&clean_db, clean_tenant).await.unwrap()),
        "after round 1"
    );
    assert_same_roster(&env, &clean_db, clean_tenant, "after round 1").await;

    // Round 2: incremental changes of every kind, crash again.
    for i in 0..25 {
        env.create_user(&format!("crash{i}"), &format!("Crash Kid {i}")).await;
    }
    let demo = env.emu.demo();
    let students = &demo.tenants[0].students;
    env.patch_user(&students[0].id, serde_json::json!({"jobTitle": "Captain"})).await;
    env.delete_user(&students[1].id, false).await;
    env.delete_user(&students[2].id, true).await;
    let class = &demo.tenants[0].classes[0];
    let r = env
        .http
        .patch(format!("{}/tenants/{}/classes/{}", env.emu.admin_url(), env.ms_tenant, class.id))
        .json(&serde_json::json!({"displayName": "Renamed Mid-Crash"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    run_to_completion(&env, &files, &clean_url).await;
    interrupted += kill_until_done(&env, &files, backend, 500, 8).await;
    run_to_completion(&env, &files, &env.url).await;
    let crashed = comparable(&env.profiles().await);
    let clean = comparable(&edu_db::sync::profiles(&clean_db, clean_tenant).await.unwrap());
    assert_eq!(crashed.len(), clean.len());
    assert_eq!(crashed, clean, "after round 2");
    assert!(crashed.iter().any(|(p, s)| p.ms_object_id == students[1].id && s == "disabled"));
    assert!(crashed.iter().any(|(p, s)| p.ms_object_id == students[2].id && s == "deleted"));
    assert_same_roster(&env, &clean_db, clean_tenant, "after round 2").await;
    let classes = edu_db::roster::rows(&env.db, RosterKind::Classes, env.tenant).await.unwrap();
    let renamed = classes.iter().find(|c| c.id == class.id).unwrap();
    assert_eq!(renamed.get(RosterKind::Classes, "display_name"), Some("Renamed Mid-Crash"));
    eprintln!("{interrupted} runs were killed mid-run");
    assert!(interrupted >= 5, "only {interrupted} runs were interrupted");
    clean_db.close().await;
    drop(clean_guard);
}

/// The education roster (R-C3): both kinds' rows, data and state, equal to the clean run's.
async fn assert_same_roster(env: &Env, clean: &edu_db::Db, clean_tenant: edu_domain::TenantId, when: &str) {
    for kind in [RosterKind::Classes, RosterKind::Users] {
        let crashed = edu_db::roster::rows(&env.db, kind, env.tenant).await.unwrap();
        let reference = edu_db::roster::rows(clean, kind, clean_tenant).await.unwrap();
        assert!(!reference.is_empty(), "{kind:?} {when}");
        assert_eq!(crashed, reference, "{kind:?} {when}");
    }
    // Class memberships (issue 18 §3): the same people in every class.
    let classes = edu_db::roster::rows(clean, RosterKind::Classes, clean_tenant).await.unwrap();
    let ids: Vec<&str> = classes.iter().map(|c| c.id.as_str()).collect();
    let crashed = edu_db::roster_members::members_of(&env.db, env.tenant, &ids).await.unwrap();
    let reference = edu_db::roster_members::members_of(clean, clean_tenant, &ids).await.unwrap();
    assert!(!reference.is_empty(), "memberships {when}");
    assert_eq!(crashed, reference, "memberships {when}");
}

async fn two_processes_at_once(backend: Backend) {
    let env = Env::start(backend).await;
    let files = generated_cert(&env).await;
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users/delta".into(),
        kind: FaultKind::Latency(Duration::from_millis(80)),
        times: None,
    });
    // Migrate first so both processes start on an up-to-date schema.
    let a = command(&env, &files, &env.url, &[("EDUGRAPH_SYNC_LEASE_SECS", "30")]);
    let b = command(&env, &files, &env.url, &[("EDUGRAPH_SYNC_ALG", "rs256"), ("EDUGRAPH_SYNC_LEASE_SECS", "30")]);
    let (ra, rb) = tokio::join!(run(a, &["run", "--once"]), run(b, &["run", "--once"]));
    assert_eq!((ra.code, rb.code), (Some(0), Some(0)), "{}\n{}\n{}\n{}", ra.stdout, ra.stderr, rb.stdout, rb.stderr);
    // The fleet's claim (R-C6): one of them synced the tenant, the other found nothing left
    // in the round and waited for it to finish; neither synced it twice.
    let lines = format!("{}{}", ra.stdout, rb.stdout);
    assert_eq!(lines.matches("status=ok").count(), 1, "{lines}");
    assert_eq!(lines.matches("status=busy").count(), 0, "{lines}");
    let n = env.profiles().await.len();
    assert!(lines.contains(&format!("added={n} ")), "{lines}");
    // RS256 (x5t) works too: the second process syncs incrementally now.
    let b = command(&env, &files, &env.url, &[("EDUGRAPH_SYNC_ALG", "rs256")]);
    let r = run(b, &["run", "--once", "--tenant", &env.ms_tenant]).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("status=ok") && r.stdout.contains("full=false"), "{}", r.stdout);
}

async fn failed_tenant_exits_non_zero(backend: Backend) {
    let env = Env::start(backend).await;
    let files = generated_cert(&env).await;
    // Fabrikam is onboarded here but has not consented at Microsoft: its token request fails.
    let fabrikam = env.emu.demo().tenants[1].clone();
    common::onboard(&env.db, &fabrikam.id, &fabrikam.display_name).await;
    let r = run(command(&env, &files, &env.url, &[]), &["run", "--once"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.lines().count(), 2, "one line per tenant: {}", r.stdout);
    assert!(r.stdout.contains(&format!("tenant={} status=ok", env.ms_tenant)), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("tenant={} status=failed", fabrikam.id)), "{}", r.stdout);
    // Only the healthy tenant: exit 0.
    let r = run(command(&env, &files, &env.url, &[]), &["run", "--once", "--tenant", &env.ms_tenant]).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
}

both_backends!(crash_at_random_points_then_identical, two_processes_at_once, failed_tenant_exits_non_zero);

fn bare(vars: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(BIN);
    c.env_clear();
    for (k, v) in vars {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

#[test]
fn configuration_errors_name_the_variable_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", Path::new(dir.path()).join("x.db").display());
    let full = [
        ("EDUGRAPH_DATABASE_URL", db.as_str()),
        ("EDUGRAPH_MS_AUTHORITY", "http://127.0.0.1:9"),
        ("EDUGRAPH_GRAPH_URL", "http://127.0.0.1:9/graph"),
        ("EDUGRAPH_CLIENT_ID", "abc"),
        ("EDUGRAPH_SYNC_CERT_FILE", "/nonexistent/cert.pem"),
        ("EDUGRAPH_SYNC_KEY_FILE", "/nonexistent/key.pem"),
    ];
    for missing in ["EDUGRAPH_DATABASE_URL", "EDUGRAPH_CLIENT_ID", "EDUGRAPH_SYNC_KEY_FILE"] {
        let vars: Vec<_> = full.iter().copied().filter(|(k, _)| *k != missing).collect();
        let out = bare(&vars, &["run", "--once"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(missing), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let mut vars = full.to_vec();
    vars.push(("EDUGRAPH_SYNC_ALG", "hs256"));
    let out = bare(&vars, &["run", "--once"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EDUGRAPH_SYNC_ALG"));
    let mut vars = full.to_vec();
    vars.push(("EDUGRAPH_SYNC_ROSTER", "sometimes"));
    let out = bare(&vars, &["run", "--once"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EDUGRAPH_SYNC_ROSTER"));
    // Unreadable certificate file: named too.
    let out = bare(&full, &["run", "--once"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EDUGRAPH_SYNC_CERT_FILE"));
    // Bad --every duration: clap's usage error.
    let out = bare(&full, &["run", "--every", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let ok = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(ok.success());
}

async fn every_runs_repeatedly_until_sigterm(backend: Backend) {
    let env = Env::start(backend).await;
    let files = generated_cert(&env).await;
    let mut child = command(&env, &files, &env.url, &[]).args(["run", "--every", "1s"]).spawn().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    assert!(first.contains("status=ok") && first.contains("full=true"), "{first}");
    let second = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    assert!(second.contains("status=ok") && second.contains("full=false"), "{second}");
    sigterm(&child);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
}

async fn sigterm_finishes_the_page_and_releases_the_lease(backend: Backend) {
    let env = Env::start(backend).await;
    let files = generated_cert(&env).await;
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users/delta".into(),
        kind: FaultKind::Latency(Duration::from_millis(300)),
        times: None,
    });
    // A long lease: a run that did not release it would block the next one for a minute.
    let long = [("EDUGRAPH_SYNC_LEASE_SECS", "60"), ("EDUGRAPH_SYNC_PAGE_SIZE", "5")];
    let child = command(&env, &files, &env.url, &long).args(["run", "--once"]).spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    sigterm(&child);
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("status=stopped"), "{stdout}");
    let cp = edu_db::sync::checkpoint(&env.db, env.tenant, "users").await.unwrap().unwrap();
    assert!(cp.next_link.is_some(), "stopped mid-round at a committed page");
    env.emu.clear_faults();
    let r = run(command(&env, &files, &env.url, &long), &["run", "--once"]).await;
    assert!(r.stdout.contains("status=ok") && r.stdout.contains("full=true"), "resumed at once: {}", r.stdout);
}

mod signals {
    use super::*;
    both_backends!(every_runs_repeatedly_until_sigterm, sigterm_finishes_the_page_and_releases_the_lease);
}

mod exports {
    use super::*;
    both_backends!(export_users_and_groups_as_csv_files_and_stdout);
}

/// `edugraph-sync export users|groups` (seed 001): the synced users from the database and the
/// groups from Graph, RFC 4180 with formula neutralisation, to a file (0600, written whole) or
/// stdout; audited.
async fn export_users_and_groups_as_csv_files_and_stdout(backend: Backend) {
    let env = Env::start(backend).await;
    let files = generated_cert(&env).await;
    let evil = env.create_user("evil", "=cmd|' /C calc'!A0").await;
    env.patch_user(&evil, serde_json::json!({"jobTitle": "Head, \"Science\"\nDept"})).await;
    run_to_completion(&env, &files, &env.url).await;
    let profiles = env.profiles().await;

    let out_dir = tempfile::tempdir().unwrap();
    let users_csv = out_dir.path().join("users.csv");
    let r = run(
        command(&env, &files, &env.url, &[]),
        &["export", "users", "--tenant", &env.ms_tenant, "--out", users_csv.to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("exported {} users", profiles.len())), "{}", r.stderr);
    let text = std::fs::read_to_string(&users_csv).unwrap();
    assert!(!out_dir.path().join("users.csv.partial").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&users_csv).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(text.starts_with("id,display_name,user_principal_name,mail,job_title,"));
    assert_eq!(text.matches("\r\n").count(), profiles.len() + 1, "header + one record per profile");
    let line = text.split("\r\n").find(|l| l.starts_with(&evil)).unwrap();
    assert!(line.starts_with(&format!("{evil},'=cmd|' /C calc'!A0,")), "formula neutralised: {line}");
    assert!(text.contains(",\"Head, \"\"Science\"\"\nDept\","), "RFC 4180 quoting: {text}");

    // To stdout, identical bytes; only the database is needed for users.
    let r = run(
        {
            let mut c = tokio::process::Command::new(BIN);
            c.env_clear().env("EDUGRAPH_DATABASE_URL", &env.url).stdout(Stdio::piped()).stderr(Stdio::piped());
            c
        },
        &["export", "users", "--tenant", &env.ms_tenant, "--out", "-"],
    )
    .await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, text);

    // Groups come from Graph (app-only with the certificate).
    let groups_csv = out_dir.path().join("groups.csv");
    let r = run(
        command(&env, &files, &env.url, &[]),
        &["export", "groups", "--tenant", &env.ms_tenant, "--out", groups_csv.to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let groups = std::fs::read_to_string(&groups_csv).unwrap();
    assert!(groups.starts_with("id,display_name,description,mail,mail_nickname,group_types,security_enabled,"));
    assert!(groups.contains(",All Teachers,All teaching staff,,allteachers,,true,false\r\n"), "{groups}");
    let demo = env.emu.demo();
    for class in &demo.tenants[0].classes {
        assert!(groups.contains(&class.id), "class group {}", class.display_name);
    }

    // An unknown tenant: exit 1, no file left behind.
    let nowhere = out_dir.path().join("nowhere.csv");
    let r = run(
        command(&env, &files, &env.url, &[]),
        &["export", "users", "--tenant", "00000000-0000-0000-0000-000000000000", "--out", nowhere.to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(!nowhere.exists());

    // Both exports are audited (actor: none, detail: the CLI).
    let trail = edu_db::audit::for_tenant(
        &env.db,
        env.tenant,
        &edu_db::audit::TenantQuery { limit: 100, ..Default::default() },
    )
    .await
    .unwrap();
    let exports: Vec<_> = trail.iter().filter(|e| e.action == "export.csv").collect();
    assert_eq!(exports.len(), 3, "{exports:?}");
    assert!(
        exports
            .iter()
            .all(|e| e.actor_user_id.is_none() && e.detail.as_deref().is_some_and(|d| d.contains("edugraph-sync")))
    );
    assert_eq!(exports.iter().filter(|e| e.target_id.as_deref() == Some("groups")).count(), 1);
}

mod directory_crash {
    use super::*;
    both_backends!(directory_rounds_killed_at_random_points_end_identical);
}

/// Runs `run --once` until the directory round completed too.
async fn run_until_directory_done(env: &Env, files: &Files, url: &str, extra: &[(&str, &str)]) -> String {
    for _ in 0..20 {
        let r = run(command(env, files, url, extra), &["run", "--once"]).await;
        assert_eq!(r.code, Some(0), "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        if r.stdout.contains("status=ok") && r.stdout.contains("directory=ok") {
            return r.stdout;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    panic!("the directory round never completed");
}

type DirRow = (String, Option<String>, String, Option<String>);

async fn directory_of(db: &edu_db::Db, tenant: edu_domain::TenantId) -> Vec<DirRow> {
    edu_db::directory::members(db, tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.member.ms_object_id, m.member.display_name, m.state, m.manager.map(|x| x.ms_object_id)))
        .collect()
}

/// R-C3 for the directory stream: SIGKILL the real binary at random points of directory
/// rounds (pages of 2 members, each slowed down), re-run, and compare with a clean run.
async fn directory_rounds_killed_at_random_points_end_identical(backend: Backend) {
    let env = Env::start(backend).await;
    // Graph changes below use the test's own certificate: its app-only token is fetched (and
    // cached) before the binary's generated certificate replaces the registered one.
    let deps = env.deps(None);
    let auth = edu_msgraph::GraphAuth::app_only(env.ms_tenant.clone());
    let group =
        deps.graph.list_groups(&auth, Some("displayName eq 'All Teachers'"), &["id"]).await.unwrap()[0].id.clone();
    let files = generated_cert(&env).await;
    let (clean_guard, clean_url) = common::TestDatabase::create(backend).await;
    let clean_db = edu_db::Db::connect(&clean_url, 4).await.unwrap();
    clean_db.migrate().await.unwrap();
    let clean_tenant = common::onboard(&clean_db, &env.ms_tenant, "Contoso").await;
    for (db, t) in [(&env.db, env.tenant), (&clean_db, clean_tenant)] {
        edu_db::directory::set_group(db, t, Some(&group), None, 1).await.unwrap();
    }
    let small = [("EDUGRAPH_SYNC_PAGE_SIZE", "2")];
    // The users delta first, in both (fast); then slow member pages so kills land mid-round.
    run_until_directory_done(&env, &files, &clean_url, &small).await;
    env.emu.set_fault(Fault {
        method: Some("GET".into()),
        route: "/groups/{id}/members/{id}".into(),
        kind: FaultKind::Latency(Duration::from_millis(120)),
        times: None,
    });
    let mut kills = 0;
    for round in 0..2 {
        if round == 1 {
            // Someone leaves, someone gets a new manager; the clean database syncs it whole.
            let teachers = env.emu.demo().tenants[0].teachers.clone();
            deps.graph.remove_group_member(&auth, &group, &teachers[1].id).await.unwrap();
            let body =
                serde_json::json!({"@odata.id": format!("{}/v1.0/users/{}", env.emu.graph_url(), teachers[2].id)});
            let req = edu_msgraph::GraphRequest::json(
                reqwest::Method::PUT,
                format!("/users/{}/manager/$ref", teachers[0].id),
                &body,
            )
            .unwrap();
            deps.graph.send(&auth, req).await.unwrap();
            run_until_directory_done(&env, &files, &clean_url, &small).await;
        }
        for _ in 0..6 {
            let mut child = command(&env, &files, &env.url, &small).args(["run", "--once"]).spawn().unwrap();
            tokio::select! {
                _ = child.wait() => {}
                () = tokio::time::sleep(Duration::from_millis(150 + random_below(600))) => {
                    child.start_kill().unwrap();
                    let _ = child.wait().await;
                    kills += 1;
                }
            }
            if backend == Backend::Sqlite {
                tokio::time::sleep(Duration::from_millis(1100)).await; // the dead run's leases expire
            }
        }
        run_until_directory_done(&env, &files, &env.url, &small).await;
        assert_eq!(
            directory_of(&env.db, env.tenant).await,
            directory_of(&clean_db, clean_tenant).await,
            "after round {round}"
        );
    }
    let dir = directory_of(&env.db, env.tenant).await;
    assert!(dir.iter().any(|r| r.2 == "left"), "the departure is in both");
    eprintln!("{kills} directory runs were killed");
    assert!(kills >= 4, "only {kills} runs were interrupted");
    clean_db.close().await;
    drop(clean_guard);
}
