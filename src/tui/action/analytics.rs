//! Requests and answers of the dashboards and analytics: each role's dashboard on
//! Today, a course's analytics and a student's (opened from a course's students at
//! risk, or from Today's).

use edupro_server::api::{
    AdminDashboard, CourseAnalytics, DateRange, Role, StudentAnalytics, StudentDashboard,
    TeacherDashboard,
};
use uuid::Uuid;

use super::Answer;

/// A request for a dashboard or an analytics page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalyticsEffect {
    /// `GET /dashboard/{student|teacher|admin}`: the signed-in user's, by their role
    /// (the admin's over `range`).
    LoadDashboard { role: Role, range: DateRange },
    /// `GET /analytics/course/{id}`.
    LoadCourse { course: Uuid, range: DateRange },
    /// `GET /analytics/student/{id}`.
    LoadStudent { student: Uuid, range: DateRange },
}

/// One role's dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Dashboard {
    Student(Box<StudentDashboard>),
    Teacher(Box<TeacherDashboard>),
    Admin(Box<AdminDashboard>),
}

/// An answer of the dashboards and analytics.
#[derive(Debug, Clone, PartialEq)]
pub enum AnalyticsAction {
    /// The answer to [`AnalyticsEffect::LoadDashboard`] (Today's).
    Dashboard(Answer<Dashboard>),
    /// A course's analytics; an answer for a course no longer shown is dropped.
    Course {
        course: Uuid,
        answer: Answer<Box<CourseAnalytics>>,
    },
    /// A student's analytics; an answer for a student no longer shown is dropped.
    Student {
        student: Uuid,
        answer: Answer<Box<StudentAnalytics>>,
    },
}
