//! Activity, roll-ups, dashboards and analytics (`docs/ARCHITECTURE.md` "Dashboards and
//! analytics").
//!
//! Everything a user does lands in one append-only table, `activity`: written directly
//! where the request happens (sign-ins, progress reports, heartbeats, tests started,
//! classes joined and left) and from domain events where they exist (enrollments,
//! completions, submissions, grades, doubts). A background job keeps `daily_stats`, one
//! number per UTC day, scope, subject and metric, recomputed whole from the day's
//! activity; dashboards read those and the current state (enrollments, attempts,
//! payments), never the raw log.

pub mod activity;
pub mod consumer;
pub mod dashboards;
pub mod reports;
pub mod rollup;
pub mod series;

use chrono::{Duration, NaiveDate, Utc};

use crate::api::DateRange;
use crate::error::ApiError;

/// What a row of `daily_stats` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The whole school (subject and object nil).
    School,
    /// A course (subject).
    Course,
    /// A lesson (subject) of a course (object).
    Lesson,
    /// A student (subject) in a course (object; nil for activity outside courses).
    Student,
    /// Any user (subject): active that day.
    User,
}

impl Scope {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::School => "SCHOOL",
            Self::Course => "COURSE",
            Self::Lesson => "LESSON",
            Self::Student => "STUDENT",
            Self::User => "USER",
        }
    }
}

/// One daily number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// 1 when the subject did anything that day (users, students).
    Active,
    /// Distinct users active that day.
    Dau,
    /// Distinct users active in the 7 days ending that day.
    Wau,
    /// Distinct users active in the 30 days ending that day.
    Mau,
    /// Accounts created.
    Signups,
    SignIns,
    Enrollments,
    Completions,
    /// Distinct students with learning activity in the course.
    ActiveStudents,
    /// Distinct students who opened the lesson.
    Opened,
    /// Seconds on lesson pages.
    TimeSpent,
    /// Seconds of video.
    WatchTime,
    LessonsCompleted,
    TestsSubmitted,
    /// Sum and count of graded scores (percent), for averages.
    ScoreSum,
    ScoreCount,
    ClassJoins,
    DoubtsAsked,
}

impl Metric {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Dau => "DAU",
            Self::Wau => "WAU",
            Self::Mau => "MAU",
            Self::Signups => "SIGNUPS",
            Self::SignIns => "SIGN_INS",
            Self::Enrollments => "ENROLLMENTS",
            Self::Completions => "COMPLETIONS",
            Self::ActiveStudents => "ACTIVE_STUDENTS",
            Self::Opened => "OPENED",
            Self::TimeSpent => "TIME_SPENT",
            Self::WatchTime => "WATCH_TIME",
            Self::LessonsCompleted => "LESSONS_COMPLETED",
            Self::TestsSubmitted => "TESTS_SUBMITTED",
            Self::ScoreSum => "SCORE_SUM",
            Self::ScoreCount => "SCORE_COUNT",
            Self::ClassJoins => "CLASS_JOINS",
            Self::DoubtsAsked => "DOUBTS_ASKED",
        }
    }
}

/// The longest range a report covers.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A checked date range: both ends included, `since <= until`, at most
/// [`MAX_RANGE_DAYS`]; by default the 30 days ending today (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub since: NaiveDate,
    pub until: NaiveDate,
}

impl Range {
    /// `query`'s range, or the `default_days` ending today.
    pub fn parse(query: &DateRange, default_days: i64) -> Result<Self, ApiError> {
        let today = Utc::now().date_naive();
        let until = query.until.unwrap_or(today);
        let since = query
            .since
            .unwrap_or(until - Duration::days(default_days - 1));
        if since > until {
            return Err(ApiError::field(
                "since",
                format!("{since} is after `until` ({until})"),
            ));
        }
        if (until - since).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(ApiError::field(
                "since",
                format!(
                    "a range covers at most {MAX_RANGE_DAYS} days; {since} to {until} is longer"
                ),
            ));
        }
        Ok(Self { since, until })
    }

    /// The last `days` days ending today.
    pub fn last(days: i64) -> Self {
        let until = Utc::now().date_naive();
        Self {
            since: until - Duration::days(days - 1),
            until,
        }
    }

    /// Every day of the range, oldest first.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.since.iter_days().take_while(move |d| *d <= self.until)
    }

    /// The range's first instant and the instant after its last day (UTC).
    pub fn bounds(self) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
        (
            self.since.and_time(chrono::NaiveTime::MIN).and_utc(),
            (self.until + Duration::days(1))
                .and_time(chrono::NaiveTime::MIN)
                .and_utc(),
        )
    }
}

/// `part / whole` in percent with one decimal, 0 when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

/// An average rounded to one decimal.
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_default_to_the_last_days_and_refuse_backwards_or_huge_ones() {
        let range = Range::parse(&DateRange::default(), 30).expect("default");
        assert_eq!((range.until - range.since).num_days(), 29);
        assert_eq!(range.days().count(), 30);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let backwards = DateRange {
            since: Some(d("2026-12-05")),
            until: Some(d("2026-12-01")),
        };
        assert!(Range::parse(&backwards, 30).is_err());
        let huge = DateRange {
            since: Some(d("2024-01-01")),
            until: Some(d("2026-01-01")),
        };
        assert!(Range::parse(&huge, 30).is_err());
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(1, 0), 0.0);
    }
}
