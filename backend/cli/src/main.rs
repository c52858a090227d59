//! The `edugraph` binary: thin. It parses the command line, loads configuration and starts
//! the library's [`edu_api::Application`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use clap::{Parser, Subcommand};
use edu_api::config::{Config, LogFormat};

#[derive(Debug, Parser)]
#[command(name = "edugraph", version, about = "EduGraph: a school portal on Microsoft 365 Education")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API in production; configuration comes from EDUGRAPH_* environment variables.
    Serve,
    /// Run a zero-setup local demo: embedded SQLite and a local Microsoft emulator.
    Demo {
        /// Port for the web app.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port for the local Microsoft emulator (sign-in pages and Graph).
        #[arg(long, default_value_t = 8081)]
        emulator_port: u16,
        /// Where the demo keeps its database and key.
        #[arg(long, default_value = ".edugraph-demo")]
        data_dir: PathBuf,
    },
    /// Apply database migrations to EDUGRAPH_DATABASE_URL and exit.
    Migrate,
    /// Print the OpenAPI 3.1 document (the SPA's API client is generated from it).
    Openapi,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => serve().await,
        Command::Demo { port, emulator_port, data_dir } => demo(port, emulator_port, &data_dir).await,
        Command::Migrate => migrate().await,
        Command::Openapi => {
            use utoipa::OpenApi as _;
            edu_api::openapi::ApiDoc::openapi().to_pretty_json().map(|doc| println!("{doc}")).map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, naming what is wrong (a config error names its variable).
            eprintln!("edugraph: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let mut config = Config::from_env().context("configuration error")?;
    config.embedded_app = edu_api::config::EmbeddedApp(edu_webapp::FILES);
    edu_api::telemetry::init(config.log_format);
    let app = edu_api::Application::build(config).await?;
    tracing::info!(port = app.port(), "edugraph serving");
    app.run_until_stopped().await?;
    tracing::info!("edugraph stopped");
    Ok(())
}

async fn migrate() -> anyhow::Result<()> {
    let url = std::env::var("EDUGRAPH_DATABASE_URL").ok().filter(|s| !s.trim().is_empty()).context(
        "EDUGRAPH_DATABASE_URL: missing; expected mysql://user:pass@host:3306/db or sqlite://path/to/file.db",
    )?;
    let db = edu_db::Db::connect(&url, 1).await.context("Failed to connect to the database")?;
    db.migrate().await.context("Failed to apply migrations")?;
    db.close().await;
    println!("edugraph: migrations applied");
    Ok(())
}

/// Reads the demo's token key, creating it on first run, so tokens cached by an earlier
/// demo run stay readable.
fn demo_token_key(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("token.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        // A key written by an older demo with the default mode: readable by its owner only now.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("Failed to restrict {}", path.display()))?;
        }
        return Ok(existing.trim().to_owned());
    }
    let key: [u8; 32] = rand::random();
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    write_private(&path, &encoded).with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(encoded)
}

/// Writes a secret file readable by its owner only (0600), created so from the start.
#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(not(feature = "demo"))]
async fn demo(_port: u16, _emulator_port: u16, _data_dir: &Path) -> anyhow::Result<()> {
    anyhow::bail!("this build has no demo mode (built without the `demo` feature); use `edugraph serve`")
}

#[cfg(feature = "demo")]
async fn demo(port: u16, emulator_port: u16, data_dir: &Path) -> anyhow::Result<()> {
    use edu_ms_emulator::{EmulatorConfig, Seed};

    std::fs::create_dir_all(data_dir).with_context(|| format!("Failed to create {}", data_dir.display()))?;
    // A busy web-app port: say which flag changes it (the emulator's error names its own).
    drop(
        std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("port {port} is not available for the web app; choose another with --port"))?,
    );
    edu_api::telemetry::init(LogFormat::Pretty);
    let emulator = edu_ms_emulator::start(EmulatorConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], emulator_port)),
        seed: Seed::Demo,
        ..EmulatorConfig::default()
    })
    .await
    .with_context(|| format!("Failed to start the Microsoft emulator on port {emulator_port} (use --emulator-port)"))?;
    let directory = emulator.demo();
    let public_url = format!("http://localhost:{port}");
    for origin in [&public_url, &format!("http://127.0.0.1:{port}")] {
        emulator.add_redirect_uri(&directory.app_client_id, &format!("{origin}/auth/microsoft/callback"));
        emulator.add_redirect_uri(&directory.app_client_id, &format!("{origin}/auth/microsoft/consent/callback"));
    }

    let db_path = data_dir.join("edugraph.sqlite");
    let vars: HashMap<String, String> = [
        ("EDUGRAPH_DATABASE_URL", format!("sqlite://{}", db_path.display())),
        ("EDUGRAPH_BIND", format!("127.0.0.1:{port}")),
        // Metrics on a listener of their own (R-D8): any free loopback port, printed below.
        ("EDUGRAPH_METRICS_BIND", "127.0.0.1:0".to_owned()),
        ("EDUGRAPH_PUBLIC_URL", public_url.clone()),
        ("EDUGRAPH_ALLOWED_ORIGINS", format!("http://127.0.0.1:{port}")),
        ("EDUGRAPH_TOKEN_KEY", demo_token_key(data_dir)?),
        ("EDUGRAPH_MS_AUTHORITY", emulator.base_url()),
        ("EDUGRAPH_GRAPH_URL", emulator.graph_url()),
        ("EDUGRAPH_CLIENT_ID", directory.app_client_id.clone()),
        ("EDUGRAPH_CLIENT_SECRET", directory.app_client_secret.clone()),
        ("EDUGRAPH_LOG_FORMAT", "pretty".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    // A build on disk instead of the embedded one, as with `serve`.
    .chain(std::env::var("EDUGRAPH_STATIC_DIR").ok().map(|dir| ("EDUGRAPH_STATIC_DIR".to_owned(), dir)))
    .collect();
    let mut config = Config::from_map(&vars).context("demo configuration")?;
    // No SMTP server in the demo: account mail stays in memory, readable in the browser.
    config.demo_outbox = true;
    config.embedded_app = edu_api::config::EmbeddedApp(edu_webapp::FILES);
    let app = edu_api::Application::build(config).await?;
    // The district's admin consented at (emulated) Microsoft already: record it as onboarded,
    // so teachers and students can sign in right away. Fabrikam stays new, to show onboarding.
    let db = &app.state().db;
    for tenant in directory.tenants.iter().filter(|t| t.consented) {
        let id = edu_db::tenants::upsert_by_ms_id(db, &tenant.id, &tenant.display_name, 0).await?;
        edu_db::tenants::set_consented(db, id, "https://graph.microsoft.com/.default", None, 0).await?;
    }

    println!();
    println!("  EduGraph demo is running at {public_url}");
    println!("  API docs:            {public_url}/api/docs/");
    println!("  Microsoft emulator:  {} (admin API: {})", emulator.base_url(), emulator.admin_url());
    println!("  Data:                {}", data_dir.display());
    println!("  Mail outbox:         {public_url}/api/demo/outbox");
    if let Some(p) = app.metrics_port() {
        println!("  Metrics:             http://127.0.0.1:{p}/metrics");
    }
    println!();
    println!(
        "  Sign in with Microsoft: {public_url}/auth/microsoft/login   (new school: {public_url}/auth/microsoft/onboard)"
    );
    println!("  Demo Microsoft 365 accounts:");
    for tenant in &directory.tenants {
        let consent = if tenant.consented { "onboarded" } else { "not onboarded yet: its admin can onboard it" };
        println!("    {} ({}, {consent})", tenant.display_name, tenant.domain);
        let people =
            std::iter::once(&tenant.admin).chain(tenant.teachers.iter().take(2)).chain(tenant.students.iter().take(2));
        for person in people {
            println!("      {:<8} {:<40} password: {}", person.role, person.upn, person.password);
        }
    }
    println!();
    println!("  Stop with Ctrl+C.");
    println!();
    app.run_until_stopped().await?;
    emulator.stop().await;
    Ok(())
}
