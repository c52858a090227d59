//! `edugraph-sync`: see the library docs. Exit codes: 0 all tenants fine (or busy
//! elsewhere), 1 a tenant failed, 2 configuration error.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{Parser, Subcommand};
use edu_domain::csv::ExportKind;
use edu_msgraph::{GraphClient, generate_self_signed_certificate};
use edu_sync::{Config, Progress, ProgressFn, SyncDeps, parse_duration, run_tenants, tenants_to_sync};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secrecy::ExposeSecret as _;

#[derive(Parser)]
#[command(name = "edugraph-sync", about = "Keeps EduGraph's profiles in step with Microsoft Graph (users delta)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Syncs the consented tenants.
    Run {
        /// One pass over the tenants, then exit (the default).
        #[arg(long, conflicts_with = "every")]
        once: bool,
        /// Runs a pass every DURATION (e.g. 15m) until SIGTERM/Ctrl-C.
        #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
        every: Option<Duration>,
        /// Only this tenant (Microsoft tenant id).
        #[arg(long, value_name = "MS_TENANT_ID")]
        tenant: Option<String>,
        /// A full round (mark and sweep) instead of the incremental delta: the periodic
        /// (e.g. weekly) reconciliation.
        #[arg(long)]
        full: bool,
    },
    /// Writes a tenant's users (synced profiles) or groups (read from Graph) as CSV.
    Export {
        /// `users` or `groups`.
        #[arg(value_enum)]
        what: ExportWhat,
        /// The tenant (Microsoft tenant id).
        #[arg(long, value_name = "MS_TENANT_ID")]
        tenant: String,
        /// Output file (written as FILE.partial, mode 0600, renamed when complete), or `-` for stdout.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Certificate tools.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportWhat {
    Users,
    Groups,
}

#[derive(Subcommand)]
enum CertCommand {
    /// Generates a self-signed certificate + key (PEM) and prints what to register in Entra.
    Generate {
        /// Common name.
        #[arg(long)]
        cn: String,
        /// Output directory (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDUGRAPH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Cert { command: CertCommand::Generate { cn, out, days } } => cert_generate(&cn, &out, days),
        Command::Export { what, tenant, out } => {
            init_logs();
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            let kind = match what {
                ExportWhat::Users => ExportKind::Users,
                ExportWhat::Groups => ExportKind::Groups,
            };
            runtime.block_on(export(kind, &tenant, &out))
        }
        Command::Run { once: _, every, tenant, full } => {
            init_logs();
            let config = match Config::from_lookup(|k| std::env::var(k).ok()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("configuration error: {e}");
                    return ExitCode::from(2);
                }
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            runtime.block_on(run(config, every, tenant, full))
        }
    }
}

fn cert_generate(cn: &str, out: &std::path::Path, days: u32) -> ExitCode {
    let cert = match generate_self_signed_certificate(cn, days) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let (cert_path, key_path) = (out.join("sync-cert.pem"), out.join("sync-key.pem"));
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(&cert_path, &cert.cert_pem))
        .and_then(|()| write_private(&key_path, cert.private_key_pem.expose_secret()));
    if let Err(e) = written {
        eprintln!("cannot write to {}: {e}", out.display());
        return ExitCode::from(1);
    }
    println!("certificate: {}", cert_path.display());
    println!("private key: {} (keep secret; EDUGRAPH_SYNC_KEY_FILE)", key_path.display());
    println!("thumbprint SHA-1 (portal): {}", cert.thumbprint_sha1_hex);
    println!("thumbprint SHA-256: {}", cert.thumbprint_sha256_hex);
    println!("x5t: {}", cert.x5t);
    println!("x5t#S256: {}", cert.x5t_s256);
    println!(
        "Upload {} under Certificates & secrets of the app registration, or add this keyCredential:",
        cert_path.display()
    );
    println!("{}", cert.key_credential_json(cn));
    ExitCode::SUCCESS
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

async fn run(config: Config, every: Option<Duration>, tenant: Option<String>, full: bool) -> ExitCode {
    let credential = match config.credential() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let graph = match GraphClient::with_credential(config.graph_settings(), Some(credential)) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("configuration error: Graph client: {e}");
            return ExitCode::from(2);
        }
    };
    let pool = u32::try_from(config.concurrency * 2 + 2).unwrap_or(16);
    let db = match edu_db::Db::connect(&config.database_url, pool).await {
        Ok(db) => db,
        Err(e) => {
            tracing::error!(error = %e, "cannot open the database");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = db.migrate().await {
        tracing::error!(error = %e, "migrations failed");
        return ExitCode::from(1);
    }
    let mut deps = SyncDeps::new(db, graph);
    deps.page_size = config.page_size;
    deps.lease_ttl = config.lease_ttl;
    deps.roster = config.roster;
    deps.members_every = config.members_every;
    deps.force_full = full;
    let stop = Arc::clone(&deps.stop);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stop requested: finishing the current page");
        stop.store(true, Ordering::SeqCst);
    });
    if let Some(only) = tenant.as_deref() {
        // One named tenant: synced directly (its fenced lease still guards it), outside the
        // fleet's rounds.
        loop {
            let failed = pass(&deps, &config, Some(only)).await;
            let Some(period) = every else {
                return if failed { ExitCode::from(1) } else { ExitCode::SUCCESS };
            };
            if sleep_until(&deps, tokio::time::Instant::now() + period).await {
                return ExitCode::SUCCESS;
            }
        }
    }
    let period_ms = every.map(|p| i64::try_from(p.as_millis()).unwrap_or(i64::MAX));
    loop {
        let joined = match edu_db::fleet::join(&deps.db, period_ms, edu_sync_now()).await {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, "cannot join the fleet's round");
                if every.is_none() {
                    return ExitCode::from(1);
                }
                if sleep_until(&deps, tokio::time::Instant::now() + Duration::from_secs(5)).await {
                    return ExitCode::SUCCESS;
                }
                continue;
            }
        };
        match joined {
            edu_db::fleet::Join::WaitUntil(at) => {
                let wait = Duration::from_millis(u64::try_from(at - edu_sync_now()).unwrap_or(0).max(50));
                if sleep_until(&deps, tokio::time::Instant::now() + wait).await {
                    return ExitCode::SUCCESS;
                }
            }
            edu_db::fleet::Join::Round { round, opened } => {
                tracing::info!(round, opened, instance = %deps.instance, "working in the fleet's round");
                let failed = fleet_pass(&deps, &config, round).await;
                if every.is_none() {
                    return if failed { ExitCode::from(1) } else { ExitCode::SUCCESS };
                }
                if deps.stop.load(Ordering::SeqCst) {
                    return ExitCode::SUCCESS;
                }
            }
        }
    }
}

fn edu_sync_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Sleeps until `deadline`; `true` when a stop was requested meanwhile.
async fn sleep_until(deps: &SyncDeps, deadline: tokio::time::Instant) -> bool {
    while tokio::time::Instant::now() < deadline {
        if deps.stop.load(Ordering::SeqCst) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250).min(deadline - tokio::time::Instant::now())).await;
    }
    deps.stop.load(Ordering::SeqCst)
}

/// This worker's part of a fleet round: claims tenants until the round is finished, printing
/// one summary line per tenant it finished; `true` when one failed.
async fn fleet_pass(deps: &SyncDeps, config: &Config, round: i64) -> bool {
    let total = edu_db::fleet::unfinished(&deps.db, round).await.unwrap_or(0);
    let bar = progress_bar(usize::try_from(total).unwrap_or(0), ProgressDrawTarget::stderr_with_hz(10));
    let mut run_deps = deps.clone();
    run_deps.progress = (!bar.is_hidden()).then(|| progress_callback(&bar));
    let failed = std::sync::atomic::AtomicBool::new(false);
    let progress = run_deps.progress.clone();
    let on_done = |tenant: &edu_sync::Tenant, result: &Result<edu_sync::TenantReport, edu_sync::SyncError>| {
        if let Some(p) = &progress {
            p(Progress::TenantDone { tenant: &tenant.ms_tenant_id, failed: result.is_err() });
        }
        bar.suspend(|| report(tenant, result));
        if result.is_err() {
            failed.store(true, Ordering::SeqCst);
        }
    };
    let summary = edu_sync::fleet::work_round(&run_deps, round, config.concurrency, &on_done).await;
    bar.finish_and_clear();
    match summary {
        Ok(s) => {
            tracing::info!(
                round,
                synced = s.synced,
                failed = s.failed,
                given_back = s.given_back,
                gave_up = s.gave_up,
                "this worker's part of the round is done"
            );
            failed.load(Ordering::SeqCst)
        }
        Err(e) => {
            tracing::error!(error = %e, round, "the fleet's round failed");
            println!("tenant=* status=failed error={:?}", e.to_string());
            true
        }
    }
}

/// Logs and prints the summary line of one tenant's run.
fn report(tenant: &edu_sync::Tenant, result: &Result<edu_sync::TenantReport, edu_sync::SyncError>) {
    match result {
        Ok(report) => {
            tracing::info!(
                tenant = %report.ms_tenant_id, added = report.added, changed = report.changed,
                disabled = report.disabled, deleted = report.deleted, archived = report.archived,
                pages = report.pages, resync = report.resynced, duration_ms = report.duration.as_millis() as u64,
                "tenant synced"
            );
            println!("{}", report.summary_line());
        }
        Err(e) => {
            tracing::error!(tenant = %tenant.ms_tenant_id, error = %e, "tenant sync failed");
            println!("tenant={} status=failed error={:?}", tenant.ms_tenant_id, e.to_string());
        }
    }
}

/// One pass over the tenants; `true` when one failed.
async fn pass(deps: &SyncDeps, config: &Config, only: Option<&str>) -> bool {
    let tenants = match tenants_to_sync(&deps.db, only).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the tenants");
            println!("tenant={} status=failed error={e:?}", only.unwrap_or("*"));
            return true;
        }
    };
    let mut failed = false;
    // The progress line: drawn on a terminal only (indicatif hides it when stderr is not
    // one), so piped output and CI logs stay clean.
    let bar = progress_bar(tenants.len(), ProgressDrawTarget::stderr_with_hz(10));
    let mut run_deps = deps.clone();
    run_deps.progress = (!bar.is_hidden()).then(|| progress_callback(&bar));
    let results = run_tenants(&run_deps, tenants, config.concurrency).await;
    bar.finish_and_clear();
    for (tenant, result) in results {
        failed |= result.is_err();
        report(&tenant, &result);
    }
    failed
}

/// A bar of the pass's tenants, with what is moving now (stream, pages, items) after it:
/// `[##########----------] 2/4 tenants (1 failed) · 0f3c9a2e… users: page 12, 2400 items`.
/// Delta rounds have no known length, so only the tenant count is a bar.
fn progress_bar(tenants: usize, target: ProgressDrawTarget) -> ProgressBar {
    let style = ProgressStyle::with_template("[{bar:20}] {pos}/{len} tenants{prefix}{wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#-");
    let bar = ProgressBar::with_draw_target(Some(tenants as u64), target);
    bar.set_style(style);
    bar
}

/// The [`SyncDeps::progress`] callback that moves `bar`.
fn progress_callback(bar: &ProgressBar) -> ProgressFn {
    let bar = bar.clone();
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Arc::new(move |p| match p {
        Progress::Page { tenant, stream, pages, items } => {
            let short: String = tenant.chars().take(8).collect();
            bar.set_message(format!(" · {short}… {stream}: page {pages}, {items} items"));
        }
        Progress::TenantDone { failed: tenant_failed, .. } => {
            if tenant_failed {
                let n = failed.fetch_add(1, Ordering::SeqCst) + 1;
                bar.set_prefix(format!(" ({n} failed)"));
            }
            bar.inc(1);
        }
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `export users|groups`: users need only the database; groups need the Graph settings and
/// the certificate as `run` does.
async fn export(kind: ExportKind, ms_tenant: &str, out: &std::path::Path) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let (database_url, graph) = match kind {
        ExportKind::Users => match env("EDUGRAPH_DATABASE_URL").filter(|v| !v.trim().is_empty()) {
            Some(url) => (url, None),
            None => {
                eprintln!("configuration error: EDUGRAPH_DATABASE_URL: missing");
                return ExitCode::from(2);
            }
        },
        ExportKind::Groups => {
            let client = Config::from_lookup(env).and_then(|c| {
                let cred = c.credential()?;
                let g = GraphClient::with_credential(c.graph_settings(), Some(cred)).map_err(|e| {
                    edu_sync::ConfigError { var: "EDUGRAPH_GRAPH_URL", problem: format!("Graph client: {e}") }
                })?;
                Ok((c.database_url, g))
            });
            match client {
                Ok((url, g)) => (url, Some(g)),
                Err(e) => {
                    eprintln!("configuration error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let db = match edu_db::Db::connect(&database_url, 2).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot open the database: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = db.migrate().await {
        eprintln!("migrations failed: {e}");
        return ExitCode::from(1);
    }
    let tenant = match edu_db::tenants::find_by_ms_id(&db, &ms_tenant.to_ascii_lowercase()).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!("tenant {ms_tenant} is unknown");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("cannot read the tenant: {e}");
            return ExitCode::from(1);
        }
    };
    let to_stdout = out.as_os_str() == "-";
    let partial = {
        let mut p = out.as_os_str().to_owned();
        p.push(".partial");
        std::path::PathBuf::from(p)
    };
    let mut sink: Box<dyn std::io::Write> = if to_stdout {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        match create_private(&partial) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("cannot write {}: {e}", partial.display());
                return ExitCode::from(1);
            }
        }
    };
    let result = match &graph {
        None => edu_sync::export::export_users(&db, tenant.id, &mut sink).await,
        Some(g) => edu_sync::export::export_groups(g, &tenant.ms_tenant_id, &mut sink).await,
    };
    let result = result.and_then(|rows| sink.flush().map(|()| rows).map_err(Into::into));
    drop(sink);
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            if !to_stdout {
                let _ = std::fs::remove_file(&partial);
            }
            eprintln!("export failed: {e}");
            return ExitCode::from(1);
        }
    };
    if !to_stdout && let Err(e) = std::fs::rename(&partial, out) {
        eprintln!("cannot move {} to {}: {e}", partial.display(), out.display());
        return ExitCode::from(1);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    if let Err(e) = edu_sync::export::audit_export(&db, tenant.id, kind, rows, now).await {
        eprintln!("export written, but the audit event failed: {e}");
        return ExitCode::from(1);
    }
    let target = if to_stdout { "stdout".to_owned() } else { out.display().to_string() };
    eprintln!("exported {rows} {} of tenant {} to {target}", kind.as_str(), tenant.ms_tenant_id);
    ExitCode::SUCCESS
}

#[cfg(unix)]
fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_counts_tenants_and_shows_the_moving_stream() {
        let bar = progress_bar(4, ProgressDrawTarget::hidden());
        let cb = progress_callback(&bar);
        cb(Progress::Page { tenant: "0f3c9a2e-1111-2222-3333-444455556666", stream: "users", pages: 12, items: 2400 });
        cb(Progress::TenantDone { tenant: "t1", failed: false });
        cb(Progress::TenantDone { tenant: "t2", failed: true });
        assert_eq!((bar.position(), bar.length()), (2, Some(4)));
        assert_eq!(bar.prefix(), " (1 failed)");
        assert_eq!(bar.message(), " · 0f3c9a2e… users: page 12, 2400 items");
    }

    #[test]
    fn no_progress_line_when_stderr_is_not_a_terminal() {
        // Under nextest and in CI logs stderr is a pipe: hidden. On a terminal: drawn.
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        assert_eq!(progress_bar(3, ProgressDrawTarget::stderr_with_hz(10)).is_hidden(), !terminal);
    }
}
