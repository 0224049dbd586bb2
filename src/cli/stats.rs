//! `edupro stats course|student|school`: the analytics a teacher or an admin reads at a
//! glance, over a range of UTC days. On a terminal: the headline figures, then the
//! tables behind them (a course's lesson funnel, students at risk and score
//! distribution; a student's courses, scores and subjects; the school's roles, top
//! courses and revenue). `--json` prints the server's answer unchanged, `--csv` the
//! server's `series,date,value` CSV of every day series.

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use edupro_server::api::{
    AdminDashboard, AtRiskStudent, CourseAnalytics, DateRange, LessonFunnelStep, RevenueSeries,
    RevenueTotal, Role, RoleCount, ScoreDistribution, ScorePoint, SeriesPoint, StudentAnalytics,
    StudentCourseProgress, SubjectScore, TopCourse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Context;
use super::courses::money;
use crate::error::{ClientError, Result};
use crate::output::Format;
use crate::when::Zone;

const COURSE_EXAMPLES: &str = "\
Examples:
  # The last 30 days of a course: funnel, students at risk, scores
  $ edupro stats course intro-to-rust

  # One term, as the server's CSV of every day series
  $ edupro stats course intro-to-rust --since 2026-01-05 --until 2026-03-27 --csv

  # Who is at risk, and why, as JSON
  $ edupro stats course intro-to-rust --jq '.studentsAtRisk[] | [.student.firstName, .reasons]'";

const STUDENT_EXAMPLES: &str = "\
Examples:
  # Yourself (students)
  $ edupro stats student

  # One of your students (teachers), a child of yours (parents), anyone (admins)
  $ edupro stats student sam@school.test --since 2026-01-01

  # Their daily time on lessons, as CSV
  $ edupro stats student 0193a1b2-0000-7000-8000-000000000001 --csv";

const SCHOOL_EXAMPLES: &str = "\
Examples:
  # Users, DAU/WAU/MAU, top courses and revenue of the last 30 days (admins)
  $ edupro stats school

  # January's daily signups, active users and revenue, as CSV
  $ edupro stats school --since 2026-01-01 --until 2026-01-31 --csv

  # Monthly active users only
  $ edupro stats school --jq .stats.mau";

/// `edupro stats …`.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// A course's analytics (its teachers and admins): enrollments, completion, time
    /// spent, the lesson funnel, students at risk and the score distribution.
    #[command(after_help = COURSE_EXAMPLES)]
    Course(CourseArgs),
    /// A student's analytics (themselves, their parents, their teachers, admins):
    /// progress per course, time spent, test scores, strong and weak subjects.
    #[command(after_help = STUDENT_EXAMPLES)]
    Student(StudentArgs),
    /// The school's figures (admins): users by role, DAU/WAU/MAU, top courses and
    /// revenue.
    #[command(after_help = SCHOOL_EXAMPLES)]
    School(RangeArgs),
}

/// The days a report covers.
#[derive(Debug, Clone, Copy, Args)]
pub struct RangeArgs {
    /// The first day, included (YYYY-MM-DD, UTC) [default: 29 days before --until].
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    /// The last day, included (YYYY-MM-DD, UTC) [default: today]. At most 366 days
    /// after --since.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<NaiveDate>,
}

/// Options of `stats course`.
#[derive(Debug, Args)]
pub struct CourseArgs {
    /// The course: id, slug or SIS course_id.
    pub course: String,
    #[command(flatten)]
    pub range: RangeArgs,
}

/// Options of `stats student`.
#[derive(Debug, Args)]
pub struct StudentArgs {
    /// The student: id, email or SIS user_id [default: yourself, when you are a
    /// student].
    pub student: Option<String>,
    #[command(flatten)]
    pub range: RangeArgs,
}

/// `YYYY-MM-DD`, or a message that shows the form.
fn parse_day(raw: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| "expected a day as YYYY-MM-DD, like 2026-03-31".to_owned())
}

impl RangeArgs {
    /// The range to ask for; `--since` after `--until` is refused before any request.
    fn range(self) -> Result<DateRange> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(ClientError::Usage(format!(
                "--since {since} is after --until {until}"
            )));
        }
        Ok(DateRange {
            since: self.since,
            until: self.until,
        })
    }
}

/// Runs `edupro stats …`.
pub async fn run(ctx: &Context, command: StatsCommand) -> Result<()> {
    match command {
        StatsCommand::Course(args) => course(ctx, args).await,
        StatsCommand::Student(args) => student(ctx, args).await,
        StatsCommand::School(args) => school(ctx, args).await,
    }
}

async fn course(ctx: &Context, args: CourseArgs) -> Result<()> {
    let range = args.range.range()?;
    let client = ctx.client()?;
    let key = args.course.trim();
    if ctx.out.format == Format::Csv {
        return Ok(crate::output::print(
            client.course_analytics_csv(key, &range).await?,
        )?);
    }
    let report = client.course_analytics(key, &range).await?;
    if ctx.out.format == Format::Json {
        return Ok(crate::output::print(ctx.out.json(&report)?)?);
    }
    crate::output::print(ctx.out.record(&report, &course_fields(&report))?)?;
    section(
        ctx,
        "Lesson funnel",
        &report.funnel,
        &FUNNEL_HEADERS,
        funnel_row,
    )?;
    section(
        ctx,
        "Students at risk",
        &report.students_at_risk,
        &AT_RISK_HEADERS,
        at_risk_row,
    )?;
    section(
        ctx,
        "Scores (graded attempts, by tens of percent)",
        &report.score_distribution,
        &SCORE_HEADERS,
        score_row,
    )
}

async fn student(ctx: &Context, args: StudentArgs) -> Result<()> {
    let range = args.range.range()?;
    let client = ctx.client()?;
    // The server takes an id, an email or a SIS id.
    let id = match args.student.as_deref().map(str::trim) {
        Some(key) => key.to_owned(),
        None => {
            let me = client.me().await?;
            if me.role != Role::Student {
                return Err(ClientError::Usage(format!(
                    "name the student: `edupro stats student <ID|EMAIL>` (you are signed in \
                     as {}, a {})",
                    me.email,
                    me.role.as_str().to_lowercase()
                )));
            }
            me.id.to_string()
        }
    };
    if ctx.out.format == Format::Csv {
        return Ok(crate::output::print(
            client.student_analytics_csv(&id, &range).await?,
        )?);
    }
    let report = client.student_analytics(&id, &range).await?;
    if ctx.out.format == Format::Json {
        return Ok(crate::output::print(ctx.out.json(&report)?)?);
    }
    crate::output::print(ctx.out.record(&report, &student_fields(&report))?)?;
    section(
        ctx,
        "Courses",
        &report.courses,
        &COURSE_HEADERS,
        student_course_row,
    )?;
    let subjects: Vec<Subject> = report
        .strong_subjects
        .iter()
        .map(|s| Subject::new("strong", s))
        .chain(report.weak_subjects.iter().map(|s| Subject::new("weak", s)))
        .collect();
    section(ctx, "Subjects", &subjects, &SUBJECT_HEADERS, subject_row)?;
    let recent: Vec<ScorePoint> = report.scores.iter().rev().take(10).cloned().collect();
    section(
        ctx,
        "Latest scores",
        &recent,
        &SCORE_POINT_HEADERS,
        score_point_row,
    )
}

async fn school(ctx: &Context, args: RangeArgs) -> Result<()> {
    let range = args.range()?;
    let client = ctx.client()?;
    if ctx.out.format == Format::Csv {
        return Ok(crate::output::print(
            client.dashboard_admin_csv(&range).await?,
        )?);
    }
    let report = client.dashboard_admin(&range).await?;
    if ctx.out.format == Format::Json {
        return Ok(crate::output::print(ctx.out.json(&report)?)?);
    }
    crate::output::print(ctx.out.record(&report, &school_fields(&report, ctx.zone))?)?;
    section(
        ctx,
        "Users by role",
        &report.stats.users_by_role,
        &ROLE_HEADERS,
        role_row,
    )?;
    section(
        ctx,
        "Top courses (by enrollments in the range)",
        &report.top_courses,
        &TOP_HEADERS,
        top_row,
    )?;
    let revenue = revenue_lines(&report.stats.total_revenue, &report.revenue_chart);
    section(ctx, "Revenue", &revenue, &REVENUE_HEADERS, revenue_row)
}

/// A titled table after the headline figures; `none` when it has no rows.
fn section<T: Serialize + DeserializeOwned>(
    ctx: &Context,
    title: &str,
    items: &[T],
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<()> {
    if items.is_empty() {
        return Ok(crate::output::print(format!("\n{title}: none\n"))?);
    }
    crate::output::print(format!("\n{title}\n"))?;
    crate::output::print(ctx.out.list(items, headers, row)?)?;
    Ok(())
}

// ---------------------------------------------------------------- course

fn course_fields(r: &CourseAnalytics) -> Vec<(&'static str, String)> {
    let enrolled_in_range: i64 = r.enrollment_trend.iter().map(|d| d.count).sum();
    let time: i64 = r.time_spent.iter().map(|p| p.value).sum();
    let watched: i64 = r.watch_time.iter().map(|p| p.value).sum();
    vec![
        ("course", r.course.title.clone()),
        ("days", days(r.since, r.until)),
        (
            "enrolled",
            format!(
                "{} ({enrolled_in_range} new in the range)",
                r.total_enrollments
            ),
        ),
        ("completion", percent(r.completion_rate)),
        ("avg progress", percent(r.student_engagement.avg_progress)),
        ("active students", series_summary(&r.active_students)),
        (
            "time on lessons",
            format!(
                "{} ({} per student)",
                duration(time),
                duration(r.student_engagement.avg_time_spent.round() as i64)
            ),
        ),
        ("video watched", duration(watched)),
        (
            "attendance",
            r.attendance_rate
                .map_or_else(|| "no classes held".to_owned(), percent),
        ),
        (
            "rating",
            if r.avg_rating > 0.0 {
                format!("{:.1} / 5", r.avg_rating)
            } else {
                "no reviews".to_owned()
            },
        ),
        ("revenue", revenue_text(&r.total_revenue)),
    ]
}

const FUNNEL_HEADERS: [&str; 5] = ["LESSON", "COMPLETED", "RATE", "TIME", "VIDEO"];

fn funnel_row(s: &LessonFunnelStep) -> Vec<String> {
    vec![
        s.title.clone(),
        s.completed.to_string(),
        percent(s.completion_rate),
        duration(s.time_spent),
        duration(s.watch_time),
    ]
}

const AT_RISK_HEADERS: [&str; 4] = ["STUDENT", "PROGRESS", "LAST ACTIVE", "WHY"];

fn at_risk_row(s: &AtRiskStudent) -> Vec<String> {
    vec![
        format!("{} {}", s.student.first_name, s.student.last_name),
        format!("{}%", s.progress_percent),
        // A UTC day, as every day of the analytics.
        s.last_active_at
            .map_or_else(|| "never".to_owned(), |at| at.date_naive().to_string()),
        s.reasons.join("; "),
    ]
}

const SCORE_HEADERS: [&str; 4] = ["TEST", "ATTEMPTS", "AVERAGE", "0% … 100%"];

fn score_row(d: &ScoreDistribution) -> Vec<String> {
    let counts: Vec<String> = d.buckets.iter().map(i64::to_string).collect();
    vec![
        d.title.clone(),
        d.attempts.to_string(),
        d.average.map_or_else(|| "-".to_owned(), percent),
        if d.attempts == 0 {
            "-".to_owned()
        } else {
            format!("{}  {}", spark(&d.buckets), counts.join(" "))
        },
    ]
}

// ---------------------------------------------------------------- student

fn student_fields(r: &StudentAnalytics) -> Vec<(&'static str, String)> {
    let scores = &r.test_scores;
    let tests = match (scores.average, scores.highest, scores.lowest) {
        (Some(avg), Some(high), Some(low)) => format!(
            "{} graded: average {}, highest {}, lowest {}",
            scores.graded,
            percent(avg),
            percent(high),
            percent(low)
        ),
        _ => "none graded".to_owned(),
    };
    let attendance = &r.attendance;
    vec![
        (
            "student",
            format!("{} {}", r.student.first_name, r.student.last_name),
        ),
        ("days", days(r.since, r.until)),
        ("progress", percent(r.overall_progress)),
        (
            "courses",
            format!(
                "{} in progress, {} completed",
                r.courses_in_progress, r.courses_completed
            ),
        ),
        (
            "time spent",
            format!("{}  {}", duration(r.time_spent), spark_of(&r.time_series)),
        ),
        ("tests", tests),
        (
            "streak",
            format!(
                "{} (longest {})",
                plural(i64::from(r.learning_streak), "day"),
                plural(i64::from(r.longest_streak), "day")
            ),
        ),
        ("xp", r.total_xp.to_string()),
        (
            "attendance",
            match attendance.rate {
                Some(rate) => format!(
                    "{} of {} classes ({})",
                    attendance.attended,
                    attendance.held,
                    percent(rate)
                ),
                None => "no classes held".to_owned(),
            },
        ),
    ]
}

const COURSE_HEADERS: [&str; 5] = ["COURSE", "STATUS", "PROGRESS", "TIME", "AVG SCORE"];

fn student_course_row(c: &StudentCourseProgress) -> Vec<String> {
    vec![
        c.course.title.clone(),
        c.status.to_string(),
        format!("{}%", c.progress_percent),
        duration(c.time_spent),
        c.average_score.map_or_else(|| "-".to_owned(), percent),
    ]
}

/// A strong or weak subject, for one table of both.
#[derive(Serialize, serde::Deserialize)]
struct Subject {
    standing: String,
    subject: String,
    average: f64,
    graded: i64,
}

impl Subject {
    fn new(standing: &str, s: &SubjectScore) -> Self {
        Self {
            standing: standing.to_owned(),
            subject: s.subject.clone(),
            average: s.average,
            graded: s.graded,
        }
    }
}

const SUBJECT_HEADERS: [&str; 4] = ["SUBJECT", "STANDING", "AVERAGE", "GRADED"];

fn subject_row(s: &Subject) -> Vec<String> {
    vec![
        s.subject.clone(),
        s.standing.clone(),
        percent(s.average),
        s.graded.to_string(),
    ]
}

const SCORE_POINT_HEADERS: [&str; 3] = ["DATE", "TEST", "SCORE"];

fn score_point_row(s: &ScorePoint) -> Vec<String> {
    vec![s.date.to_string(), s.test_title.clone(), percent(s.percent)]
}

// ---------------------------------------------------------------- school

fn school_fields(r: &AdminDashboard, zone: Zone) -> Vec<(&'static str, String)> {
    let s = &r.stats;
    let signups: i64 = r.signups.iter().map(|p| p.value).sum();
    let health = &r.health;
    vec![
        (
            "users",
            format!("{} ({} active in 30 days)", s.total_users, s.active_users),
        ),
        ("courses", s.total_courses.to_string()),
        (
            "dau / wau / mau",
            format!("{} / {} / {}", s.dau, s.wau, s.mau),
        ),
        ("days", days_of(&r.daily_active)),
        ("daily active", series_summary(&r.daily_active)),
        ("signups", format!("{signups}  {}", spark_of(&r.signups))),
        ("revenue", revenue_text(&s.total_revenue)),
        (
            "rolled up",
            health
                .rolled_up_at
                .map_or_else(|| "never".to_owned(), |at| zone.format_with_zone(at)),
        ),
        (
            "backlog",
            format!(
                "{} mails queued, {} webhooks pending, {} failed",
                health.mail_queued, health.webhooks_pending, health.webhooks_failed
            ),
        ),
    ]
}

const ROLE_HEADERS: [&str; 2] = ["ROLE", "USERS"];

fn role_row(r: &RoleCount) -> Vec<String> {
    vec![r.role.to_string(), r.count.to_string()]
}

const TOP_HEADERS: [&str; 4] = ["COURSE", "ENROLLMENTS", "STUDENTS", "RATING"];

fn top_row(t: &TopCourse) -> Vec<String> {
    vec![
        t.course.title.clone(),
        t.enrollments.to_string(),
        t.total_students.to_string(),
        if t.rating > 0.0 {
            format!("{:.1}", t.rating)
        } else {
            "-".to_owned()
        },
    ]
}

/// One currency's revenue: in the range (from the daily chart) and all time.
#[derive(Serialize, serde::Deserialize)]
struct RevenueLine {
    currency: String,
    range: i64,
    all_time: Option<RevenueTotal>,
    points: Vec<SeriesPoint>,
}

/// A line per currency of the totals or the chart, in the totals' order.
fn revenue_lines(totals: &[RevenueTotal], chart: &[RevenueSeries]) -> Vec<RevenueLine> {
    let mut currencies: Vec<&str> = totals.iter().map(|t| t.currency.as_str()).collect();
    for series in chart {
        if !currencies.contains(&series.currency.as_str()) {
            currencies.push(&series.currency);
        }
    }
    currencies
        .into_iter()
        .map(|currency| {
            let points = chart
                .iter()
                .find(|s| s.currency == currency)
                .map(|s| s.points.clone())
                .unwrap_or_default();
            RevenueLine {
                currency: currency.to_owned(),
                range: points.iter().map(|p| p.value).sum(),
                all_time: totals.iter().find(|t| t.currency == currency).cloned(),
                points,
            }
        })
        .collect()
}

const REVENUE_HEADERS: [&str; 5] = [
    "CURRENCY",
    "NET IN RANGE",
    "DAILY",
    "NET ALL TIME",
    "PAYMENTS",
];

fn revenue_row(r: &RevenueLine) -> Vec<String> {
    vec![
        r.currency.clone(),
        signed_money(r.range, &r.currency),
        spark_of(&r.points),
        r.all_time
            .as_ref()
            .map_or_else(|| "-".to_owned(), |t| signed_money(t.net, &t.currency)),
        r.all_time
            .as_ref()
            .map_or_else(|| "0".to_owned(), |t| t.payments.to_string()),
    ]
}

// ---------------------------------------------------------------- formatting

/// `2026-01-01 … 2026-01-30 (30 days)`.
fn days(since: NaiveDate, until: NaiveDate) -> String {
    let n = (until - since).num_days() + 1;
    format!("{since} … {until} ({})", plural(n, "day"))
}

/// The days a series covers.
fn days_of(series: &[SeriesPoint]) -> String {
    match (series.first(), series.last()) {
        (Some(first), Some(last)) => days(first.date, last.date),
        _ => "-".to_owned(),
    }
}

/// `1 day`, `3 days`.
fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `42.9%`; whole percents without decimals.
fn percent(p: f64) -> String {
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

/// Seconds as `2h 05m`, `12m`, `40s`.
fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h {m:02}m"),
    }
}

/// Money in minor units, negative (refunds beyond sales) with a leading `-`.
fn signed_money(minor: i64, currency: &str) -> String {
    if minor < 0 {
        format!("-{}", money(-minor, currency))
    } else {
        money(minor, currency)
    }
}

/// Net revenue per currency: `INR 399.20, USD 10.00`, or `none`.
fn revenue_text(totals: &[RevenueTotal]) -> String {
    if totals.is_empty() {
        return "none".to_owned();
    }
    totals
        .iter()
        .map(|t| signed_money(t.net, &t.currency))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `4.2 a day, peak 7 on 2026-01-14  ▁▃▅█▂`.
fn series_summary(series: &[SeriesPoint]) -> String {
    let Some(peak) = series
        .iter()
        .max_by_key(|p| (p.value, std::cmp::Reverse(p.date)))
    else {
        return "-".to_owned();
    };
    let total: i64 = series.iter().map(|p| p.value).sum();
    let average = total as f64 / series.len() as f64;
    format!(
        "{average:.1} a day, peak {} on {}  {}",
        peak.value,
        peak.date,
        spark_of(series)
    )
}

fn spark_of(series: &[SeriesPoint]) -> String {
    let values: Vec<i64> = series.iter().map(|p| p.value).collect();
    spark(&values)
}

/// A sparkline: one bar per value, the highest full height.
fn spark(values: &[i64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(0);
    values
        .iter()
        .map(|&v| {
            if max == 0 || v <= 0 {
                BARS[0]
            } else {
                BARS[((v * 7 + max - 1) / max).clamp(0, 7) as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hours_and_minutes() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(12 * 60 + 5), "12m");
        assert_eq!(duration(2 * 3600 + 5 * 60), "2h 05m");
    }

    #[test]
    fn percents_drop_decimals_only_when_whole() {
        assert_eq!(percent(50.0), "50%");
        assert_eq!(percent(42.857), "42.9%");
        assert_eq!(percent(99.98), "100%");
    }

    #[test]
    fn a_sparkline_puts_the_highest_value_at_full_height() {
        assert_eq!(spark(&[0, 1, 2, 4]), "▁▃▅█");
        assert_eq!(spark(&[0, 0]), "▁▁");
        assert_eq!(spark(&[]), "");
    }

    #[test]
    fn a_bad_day_is_explained_and_since_after_until_is_refused() {
        assert!(parse_day("2026-02-30").is_err());
        assert_eq!(
            parse_day(" 2026-03-01 "),
            Ok(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
        );
        let range = RangeArgs {
            since: NaiveDate::from_ymd_opt(2026, 3, 2),
            until: NaiveDate::from_ymd_opt(2026, 3, 1),
        };
        let err = range.range().unwrap_err();
        assert_eq!(
            err.to_string(),
            "--since 2026-03-02 is after --until 2026-03-01"
        );
    }

    #[test]
    fn revenue_lines_cover_every_currency_of_the_totals_and_the_chart() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let totals = [RevenueTotal {
            currency: "INR".into(),
            payments: 2,
            gross: 1000,
            refunded: 0,
            net: 1000,
        }];
        let chart = [
            RevenueSeries {
                currency: "USD".into(),
                points: vec![SeriesPoint {
                    date: day,
                    value: 250,
                }],
            },
            RevenueSeries {
                currency: "INR".into(),
                points: vec![SeriesPoint {
                    date: day,
                    value: 400,
                }],
            },
        ];
        let lines = revenue_lines(&totals, &chart);
        let rows: Vec<Vec<String>> = lines.iter().map(revenue_row).collect();
        assert_eq!(rows[0][..2], ["INR", "INR 4.00"]);
        assert_eq!(rows[0][3], "INR 10.00");
        assert_eq!(rows[1][..2], ["USD", "USD 2.50"]);
        assert_eq!(rows[1][3], "-");
    }
}
