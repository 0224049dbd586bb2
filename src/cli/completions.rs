//! `edupro completions SHELL` and `edupro man`.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::error::{ClientError, Result};

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// Prints the completion script for a shell.
pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut command = super::Cli::command();
    // Into memory first: `generate` panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "edupro", &mut script);
    Ok(crate::output::print_bytes(&script)?)
}

/// Prints the man page.
pub fn man() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut page)
        .map_err(|e| ClientError::Other(e.into()))?;
    Ok(crate::output::print_bytes(&page)?)
}
