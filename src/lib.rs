//! The `edupro` terminal client: a scriptable CLI (and, later, a TUI) for the EduPro+
//! learning platform.
//!
//! - [`cli`]: argument parsing, one module per command, and dispatch.

pub mod cli;
