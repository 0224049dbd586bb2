//! The Grading tab's requests: the queue, marks, the next ungraded answer, the choices
//! of the filter and the regrade view, and regrades.

use std::collections::BTreeSet;

use edupro_server::api::{
    Course, GradedAnswer, GradingQueue, NextUngraded, RegradeReport, Test, TestList,
};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::Net;
use crate::tui::action::grading::{
    CourseRef, GradingAction, GradingChoices, GradingEffect, QueueFilter,
};
use crate::tui::action::{Action, Answer, Failure};

/// The query of the queue and of `next`.
fn filter_query(filter: &QueueFilter) -> Vec<(&'static str, String)> {
    let mut query = vec![("blind", filter.blind.to_string())];
    if let Some(course) = filter.course {
        query.push(("courseId", course.to_string()));
    }
    if let Some(test) = filter.test {
        query.push(("testId", test.to_string()));
    }
    query
}

impl Net {
    pub(super) async fn run_grading(&self, effect: GradingEffect) -> Action {
        Action::Grading(match effect {
            GradingEffect::LoadQueue {
                generation,
                page,
                filter,
            } => {
                let mut query = filter_query(&filter);
                query.push(("page", page.to_string()));
                query.push(("limit", "100".into()));
                GradingAction::Queue {
                    generation,
                    answer: self.get::<GradingQueue>("/grading/queue", &query).await,
                }
            }
            GradingEffect::LoadChoices => GradingAction::Choices(self.grading_choices().await),
            GradingEffect::Grade {
                answer,
                marks,
                feedback,
            } => GradingAction::Graded(
                self.send::<GradedAnswer>(
                    Method::PUT,
                    &format!("/grading/answers/{answer}"),
                    json!({ "marks": marks, "feedback": feedback }),
                )
                .await,
            ),
            GradingEffect::Next { filter } => GradingAction::Next(
                self.get::<NextUngraded>("/grading/next", &filter_query(&filter))
                    .await,
            ),
            GradingEffect::Regrade { question, body } => GradingAction::Regraded(
                self.send::<RegradeReport>(
                    Method::POST,
                    &format!("/questions/{question}/regrade"),
                    body,
                )
                .await,
            ),
        })
    }

    /// The caller's tests (the first 100, with their questions) and their courses.
    async fn grading_choices(&self) -> Answer<GradingChoices> {
        let list: TestList = self.get("/tests", &[("limit", 100)]).await?;
        let ids: Vec<Uuid> = list.tests.iter().map(|t| t.id).collect();
        let tests = futures_util::future::try_join_all(
            ids.iter()
                .map(|id| async move { self.get::<Test>(&format!("/tests/{id}"), &()).await }),
        )
        .await?;
        let course_ids: BTreeSet<Uuid> = tests.iter().map(|t| t.course_id).collect();
        let mut courses =
            futures_util::future::try_join_all(course_ids.iter().map(|id| async move {
                let course: Course = self.get(&format!("/courses/{id}"), &()).await?;
                Ok::<_, Failure>(CourseRef {
                    id: course.id,
                    title: course.title,
                })
            }))
            .await?;
        courses.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(GradingChoices { courses, tests })
    }
}
