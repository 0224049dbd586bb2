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

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseBackend, EntityTrait, NotSet, Set};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::ApiError;
use crate::store::entity::domain_event;

/// The advisory lock key that orders event inserts on PostgreSQL ("EVNT").
const ORDER_LOCK: i64 = 0x4556_4e54;

/// How many announced events a slow subscriber may fall behind before it lags (and
/// re-reads the table).
const CHANNEL_CAPACITY: usize = 1024;

/// What happened. The names are the ones the original system announced for webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A student was enrolled (or re-enrolled) in a course.
    CourseEnrolled,
    EnrollmentCancelled,
    /// A student's progress reached 100 %.
    EnrollmentCompleted,
    CoursePublished,
    CourseArchived,
    /// An import run finished (plan or apply): `{importId, kind, mode, status, actorId,
    /// counts: {total, created, updated, unchanged, failed, skipped}, stopped, fileError}`.
    ImportFinished,
    /// A test was published to a course (or one batch): `{testId, courseId, batchId?,
    /// title, actorId}`.
    TestPublished,
    /// Every answer of a submitted attempt has its marks: `{attemptId, testId, courseId,
    /// studentId, title, actorId}`.
    AttemptGraded,
    /// A course's staff posted an announcement: `{announcementId, courseId, batchId?,
    /// title, message, actorId}`.
    CourseAnnouncement,
    /// Live classes: `{liveClassId, courseId, batchId, title, scheduledAt, duration,
    /// actorId, seriesId?, occurrences?, previousScheduledAt?}`.
    LiveClassScheduled,
    LiveClassRescheduled,
    LiveClassCancelled,
    LiveClassStartingSoon,
    LiveClassStarted,
    LiveClassEnded,
}

impl EventKind {
    /// The stored and announced name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CourseEnrolled => "course.enrolled",
            Self::EnrollmentCancelled => "enrollment.cancelled",
            Self::EnrollmentCompleted => "enrollment.completed",
            Self::CoursePublished => "course.published",
            Self::CourseArchived => "course.archived",
            Self::ImportFinished => "import.finished",
            Self::TestPublished => "test.published",
            Self::AttemptGraded => "attempt.graded",
            Self::CourseAnnouncement => "course.announcement",
            Self::LiveClassScheduled => "live_class.scheduled",
            Self::LiveClassRescheduled => "live_class.rescheduled",
            Self::LiveClassCancelled => "live_class.cancelled",
            Self::LiveClassStartingSoon => "live_class.starting_soon",
            Self::LiveClassStarted => "live_class.started",
            Self::LiveClassEnded => "live_class.ended",
        }
    }
}

/// An event about to be published: its kind and a camelCase JSON payload.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub payload: Value,
}

impl Event {
    /// An enrollment event: who, in which course, through which enrollment, done by whom.
    pub fn enrollment(
        kind: EventKind,
        enrollment_id: Uuid,
        course_id: Uuid,
        student_id: Uuid,
        actor_id: Uuid,
    ) -> Self {
        Self {
            kind,
            payload: json!({
                "enrollmentId": enrollment_id,
                "courseId": course_id,
                "studentId": student_id,
                "actorId": actor_id,
            }),
        }
    }

    /// A course status event (`course.published`, `course.archived`).
    pub fn course(kind: EventKind, course_id: Uuid, title: &str, actor_id: Uuid) -> Self {
        Self {
            kind,
            payload: json!({ "courseId": course_id, "title": title, "actorId": actor_id }),
        }
    }
}

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
pub async fn publish(txn: &impl ConnectionTrait, event: Event) -> Result<StoredEvent, ApiError> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ORDER_LOCK})"))
            .await?;
    }
    let row = new_row(event, Utc::now()).insert(txn).await?;
    Ok(row.into())
}

/// The row of a new event (its `seq` comes from the database).
fn new_row(event: Event, now: DateTime<Utc>) -> domain_event::ActiveModel {
    domain_event::ActiveModel {
        seq: NotSet,
        id: Set(Uuid::now_v7()),
        kind: Set(event.kind.as_str().to_owned()),
        payload: Set(event.payload),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Writes `events` in `txn` like [`publish`], a few statements for the lot (a bulk
/// import publishes one per row); the stored events come back in `seq` order.
pub async fn publish_all(
    txn: &impl ConnectionTrait,
    events: Vec<Event>,
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
