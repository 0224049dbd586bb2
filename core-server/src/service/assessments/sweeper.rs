//! The deadline sweeper: attempts still open when their deadline passes are submitted
//! with the answers saved before it, by a background task and by the next read.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{finalize, find_test, lock_open_attempt, questions_of};
use crate::api::AttemptStatus;
use crate::error::ApiError;
use crate::store::entity::{test, test_attempt, test_question};

/// How often the background sweep submits attempts whose deadline has passed.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Submits, each in its own transaction, the open attempts whose deadline has passed
/// (of one test, or of all tests). Returns how many it submitted.
pub async fn close_overdue(
    db: &DatabaseConnection,
    test_id: Option<Uuid>,
) -> Result<u64, ApiError> {
    let now = Utc::now();
    let mut query = test_attempt::Entity::find()
        .filter(test_attempt::Column::Status.eq(AttemptStatus::InProgress.as_str()))
        .filter(test_attempt::Column::Deadline.lte(now));
    if let Some(id) = test_id {
        query = query.filter(test_attempt::Column::TestId.eq(id));
    }
    let overdue = query.limit(1000).all(db).await?;
    let mut tests: HashMap<Uuid, (test::Model, Vec<test_question::Model>)> = HashMap::new();
    let mut closed = 0;
    for attempt in overdue {
        if !tests.contains_key(&attempt.test_id) {
            let t = find_test(db, attempt.test_id).await?;
            let qs = questions_of(db, t.id).await?;
            tests.insert(t.id, (t, qs));
        }
        let Some((t, qs)) = tests.get(&attempt.test_id) else {
            continue;
        };
        let txn = crate::store::db::begin_write(db).await?;
        if lock_open_attempt(&txn, attempt.id).await? {
            // The event is announced by the notification consumer's next poll: the
            // sweep has no bus of its own.
            finalize(&txn, t, &attempt, qs, true, None).await?;
            // A cached session shows the new XP once it expires (the sweep has no
            // AppState to drop it with).
            crate::service::gamification::settle_test(&txn, t, &[attempt.student_id]).await?;
            closed += 1;
        }
        txn.commit().await?;
    }
    Ok(closed)
}

/// Submits overdue attempts every [`SWEEP_EVERY`] for as long as the server runs.
pub fn spawn_sweeper(
    background: &crate::platform::state::Background,
    db: DatabaseConnection,
    leadership: crate::store::leader::Leadership,
) {
    background.spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            if !leadership.runs("deadline_sweep") {
                continue;
            }
            match close_overdue(&db, None).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(attempts = n, "submitted attempts whose deadline passed"),
                Err(err) => tracing::warn!(error = %err, "deadline sweep failed"),
            }
        }
    });
}
