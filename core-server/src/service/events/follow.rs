//! Following the domain events with a cursor of one's own: the loop every consumer
//! that turns events into rows shares (webhook deliveries, activity).
//!
//! The cursor (the last event `seq` handled) is a row of `notification_cursor`, written
//! first in each batch's transaction: its lock queues a second instance's consumer on
//! PostgreSQL, and SQLite serialises writers. What a batch makes and the cursor's
//! advance commit together, so each event is handled exactly once whatever restarts or
//! instances. The loop drains at start, then on every announced event it has not
//! handled, on a lag, and every poll interval (events of other instances); a failed
//! batch wrote nothing and is tried again.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::broadcast::error::RecvError;

use crate::platform::state::AppState;
use crate::store::entity::{domain_event, notification_cursor};

/// Events handled per transaction.
const EVENT_BATCH: u64 = 200;

/// What a consumer does with a batch of events.
#[sea_orm::prelude::async_trait::async_trait]
pub trait Follower: Send + Sync + 'static {
    /// The cursor row's name in `notification_cursor`.
    const CURSOR: &'static str;

    /// Writes what `events` make in `txn`; how many rows it made.
    async fn handle(
        &self,
        state: &AppState,
        txn: &DatabaseTransaction,
        events: &[domain_event::Model],
    ) -> Result<usize, DbErr>;

    /// After a committed batch that made `made > 0` rows.
    fn made(&self, _state: &AppState, _made: usize) {}

    /// How often to look for other instances' events.
    fn poll_interval(&self, state: &AppState) -> Duration;
}

/// One batch: the cursor after it, whether events may remain, the rows made.
async fn handle_batch<F: Follower>(
    state: &AppState,
    follower: &F,
) -> Result<(i64, bool, usize), DbErr> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    notification_cursor::Entity::update_many()
        .col_expr(
            notification_cursor::Column::UpdatedAt,
            Expr::value(Utc::now()),
        )
        .filter(notification_cursor::Column::Name.eq(F::CURSOR))
        .exec(&txn)
        .await?;
    let cursor = notification_cursor::Entity::find_by_id(F::CURSOR.to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("notification_cursor row `{}`", F::CURSOR)))?;
    let events = domain_event::Entity::find()
        .filter(domain_event::Column::Seq.gt(cursor.event_seq))
        .order_by_asc(domain_event::Column::Seq)
        .limit(EVENT_BATCH)
        .all(&txn)
        .await?;
    let Some(last_seq) = events.last().map(|e| e.seq) else {
        txn.commit().await?;
        return Ok((cursor.event_seq, false, 0));
    };
    let made = follower.handle(state, &txn, &events).await?;
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::EventSeq, Expr::value(last_seq))
        .filter(notification_cursor::Column::Name.eq(F::CURSOR))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok((last_seq, events.len() as u64 == EVENT_BATCH, made))
}

/// Handles every event after the cursor; the cursor after them.
pub async fn drain<F: Follower>(state: &AppState, follower: &F) -> Result<i64, DbErr> {
    loop {
        let (last_seq, more, made) = handle_batch(state, follower).await?;
        if made > 0 {
            follower.made(state, made);
        }
        if !more {
            return Ok(last_seq);
        }
    }
}

/// The consumer task.
pub async fn run<F: Follower>(state: AppState, follower: F) {
    let mut events = state.events.subscribe();
    let mut tick = tokio::time::interval(follower.poll_interval(&state));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cursor = i64::MIN;
    let mut due = true;
    loop {
        if due {
            match drain(&state, &follower).await {
                Ok(c) => cursor = c,
                Err(err) => {
                    tracing::warn!(error = %err, consumer = F::CURSOR, "handling domain events failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            }
        }
        due = tokio::select! {
            received = events.recv() => match received {
                Ok(event) => event.seq > cursor,
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => true,
        };
    }
}
