//! The dashboards' and analytics' requests (all through `api/analytics.rs`).

use edupro_server::api::Role;

use super::Net;
use crate::tui::action::analytics::{AnalyticsAction, AnalyticsEffect, Dashboard};
use crate::tui::action::{Action, Failure};

impl Net {
    pub(super) async fn run_analytics(&self, effect: AnalyticsEffect) -> Action {
        Action::Analytics(match effect {
            AnalyticsEffect::LoadDashboard { role, range } => {
                AnalyticsAction::Dashboard(match role {
                    Role::Student => self
                        .with_client(|c| async move { c.dashboard_student().await })
                        .await
                        .map(|d| Dashboard::Student(Box::new(d))),
                    Role::Teacher => self
                        .with_client(|c| async move { c.dashboard_teacher().await })
                        .await
                        .map(|d| Dashboard::Teacher(Box::new(d))),
                    Role::Admin => self
                        .with_client(|c| async move { c.dashboard_admin(&range).await })
                        .await
                        .map(|d| Dashboard::Admin(Box::new(d))),
                    Role::Parent => Err(Failure::msg("parents have no dashboard")),
                })
            }
            AnalyticsEffect::LoadCourse { course, range } => AnalyticsAction::Course {
                course,
                answer: self
                    .with_client(|c| async move {
                        c.course_analytics(&course.to_string(), &range).await
                    })
                    .await
                    .map(Box::new),
            },
            AnalyticsEffect::LoadStudent { student, range } => AnalyticsAction::Student {
                student,
                answer: self
                    .with_client(|c| async move {
                        c.student_analytics(&student.to_string(), &range).await
                    })
                    .await
                    .map(Box::new),
            },
        })
    }
}
