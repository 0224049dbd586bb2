//! The `edupro` terminal client: a scriptable CLI and a TUI for the EduPro+ learning
//! platform.
//!
//! - [`cli`]: argument parsing, one module per noun, and dispatch.
//! - [`api`]: the typed HTTP client (envelope, errors, silent token refresh) and its
//!   endpoint layer: one method per endpoint, each path written once.
//! - [`credentials`]: tokens in the OS keyring or a 0600 file; `EDUPRO_TOKEN` for CI.
//! - [`output`]: table, plain, JSON and CSV rendering.
//! - [`config`]: server and named profiles.
//! - [`seed`]: deterministic demo data, through the API.
//! - [`tui`]: the terminal UI (`edupro tui`).

// Data goes through `output::print` (a closed pipe ends the command quietly) and
// messages through `output::eprint_line`: the std macros panic on a write error.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod api;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod error;
pub mod output;
pub mod seed;
pub mod tui;
pub mod when;
