//! Activity, dashboards and analytics: what each role needs to see, from the activity
//! log and its daily roll-ups.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Badge, EnrollmentStatus, PersonRef, RevenueTotal, Role};

wire_enum!(
    /// What one row of the activity log records.
    ActivityKind {
        SignIn = "SIGN_IN",
        LessonOpened = "LESSON_OPENED",
        LessonTime = "LESSON_TIME",
        LessonCompleted = "LESSON_COMPLETED",
        VideoWatched = "VIDEO_WATCHED",
        Enrolled = "ENROLLED",
        CourseCompleted = "COURSE_COMPLETED",
        TestStarted = "TEST_STARTED",
        TestSubmitted = "TEST_SUBMITTED",
        TestGraded = "TEST_GRADED",
        ClassJoined = "CLASS_JOINED",
        ClassLeft = "CLASS_LEFT",
        DoubtAsked = "DOUBT_ASKED",
        DoubtAnswered = "DOUBT_ANSWERED",
    }
);

wire_enum!(
    /// What a client heartbeat reports: time on a lesson's page, or time watching its
    /// video.
    HeartbeatKind { Lesson = "LESSON", Video = "VIDEO" }
);

/// One client heartbeat: the `seconds` before `at` were spent on the lesson (or its
/// video). Heartbeats of one kind never overlap: a second one claiming time already
/// counted is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Heartbeat {
    /// Chosen by the client (a UUID); sending the same heartbeat again changes nothing.
    pub id: Uuid,
    pub kind: HeartbeatKind,
    pub lesson_id: Uuid,
    /// When the interval ended: not in the future, at most 7 days ago.
    pub at: DateTime<Utc>,
    /// How long, 1–300 seconds.
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 300))]
    pub seconds: u32,
    /// The video's position at `at`, in seconds (video heartbeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 86400))]
    pub position: Option<u32>,
}

/// `POST /activity`: 1–100 heartbeats, all stored or (on any error) none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeartbeatBatch {
    pub heartbeats: Vec<Heartbeat>,
}

/// What `POST /activity` stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatReceipt {
    pub accepted: u32,
    /// Heartbeats already stored (sent again), left as they were.
    pub duplicates: u32,
}

/// One historical activity row (`POST /activity/import`, admins): another system's
/// history, or a demo's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityRecord {
    /// Chosen by the importer; importing the same row again changes nothing.
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: ActivityKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_id: Option<Uuid>,
    /// Time spent (LESSON_TIME, VIDEO_WATCHED, CLASS_LEFT), 0–86400.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 86400))]
    pub seconds: u32,
    /// A test's score in percent (TEST_SUBMITTED, TEST_GRADED), 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    pub score: Option<u32>,
    /// When it happened: in the past, within the activity retention.
    pub at: DateTime<Utc>,
}

/// `POST /activity/import`: 1–1000 rows, all stored or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityImport {
    pub rows: Vec<ActivityRecord>,
}

/// What `POST /activity/import` stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ActivityImportReceipt {
    pub imported: u32,
    pub duplicates: u32,
}

/// `POST /analytics/rollup` (admins): recompute the daily roll-ups now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RollupReport {
    /// Days recomputed.
    pub days: u32,
    /// Activity rows read.
    pub rows: u64,
    /// Raw rows older than the retention that were pruned.
    pub pruned: u64,
}

/// A date range for analytics: UTC days, both ends included. Defaults: the 30 days
/// ending today; at most 366 days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// One day of a series (UTC days). Days with nothing are present, with 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SeriesPoint {
    pub date: NaiveDate,
    pub value: i64,
}

/// One day of a count (the contract's `{ date, count }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    pub date: NaiveDate,
    pub count: i64,
}

/// A course named in a dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CourseLabel {
    pub id: Uuid,
    pub title: String,
}

// ---------------------------------------------------------------- student dashboard

/// The student dashboard's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentStats {
    /// ACTIVE and COMPLETED enrollments.
    pub enrolled_courses: i64,
    pub completed_courses: i64,
    #[serde(rename = "totalXP")]
    pub total_xp: i64,
    pub level: i32,
    pub current_streak: i32,
    pub longest_streak: i32,
    pub badges: Vec<Badge>,
}

/// A course the student is in, with their progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CourseProgressItem {
    pub course: CourseLabel,
    pub enrollment_id: Uuid,
    pub status: EnrollmentStatus,
    pub progress_percent: i32,
    pub last_accessed_at: Option<DateTime<Utc>>,
}

/// A live class to come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpcomingClass {
    pub id: Uuid,
    pub title: String,
    pub course: CourseLabel,
    pub scheduled_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A published test the student has not submitted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PendingTest {
    pub id: Uuid,
    pub title: String,
    pub course: CourseLabel,
    pub due_at: Option<DateTime<Utc>>,
}

/// A graded attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecentGrade {
    pub attempt_id: Uuid,
    pub test_id: Uuid,
    pub test_title: String,
    pub course: CourseLabel,
    pub percent: f64,
    pub passed: bool,
    pub graded_at: DateTime<Utc>,
}

/// `GET /dashboard/student`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentDashboard {
    pub stats: StudentStats,
    /// Most recently opened first, at most 5.
    pub recent_courses: Vec<CourseProgressItem>,
    /// Soonest first, at most 5.
    pub upcoming_classes: Vec<UpcomingClass>,
    /// Soonest due first (undated last), at most 10.
    pub pending_tests: Vec<PendingTest>,
    /// Newest first, at most 5.
    pub recent_grades: Vec<RecentGrade>,
    /// Seconds spent learning per day, the last 14 days.
    pub time_spent: Vec<SeriesPoint>,
}

// ---------------------------------------------------------------- teacher dashboard

/// The teacher dashboard's figures (over the courses they own or teach).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TeacherStats {
    pub total_courses: i64,
    /// Distinct students with an ACTIVE or COMPLETED enrollment.
    pub total_students: i64,
    /// Net of refunds, one entry per currency (money in several currencies is not one
    /// number).
    pub total_revenue: Vec<RevenueTotal>,
    /// Over the courses with reviews, weighted by review count; none without reviews.
    pub avg_rating: Option<f64>,
}

/// An enrollment into one of the teacher's courses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecentEnrollment {
    pub student: PersonRef,
    pub course: CourseLabel,
    pub enrolled_at: DateTime<Utc>,
}

/// Why a student is at risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AtRiskStudent {
    pub student: PersonRef,
    pub course: CourseLabel,
    pub progress_percent: i32,
    pub last_active_at: Option<DateTime<Utc>>,
    /// One line per reason: inactive N days, behind the cohort, failing tests.
    pub reasons: Vec<String>,
}

/// `GET /dashboard/teacher`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TeacherDashboard {
    pub stats: TeacherStats,
    /// Newest first, at most 10.
    pub recent_enrollments: Vec<RecentEnrollment>,
    /// Soonest first, at most 5.
    pub upcoming_classes: Vec<UpcomingClass>,
    /// Answers waiting for marks.
    pub pending_reviews: i64,
    /// Doubts nobody on the staff has answered.
    pub unanswered_doubts: i64,
    /// Most reasons first, at most 20.
    pub students_at_risk: Vec<AtRiskStudent>,
    /// Students active per day in the teacher's courses, the last 14 days.
    pub active_students: Vec<SeriesPoint>,
}

// ---------------------------------------------------------------- admin dashboard

/// How many active accounts have one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoleCount {
    pub role: Role,
    pub count: i64,
}

/// The admin dashboard's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminStats {
    pub total_users: i64,
    pub total_courses: i64,
    pub total_revenue: Vec<RevenueTotal>,
    /// Users active in the last 30 days (MAU).
    pub active_users: i64,
    pub users_by_role: Vec<RoleCount>,
    pub dau: i64,
    pub wau: i64,
    pub mau: i64,
}

/// A newly registered user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecentUser {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A course ranked by enrollments in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TopCourse {
    pub course: CourseLabel,
    pub enrollments: i64,
    pub total_students: i64,
    pub rating: f64,
}

/// Net revenue per day in one currency (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevenueSeries {
    pub currency: String,
    pub points: Vec<SeriesPoint>,
}

/// A recent import run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportRunLine {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub created: i64,
    pub updated: i64,
    pub failed: i64,
    pub started_at: DateTime<Utc>,
}

/// The state of the server's own work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SystemHealth {
    /// Mails waiting in the outbox.
    pub mail_queued: i64,
    /// Webhook deliveries waiting.
    pub webhooks_pending: i64,
    /// Webhook deliveries that gave up.
    pub webhooks_failed: i64,
    /// Domain events not yet turned into notifications.
    pub events_behind: i64,
    /// When the roll-ups last ran.
    pub rolled_up_at: Option<DateTime<Utc>>,
}

/// `GET /dashboard/admin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminDashboard {
    pub stats: AdminStats,
    /// Newest first, at most 10.
    pub recent_users: Vec<RecentUser>,
    /// Most enrollments in the range first, at most 5.
    pub top_courses: Vec<TopCourse>,
    /// Net revenue per day and currency in the range.
    pub revenue_chart: Vec<RevenueSeries>,
    /// Accounts created per day in the range.
    pub signups: Vec<SeriesPoint>,
    /// Distinct active users per day in the range.
    pub daily_active: Vec<SeriesPoint>,
    /// Newest first, at most 5.
    pub import_runs: Vec<ImportRunLine>,
    pub health: SystemHealth,
}

// ---------------------------------------------------------------- course analytics

/// One published lesson in the course's order, with how far students got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LessonFunnelStep {
    pub lesson_id: Uuid,
    pub title: String,
    /// Students who completed it.
    pub completed: i64,
    /// Completed ÷ enrolled students, 0–100.
    pub completion_rate: f64,
    /// Seconds spent on it in the range (all students).
    pub time_spent: i64,
    /// Seconds of its video watched in the range.
    pub watch_time: i64,
}

/// How a test's graded attempts scored: ten buckets of 10 % (the last includes 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScoreDistribution {
    pub test_id: Uuid,
    pub title: String,
    pub attempts: i64,
    pub average: Option<f64>,
    pub buckets: Vec<i64>,
}

/// The contract's engagement figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentEngagement {
    /// Seconds per enrolled student in the range.
    pub avg_time_spent: f64,
    pub avg_progress: f64,
}

/// `GET /analytics/course/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CourseAnalytics {
    pub course: CourseLabel,
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// ACTIVE and COMPLETED enrollments now.
    pub total_enrollments: i64,
    /// COMPLETED ÷ (ACTIVE + COMPLETED), 0–100.
    pub completion_rate: f64,
    pub avg_rating: f64,
    pub total_revenue: Vec<RevenueTotal>,
    pub enrollment_trend: Vec<DayCount>,
    pub active_students: Vec<SeriesPoint>,
    /// Seconds on lessons per day.
    pub time_spent: Vec<SeriesPoint>,
    /// Seconds of video per day.
    pub watch_time: Vec<SeriesPoint>,
    /// The per-lesson funnel, in the course's order.
    pub funnel: Vec<LessonFunnelStep>,
    /// The lessons with the highest completion rate, at most 5.
    pub top_performing_lessons: Vec<LessonFunnelStep>,
    pub score_distribution: Vec<ScoreDistribution>,
    /// Attendance ÷ expected seats over the range's ended classes, 0–100; none
    /// without classes.
    pub attendance_rate: Option<f64>,
    pub student_engagement: StudentEngagement,
    pub students_at_risk: Vec<AtRiskStudent>,
}

// ---------------------------------------------------------------- student analytics

/// A student's standing in one course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentCourseProgress {
    pub course: CourseLabel,
    pub status: EnrollmentStatus,
    pub progress_percent: i32,
    /// Seconds on this course in the range.
    pub time_spent: i64,
    pub average_score: Option<f64>,
}

/// The contract's `testScores`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TestScores {
    pub average: Option<f64>,
    pub highest: Option<f64>,
    pub lowest: Option<f64>,
    pub graded: i64,
}

/// A graded attempt on the student's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScorePoint {
    pub date: NaiveDate,
    pub test_title: String,
    pub percent: f64,
}

/// A category and the student's average there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SubjectScore {
    pub subject: String,
    pub average: f64,
    pub graded: i64,
}

/// Classes attended against classes held for the student's courses in the range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attendance {
    pub attended: i64,
    pub held: i64,
    pub rate: Option<f64>,
}

/// `GET /analytics/student/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentAnalytics {
    pub student: PersonRef,
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// The average progress over the courses shown, 0–100.
    pub overall_progress: f64,
    pub courses_completed: i64,
    pub courses_in_progress: i64,
    #[serde(rename = "totalXP")]
    pub total_xp: i64,
    pub test_scores: TestScores,
    pub learning_streak: i32,
    pub longest_streak: i32,
    /// Seconds in the range.
    pub time_spent: i64,
    /// Seconds per day.
    pub time_series: Vec<SeriesPoint>,
    pub scores: Vec<ScorePoint>,
    pub attendance: Attendance,
    pub courses: Vec<StudentCourseProgress>,
    /// Categories averaging 75 % or more, best first.
    pub strong_subjects: Vec<SubjectScore>,
    /// Categories averaging under 50 %, weakest first.
    pub weak_subjects: Vec<SubjectScore>,
}

/// `GET /analytics/student/{id}` and `/analytics/course/{id}` as CSV, and
/// `edupro stats school`: every series as rows of `series,date,value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SeriesRow {
    pub series: String,
    pub date: NaiveDate,
    pub value: i64,
}
