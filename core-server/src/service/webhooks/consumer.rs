//! Domain events in, webhook deliveries out, exactly once: the outbox's writer.
//!
//! A [`Follower`] with its own cursor (the `webhooks` row of `notification_cursor`): the
//! deliveries and the cursor's advance commit together. It works from the stored kind
//! and payload alone, so any event — including one added later — reaches the endpoints
//! subscribed to its name.

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::api::WebhookDeliveryStatus;
use crate::domain::WebhookEvents;
use crate::platform::state::AppState;
use crate::service::events::follow::{self, Follower};
use crate::store::entity::{domain_event, webhook_delivery, webhook_endpoint};

/// Rows per insert statement (17 parameters each).
const INSERT_CHUNK: usize = 500;

/// Turns events into one delivery per active endpoint subscribed to them.
pub struct Deliveries;

#[sea_orm::prelude::async_trait::async_trait]
impl Follower for Deliveries {
    const CURSOR: &'static str = "webhooks";

    async fn handle(
        &self,
        state: &AppState,
        txn: &DatabaseTransaction,
        events: &[domain_event::Model],
    ) -> Result<usize, DbErr> {
        let now = Utc::now();
        let endpoints: Vec<(Uuid, Vec<String>)> = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Active.eq(true))
            .all(txn)
            .await?
            .into_iter()
            .map(|e| (e.id, super::subscribed(&e.events)))
            .collect();
        let give_up = now
            + chrono::Duration::from_std(state.settings.webhooks.retry_window)
                .unwrap_or(chrono::Duration::hours(24));
        let mut rows = Vec::new();
        for event in events {
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
                .exec_without_returning(txn)
                .await?;
        }
        if made > 0 {
            tracing::debug!(
                events = events.len(),
                deliveries = made,
                "webhook deliveries queued"
            );
        }
        Ok(made)
    }

    fn made(&self, state: &AppState, _made: usize) {
        state.webhooks.wake();
    }

    fn poll_interval(&self, state: &AppState) -> std::time::Duration {
        state.settings.webhooks.poll_interval
    }
}

/// The consumer task (see [`follow::run`]).
pub async fn run(state: AppState) {
    follow::run(state, Deliveries).await;
}
