//! Enrollments, lesson progress and batches (cohorts) of a course.
//!
//! `progress` is a whole percentage (0–100) of the course's published lessons the
//! student has completed, rounded down; `timeSpent` is seconds.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::{CourseStatus, Pagination};

/// Where an enrollment stands. ACTIVE and COMPLETED enrollments open the course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnrollmentStatus {
    Active,
    Completed,
    Expired,
    Cancelled,
}

impl EnrollmentStatus {
    pub const ALL: &[EnrollmentStatus] = &[
        Self::Active,
        Self::Completed,
        Self::Expired,
        Self::Cancelled,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Completed => "COMPLETED",
            Self::Expired => "EXPIRED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Whether the student may open the course (ACTIVE or COMPLETED).
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Completed)
    }
}

impl fmt::Display for EnrollmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnrollmentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("`{s}` is not one of ACTIVE, COMPLETED, EXPIRED, CANCELLED"))
    }
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// `POST /enrollments`: a student enrolls in a course. `paymentId` is for paid courses,
/// once payments exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEnrollment {
    pub course_id: Uuid,
    pub payment_id: Option<String>,
}

/// `POST /enrollments` and `POST /courses/{id}/enrollments` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedEnrollment {
    pub enrollment_id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub enrolled_at: DateTime<Utc>,
    pub progress: i32,
    pub status: EnrollmentStatus,
    pub batch_id: Option<Uuid>,
}

/// `POST /courses/{id}/enrollments` (staff or admin): enroll a student, optionally
/// straight into a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaffEnrollment {
    pub student_id: Uuid,
    pub batch_id: Option<Uuid>,
}

/// A student as rosters show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentRef {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// One row of a course's roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CourseEnrollment {
    pub id: Uuid,
    pub course_id: Uuid,
    pub student: StudentRef,
    pub status: EnrollmentStatus,
    pub progress: i32,
    pub enrolled_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub last_accessed_at: Option<DateTime<Utc>>,
    pub batch_id: Option<Uuid>,
}

/// Filters of `GET /courses/{id}/enrollments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    pub status: Option<EnrollmentStatus>,
    /// A batch id: only its members.
    pub batch: Option<Uuid>,
}

/// `GET /courses/{id}/enrollments`: a page of the roster, oldest enrollment first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CourseEnrollmentList {
    pub enrollments: Vec<CourseEnrollment>,
    pub pagination: Pagination,
}

/// The course of one of my enrollments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyCourseRef {
    pub title: String,
    pub slug: String,
    pub thumbnail: Option<String>,
    pub status: CourseStatus,
}

/// One of the caller's enrollments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyEnrollment {
    pub id: Uuid,
    pub course_id: Uuid,
    pub status: EnrollmentStatus,
    pub progress: i32,
    pub enrolled_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub last_accessed_at: Option<DateTime<Utc>>,
    pub batch_id: Option<Uuid>,
    pub course: MyCourseRef,
}

/// Filters of `GET /enrollments/my-courses`. Without `status`, everything but
/// CANCELLED enrollments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct MyCoursesFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    pub status: Option<EnrollmentStatus>,
}

/// `GET /enrollments/my-courses`: most recently enrolled first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyCourses {
    pub enrollments: Vec<MyEnrollment>,
    pub pagination: Pagination,
}

/// `POST /enrollments/{id}/progress`: the student finished (or un-finished) a lesson
/// and spent `timeSpent` more seconds on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgressInput {
    pub lesson_id: Uuid,
    pub completed: bool,
    /// Seconds spent since the last report, 0–86400.
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 86400))]
    pub time_spent: Option<i64>,
}

/// One lesson's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LessonProgress {
    pub lesson_id: Uuid,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    /// Seconds, summed over every report.
    pub time_spent: i64,
}

/// `POST /enrollments/{id}/progress` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProgressUpdate {
    pub lesson_progress: LessonProgress,
    /// The course's progress, 0–100.
    pub course_progress: i32,
    /// XP this report earned: 10 for a lesson's first completion, else 0.
    pub xp_earned: i64,
    pub status: EnrollmentStatus,
}

/// A batch (cohort) of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub id: Uuid,
    pub course_id: Uuid,
    pub name: String,
    /// Seats; `null` is unlimited.
    pub capacity: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Members now.
    pub members: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /courses/{id}/batches`: by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchList {
    pub batches: Vec<Batch>,
}

/// `POST /courses/{id}/batches` (staff or admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewBatch {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub name: String,
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100000))]
    pub capacity: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

/// `PATCH /batches/{id}` (staff or admin): any field; `null` clears capacity or a date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBatch {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<i32>, minimum = 1, maximum = 100000))]
    pub capacity: Option<Option<i32>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<NaiveDate>))]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<NaiveDate>))]
    pub ends_on: Option<Option<NaiveDate>>,
}

/// `POST /batches/{id}/members`: a student enrolled in the batch's course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewBatchMember {
    pub student_id: Uuid,
}

/// A member of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchMember {
    pub enrollment_id: Uuid,
    pub student: StudentRef,
    pub status: EnrollmentStatus,
    pub progress: i32,
}

/// `GET /batches/{id}/members`: by last name, first name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchMembers {
    pub members: Vec<BatchMember>,
}

/// `DELETE /batches/{id}/members/{student_id}`: who left which batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberRemoved {
    pub batch_id: Uuid,
    pub student_id: Uuid,
}
