//! Domain events in, activity out: enrollments, completions, submissions, grades and
//! doubts become rows of the activity log, keyed by the event's id (so an event counts
//! once), in the transaction that advances the `activity` cursor.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::activity::{NewActivity, record};
use crate::api::ActivityKind;
use crate::domain::events::DomainEvent;
use crate::platform::state::AppState;
use crate::service::events::follow::{self, Follower};
use crate::store::entity::{domain_event, test, test_attempt};

/// Turns events into activity.
pub struct Activity;

#[sea_orm::prelude::async_trait::async_trait]
impl Follower for Activity {
    const CURSOR: &'static str = "activity";

    async fn handle(
        &self,
        _state: &AppState,
        txn: &DatabaseTransaction,
        events: &[domain_event::Model],
    ) -> Result<usize, DbErr> {
        let mut rows = Vec::new();
        let mut graded = Vec::new();
        for stored in events {
            let Ok(event) = DomainEvent::from_stored(&stored.kind, &stored.payload) else {
                continue;
            };
            let at = stored.created_at;
            let row = |user: Uuid, kind: ActivityKind, course: Uuid| NewActivity {
                course_id: Some(course),
                ..NewActivity::new(user, stored.id, kind, at)
            };
            match event {
                DomainEvent::CourseEnrolled(e) => {
                    rows.push(row(e.student_id, ActivityKind::Enrolled, e.course_id));
                }
                DomainEvent::EnrollmentCompleted(e) => {
                    rows.push(row(
                        e.student_id,
                        ActivityKind::CourseCompleted,
                        e.course_id,
                    ));
                }
                DomainEvent::AttemptSubmitted(e) => {
                    rows.push(row(e.student_id, ActivityKind::TestSubmitted, e.course_id));
                }
                DomainEvent::AttemptGraded(e) => {
                    graded.push((rows.len(), e.attempt_id));
                    rows.push(row(e.student_id, ActivityKind::TestGraded, e.course_id));
                }
                DomainEvent::DoubtAsked(e) => {
                    rows.push(row(e.asker_id, ActivityKind::DoubtAsked, e.course_id));
                }
                DomainEvent::DoubtAnswered(e) => {
                    let answerer = e.answerer_id.unwrap_or(e.actor_id);
                    rows.push(row(answerer, ActivityKind::DoubtAnswered, e.course_id));
                }
                _ => {}
            }
        }
        if !graded.is_empty() {
            let scores = percents(txn, graded.iter().map(|(_, id)| *id)).await?;
            for (index, attempt) in graded {
                rows[index].score = scores.get(&attempt).copied();
            }
        }
        record(txn, &rows).await?;
        Ok(rows.len())
    }

    fn poll_interval(&self, _state: &AppState) -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }
}

/// The graded attempts' scores in percent of their tests' marks (0–100).
async fn percents(
    txn: &DatabaseTransaction,
    attempts: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, i32>, DbErr> {
    let attempts = test_attempt::Entity::find()
        .filter(test_attempt::Column::Id.is_in(attempts))
        .all(txn)
        .await?;
    let totals: HashMap<Uuid, i64> = test::Entity::find()
        .filter(test::Column::Id.is_in(attempts.iter().map(|a| a.test_id)))
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.id, t.total_marks))
        .collect();
    Ok(attempts
        .into_iter()
        .filter_map(|a| {
            let total = *totals.get(&a.test_id)?;
            let score = a.score?;
            (total > 0).then(|| {
                (
                    a.id,
                    ((score.max(0) * 100 + total / 2) / total).min(100) as i32,
                )
            })
        })
        .collect())
}

/// The consumer task (see [`follow::run`]).
pub async fn run(state: AppState) {
    follow::run(state, Activity).await;
}
