//! `edupro seed demo`: deterministic demo data, idempotent.

use clap::{Args, Subcommand};

use super::Context;
use crate::error::Result;
use crate::seed;

/// `edupro seed …`.
#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Demo accounts (teachers, students, parents linked to children), all with the
    /// password printed at the end. Needs an admin login or token. Safe to re-run.
    Demo(DemoSeedArgs),
}

/// Options of `seed demo`.
#[derive(Debug, Args)]
pub struct DemoSeedArgs {
    /// Which deterministic variant of the demo to make.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs `edupro seed …`.
pub async fn run(ctx: &Context, command: SeedCommand) -> Result<()> {
    let SeedCommand::Demo(args) = command;
    let client = ctx.client()?;
    let report = seed::seed_demo(&client, args.seed).await?;
    let plan = seed::plan(args.seed);
    print!(
        "{}",
        ctx.out.record(
            &report,
            &[
                ("created", report.created.to_string()),
                ("unchanged", report.unchanged.to_string()),
            ],
        )?
    );
    ctx.out.note(&format!(
        "Demo accounts: {} … {} (password {})",
        plan.users.first().map_or("", |u| u.email.as_str()),
        plan.users.last().map_or("", |u| u.email.as_str()),
        seed::DEMO_PASSWORD
    ));
    Ok(())
}
