//! Command-line interface: the top-level parser and dispatch to one module per command.

#[cfg(feature = "embedded-server")]
pub mod demo;
#[cfg(feature = "embedded-server")]
pub mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// EduPro+ from the terminal: manage courses, live classes, tests and users.
#[derive(Debug, Parser)]
#[command(name = "edupro", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Every `edupro` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run EduPro+ in one command: an embedded server on SQLite, ready to explore.
    #[cfg(feature = "embedded-server")]
    Demo(demo::DemoArgs),
    /// Run the EduPro+ server in this process (the same flags as `edupro-server`).
    #[cfg(feature = "embedded-server")]
    Server(Box<server::ServerCommand>),
}

/// Runs a parsed command and turns its outcome into the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        #[cfg(feature = "embedded-server")]
        Command::Demo(args) => demo::run(args),
        #[cfg(feature = "embedded-server")]
        Command::Server(args) => return server::run(*args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("edupro: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
