//! `edupro live list|schedule|reschedule|cancel|start|end|attendance|ics`: live classes
//! from the terminal.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use edupro_server::api::{
    DayOfWeek, LiveClass, LiveClassCreated, LiveClassFilter, LivePlatform, NewLiveClass,
    Pagination, ScopeQuery, SeriesScope, UpdateLiveClass, WeeklyRecurrence,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Context, keys};
use crate::api::{self, ApiClient};
use crate::error::{ClientError, Result};
use crate::when::Zone;

const SCHEDULE_EXAMPLES: &str = "\
Examples:
  # One class of 90 minutes, at 10:00 in your time zone (--tz)
  $ edupro live schedule --course rust-101 --title \"Office hours\" \\
      --at \"2027-01-04 10:00\" --duration 90

  # Weekly on Monday and Wednesday, ten times, keeping 10:00 in Kolkata
  $ edupro --tz Asia/Kolkata live schedule --course rust-101 --title \"Rust lab\" \\
      --at \"2027-01-04 10:00\" --days MON,WED --count 10

  # For one batch, on Zoom, reminding students 15 minutes before
  $ edupro live schedule --course rust-101 --batch Morning --title Review \\
      --at 2027-01-08T12:00:00Z --platform ZOOM \\
      --meeting-url https://zoom.us/j/123 --reminder-minutes 15";

/// `edupro live …`.
#[derive(Debug, Subcommand)]
pub enum LiveCommand {
    /// List the live classes you may see, earliest first.
    List(ListArgs),
    /// Schedule a class (or a weekly series with --days and --count/--until).
    #[command(after_help = SCHEDULE_EXAMPLES)]
    Schedule(ScheduleArgs),
    /// Move a class to another time (with --scope, later or all occurrences too).
    Reschedule(RescheduleArgs),
    /// Cancel a class (with --scope, later or all occurrences too).
    Cancel {
        /// The class: id, or COURSE/TITLE (its next occurrence).
        class: String,
        /// Which occurrences of a series are cancelled.
        #[arg(long, value_enum, default_value = "occurrence")]
        scope: Scope,
    },
    /// Start a class you host.
    Start {
        /// The class: id, or COURSE/TITLE (its next occurrence).
        class: String,
    },
    /// End a class you host.
    End {
        /// The class: id, or COURSE/TITLE (its next occurrence).
        class: String,
    },
    /// Who attended, with minutes, and who never joined.
    Attendance {
        /// The class: id, or COURSE/TITLE (its next occurrence).
        class: String,
    },
    /// Print a new calendar subscription URL (an older one stops working).
    Ics,
}

/// Which occurrences of a series a change covers.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scope {
    Occurrence,
    Following,
    Series,
}

impl Scope {
    fn query(self) -> ScopeQuery {
        let scope = match self {
            Self::Occurrence => SeriesScope::Occurrence,
            Self::Following => SeriesScope::Following,
            Self::Series => SeriesScope::Series,
        };
        ScopeQuery { scope: Some(scope) }
    }
}

/// Filters of `live list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// upcoming, live, completed or cancelled.
    #[arg(long)]
    pub status: Option<String>,
    /// Only this course's classes: id, slug or SIS course_id.
    #[arg(long = "course", alias = "course-id", value_name = "COURSE")]
    pub course: Option<String>,
    /// Only this batch's classes: id, or COURSE/NAME (or NAME with --course).
    #[arg(long = "batch", alias = "batch-id", value_name = "BATCH")]
    pub batch: Option<String>,
    /// Classes ending after this time (`2026-12-07 10:30` in --tz, or RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub from: Option<String>,
    /// Classes starting before this time (`2026-12-07 18:00` in --tz, or RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub to: Option<String>,
}

/// Options of `live schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The course: id, slug or SIS course_id.
    #[arg(long = "course", alias = "course-id", value_name = "COURSE")]
    pub course: String,
    /// What the class is called.
    #[arg(long)]
    pub title: String,
    /// Start: `2026-12-07 10:30` in --tz, or RFC 3339 (`2026-12-07T10:30:00Z`).
    #[arg(long, value_name = "WHEN")]
    pub at: String,
    /// Minutes.
    #[arg(long, default_value_t = 60)]
    pub duration: i32,
    /// Only this batch of the course: its id or name.
    #[arg(long = "batch", alias = "batch-id", value_name = "BATCH")]
    pub batch: Option<String>,
    /// What the class covers.
    #[arg(long)]
    pub description: Option<String>,
    /// Students who may join.
    #[arg(long)]
    pub capacity: Option<i32>,
    /// BUILTIN, ZOOM, GOOGLE_MEET or CUSTOM.
    #[arg(long, value_parser = parse_platform)]
    pub platform: Option<LivePlatform>,
    /// The meeting's link (ZOOM, GOOGLE_MEET, CUSTOM).
    #[arg(long)]
    pub meeting_url: Option<String>,
    /// The meeting's id on its platform.
    #[arg(long)]
    pub meeting_id: Option<String>,
    /// The meeting's passcode.
    #[arg(long)]
    pub meeting_password: Option<String>,
    /// Another teacher of the course as host: id, email or SIS user_id.
    #[arg(long = "host", alias = "host-id", value_name = "USER")]
    pub host: Option<String>,
    /// Remind students this many minutes before the start.
    #[arg(long)]
    pub reminder_minutes: Option<i32>,
    /// Weekly on these days (MON,WED,…).
    #[arg(long, value_delimiter = ',', value_parser = parse_day)]
    pub days: Vec<DayOfWeek>,
    /// Occurrences of the series.
    #[arg(long)]
    pub count: Option<u32>,
    /// Last day of the series (YYYY-MM-DD).
    #[arg(long)]
    pub until: Option<chrono::NaiveDate>,
    /// Time zone the series keeps its local time in [default: --tz].
    #[arg(long)]
    pub time_zone: Option<String>,
}

/// Options of `live reschedule`.
#[derive(Debug, Args)]
pub struct RescheduleArgs {
    /// The class: id, or COURSE/TITLE (its next occurrence).
    pub class: String,
    /// New start: `2026-12-07 10:30` in --tz, or RFC 3339.
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,
    /// New length in minutes.
    #[arg(long)]
    pub duration: Option<i32>,
    /// Which occurrences of a series move.
    #[arg(long, value_enum, default_value = "occurrence")]
    pub scope: Scope,
}

/// A typed time in `ctx`'s zone, or a usage error naming `flag`.
fn when(ctx: &Context, flag: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    text.map(|t| ctx.zone.parse(t).map_err(|e| usage(flag, e)))
        .transpose()
}

fn usage(flag: &str, problem: String) -> ClientError {
    ClientError::Usage(format!("{flag}: {problem}"))
}

fn parse_platform(s: &str) -> std::result::Result<LivePlatform, String> {
    s.parse()
}

fn parse_day(s: &str) -> std::result::Result<DayOfWeek, String> {
    serde_json::from_value(Value::String(s.trim().to_uppercase()))
        .map_err(|_| format!("`{s}` is not a day (MON, TUE, WED, THU, FRI, SAT, SUN)"))
}

const HEADERS: [&str; 7] = [
    "ID", "TITLE", "COURSE", "STARTS", "MIN", "STATUS", "PLATFORM",
];

fn row(c: &LiveClass, zone: Zone) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.title.clone(),
        c.course.title.clone(),
        zone.format_with_zone(c.scheduled_at),
        c.duration.to_string(),
        c.status.to_string(),
        c.platform.to_string(),
    ]
}

fn fields(c: &LiveClass, zone: Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", c.id.to_string()),
        ("title", c.title.clone()),
        ("course", c.course.title.clone()),
        ("starts", zone.local(c.scheduled_at).to_rfc3339()),
        ("ends", zone.local(c.ends_at).to_rfc3339()),
        ("status", c.status.to_string()),
        ("platform", c.platform.to_string()),
        (
            "join",
            c.meeting_link
                .clone()
                .or(c.room.clone())
                .unwrap_or_default(),
        ),
        (
            "series",
            c.series_id.map(|s| s.to_string()).unwrap_or_default(),
        ),
    ]
}

async fn list_all(ctx: &Context, client: &ApiClient, args: &ListArgs) -> Result<Vec<LiveClass>> {
    let course_id = match &args.course {
        Some(c) => Some(keys::course(client, c).await?),
        None => None,
    };
    let batch_id = match (&args.batch, &args.course) {
        (Some(b), Some(c)) => Some(keys::batch_in(client, c, b).await?),
        (Some(b), None) => Some(keys::batch(client, b).await?),
        (None, _) => None,
    };
    let filter = LiveClassFilter {
        status: args.status.clone(),
        course_id,
        batch_id,
        from: when(ctx, "--from", args.from.as_deref())?,
        to: when(ctx, "--to", args.to.as_deref())?,
        ..LiveClassFilter::default()
    };
    let mut classes = Vec::new();
    let mut page = 1;
    loop {
        let list = client.live_classes(&filter, api::page(page, 100)).await?;
        let Pagination { has_next, .. } = list.pagination;
        classes.extend(list.classes);
        if !has_next {
            return Ok(classes);
        }
        page += 1;
    }
}

/// Runs `edupro live …`.
pub async fn run(ctx: &Context, command: LiveCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        LiveCommand::List(args) => {
            let classes = list_all(ctx, &client, &args).await?;
            crate::output::print(ctx.out.list(&classes, &HEADERS, |c| row(c, ctx.zone))?)?;
        }
        LiveCommand::Schedule(a) => {
            let recurrence = if a.days.is_empty() {
                if a.count.is_some() || a.until.is_some() {
                    return Err(ClientError::Usage(
                        "--count and --until need --days (a weekly series)".into(),
                    ));
                }
                None
            } else {
                Some(WeeklyRecurrence {
                    days_of_week: a.days,
                    count: a.count,
                    until: a.until,
                    time_zone: a.time_zone.or_else(|| Some(ctx.zone.name().to_owned())),
                })
            };
            let course_id = keys::course(&client, &a.course).await?;
            let batch_id = match &a.batch {
                Some(b) => Some(keys::batch_in(&client, &a.course, b).await?),
                None => None,
            };
            let host_id = match &a.host {
                Some(h) => Some(keys::user(&client, h).await?),
                None => None,
            };
            let scheduled_at = ctx.zone.parse(&a.at).map_err(|e| usage("--at", e))?;
            let body = NewLiveClass {
                course_id,
                batch_id,
                title: a.title,
                description: a.description,
                scheduled_at,
                duration: a.duration,
                capacity: a.capacity,
                platform: a.platform,
                meeting_url: a.meeting_url,
                meeting_id: a.meeting_id,
                meeting_password: a.meeting_password,
                host_id,
                reminder_minutes: a.reminder_minutes,
                recurrence,
            };
            let LiveClassCreated { class, occurrences } = client.schedule_live_class(&body).await?;
            if occurrences.is_empty() {
                crate::output::print(ctx.out.record(&class, &fields(&class, ctx.zone))?)?;
            } else {
                crate::output::print(ctx.out.list(&occurrences, &HEADERS, |c| row(c, ctx.zone))?)?;
                ctx.out.note(&format!(
                    "scheduled a series of {} classes",
                    occurrences.len()
                ));
            }
        }
        LiveCommand::Reschedule(a) => {
            if a.at.is_none() && a.duration.is_none() {
                return Err(ClientError::Usage("give --at and/or --duration".into()));
            }
            let id = keys::class(&client, &a.class).await?;
            let body = UpdateLiveClass {
                scheduled_at: when(ctx, "--at", a.at.as_deref())?,
                duration: a.duration,
                ..UpdateLiveClass::default()
            };
            let changed = client
                .update_live_class(id, &a.scope.query(), &body)
                .await?;
            crate::output::print(
                ctx.out
                    .list(&changed.classes, &HEADERS, |c| row(c, ctx.zone))?,
            )?;
        }
        LiveCommand::Cancel { class, scope } => {
            let id = keys::class(&client, &class).await?;
            let changed = client.cancel_live_class(id, &scope.query()).await?;
            crate::output::print(
                ctx.out
                    .list(&changed.classes, &HEADERS, |c| row(c, ctx.zone))?,
            )?;
        }
        LiveCommand::Start { class } => {
            let id = keys::class(&client, &class).await?;
            let class = client.start_live_class(id).await?;
            crate::output::print(ctx.out.record(&class, &fields(&class, ctx.zone))?)?;
        }
        LiveCommand::End { class } => {
            let id = keys::class(&client, &class).await?;
            let class = client.end_live_class(id).await?;
            crate::output::print(ctx.out.record(&class, &fields(&class, ctx.zone))?)?;
        }
        LiveCommand::Attendance { class } => {
            let id = keys::class(&client, &class).await?;
            let report = client.attendance(id).await?;
            #[derive(Serialize, Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Line {
                student_id: Uuid,
                name: String,
                email: String,
                present: bool,
                minutes: i64,
            }
            let mut lines: Vec<Line> = report
                .present
                .iter()
                .map(|p| Line {
                    student_id: p.student.id,
                    name: format!("{} {}", p.student.first_name, p.student.last_name),
                    email: p.student.email.clone(),
                    present: true,
                    minutes: p.minutes,
                })
                .collect();
            lines.extend(report.absent.iter().map(|s| Line {
                student_id: s.id,
                name: format!("{} {}", s.first_name, s.last_name),
                email: s.email.clone(),
                present: false,
                minutes: 0,
            }));
            crate::output::print(ctx.out.list(
                &lines,
                &["STUDENT", "NAME", "EMAIL", "PRESENT", "MINUTES"],
                |l| {
                    vec![
                        l.student_id.to_string(),
                        l.name.clone(),
                        l.email.clone(),
                        if l.present { "yes" } else { "no" }.into(),
                        l.minutes.to_string(),
                    ]
                },
            )?)?;
            ctx.out.note(&format!(
                "{} of {} expected students attended",
                report.present.len(),
                report.expected
            ));
        }
        LiveCommand::Ics => {
            let feed = client.create_calendar_feed().await?;
            let url = format!("{}{}", ctx.target.server, feed.url);
            crate::output::print(
                ctx.out
                    .record(&json!({ "url": url }), &[("url", url.clone())])?,
            )?;
            ctx.out
                .note("subscribe to this URL in your calendar app; it replaces any earlier one");
        }
    }
    Ok(())
}
