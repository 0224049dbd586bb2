//! `edupro leaderboard [COURSE]`: who earned the most XP in a course (or one of its
//! batches) or in the whole school, this week or all time; `--hide`/`--show` take the
//! caller off every board or put them back.

use clap::Args;
use edupro_server::api::{Leaderboard, LeaderboardEntry, LeaderboardPeriod, LeaderboardQuery};

use super::Context;
use super::keys;
use crate::error::Result;
use crate::output::Format;

pub const EXAMPLES: &str = "\
Examples:
  # The school's all-time leaderboard
  $ edupro leaderboard

  # A course's, this week (weeks start Monday 00:00 in --tz)
  $ edupro leaderboard intro-to-rust --week

  # One batch's top 5, as JSON
  $ edupro leaderboard intro-to-rust --batch \"Morning\" --limit 5 --json rank,xp

  # Leave every leaderboard (and come back with --show)
  $ edupro leaderboard --hide";

/// `edupro leaderboard`.
#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    /// A course's slug, SIS id or id; the school's leaderboard without one.
    pub course: Option<String>,
    /// This week's XP (from Monday 00:00 in your time zone) instead of all time.
    #[arg(long)]
    pub week: bool,
    /// One batch of the course, by name (or id).
    #[arg(long, requires = "course")]
    pub batch: Option<String>,
    /// How many places to list, 1–100.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub limit: u64,
    /// Hide yourself from every leaderboard.
    #[arg(long, conflicts_with_all = ["show", "course", "week", "batch"])]
    pub hide: bool,
    /// Appear on leaderboards again.
    #[arg(long, conflicts_with_all = ["hide", "course", "week", "batch"])]
    pub show: bool,
}

const HEADERS: [&str; 3] = ["RANK", "STUDENT", "XP"];

fn row(e: &LeaderboardEntry) -> Vec<String> {
    let name = format!("{} {}", e.student.first_name, e.student.last_name);
    vec![
        e.rank.to_string(),
        if e.me { format!("{name} (you)") } else { name },
        e.xp.to_string(),
    ]
}

/// Runs `edupro leaderboard`.
pub async fn run(ctx: &Context, args: LeaderboardArgs) -> Result<()> {
    let client = ctx.client()?;
    if args.hide || args.show {
        client.set_leaderboard_hidden(args.hide).await?;
        ctx.out.note(if args.hide {
            "You are hidden from every leaderboard; `edupro leaderboard --show` puts you back."
        } else {
            "You appear on leaderboards again."
        });
        return Ok(());
    }
    let batch = match (&args.course, &args.batch) {
        (Some(course), Some(batch)) => Some(keys::batch_in(&client, course, batch).await?),
        _ => None,
    };
    let query = LeaderboardQuery {
        period: Some(if args.week {
            LeaderboardPeriod::Week
        } else {
            LeaderboardPeriod::All
        }),
        batch,
        limit: Some(args.limit),
    };
    let board: Leaderboard = client.leaderboard(args.course.as_deref(), &query).await?;
    if matches!(ctx.out.format, Format::Table | Format::Plain) {
        let since = match board.since {
            Some(at) => format!(" since {}", ctx.zone.format_with_zone(at)),
            None => String::new(),
        };
        ctx.out.note(&format!("{} leaderboard{since}", board.scope));
    }
    crate::output::print(ctx.out.list(&board.entries, &HEADERS, row)?)?;
    if matches!(ctx.out.format, Format::Table | Format::Plain) {
        match (&board.me, board.hidden) {
            (_, true) => ctx
                .out
                .note("You are hidden from leaderboards (`edupro leaderboard --show`)."),
            (Some(me), false) if !board.entries.iter().any(|e| e.me) => ctx
                .out
                .note(&format!("You: rank {} with {} XP", me.rank, me.xp)),
            _ => {}
        }
    }
    if board.entries.is_empty() && matches!(ctx.out.format, Format::Table | Format::Plain) {
        ctx.out.note("Nobody has earned XP here yet.");
    }
    Ok(())
}
