//! Notifications and their preferences (`/notifications`).
//!
//! `id` is one increasing sequence (per user too): a WebSocket client passes the last id
//! it saw as `since` and gets everything after it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::Pagination;

/// What a notification is about. Preferences mute types by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    /// You were enrolled in a course.
    Enrolled,
    /// You were removed from a course.
    EnrollmentCancelled,
    /// You completed a course.
    CourseCompleted,
    /// A course you are enrolled in was published (opened) or archived.
    CoursePublished,
    CourseArchived,
    /// A course's staff posted an announcement.
    Announcement,
    ClassScheduled,
    ClassRescheduled,
    ClassCancelled,
    ClassStartingSoon,
    ClassStarted,
    TestPublished,
    TestGraded,
    ImportFinished,
    /// To a course's staff: a student enrolled themselves.
    StudentEnrolled,
    /// To a course's staff: a student asked a doubt.
    DoubtAsked,
    /// To the asker: someone answered their doubt.
    DoubtAnswered,
    /// To an answer's author: the asker accepted it.
    AnswerAccepted,
    /// To a course's staff: a submitted attempt waits for marks.
    AttemptSubmitted,
    /// To a course's staff: a student reviewed the course.
    CourseReviewed,
    /// To a student: a badge unlocked.
    AchievementUnlocked,
    /// To a student: a new level.
    LevelUp,
    /// To every admin: a webhook endpoint was disabled after repeated failures.
    WebhookDisabled,
    /// To a student: their payment went through (and bought the course).
    PaymentReceived,
    /// To a student: (part of) their payment was refunded.
    PaymentRefunded,
    /// To a course's owner: a student bought the course.
    CourseSold,
}

impl NotificationType {
    pub const ALL: &[NotificationType] = &[
        Self::Enrolled,
        Self::EnrollmentCancelled,
        Self::CourseCompleted,
        Self::CoursePublished,
        Self::CourseArchived,
        Self::Announcement,
        Self::ClassScheduled,
        Self::ClassRescheduled,
        Self::ClassCancelled,
        Self::ClassStartingSoon,
        Self::ClassStarted,
        Self::TestPublished,
        Self::TestGraded,
        Self::ImportFinished,
        Self::StudentEnrolled,
        Self::DoubtAsked,
        Self::DoubtAnswered,
        Self::AnswerAccepted,
        Self::AttemptSubmitted,
        Self::CourseReviewed,
        Self::AchievementUnlocked,
        Self::LevelUp,
        Self::WebhookDisabled,
        Self::PaymentReceived,
        Self::PaymentRefunded,
        Self::CourseSold,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolled => "ENROLLED",
            Self::EnrollmentCancelled => "ENROLLMENT_CANCELLED",
            Self::CourseCompleted => "COURSE_COMPLETED",
            Self::CoursePublished => "COURSE_PUBLISHED",
            Self::CourseArchived => "COURSE_ARCHIVED",
            Self::Announcement => "ANNOUNCEMENT",
            Self::ClassScheduled => "CLASS_SCHEDULED",
            Self::ClassRescheduled => "CLASS_RESCHEDULED",
            Self::ClassCancelled => "CLASS_CANCELLED",
            Self::ClassStartingSoon => "CLASS_STARTING_SOON",
            Self::ClassStarted => "CLASS_STARTED",
            Self::TestPublished => "TEST_PUBLISHED",
            Self::TestGraded => "TEST_GRADED",
            Self::ImportFinished => "IMPORT_FINISHED",
            Self::StudentEnrolled => "STUDENT_ENROLLED",
            Self::DoubtAsked => "DOUBT_ASKED",
            Self::DoubtAnswered => "DOUBT_ANSWERED",
            Self::AnswerAccepted => "ANSWER_ACCEPTED",
            Self::AttemptSubmitted => "ATTEMPT_SUBMITTED",
            Self::CourseReviewed => "COURSE_REVIEWED",
            Self::AchievementUnlocked => "ACHIEVEMENT_UNLOCKED",
            Self::LevelUp => "LEVEL_UP",
            Self::WebhookDisabled => "WEBHOOK_DISABLED",
            Self::PaymentReceived => "PAYMENT_RECEIVED",
            Self::PaymentRefunded => "PAYMENT_REFUNDED",
            Self::CourseSold => "COURSE_SOLD",
        }
    }
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NotificationType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }
}

/// One notification as the REST API and the WebSocket send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Increasing; pass the last one seen as `since` when reconnecting.
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub title: String,
    pub message: String,
    /// Ids and facts of what happened (camelCase), for clients to link and format.
    pub data: Value,
    /// Where a web client opens it (`/courses/{id}`, `/live-classes/{id}`…).
    pub action_url: Option<String>,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

/// Filters of `GET /notifications`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct NotificationFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    /// Only unread ones.
    pub unread_only: Option<bool>,
}

/// `GET /notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    pub unread_count: u64,
    pub pagination: Pagination,
}

/// `GET /notifications/unread-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnreadCount {
    pub unread_count: u64,
}

/// `PATCH /notifications/read-all`: how many were marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarkedRead {
    pub marked: u64,
    pub unread_count: u64,
}

/// Quiet hours: local times in the preferences' time zone. `start` after `end` spans
/// midnight (`22:00`–`07:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuietHours {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
}

/// `GET` and `PUT /notifications/preferences`. A muted type creates no notification;
/// during quiet hours notifications are stored but not pushed until the hours end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationPreferences {
    pub muted_types: Vec<NotificationType>,
    pub quiet_hours: Option<QuietHours>,
    /// An IANA time zone (`Asia/Kolkata`); quiet hours and the times in messages use it.
    pub time_zone: String,
}

/// `PUT /notifications/preferences`: fields left out keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateNotificationPreferences {
    pub muted_types: Option<Vec<String>>,
    /// `null` turns quiet hours off.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<QuietHours>))]
    pub quiet_hours: Option<Option<QuietHours>>,
    pub time_zone: Option<String>,
}

/// `POST /courses/{id}/announcements`: a message from a course's staff to its students
/// (or one batch), delivered as an `ANNOUNCEMENT` notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAnnouncement {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub title: String,
    /// Up to 5000 characters.
    #[cfg_attr(
        feature = "server",
        schema(min_length = 1, max_length = 5000, pattern = r"\S")
    )]
    pub message: String,
    pub batch_id: Option<uuid::Uuid>,
}

/// An announcement as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub id: uuid::Uuid,
    pub course_id: uuid::Uuid,
    pub batch_id: Option<uuid::Uuid>,
    pub title: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}
