//! `edupro server`: the real server, embedded in the client binary.

use clap::Args;
use edupro_server::config::ServerArgs;

/// Flags of `edupro server`: exactly those of `edupro-server`.
#[derive(Debug, Args)]
pub struct ServerCommand {
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Serves until SIGTERM or Ctrl-C.
pub fn run(args: ServerCommand) -> anyhow::Result<()> {
    runtime()?.block_on(edupro_server::run(&args.server))
}

/// A multi-threaded Tokio runtime for the embedded server.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
