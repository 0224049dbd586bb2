//! The internal event bus. [`publish`] writes a `domain_events` row inside the caller's
//! transaction, so an event exists exactly when its change committed; after the commit
//! the handler hands the stored event to [`EventBus::announce`], which wakes in-process
//! consumers (the notifications work) through a `tokio::sync::broadcast` channel.
//!
//! Consumers treat the table as the truth and the channel as a doorbell: they keep the
//! last `seq` they handled, read `seq > cursor` at start and after a lag, and take live
//! events from the channel otherwise. `seq` follows commit order: on PostgreSQL each
//! publishing transaction takes one advisory transaction lock before its insert, so a
//! lower `seq` can never commit after a higher one (SQLite serialises writers anyway).

pub mod follow;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, EntityTrait, NotSet, Set};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::events::DomainEvent;
use crate::error::ApiError;
use crate::store::entity::domain_event;

/// The advisory lock key that orders event inserts on PostgreSQL ("EVNT").
const ORDER_LOCK: i64 = 0x4556_4e54;

/// How many announced events a slow subscriber may fall behind before it lags (and
/// re-reads the table).
const CHANNEL_CAPACITY: usize = 1024;

/// An event as stored and announced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    /// Increasing in commit order; the consumers' cursor.
    pub seq: i64,
    pub id: Uuid,
    pub kind: String,
    pub payload: Value,
    pub created_at: DateTime<Utc>,
}

impl StoredEvent {
    /// The typed event the row holds; the error names the kind and what does not decode.
    pub fn decode(&self) -> Result<DomainEvent, String> {
        DomainEvent::from_stored(&self.kind, &self.payload)
    }
}

impl From<domain_event::Model> for StoredEvent {
    fn from(row: domain_event::Model) -> Self {
        Self {
            seq: row.seq,
            id: row.id,
            kind: row.kind,
            payload: row.payload,
            created_at: row.created_at,
        }
    }
}

/// Writes `event` in `txn`, the transaction of the change it reports. Announce the
/// returned event with [`EventBus::announce`] once the transaction has committed.
pub async fn publish(
    txn: &impl ConnectionTrait,
    event: DomainEvent,
) -> Result<StoredEvent, ApiError> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ORDER_LOCK})"))
            .await?;
    }
    let row = new_row(event, Utc::now()).insert(txn).await?;
    Ok(row.into())
}

/// The row of a new event (its `seq` comes from the database).
fn new_row(event: DomainEvent, now: DateTime<Utc>) -> domain_event::ActiveModel {
    let (kind, payload) = event.to_stored();
    domain_event::ActiveModel {
        seq: NotSet,
        id: Set(Uuid::now_v7()),
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Writes `events` in `txn` like [`publish`], a few statements for the lot (a bulk
/// import publishes one per row); the stored events come back in `seq` order.
pub async fn publish_all(
    txn: &impl ConnectionTrait,
    events: Vec<DomainEvent>,
) -> Result<Vec<StoredEvent>, ApiError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ORDER_LOCK})"))
            .await?;
    }
    let now = Utc::now();
    let rows: Vec<domain_event::ActiveModel> = events
        .into_iter()
        .map(|event| new_row(event, now))
        .collect();
    let mut stored = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(1000) {
        let inserted = domain_event::Entity::insert_many(chunk.to_vec())
            .exec_with_returning(txn)
            .await?;
        stored.extend(inserted.into_iter().map(StoredEvent::from));
    }
    stored.sort_by_key(|e| e.seq);
    Ok(stored)
}

/// The in-process side of the bus: a broadcast of committed events.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<StoredEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self { sender }
    }

    /// A receiver of every event announced from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<StoredEvent> {
        self.sender.subscribe()
    }

    /// Tells subscribers about events whose transaction has committed. Nobody listening
    /// is fine: the rows are the record.
    pub fn announce(&self, events: impl IntoIterator<Item = StoredEvent>) {
        for event in events {
            tracing::debug!(seq = event.seq, kind = %event.kind, "domain event");
            let _ = self.sender.send(event);
        }
    }
}
