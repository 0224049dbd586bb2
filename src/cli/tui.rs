//! `edupro tui`: the full-screen terminal UI. Signs in with the stored credentials, or
//! shows a login screen (with the two-factor step) when there are none.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::Context;
use crate::error::{ClientError, Result};

/// Options of `edupro tui`.
#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Write the milliseconds from launch to the first full frame to FILE (figures).
    #[arg(long, value_name = "FILE", hide = true)]
    pub first_frame_report: Option<PathBuf>,
}

/// Runs the TUI until the user quits.
pub async fn run(ctx: &Context, args: TuiArgs) -> Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(ClientError::Usage(
            "`edupro tui` needs a terminal; for scripts, use the other commands".into(),
        ));
    }
    crate::tui::run(
        ctx.target.clone(),
        crate::tui::Options {
            no_color: !ctx.out.color,
            zone: ctx.zone,
            first_frame_report: args.first_frame_report,
        },
    )
    .await
    .map_err(ClientError::Other)
}
