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
    clap_complete::generate(args.shell, &mut command, "edupro", &mut std::io::stdout());
    Ok(())
}

/// Prints the man page.
pub fn man() -> Result<()> {
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut std::io::stdout())
        .map_err(|e| ClientError::Other(e.into()))
}
