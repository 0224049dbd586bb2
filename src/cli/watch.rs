//! `edupro watch`: prints notifications as they arrive, one per line (NDJSON with
//! `--json`), reconnecting with `since` when the connection drops, so nothing is
//! missed and nothing is printed twice. Runs until Ctrl-C.

use clap::Args;
use edupro_server::api::Notification;

use super::Context;
use crate::api::ws::{NotificationWatcher, WatchEvent};
use crate::error::Result;
use crate::output::Format;

/// `edupro watch --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  # New notifications, one a line, until Ctrl-C
  $ edupro watch

  # As NDJSON (one JSON object a line), with everything after notification 120
  $ edupro watch --json --since 120

  # Only the titles
  $ edupro watch --jq .title";

/// Options of `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// First print every notification after this id (default: only new ones).
    #[arg(long, value_name = "ID")]
    pub since: Option<i64>,
}

/// One notification as a line: `ID  TYPE  TITLE: MESSAGE`, or compact JSON.
pub fn line(n: &Notification, json: bool, zone: crate::when::Zone) -> anyhow::Result<String> {
    if json {
        return Ok(serde_json::to_string(n)?);
    }
    let when = zone.local(n.created_at).format("%Y-%m-%d %H:%M:%S");
    Ok(format!(
        "{}\t{when}\t{}\t{}: {}",
        n.id, n.kind, n.title, n.message
    ))
}

/// Runs `edupro watch`.
pub async fn run(ctx: &Context, args: WatchArgs) -> Result<()> {
    let client = ctx.client()?;
    let mut watcher = NotificationWatcher::new(&client, args.since);
    let json = ctx.out.format == Format::Json;
    loop {
        let event = tokio::select! {
            event = watcher.next() => event?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        match event {
            WatchEvent::Connected { since } => {
                ctx.out.note(&format!(
                    "watching {} (after notification {since})",
                    client.server
                ));
            }
            WatchEvent::Notification(n) => {
                let text = if json {
                    // One object a line; `--json FIELDS` and `--jq` apply to each.
                    ctx.out.json_line(&n)?
                } else {
                    format!("{}\n", line(&n, false, ctx.zone)?)
                };
                crate::output::print(text)?;
            }
            WatchEvent::Disconnected { reason, retry_in } => {
                ctx.out.note(&format!(
                    "connection lost ({reason}); reconnecting in {:.1} s",
                    retry_in.as_secs_f64()
                ));
            }
        }
    }
}
