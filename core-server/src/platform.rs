//! The platform under everything: settings, telemetry, metrics, mail, the application
//! state every service receives, and startup (the one place that builds the HTTP app).

pub mod background;
pub mod cli;
pub mod config;
pub mod gateway;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod startup;
pub mod state;
pub mod telemetry;
