//! Building and running the server: connect, migrate, bind, serve until a signal.

use std::net::{SocketAddr, TcpListener};

use actix_cors::Cors;
use actix_service::{IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::Extensions;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{self, Compress, DefaultHeaders, ErrorHandlers};
use actix_web::{App, web};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::extract::{BodyLimit, path_config};
use crate::http::head_guard::GuardedStream;
use crate::http::middleware::{json_error_envelope, not_found, request_context};
use crate::http::openapi::ApiDoc;
use crate::http::routes;
use crate::platform::config::{Environment, Settings};
use crate::platform::state::AppState;
use crate::store::migration::Migrator;

/// How long shutdown waits for the database connections to come back.
const POOL_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How much later than the head guard's deadline actix's own head timeout fires.
const HEAD_TIMEOUT_BACKSTOP: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the OpenAPI document is served.
const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// A server bound to its port, ready to run. Tests build one on port 0.
pub struct Application {
    local_addr: SocketAddr,
    server: Server,
    db: DatabaseConnection,
    state: AppState,
}

impl Application {
    /// Connects to the database, runs pending migrations and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::platform::metrics::handle();
        let db = crate::store::db::connect(&settings.database, settings.db_max_connections).await?;
        Migrator::up(&db, None)
            .await
            .context("running database migrations")?;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("bind: cannot listen on {}", settings.bind))?;
        let local_addr = listener.local_addr()?;
        let state = AppState::new(db.clone(), settings)?;
        if state.mailer.is_outbox() && state.settings.environment == Environment::Production {
            tracing::warn!("EDUPRO_SMTP_URL is not set: mail is kept in the outbox, not delivered");
        }
        crate::service::auth::password::warm_up();
        state.realtime.start(&state.background)?;
        crate::service::notifications::consumer::start(&state).await?;
        let leader = crate::store::leader::start(
            &state.settings.database,
            state.settings.leader_interval,
            state.leadership.clone(),
        )
        .await;
        state.background.spawn(leader);
        state
            .background
            .spawn(crate::service::live_classes::reminders::run(state.clone()));
        crate::service::assessments::spawn_sweeper(
            &state.background,
            db.clone(),
            state.leadership.clone(),
        );
        crate::service::imports::lease::start(&state).await?;
        crate::service::outbox::start_drainer(&state).await?;
        crate::service::payments::start_expiry_sweep(&state);
        state
            .background
            .spawn(crate::service::webhooks::consumer::run(state.clone()));
        crate::service::webhooks::drainer::start(&state);
        state
            .background
            .spawn(crate::service::analytics::consumer::run(state.clone()));
        state
            .background
            .spawn(crate::service::analytics::rollup::run(state.clone()));
        let server = serve(listener, state.clone())?;
        tracing::info!(
            address = %local_addr,
            database = %state.settings.database.describe(),
            "EduPro+ server listening on http://{local_addr}"
        );
        Ok(Self {
            local_addr,
            server,
            db,
            state,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The state the handlers share (database, keys, mailer); for tests and tools.
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until SIGTERM or SIGINT, lets in-flight requests finish, then closes the pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let hub = self.state.realtime.hub.clone();
        let signals = tokio::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!("{signal} received; finishing in-flight requests, then stopping");
            // WebSockets never finish by themselves: close them (1012, reconnect).
            hub.close_all("server restarting").await;
            handle.stop(true).await;
        });
        let served = self.server.await;
        signals.abort();
        served.context("HTTP server failed")?;
        // The pool's close waits for every connection, and the listener holds one.
        self.state.background.stop();
        // A delivery the stop cut short is given back rather than left to its lease.
        if let Err(error) = crate::service::outbox::release(&self.state).await {
            tracing::warn!(%error, "could not give back the mail this server was delivering");
        }
        if let Err(error) = crate::service::webhooks::drainer::release(&self.state).await {
            tracing::warn!(%error, "could not give back the webhooks this server was sending");
        }
        match tokio::time::timeout(POOL_CLOSE_TIMEOUT, self.db.close()).await {
            Ok(closed) => closed.context("closing the database pool")?,
            Err(_) => tracing::warn!(
                seconds = POOL_CLOSE_TIMEOUT.as_secs(),
                "database connections still busy at shutdown; stopping without them"
            ),
        }
        tracing::info!("EduPro+ server stopped");
        Ok(())
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C); both stop the server gracefully.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let data = web::Data::new(state);
    let shutdown_timeout = settings.shutdown_timeout.as_secs();
    let workers = settings.workers;
    let connections = crate::http::connection_limit::ConnectionCounts::default();
    let per_ip = settings.connections_per_ip;
    // The document is collected once; workers serve the viewer before the API scope,
    // which would otherwise claim every path under /api/v1.
    let (_, openapi) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(api_routes)
        .split_for_parts();
    let openapi = crate::http::openapi::complete(openapi);
    let route_table = web::Data::new(crate::http::openapi::route_table(&openapi));
    // Serialised once: a few hundred KiB that anyone may ask for, which the viewer's own
    // route would serialise again per request (tens of milliseconds in a debug build;
    // 500 such requests at once kept every worker busy for seconds).
    let document =
        web::Bytes::from(serde_json::to_vec(&openapi).context("serialising the OpenAPI document")?);
    let head_timeout = settings.head_timeout;
    let app = move || {
        let document = document.clone();
        App::new()
            .service(
                web::resource(OPENAPI_PATH)
                    .guard(actix_web::guard::Get())
                    .to(move || {
                        let document = document.clone();
                        async move {
                            actix_web::HttpResponse::Ok()
                                .content_type(actix_web::http::header::ContentType::json())
                                .body(document)
                        }
                    }),
            )
            .service(
                SwaggerUi::new("/api/v1/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new([OPENAPI_PATH])),
            )
            .service(web::redirect("/api/v1/docs", "/api/v1/docs/"))
            .into_utoipa_app()
            .app_data(data.clone())
            .app_data(route_table.clone())
            .app_data(BodyLimit(settings.body_limit))
            .app_data(crate::http::body_deadline::BodyTimeout(
                settings.body_timeout,
            ))
            .app_data(web::PayloadConfig::new(settings.body_limit))
            .app_data(path_config())
            .configure(api_routes)
            .into_app()
            .default_service(web::to(not_found))
            .wrap(ErrorHandlers::new().default_handler(json_error_envelope))
            .wrap(middleware::from_fn(crate::http::idempotency::idempotency))
            .wrap(middleware::from_fn(crate::http::middleware::method_guard))
            .wrap(middleware::from_fn(
                crate::http::body_deadline::body_deadline,
            ))
            .wrap(
                DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::REFERRER_POLICY, "no-referrer")),
            )
            .wrap(Compress::default())
            .wrap(cors(&settings.cors_origins))
            .wrap(middleware::from_fn(request_context))
            .wrap(middleware::from_fn(
                crate::http::connection_limit::connection_limit,
            ))
    };
    // actix-web's `HttpServer`, assembled from its parts so that every connection's
    // request heads pass through the guard first (see `http::head_guard`).
    let local_addr = listener.local_addr()?;
    let mut builder = actix_web::dev::Server::build()
        .shutdown_timeout(shutdown_timeout)
        .disable_signals();
    if let Some(n) = workers {
        builder = builder.workers(n);
    }
    let shutdown = builder.graceful_shutdown_signal();
    let builder = builder.listen("edupro-server", listener, move || {
        let connections = connections.clone();
        let shutdown = shutdown.clone();
        let service = actix_service::map_config(
            app()
                .into_factory()
                .map_err(|err: actix_web::Error| err.error_response()),
            |_| actix_web::dev::AppConfig::default(),
        );
        let http = actix_http::HttpService::build()
            // The guard's deadline comes first; actix's stays as a backstop.
            .client_request_timeout(head_timeout + HEAD_TIMEOUT_BACKSTOP)
            .local_addr(local_addr)
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .on_connect_ext(move |io: &GuardedStream, data: &mut Extensions| {
                connections.on_connect(io.peer_addr(), data, per_ip)
            })
            .h1(service);
        actix_service::fn_service(move |io: actix_web::rt::net::TcpStream| {
            let guarded = GuardedStream::new(io, head_timeout);
            let peer = guarded.peer_addr();
            std::future::ready(Ok::<_, actix_http::error::DispatchError>((guarded, peer)))
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}

/// Every documented route: operations at the root, the API under /api/v1.
fn api_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::health::health)
        .service(routes::health::ready)
        .service(routes::metrics::metrics)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(routes::auth::routes)
                .configure(routes::users::routes)
                .configure(routes::courses::routes)
                .configure(routes::categories::routes)
                .configure(routes::sections::routes)
                .configure(routes::lessons::routes)
                .configure(routes::reviews::routes)
                .configure(routes::doubts::routes)
                .configure(routes::leaderboards::routes)
                .configure(routes::enrollments::routes)
                .configure(routes::batches::routes)
                .configure(routes::imports::routes)
                .configure(routes::admin::routes)
                .configure(routes::notifications::routes)
                .configure(routes::announcements::routes)
                .configure(routes::ws::routes)
                .configure(routes::live_classes::routes)
                .configure(routes::assessments::routes)
                .configure(routes::attempts::routes)
                .configure(routes::grading::routes)
                .configure(routes::webhooks::routes)
                .configure(routes::payments::routes)
                .configure(routes::activity::routes)
                .configure(routes::dashboard::routes)
                .configure(routes::analytics::routes),
        );
}

/// CORS for the configured origins only; with none configured, cross-origin browsers
/// are refused (the CLI and TUI don't need CORS).
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
            crate::http::middleware::REQUEST_ID,
        ])
        .expose_headers([
            crate::http::middleware::REQUEST_ID,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
            header::HeaderName::from_static("x-ratelimit-reset"),
        ])
        .max_age(3600)
}
