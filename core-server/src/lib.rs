//! EduPro+ core server.
//!
//! - [`api`]: wire types shared with the `edupro` client (always built).
//! - Behind the default `server` feature: [`config`] (flags, env, TOML), [`db`] and
//!   [`migration`] (SeaORM on SQLite or PostgreSQL), [`routes`] (one file per resource),
//!   [`error`] (the error envelope), [`startup`] (build and run the server).

pub mod api;

#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod extract;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod middleware;
#[cfg(feature = "server")]
pub mod migration;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
pub mod routes;
#[cfg(feature = "server")]
pub mod startup;
#[cfg(feature = "server")]
pub mod state;
#[cfg(feature = "server")]
pub mod telemetry;

#[cfg(feature = "server")]
pub use startup::Application;

/// Resolves settings, installs logging, then serves until SIGTERM/SIGINT. Shared by
/// `edupro-server` and the client's embedded `edupro server`.
#[cfg(feature = "server")]
pub async fn run(args: &config::ServerArgs) -> anyhow::Result<()> {
    let settings = args.resolve()?;
    telemetry::init(settings.log_format, &settings.log_level)?;
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await
}
