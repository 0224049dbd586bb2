//! `edupro server`: the real server, embedded in the client binary.

use std::process::ExitCode;

use clap::Args;
use edupro_server::platform::cli::ServerCli;

/// Flags and commands of `edupro server`: exactly those of `edupro-server`.
#[derive(Debug, Args)]
pub struct ServerCommand {
    #[command(flatten)]
    pub inner: ServerCli,
}

/// Serves until SIGTERM or Ctrl-C (or runs `create-admin`).
pub fn run(args: ServerCommand) -> ExitCode {
    match runtime() {
        Ok(runtime) => args.inner.run(&runtime),
        Err(err) => {
            crate::output::eprint_line(&format!(
                "edupro: error: cannot start the async runtime: {err}"
            ));
            ExitCode::FAILURE
        }
    }
}

/// A multi-threaded Tokio runtime for the embedded server.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
