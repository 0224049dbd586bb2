//! Domain events in, webhook deliveries out, exactly once: the outbox's writer.
//!
//! Like the notification consumer, its cursor (the last event `seq` handled) is a row of
//! `notification_cursor` (named `webhooks`), written first in each batch's transaction
//! (its lock queues a second instance's consumer on PostgreSQL; SQLite serialises
//! writers); the deliveries and the cursor's advance commit together. It works from the
//! stored kind and payload alone, so any event — including one added later — reaches
//! the endpoints subscribed to its name.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::api::WebhookDeliveryStatus;
use crate::domain::WebhookEvents;
use crate::platform::state::AppState;
use crate::store::entity::{domain_event, notification_cursor, webhook_delivery, webhook_endpoint};

/// The cursor row's name.
const CURSOR: &str = "webhooks";
/// Events handled per transaction.
const EVENT_BATCH: u64 = 200;
/// Rows per insert statement (17 parameters each).
const INSERT_CHUNK: usize = 500;

/// What one batch did: the cursor after it, whether events may remain, rows made.
struct Handled {
    last_seq: i64,
    more: bool,
    made: usize,
}

async fn handle_batch(state: &AppState) -> Result<Handled, DbErr> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    let now = Utc::now();
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::UpdatedAt, Expr::value(now))
        .filter(notification_cursor::Column::Name.eq(CURSOR))
        .exec(&txn)
        .await?;
    let cursor = notification_cursor::Entity::find_by_id(CURSOR.to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("notification_cursor row `webhooks`".into()))?;
    let events = domain_event::Entity::find()
        .filter(domain_event::Column::Seq.gt(cursor.event_seq))
        .order_by_asc(domain_event::Column::Seq)
        .limit(EVENT_BATCH)
        .all(&txn)
        .await?;
    let Some(last_seq) = events.last().map(|e| e.seq) else {
        txn.commit().await?;
        return Ok(Handled {
            last_seq: cursor.event_seq,
            more: false,
            made: 0,
        });
    };
    let endpoints: Vec<(Uuid, Vec<String>)> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Active.eq(true))
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| (e.id, super::subscribed(&e.events)))
        .collect();
    let give_up = now
        + chrono::Duration::from_std(state.settings.webhooks.retry_window)
            .unwrap_or(chrono::Duration::hours(24));
    let mut rows = Vec::new();
    for event in &events {
        for (endpoint, types) in &endpoints {
            if !WebhookEvents::matches(types, &event.kind) {
                continue;
            }
            rows.push(webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                endpoint_id: Set(*endpoint),
                event_seq: Set(Some(event.seq)),
                event_id: Set(Some(event.id)),
                event_type: Set(event.kind.clone()),
                body: Set(super::body(
                    event.id,
                    &event.kind,
                    event.created_at,
                    &event.payload,
                )),
                status: Set(WebhookDeliveryStatus::Pending),
                attempts: Set(0),
                next_attempt_at: Set(Some(now)),
                give_up_at: Set(give_up),
                claimed_by: Set(None),
                claim_token: Set(None),
                lease_until: Set(None),
                last_status_code: Set(None),
                last_error: Set(None),
                delivered_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    let made = rows.len();
    for chunk in rows.chunks(INSERT_CHUNK) {
        webhook_delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::EventSeq, Expr::value(last_seq))
        .filter(notification_cursor::Column::Name.eq(CURSOR))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    if made > 0 {
        tracing::debug!(
            events = events.len(),
            deliveries = made,
            "webhook deliveries queued"
        );
    }
    Ok(Handled {
        last_seq,
        more: events.len() as u64 == EVENT_BATCH,
        made,
    })
}

/// Handles every event after the cursor; the cursor after them.
async fn drain(state: &AppState) -> Result<i64, DbErr> {
    loop {
        let handled = handle_batch(state).await?;
        if handled.made > 0 {
            state.webhooks.wake();
        }
        if !handled.more {
            return Ok(handled.last_seq);
        }
    }
}

/// The consumer task: drains at start, then on every announced event it has not handled
/// yet, on a lag, and every poll interval (events of other instances). A failed batch
/// wrote nothing and is tried again.
pub async fn run(state: AppState) {
    let mut events = state.events.subscribe();
    let mut tick = tokio::time::interval(state.settings.webhooks.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cursor = i64::MIN;
    let mut due = true;
    loop {
        if due {
            match drain(&state).await {
                Ok(c) => cursor = c,
                Err(err) => {
                    tracing::warn!(error = %err, "queueing webhook deliveries failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
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
