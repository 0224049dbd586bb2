//! `edupro`: the EduPro+ command-line client. Everything testable lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = edupro::cli::Cli::parse();
    edupro::cli::run(cli)
}
