//! The reminder scheduler: `live_class.starting_soon`, `reminderMinutes` before each
//! class, exactly once — across restarts and across instances.
//!
//! Each pass finds scheduled classes whose `remind_at` has come and whose start has
//! not, with no `reminder_sent_at`. For each it opens a transaction whose first
//! statement is a conditional `UPDATE … SET reminder_sent_at = now WHERE id = ? AND
//! reminder_sent_at IS NULL AND status = 'SCHEDULED'`; only when that changed a row does
//! it publish the event, in the same transaction. The mark and the event commit
//! together or not at all: a crash before the commit leaves neither (the next pass, on
//! any instance, sends it); after it, both. Two instances racing for one class queue on
//! the row lock (PostgreSQL re-checks the condition after the first commits; SQLite
//! serialises writers), so exactly one UPDATE changes a row. A reschedule clears
//! `reminder_sent_at`, so the new time gets its own reminder.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::api::LiveClassStatus;
use crate::domain::events::{DomainEvent, LiveClassChange};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::events;
use crate::store::entity::live_class;

/// Classes handled per pass (the next pass takes the rest).
const PASS_LIMIT: u64 = 200;

/// Sends every reminder that is due; how many this call sent.
pub async fn send_due(state: &AppState) -> Result<usize, ApiError> {
    let now = Utc::now();
    let due: Vec<uuid::Uuid> = live_class::Entity::find()
        .select_only()
        .column(live_class::Column::Id)
        .filter(live_class::Column::Status.eq(LiveClassStatus::Scheduled.as_str()))
        .filter(live_class::Column::ReminderSentAt.is_null())
        .filter(live_class::Column::RemindAt.lte(now))
        .filter(live_class::Column::ScheduledAt.gt(now))
        .order_by_asc(live_class::Column::RemindAt)
        .limit(PASS_LIMIT)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for id in due {
        let txn = crate::store::db::begin_write(&state.db).await?;
        let now = Utc::now();
        let claimed = live_class::Entity::update_many()
            .col_expr(live_class::Column::ReminderSentAt, Expr::value(Some(now)))
            .filter(live_class::Column::Id.eq(id))
            .filter(live_class::Column::ReminderSentAt.is_null())
            .filter(live_class::Column::Status.eq(LiveClassStatus::Scheduled.as_str()))
            .filter(live_class::Column::RemindAt.lte(now))
            .filter(live_class::Column::ScheduledAt.gt(now))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let class = super::find(&txn, id).await?;
        let event = DomainEvent::LiveClassStartingSoon(LiveClassChange {
            reminder_minutes: Some(class.reminder_minutes),
            ..super::change(&class, None)
        });
        let stored = events::publish(&txn, event).await?;
        txn.commit().await?;
        state.events.announce([stored]);
        sent += 1;
    }
    Ok(sent)
}

/// The scheduler task: a pass every notification poll interval, for as long as the
/// server runs. A failed pass is logged and retried on the next tick.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.realtime.settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !state.leadership.runs("reminders") {
            continue;
        }
        match send_due(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminders = n, "live-class reminders sent"),
            Err(err) => {
                tracing::warn!(error = %err, "sending live-class reminders failed; will retry")
            }
        }
    }
}
