//! The Grading tab's requests: the queue, marks, the next ungraded answer, the choices
//! of the filter and the regrade view, and regrades.

use std::collections::BTreeSet;

use edupro_server::api::{GradeAnswer, GradingFilter, Regrade};
use uuid::Uuid;

use super::Net;
use crate::api::{self, read_body};
use crate::tui::action::grading::{
    CourseRef, GradingAction, GradingChoices, GradingEffect, QueueFilter,
};
use crate::tui::action::{Action, Answer, Failure};

/// The filter of the queue and of `next`.
fn grading_filter(filter: &QueueFilter) -> GradingFilter {
    GradingFilter {
        course_id: filter.course,
        test_id: filter.test,
        blind: filter.blind,
        ..GradingFilter::default()
    }
}

impl Net {
    pub(super) async fn run_grading(&self, effect: GradingEffect) -> Action {
        Action::Grading(match effect {
            GradingEffect::LoadQueue {
                generation,
                page,
                filter,
            } => {
                let filter = grading_filter(&filter);
                GradingAction::Queue {
                    generation,
                    answer: self
                        .with_client(|c| async move {
                            c.grading_queue(&filter, api::page(page, 100)).await
                        })
                        .await,
                }
            }
            GradingEffect::LoadChoices => GradingAction::Choices(self.grading_choices().await),
            GradingEffect::Grade {
                answer,
                marks,
                feedback,
            } => GradingAction::Graded(
                self.with_client(|c| async move {
                    c.grade_answer(answer, &GradeAnswer { marks, feedback })
                        .await
                })
                .await,
            ),
            GradingEffect::Next { filter } => {
                let filter = grading_filter(&filter);
                GradingAction::Next(
                    self.with_client(|c| async move { c.next_ungraded(&filter).await })
                        .await,
                )
            }
            GradingEffect::Regrade { question, body } => GradingAction::Regraded(
                self.with_client(|c| async move {
                    let body: Regrade = read_body(body)?;
                    c.regrade(question, &body).await
                })
                .await,
            ),
        })
    }

    /// The caller's tests (the first 100, with their questions) and their courses.
    async fn grading_choices(&self) -> Answer<GradingChoices> {
        let client = self.client()?;
        let list = client.tests(None, api::first(100)).await?;
        let ids: Vec<Uuid> = list.tests.iter().map(|t| t.id).collect();
        let client = &client;
        let tests =
            futures_util::future::try_join_all(ids.iter().map(|id| client.test(*id))).await?;
        let course_ids: BTreeSet<Uuid> = tests.iter().map(|t| t.course_id).collect();
        let mut courses =
            futures_util::future::try_join_all(course_ids.iter().map(|id| async move {
                let course = client.course(&id.to_string()).await?;
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
