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

use super::Context;
use crate::api::{self, ApiClient};
use crate::error::{ClientError, Result};

const SCHEDULE_EXAMPLES: &str = "\
Examples:
  # One class of 90 minutes
  $ edupro live schedule --course-id 0193a1b2-0000-7000-8000-000000000001 \\
      --title \"Office hours\" --at 2027-01-04T10:00:00Z --duration 90

  # Weekly on Monday and Wednesday, ten times, keeping 10:00 in Kolkata
  $ edupro live schedule --course-id 0193a1b2-0000-7000-8000-000000000001 \\
      --title \"Rust lab\" --at 2027-01-04T04:30:00Z --days MON,WED --count 10 \\
      --time-zone Asia/Kolkata

  # On Zoom, reminding students 15 minutes before
  $ edupro live schedule --course-id 0193a1b2-0000-7000-8000-000000000001 \\
      --title Review --at 2027-01-08T12:00:00Z --platform ZOOM \\
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
        /// The class's id.
        id: Uuid,
        /// Which occurrences of a series are cancelled.
        #[arg(long, value_enum, default_value = "occurrence")]
        scope: Scope,
    },
    /// Start a class you host.
    Start {
        /// The class's id.
        id: Uuid,
    },
    /// End a class you host.
    End {
        /// The class's id.
        id: Uuid,
    },
    /// Who attended, with minutes, and who never joined.
    Attendance {
        /// The class's id.
        id: Uuid,
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
    /// Only this course's classes (its id).
    #[arg(long)]
    pub course_id: Option<Uuid>,
    /// Only this batch's classes (its id).
    #[arg(long)]
    pub batch_id: Option<Uuid>,
    /// Classes ending after this instant (RFC 3339).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Classes starting before this instant (RFC 3339).
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
}

/// Options of `live schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The course's id.
    #[arg(long)]
    pub course_id: Uuid,
    /// What the class is called.
    #[arg(long)]
    pub title: String,
    /// Start, RFC 3339 (`2026-12-07T10:00:00Z`).
    #[arg(long)]
    pub at: DateTime<Utc>,
    /// Minutes.
    #[arg(long, default_value_t = 60)]
    pub duration: i32,
    /// Only this batch of the course may join (its id).
    #[arg(long)]
    pub batch_id: Option<Uuid>,
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
    /// Another teacher of the course as host.
    #[arg(long)]
    pub host_id: Option<Uuid>,
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
    /// Time zone the series keeps its local time in.
    #[arg(long)]
    pub time_zone: Option<String>,
}

/// Options of `live reschedule`.
#[derive(Debug, Args)]
pub struct RescheduleArgs {
    /// The class's id.
    pub id: Uuid,
    /// New start, RFC 3339.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// New length in minutes.
    #[arg(long)]
    pub duration: Option<i32>,
    /// Which occurrences of a series move.
    #[arg(long, value_enum, default_value = "occurrence")]
    pub scope: Scope,
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

fn row(c: &LiveClass) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.title.clone(),
        c.course.title.clone(),
        c.scheduled_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        c.duration.to_string(),
        c.status.to_string(),
        c.platform.to_string(),
    ]
}

fn fields(c: &LiveClass) -> Vec<(&'static str, String)> {
    vec![
        ("id", c.id.to_string()),
        ("title", c.title.clone()),
        ("course", c.course.title.clone()),
        ("starts", c.scheduled_at.to_rfc3339()),
        ("ends", c.ends_at.to_rfc3339()),
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

async fn list_all(client: &ApiClient, args: &ListArgs) -> Result<Vec<LiveClass>> {
    let filter = LiveClassFilter {
        status: args.status.clone(),
        course_id: args.course_id,
        batch_id: args.batch_id,
        from: args.from,
        to: args.to,
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
            let classes = list_all(&client, &args).await?;
            crate::output::print(ctx.out.list(&classes, &HEADERS, row)?)?;
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
                    time_zone: a.time_zone,
                })
            };
            let body = NewLiveClass {
                course_id: a.course_id,
                batch_id: a.batch_id,
                title: a.title,
                description: a.description,
                scheduled_at: a.at,
                duration: a.duration,
                capacity: a.capacity,
                platform: a.platform,
                meeting_url: a.meeting_url,
                meeting_id: a.meeting_id,
                meeting_password: a.meeting_password,
                host_id: a.host_id,
                reminder_minutes: a.reminder_minutes,
                recurrence,
            };
            let LiveClassCreated { class, occurrences } = client.schedule_live_class(&body).await?;
            if occurrences.is_empty() {
                crate::output::print(ctx.out.record(&class, &fields(&class))?)?;
            } else {
                crate::output::print(ctx.out.list(&occurrences, &HEADERS, row)?)?;
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
            let body = UpdateLiveClass {
                scheduled_at: a.at,
                duration: a.duration,
                ..UpdateLiveClass::default()
            };
            let changed = client
                .update_live_class(a.id, &a.scope.query(), &body)
                .await?;
            crate::output::print(ctx.out.list(&changed.classes, &HEADERS, row)?)?;
        }
        LiveCommand::Cancel { id, scope } => {
            let changed = client.cancel_live_class(id, &scope.query()).await?;
            crate::output::print(ctx.out.list(&changed.classes, &HEADERS, row)?)?;
        }
        LiveCommand::Start { id } => {
            let class = client.start_live_class(id).await?;
            crate::output::print(ctx.out.record(&class, &fields(&class))?)?;
        }
        LiveCommand::End { id } => {
            let class = client.end_live_class(id).await?;
            crate::output::print(ctx.out.record(&class, &fields(&class))?)?;
        }
        LiveCommand::Attendance { id } => {
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
