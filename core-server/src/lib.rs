//! EduPro+ core server.
//!
//! - [`api`]: wire types shared with the `edupro` client (always built).
//! - Behind the default `server` feature: [`config`] (flags, env, TOML), [`db`] and
//!   [`migration`] (SeaORM on SQLite or PostgreSQL), [`routes`] (one file per resource),
//!   [`error`] (the error envelope), [`startup`] (build and run the server).

pub mod api;

/// mimalloc for everything that links the server (its binary, the client's embedded
/// server, tests and benches): glibc's allocator spent a third of a bulk import's CPU
/// consolidating freed chunks. On Linux it takes SQLite's allocations too (see
/// `docs/ARCHITECTURE.md`, "Allocator").
#[cfg(feature = "server")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "server")]
pub mod accounts;
#[cfg(feature = "server")]
pub mod assessments;
#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod auth;

#[cfg(feature = "server")]
pub mod catalogue;
#[cfg(feature = "server")]
pub mod cli;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod domain;
#[cfg(feature = "server")]
pub mod entity;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod events;
#[cfg(feature = "server")]
pub mod extract;
#[cfg(feature = "server")]
pub mod grading;
#[cfg(feature = "server")]
pub mod idempotency;
#[cfg(feature = "server")]
pub mod imports;
#[cfg(feature = "server")]
pub mod live_classes;
#[cfg(feature = "server")]
pub mod mail;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod middleware;
#[cfg(feature = "server")]
pub mod migration;
#[cfg(feature = "server")]
pub mod notifications;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
pub mod realtime;
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
