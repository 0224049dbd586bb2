//! `edupro seed demo`: deterministic demo data, idempotent.

use clap::{Args, Subcommand};

use super::Context;
use crate::error::Result;
use crate::seed;

const CI_RECIPE: &str = "\
Examples:
  # Signed in as an admin
  $ edupro seed demo

  # Another deterministic variant, the report as JSON
  $ edupro seed demo --seed 2 --json

In CI, with no 2FA step (the token file is written once, mode 0600):
  echo \"$ADMIN_PASSWORD\" | edupro-server create-admin --email ci@school.example \\
      --password-stdin --token-out ci-token
  EDUPRO_TOKEN=$(cat ci-token) edupro seed demo

With an admin signed in, a token for CI to keep:
  edupro auth tokens create --name ci --scope read,write,admin";

/// `edupro seed …`.
#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// The demo school: teachers, students and parents linked to children (all with
    /// the password printed at the end), then the demo teacher's courses with sections,
    /// lessons, enrolled students, progress and a batch, a test with attempts waiting
    /// for marks, upcoming live classes, and a sale: Rust for Beginners at INR 499.00,
    /// bought by student7 with the coupon WELCOME20 (20 % off) through the server's test
    /// gateway, and five weeks of the students' learning history (two drifting off) for
    /// the dashboards. Needs an admin: signed in with `edupro login`, or a token with the
    /// `admin` scope in EDUPRO_TOKEN. Safe to re-run: what exists is left as it is.
    #[command(after_help = CI_RECIPE)]
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
    let (report, _teacher) = seed::seed_demo_school(&client, args.seed).await?;
    let plan = seed::plan(args.seed);
    crate::output::print(ctx.out.record(
        &report,
        &[
            ("created", report.created.to_string()),
            ("unchanged", report.unchanged.to_string()),
        ],
    )?)?;
    ctx.out.note(&format!(
        "Demo accounts: {} … {} (password {}); the courses, test and classes are {}'s",
        plan.users.first().map_or("", |u| u.email.as_str()),
        plan.users.last().map_or("", |u| u.email.as_str()),
        seed::DEMO_PASSWORD,
        seed::demo_teacher(),
    ));
    Ok(())
}
