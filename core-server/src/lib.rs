//! EduPro+ core server, in layers (arrows point down only; see `docs/ARCHITECTURE.md`):
//!
//! - [`api`]: wire types shared with the `edupro` client (always built; serde only).
//! - Behind the default `server` feature:
//!   - [`http`]: routes, extractors, middleware, the OpenAPI document. A handler
//!     authorizes, parses, calls one service function and wraps the answer.
//!   - [`service`]: the domain's capabilities (accounts, catalogue, enrollments, live
//!     classes, assessments, imports, notifications…); owns transactions and queries.
//!   - [`realtime`]: the WebSocket transport: hub, rooms, fan-out between instances.
//!   - [`store`]: SeaORM entities, migrations, connections.
//!   - [`domain`]: parse-don't-validate newtypes; [`error`]: the one error type.
//!   - [`platform`]: settings, telemetry, metrics, mail, application state and startup.

pub mod api;

/// mimalloc for everything that links the server (its binary, the client's embedded
/// server, tests and benches): glibc's allocator spent a third of a bulk import's CPU
/// consolidating freed chunks. On Linux it takes SQLite's allocations too (see
/// `docs/ARCHITECTURE.md`, "Allocator").
#[cfg(feature = "server")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "server")]
pub mod domain;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod platform;
#[cfg(feature = "server")]
pub mod realtime;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod store;

#[cfg(feature = "server")]
pub use platform::startup::Application;
