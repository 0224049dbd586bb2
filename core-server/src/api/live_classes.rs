//! Live classes: scheduled sessions of a course or one of its batches, on our own hub
//! (BUILTIN, a `live_class:<id>` room) or an external platform, with weekly series,
//! join details, attendance and an iCalendar feed.
//!
//! `duration` and `reminderMinutes` are minutes; times are UTC instants.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::{Pagination, PersonRef, StudentRef};

/// Where a class takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LivePlatform {
    /// A room in our WebSocket hub: presence, chat, class events.
    Builtin,
    Zoom,
    GoogleMeet,
    Custom,
}

impl LivePlatform {
    pub const ALL: &[LivePlatform] = &[Self::Builtin, Self::Zoom, Self::GoogleMeet, Self::Custom];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Builtin => "BUILTIN",
            Self::Zoom => "ZOOM",
            Self::GoogleMeet => "GOOGLE_MEET",
            Self::Custom => "CUSTOM",
        }
    }
}

impl fmt::Display for LivePlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LivePlatform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("`{s}` is not one of BUILTIN, ZOOM, GOOGLE_MEET, CUSTOM"))
    }
}

/// Where a class stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LiveClassStatus {
    /// Not started yet (`status=upcoming` in lists).
    Scheduled,
    Live,
    Completed,
    Cancelled,
}

impl LiveClassStatus {
    pub const ALL: &[LiveClassStatus] = &[
        Self::Scheduled,
        Self::Live,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "SCHEDULED",
            Self::Live => "LIVE",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for LiveClassStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LiveClassStatus {
    type Err = String;

    /// The stored names, and the list filter's `upcoming` (SCHEDULED) and `ended`
    /// (COMPLETED), in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("upcoming") {
            return Ok(Self::Scheduled);
        }
        if s.eq_ignore_ascii_case("ended") {
            return Ok(Self::Completed);
        }
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not one of upcoming, live, completed, cancelled"))
    }
}

/// A day of the week, as a weekly rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DayOfWeek {
    #[serde(alias = "MONDAY", alias = "mon", alias = "monday")]
    Mon,
    #[serde(alias = "TUESDAY", alias = "tue", alias = "tuesday")]
    Tue,
    #[serde(alias = "WEDNESDAY", alias = "wed", alias = "wednesday")]
    Wed,
    #[serde(alias = "THURSDAY", alias = "thu", alias = "thursday")]
    Thu,
    #[serde(alias = "FRIDAY", alias = "fri", alias = "friday")]
    Fri,
    #[serde(alias = "SATURDAY", alias = "sat", alias = "saturday")]
    Sat,
    #[serde(alias = "SUNDAY", alias = "sun", alias = "sunday")]
    Sun,
}

impl DayOfWeek {
    /// Monday = 0 … Sunday = 6.
    pub fn index(self) -> u32 {
        self as u32
    }
}

/// A weekly rule: the class repeats on `daysOfWeek` at `scheduledAt`'s local time in
/// `timeZone` (default UTC), starting on `scheduledAt`'s day, for `count` occurrences or
/// until `until` (inclusive) — exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeeklyRecurrence {
    pub days_of_week: Vec<DayOfWeek>,
    /// How many classes, 1 to 200 (or give `until`).
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 200))]
    pub count: Option<u32>,
    pub until: Option<NaiveDate>,
    /// An IANA zone (`Asia/Kolkata`): occurrences keep their local time across DST.
    pub time_zone: Option<String>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// `POST /live-classes` (the course's staff or an admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLiveClass {
    pub course_id: Uuid,
    /// For one batch of the course; absent for the whole course.
    pub batch_id: Option<Uuid>,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: String,
    pub description: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    /// Minutes, 1–600.
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 600))]
    pub duration: i32,
    /// Students who may join; absent for no limit.
    #[serde(alias = "maxParticipants")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100000))]
    pub capacity: Option<i32>,
    /// Default BUILTIN.
    pub platform: Option<LivePlatform>,
    /// Required for ZOOM, GOOGLE_MEET and CUSTOM.
    pub meeting_url: Option<String>,
    pub meeting_id: Option<String>,
    pub meeting_password: Option<String>,
    /// A teacher on the course's staff; default the caller.
    pub host_id: Option<Uuid>,
    /// Minutes before the start the reminder goes out, 0–10080; default 15.
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 10080))]
    pub reminder_minutes: Option<i32>,
    pub recurrence: Option<WeeklyRecurrence>,
}

/// `PATCH /live-classes/{id}`: any field; `null` clears description, capacity or a
/// meeting field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLiveClass {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 600))]
    pub duration: Option<i32>,
    #[serde(
        default,
        alias = "maxParticipants",
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<i32>, minimum = 1, maximum = 100000))]
    pub capacity: Option<Option<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<LivePlatform>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub meeting_url: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub meeting_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub meeting_password: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 10080))]
    pub reminder_minutes: Option<i32>,
}

/// Which occurrences of a series a change or cancellation covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SeriesScope {
    /// This class only (the default).
    #[default]
    Occurrence,
    /// This class and the later occurrences of its series that have not started.
    Following,
    /// Every occurrence of its series that has not started.
    Series,
}

/// `?scope=` of `PATCH` and `DELETE /live-classes/{id}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct ScopeQuery {
    pub scope: Option<SeriesScope>,
}

/// The course of a class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveClassCourse {
    pub id: Uuid,
    pub title: String,
}

/// A live class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveClass {
    pub id: Uuid,
    pub course_id: Uuid,
    pub course: LiveClassCourse,
    pub batch_id: Option<Uuid>,
    pub series_id: Option<Uuid>,
    pub host: PersonRef,
    pub title: String,
    pub description: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub duration: i32,
    pub capacity: Option<i32>,
    pub platform: LivePlatform,
    /// The external meeting's URL; `null` for BUILTIN (use `room`).
    pub meeting_link: Option<String>,
    pub meeting_id: Option<String>,
    /// Only for the course's staff and admins; students get it from `join`.
    pub meeting_password: Option<String>,
    /// The hub room of a BUILTIN class (`live_class:<id>`).
    pub room: Option<String>,
    pub status: LiveClassStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub reminder_minutes: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /live-classes` answer: the (first) class, and every occurrence of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveClassCreated {
    #[serde(flatten)]
    pub class: LiveClass,
    /// Every occurrence (the first included), for a series; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<LiveClass>,
}

/// `PATCH` and `DELETE /live-classes/{id}` answer: every class changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveClassesChanged {
    pub classes: Vec<LiveClass>,
}

/// Filters of `GET /live-classes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct LiveClassFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    /// upcoming, live, completed or cancelled.
    #[cfg_attr(
        feature = "server",
        param(pattern = "^(upcoming|live|completed|cancelled)$")
    )]
    pub status: Option<String>,
    pub course_id: Option<Uuid>,
    pub batch_id: Option<Uuid>,
    pub series_id: Option<Uuid>,
    /// Classes ending after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Classes starting before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// `GET /live-classes`: earliest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveClassList {
    pub classes: Vec<LiveClass>,
    pub pagination: Pagination,
}

/// `POST /live-classes/{id}/join` answer: how to get in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JoinDetails {
    pub live_class_id: Uuid,
    pub platform: LivePlatform,
    pub meeting_link: Option<String>,
    pub meeting_id: Option<String>,
    pub password: Option<String>,
    /// The hub room (BUILTIN): send `{"type":"join","room":…}` on `/api/v1/ws`.
    pub room: Option<String>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: LiveClassStatus,
    /// Whether this join was recorded as attendance (students; staff only look).
    pub attendance_recorded: bool,
}

/// One present student of an attendance report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttendanceEntry {
    pub student: StudentRef,
    pub first_joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    /// Whole minutes present over every stay (a stay still open counts up to now, or
    /// to the class's end).
    pub minutes: i64,
    pub joins: i32,
    /// In the class right now.
    pub present_now: bool,
}

/// `GET /live-classes/{id}/attendance` (staff and admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttendanceReport {
    pub live_class_id: Uuid,
    /// Students expected: enrolled in the course (in the batch, for a batch's class).
    pub expected: i64,
    pub present: Vec<AttendanceEntry>,
    /// Expected students who never joined.
    pub absent: Vec<StudentRef>,
}

/// `POST /live-classes/calendar-token` answer: the feed token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CalendarFeed {
    pub token: String,
    /// Path (with the token) to subscribe to.
    pub url: String,
}

/// `?token=` of the iCalendar feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct CalendarQuery {
    pub token: Option<String>,
}

/// `POST /live-classes/{id}/leave`: the minutes present in the class so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeftClass {
    pub live_class_id: Uuid,
    pub minutes: i64,
}

/// `DELETE /live-classes/calendar-token`: whether there was a token to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CalendarTokenRevoked {
    pub revoked: bool,
}
