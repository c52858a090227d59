//! Building and running the application. The binary only loads configuration and calls
//! [`Application::build`]; tests build it on port 0 the same way.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi as _;

use crate::auth::csrf::csrf_protect;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode, json_error, path_error, query_error};
use crate::middleware::{record_metrics, security_headers};
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::telemetry::EduRootSpan;

/// How long a request waits for a database connection: while the database is down, requests
/// fail after this long with 503 `database_unavailable` (issue 18 §5: within 2 s, not 10 s).
const DB_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// A built application, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on its own listener (R-D8), with its port.
    metrics: Option<(u16, Server)>,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects to the database, applies migrations, binds the listener.
    ///
    /// # Errors
    /// The database is unreachable, a migration fails, or the address cannot be bound.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with an injected clock (tests move time).
    ///
    /// # Errors
    /// As [`Application::build`].
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let db = edu_db::Db::connect_with_timeout(
            config.database_url.expose_secret(),
            config.database_max_connections,
            DB_ACQUIRE_TIMEOUT,
        )
        .await
        .context("Failed to connect to the database (EDUGRAPH_DATABASE_URL)")?;
        db.migrate().await.context("Failed to apply database migrations")?;
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("Failed to bind {} (EDUGRAPH_BIND)", config.bind))?;
        let port = listener.local_addr()?.port();
        let workers = config.workers.max(1);
        let state = web::Data::new(AppState::new(db, config, clock)?);
        let metrics = match state.config.metrics_bind {
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .with_context(|| format!("Failed to bind {addr} (EDUGRAPH_METRICS_BIND)"))?;
                Some((l.local_addr()?.port(), serve_metrics(l, state.clone())?))
            }
            None => None,
        };
        let server = serve(listener, state.clone(), workers)?;
        spawn_session_purge(state.clone());
        spawn_oidc_purge(state.clone());
        Ok(Self { port, server, metrics, state })
    }

    /// The bound port (useful with port 0).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener (`EDUGRAPH_METRICS_BIND`), unless it is off.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(p, _)| *p)
    }

    /// A handle to stop the server gracefully.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (tests inspect the database through it).
    #[must_use]
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Runs until the server stops. On SIGTERM/SIGINT: `/readyz` answers 503 `shutting_down`
    /// for `EDUGRAPH_SHUTDOWN_DELAY_SECS` while requests are still served (load balancers that
    /// poll readiness stop routing here), then the listener closes and in-flight requests get up
    /// to `EDUGRAPH_SHUTDOWN_TIMEOUT_SECS` to finish.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let metrics = self.metrics.map(|(_, server)| {
            let h = server.handle();
            tokio::spawn(server);
            h
        });
        let state = self.state.clone();
        let stopper = tokio::spawn(async move {
            wait_for_stop_signal().await;
            state.start_draining();
            let delay = state.config.shutdown_delay;
            tracing::info!(delay_secs = delay.as_secs(), "stop signal received: readiness now 503, draining");
            tokio::time::sleep(delay).await;
            handle.stop(true).await;
        });
        let result = self.server.await;
        stopper.abort();
        if let Some(m) = metrics {
            m.stop(true).await;
        }
        result
    }
}

fn serve(listener: TcpListener, state: web::Data<AppState>, workers: usize) -> anyhow::Result<Server> {
    let json_limit = state.config.max_json_bytes;
    let docs = state.config.api_docs;
    let demo_outbox = state.config.demo_outbox;
    let shutdown_secs = state.config.shutdown_timeout.as_secs();
    let server = HttpServer::new(move || {
        let app = App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .content_type_required(true)
                    .error_handler(move |e, _| json_error(e, json_limit).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
            .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()))
            .wrap(from_fn(csrf_protect))
            .wrap(from_fn(crate::middleware::drop_empty_query_params))
            .wrap(from_fn(record_metrics))
            .wrap(from_fn(security_headers))
            .wrap(TracingLogger::<EduRootSpan>::new())
            .configure(crate::routes::config)
            .route("/api/openapi.json", web::get().to(openapi_json));
        let app = if docs {
            app.route("/api/docs", web::get().to(docs_redirect)).service(
                utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
            )
        } else {
            app
        };
        let app =
            if demo_outbox { app.route("/api/demo/outbox", web::get().to(crate::mail::outbox_page)) } else { app };
        app.configure(crate::spa::config).default_service(web::to(not_found))
    })
    .workers(workers)
    // Signals are handled by `Application::run_until_stopped` (readiness flips before the listener closes).
    .disable_signals()
    .shutdown_timeout(shutdown_secs)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The metrics listener: `/metrics` only (anything else 404), one worker.
fn serve_metrics(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).service(crate::routes::health::metrics).default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::Found().insert_header(("Location", "/api/docs/")).finish()
}

/// Nothing else matched: 405 `method_not_allowed` with `Allow` when the path is one of the
/// API's (as the OpenAPI document lists them) with other methods, else the JSON 404.
async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    if let Some(allowed) = crate::openapi::allowed_methods(req.path())
        && !allowed.iter().any(|m| *m == req.method().as_str())
    {
        let allow = allowed.join(", ");
        let body = crate::error::ErrorBody {
            error: crate::error::ErrorDetail {
                code: ErrorCode::MethodNotAllowed,
                message: format!("This address does not accept {}; it accepts {allow}.", req.method()),
                graph: None,
                continue_url: None,
            },
        };
        return HttpResponse::MethodNotAllowed().insert_header((actix_web::http::header::ALLOW, allow)).json(body);
    }
    ApiError::not_found(ErrorCode::NotFound, "There is nothing at this address.").error_response()
}

/// Resolves on SIGTERM or SIGINT (Ctrl+C).
async fn wait_for_stop_signal() {
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
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling available: never resolve (the server is stopped through its handle).
        std::future::pending::<()>().await;
    }
}

/// Deletes expired sessions every ten minutes, so the table does not grow without bound.
fn spawn_session_purge(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let idle_ms = i64::try_from(state.config.session.idle_timeout.as_millis()).unwrap_or(i64::MAX);
            match edu_db::sessions::purge_expired(&state.db, state.clock.now_ms(), idle_ms).await {
                Ok(n) if n > 0 => tracing::info!(sessions.purged = n, "expired sessions purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed; will retry"),
            }
        }
    });
}

/// How long a pending sign-in (its nonce and PKCE verifier) is kept: 10 minutes after it was
/// created, whether or not it was used.
pub const OIDC_TRANSACTION_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// Deletes the OIDC transactions created 10 minutes ago or earlier (and expired ones);
/// the number deleted. Run every minute by the server.
///
/// # Errors
/// Database errors.
pub async fn purge_oidc_transactions(state: &AppState) -> Result<u64, edu_db::DbError> {
    let now = state.clock.now_ms();
    edu_db::oidc::purge_expired(&state.db, now, now - OIDC_TRANSACTION_LIFETIME_MS).await
}

fn spawn_oidc_purge(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match purge_oidc_transactions(&state).await {
                Ok(n) if n > 0 => tracing::info!(oidc.purged = n, "old sign-in transactions purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sign-in transaction purge failed; will retry"),
            }
        }
    });
}
