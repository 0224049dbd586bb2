//! `edupro demo`: the whole product in one command, on an embedded SQLite server.

use std::path::PathBuf;

use clap::Args;
use edupro_server::config::{LogFormat, ServerArgs};

/// Options of `edupro demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's database here (reused on the next run) [default: a fresh temp dir,
    /// removed on exit].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Port to serve on; 0 picks a free one.
    #[arg(long, default_value_t = 5001)]
    pub port: u16,

    /// Only serve; don't open the terminal UI.
    #[arg(long)]
    pub headless: bool,
}

/// Starts the embedded server, prints where to reach it, and serves until Ctrl-C.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp;
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new().prefix("edupro-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let server = ServerArgs {
        data_dir: Some(data_dir.clone()),
        bind: Some(std::net::SocketAddr::from(([127, 0, 0, 1], args.port))),
        log_format: Some(LogFormat::Text),
        log_level: Some("warn".to_owned()),
        ..ServerArgs::default()
    };
    super::server::runtime()?.block_on(async move {
        let settings = server.resolve()?;
        edupro_server::telemetry::init(settings.log_format, &settings.log_level)?;
        let app = edupro_server::Application::build(settings).await?;
        let url = format!("http://{}", app.local_addr());
        println!("EduPro+ demo server running on {url}");
        println!("  data:     {}", data_dir.display());
        println!("  health:   {url}/health");
        println!("  API docs: {url}/api/v1/docs/");
        if !args.headless {
            println!("The terminal UI is not built yet; serving only.");
        }
        println!("Press Ctrl-C to stop.");
        app.run_until_stopped().await
    })
}
