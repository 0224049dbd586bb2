//! What flows through the update loop: [`Effect`]s are requests the app makes (run by
//! [`super::net`] in tasks), [`Action`]s are what comes back (answers, ticks, resizes).
//! Keys become [`super::keymap::Command`]s before they reach a view.

pub mod analytics;
pub mod doubts;
pub mod grading;
pub mod live;

use edupro_server::api::{
    Course, CourseEnrollmentList, CourseList, FieldError, ImportCounts, ImportKind, ImportMode,
    ImportRow, ImportSummary, LiveClassList, MarkedRead, Notification, NotificationList, Role,
    User, UserList,
};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ClientError;

/// A failed request as the TUI shows it: a status-line message, and per-field problems
/// for forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub status: Option<u16>,
    pub fields: Vec<FieldError>,
    /// The server could not be reached at all.
    pub offline: bool,
}

impl Failure {
    pub fn msg(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: None,
            fields: Vec::new(),
            offline: false,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::Api {
                status,
                message,
                errors,
            } => Self {
                message,
                status: Some(status),
                fields: errors,
                offline: false,
            },
            ClientError::Unreachable { .. } => Self {
                message: err.to_string(),
                status: None,
                fields: Vec::new(),
                offline: true,
            },
            other => Self::msg(other.to_string()),
        }
    }
}

/// The answer of a request.
pub type Answer<T> = Result<T, Failure>;

/// Where a form's body goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveTarget {
    NewCourse,
    EditCourse(Uuid),
    NewSection { course: Uuid },
    EditSection(Uuid),
    NewLesson { section: Uuid },
    EditLesson(Uuid),
}

/// A request for the network layer. `generation` lets a view drop stale answers (an
/// older search's page arriving after a newer one).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Login {
        email: String,
        password: String,
    },
    VerifyMfa {
        challenge: String,
        code: String,
    },
    /// Who the stored credentials belong to.
    Me,
    Ping,
    LoadToday {
        role: Role,
        me: Uuid,
    },
    LoadCourses {
        generation: u64,
        page: u64,
        search: String,
    },
    LoadCourse {
        id: Uuid,
    },
    LoadRoster {
        generation: u64,
        course: Uuid,
        page: u64,
    },
    Save {
        target: SaveTarget,
        body: Value,
    },
    /// A whole lesson (with its content and URL), to edit it.
    LoadLesson {
        id: Uuid,
    },
    MoveSection {
        course: Uuid,
        section: Uuid,
        position: i64,
    },
    MoveLesson {
        course: Uuid,
        lesson: Uuid,
        position: i64,
    },
    SetCourseStatus {
        course: Uuid,
        publish: bool,
    },
    LoadUsers {
        generation: u64,
        page: u64,
        search: String,
    },
    ChangeRole {
        user: Uuid,
        role: Role,
    },
    SetActive {
        user: Uuid,
        active: bool,
    },
    Import {
        path: String,
        kind: ImportKind,
        mode: ImportMode,
    },
    /// A page of the notification feed (newest first).
    LoadNotifications {
        generation: u64,
        page: u64,
    },
    MarkRead {
        id: i64,
    },
    MarkAllRead,
    /// Keep the WebSocket open from now on, resuming after `since` (after the newest
    /// notification now when `None`). Its events arrive as [`Action::Realtime`].
    Watch {
        since: Option<i64>,
    },
    /// Today: the next few scheduled live classes.
    LoadUpcoming,
    /// Today: how many answers wait for marks.
    LoadGradingCount,
    /// Today: how many doubts wait for an answer.
    LoadDoubtCount,
    /// Today (staff): revenue, net of refunds.
    LoadRevenue,
    Live(live::LiveEffect),
    Grading(grading::GradingEffect),
    Doubts(doubts::DoubtsEffect),
    Analytics(analytics::AnalyticsEffect),
}

/// Today's list of courses (teachers and parents; the other roles' dashboards name
/// theirs).
#[derive(Debug, Clone, PartialEq)]
pub struct TodayData {
    /// The caller's courses (owned, for teachers), newest first.
    pub courses: Vec<Course>,
    pub total_courses: u64,
}

/// Today's revenue (staff) in one currency, net of refunds, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyNet {
    pub currency: String,
    /// This month's (UTC).
    pub month: i64,
    /// All time's.
    pub total: i64,
}

/// Each currency of `report`'s totals, with its net in `month` (`2026-12`, UTC) and in
/// all: zero where nothing was sold, nothing made up.
pub fn revenue_by_currency(
    report: &edupro_server::api::RevenueReport,
    month: &str,
) -> Vec<CurrencyNet> {
    report
        .totals
        .iter()
        .map(|t| CurrencyNet {
            currency: t.currency.clone(),
            month: report
                .rows
                .iter()
                .filter(|r| r.month == month && r.currency == t.currency)
                .map(|r| r.net)
                .sum(),
            total: t.net,
        })
        .collect()
}

/// Something that happened: an answer, a tick, a resize.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Drives the spinner and the connection check.
    Tick,
    Resize(u16, u16),
    /// Signed in (by the login screen, or stored credentials that still work).
    SignedIn(User),
    /// The stored credentials are missing or no longer work.
    SignInNeeded(Option<String>),
    LoginRefused(Failure),
    MfaRequired {
        challenge: String,
    },
    Reachable(bool),
    Today(Answer<TodayData>),
    Courses {
        generation: u64,
        answer: Answer<CourseList>,
    },
    Course(Answer<Course>),
    Roster {
        generation: u64,
        answer: Answer<CourseEnrollmentList>,
    },
    Saved {
        target: SaveTarget,
        answer: Answer<String>,
    },
    /// The answer to [`Effect::LoadLesson`].
    Lesson(Answer<edupro_server::api::Lesson>),
    /// A course status change, a move: the course as it is now.
    CourseChanged(Answer<(String, Course)>),
    Users {
        generation: u64,
        answer: Answer<UserList>,
    },
    UserChanged(Answer<(String, User)>),
    ImportProgress {
        counts: ImportCounts,
        /// Rows that failed since the last progress report.
        errors: Vec<ImportRow>,
    },
    ImportDone(Answer<ImportSummary>),
    Notifications {
        generation: u64,
        answer: Answer<NotificationList>,
    },
    MarkedRead(Answer<Notification>),
    MarkedAllRead(Answer<MarkedRead>),
    /// What the WebSocket task reports (not an answer to a request).
    Realtime(Realtime),
    Upcoming(Answer<LiveClassList>),
    GradingCount(Answer<u64>),
    DoubtCount(Answer<u64>),
    /// The answer to [`Effect::LoadRevenue`].
    Revenue(Answer<Vec<CurrencyNet>>),
    /// A note from the network layer (a credential-store warning).
    Note(String),
    Live(live::LiveAction),
    Grading(grading::GradingAction),
    Doubts(doubts::DoubtsAction),
    Analytics(analytics::AnalyticsAction),
}

impl Action {
    /// Whether this answer changed something Today shows (its courses, enrollments,
    /// upcoming classes, grading queue or doubts waiting), so Today reads them again.
    pub fn changes_today(&self) -> bool {
        match self {
            Self::Live(
                live::LiveAction::Scheduled(Ok(_))
                | live::LiveAction::Rescheduled(Ok(_))
                | live::LiveAction::Changed(Ok(_)),
            ) => true,
            Self::Grading(
                grading::GradingAction::Graded(Ok(_)) | grading::GradingAction::Regraded(Ok(_)),
            ) => true,
            Self::Doubts(
                doubts::DoubtsAction::Answered { answer: Ok(_), .. }
                | doubts::DoubtsAction::Hidden { answer: Ok(_), .. },
            ) => true,
            Self::CourseChanged(Ok(_)) | Self::ImportDone(Ok(_)) => true,
            Self::Saved { answer, .. } => answer.is_ok(),
            _ => false,
        }
    }

    /// Whether this ends a request the app counted as pending.
    pub fn ends_request(&self) -> bool {
        if let Self::Live(live) = self {
            return live.ends_request();
        }
        !matches!(
            self,
            Self::Tick
                | Self::Resize(..)
                | Self::Reachable(_)
                | Self::ImportProgress { .. }
                | Self::Note(_)
                | Self::Realtime(_)
        )
    }
}

/// What the WebSocket task reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Realtime {
    /// The task started (the answer to [`Effect::Watch`]); what it reports itself
    /// may already have come in, so this changes nothing shown.
    Started,
    /// Connected (again); everything after `since` follows.
    Connected { since: i64 },
    /// A notification not seen before (the task de-duplicates by id).
    Notification(Box<Notification>),
    /// The connection dropped; the task retries in `retry_in`.
    Disconnected {
        reason: String,
        retry_in: std::time::Duration,
    },
    /// The server refused the credentials: the task has stopped.
    Ended(Failure),
}

impl Effect {
    /// Whether the spinner should turn while this runs.
    pub fn shows_spinner(&self) -> bool {
        if let Self::Live(live) = self {
            return live.shows_spinner();
        }
        !matches!(self, Self::Ping | Self::Watch { .. })
    }
}
