//! `edugraph-sync`: see the library docs. Exit codes: 0 all tenants fine (or busy
//! elsewhere), 1 a tenant failed, 2 configuration error.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{Parser, Subcommand};
use edu_msgraph::{GraphClient, generate_self_signed_certificate};
use edu_sync::{Config, SyncDeps, parse_duration, run_tenants, tenants_to_sync};
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
    /// Certificate tools.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
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
    deps.force_full = full;
    let stop = Arc::clone(&deps.stop);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stop requested: finishing the current page");
        stop.store(true, Ordering::SeqCst);
    });
    loop {
        let failed = pass(&deps, &config, tenant.as_deref()).await;
        let Some(period) = every else {
            return if failed { ExitCode::from(1) } else { ExitCode::SUCCESS };
        };
        let deadline = tokio::time::Instant::now() + period;
        while tokio::time::Instant::now() < deadline {
            if deps.stop.load(Ordering::SeqCst) {
                return ExitCode::SUCCESS;
            }
            tokio::time::sleep(Duration::from_millis(250).min(deadline - tokio::time::Instant::now())).await;
        }
        if deps.stop.load(Ordering::SeqCst) {
            return ExitCode::SUCCESS;
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
    for (tenant, result) in run_tenants(deps, tenants, config.concurrency).await {
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
                failed = true;
                tracing::error!(tenant = %tenant.ms_tenant_id, error = %e, "tenant sync failed");
                println!("tenant={} status=failed error={:?}", tenant.ms_tenant_id, e.to_string());
            }
        }
    }
    failed
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
