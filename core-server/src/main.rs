//! `edupro-server`: the EduPro+ backend. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use edupro_server::platform::cli::ServerCli;

/// EduPro+ server: REST API under /api/v1, WebSocket hub, SQLite or PostgreSQL.
///
/// With no flags it keeps a SQLite database in the platform data dir and listens on
/// 127.0.0.1:5001. Every flag can also be set by its EDUPRO_* variable or in a TOML
/// file given with --config; flags win over variables, which win over the file.
#[derive(Parser)]
#[command(name = "edupro-server", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    inner: ServerCli,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => cli.inner.run(&runtime),
        Err(err) => {
            eprintln!("edupro-server: error: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}
