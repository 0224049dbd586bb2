//! Real time: the WebSocket hub at `/api/v1/ws`, the in-order delivery of new
//! notifications to it, rooms, and the fan-out between instances.
//!
//! - [`hub`]: one owner task holding this instance's connections and rooms; it never
//!   awaits a connection (bounded queues, `try_send`, 1013 for the slow).
//! - [`connection`]: one task per WebSocket, a `select!` over incoming frames, its
//!   queue and a heartbeat; replay from the table with `since`.
//! - [`rooms`]: rooms keyed by `kind:id`, each kind with its authorisation check.
//! - [`fanout`]: PostgreSQL LISTEN/NOTIFY between instances.
//!
//! Notification ids are dense and assigned in commit order (see [`crate::notifications`]),
//! so the delivery pipeline keeps a high-water mark and delivers every id once, in order:
//! rows it was handed by the local consumer, or rows it reads back when another instance
//! (NOTIFY) or a poll says there are more.

pub mod chat;
pub mod connection;
pub mod fanout;
pub mod hub;
pub mod rooms;
mod settings;

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use hub::{Hub, HubStats};
pub use settings::{RealtimeArgs, RealtimeSettings, parse_duration};

use crate::api::{self, ServerMessage};
use crate::entity::{course_staff, enrollment, notification};
use crate::notifications::Run;
use crate::state::AppState;

/// What the delivery pipeline is told.
enum Announce {
    /// The local consumer committed notifications `from..=to` (all of them, in order).
    Created {
        from: i64,
        to: i64,
        runs: Arc<Vec<Run>>,
    },
    /// Notifications up to `to` exist (another instance made them): read and deliver.
    UpTo { to: i64 },
    /// Look for notifications nobody announced (a missed NOTIFY, SQLite neighbours).
    Resync,
}

/// The real-time side of the application state.
#[derive(Clone)]
pub struct Realtime {
    pub hub: Hub,
    /// This process's id in fan-out messages.
    pub instance: Uuid,
    pub settings: RealtimeSettings,
    pipeline: mpsc::UnboundedSender<Announce>,
    pending: Arc<Mutex<Option<Pending>>>,
}

/// The receiving ends, until [`Realtime::start`] spawns the tasks.
struct Pending {
    hub: hub::HubTask,
    pipeline: mpsc::UnboundedReceiver<Announce>,
}

impl Realtime {
    /// Channels only; nothing runs until [`Self::start`].
    pub fn new(settings: RealtimeSettings) -> Self {
        let (hub, hub_task) = Hub::new();
        let (pipeline, pipeline_rx) = mpsc::unbounded_channel();
        Self {
            hub,
            instance: Uuid::now_v7(),
            settings,
            pipeline,
            pending: Arc::new(Mutex::new(Some(Pending {
                hub: hub_task,
                pipeline: pipeline_rx,
            }))),
        }
    }

    /// Spawns the hub, the delivery pipeline, the fan-out listener (PostgreSQL) and the
    /// notification consumer. Call once, inside the runtime.
    pub async fn start(&self, state: &AppState) -> anyhow::Result<()> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| anyhow::anyhow!("realtime state poisoned"))?
            .take();
        let Some(pending) = pending else {
            return Ok(());
        };
        let high_water = max_notification_id(&state.db).await?;
        let background = &state.background;
        background.spawn(pending.hub.run());
        background.spawn(run_pipeline(state.clone(), pending.pipeline, high_water));
        fanout::start(state).await?;
        background.spawn(crate::notifications::run_consumer(state.clone()));
        let pipeline = self.pipeline.clone();
        let every = self.settings.poll_interval;
        background.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pipeline.send(Announce::Resync).is_err() {
                    return;
                }
            }
        });
        Ok(())
    }

    /// The local consumer committed these notifications (ids dense, ascending).
    pub fn notifications_created(&self, runs: Vec<Run>) {
        let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
            return;
        };
        let (from, to) = (first.first.id, last.last_id());
        let _ = self.pipeline.send(Announce::Created {
            from,
            to,
            runs: Arc::new(runs),
        });
    }

    /// Another instance made notifications up to `to`.
    pub(crate) fn notifications_exist(&self, to: i64) {
        let _ = self.pipeline.send(Announce::UpTo { to });
    }

    /// Looks for notifications nobody announced.
    pub(crate) fn resync(&self) {
        let _ = self.pipeline.send(Announce::Resync);
    }

    /// The user's credentials may have ended (logout, password change, deactivation,
    /// role change): every socket of theirs, on every instance, checks its own and
    /// closes with 4001 if it is no longer valid.
    pub async fn credentials_changed(&self, db: &DatabaseConnection, user_id: Uuid) {
        self.hub
            .send(hub::Command::ToUser {
                user_id,
                message: hub::Outgoing::Recheck,
            })
            .await;
        fanout::notify(
            db,
            &json!({"o": self.instance, "k": "recheck", "user": user_id}),
        )
        .await;
    }

    /// The user's access to courses may have shrunk (removed from a course, its staff or
    /// a batch): every socket of theirs, on every instance, checks the rooms it is in
    /// and leaves those the user may no longer be in.
    pub async fn course_access_changed(&self, db: &DatabaseConnection, user_id: Uuid) {
        self.hub
            .send(hub::Command::ToUser {
                user_id,
                message: hub::Outgoing::RecheckRooms,
            })
            .await;
        fanout::notify(
            db,
            &json!({"o": self.instance, "k": "rooms", "user": user_id}),
        )
        .await;
    }

    /// The user's preferences changed: their sockets reload them (quiet hours).
    pub async fn preferences_changed(&self, db: &DatabaseConnection, user_id: Uuid) {
        self.hub
            .send(hub::Command::ToUser {
                user_id,
                message: hub::Outgoing::ReloadPreferences,
            })
            .await;
        fanout::notify(
            db,
            &json!({"o": self.instance, "k": "prefs", "user": user_id}),
        )
        .await;
    }

    /// Sends `message` to everyone in `room`, on every instance.
    pub async fn room_broadcast(
        &self,
        db: &DatabaseConnection,
        room: &str,
        message: &ServerMessage,
    ) {
        let text = hub::text_of(message);
        self.hub
            .send(hub::Command::RoomBroadcast {
                room: room.to_owned(),
                text: text.clone(),
            })
            .await;
        fanout::notify(
            db,
            &json!({"o": self.instance, "k": "room", "room": room, "text": &*text}),
        )
        .await;
    }
}

async fn max_notification_id(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    let max: Option<Option<i64>> = notification::Entity::find()
        .select_only()
        .column_as(notification::Column::Id.max(), "max")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Rows read back per query when catching up.
const CATCH_UP_PAGE: u64 = 5_000;

/// Delivers every notification id once, in order, to this instance's hub.
async fn run_pipeline(
    state: AppState,
    mut rx: mpsc::UnboundedReceiver<Announce>,
    mut high_water: i64,
) {
    while let Some(announce) = rx.recv().await {
        let result = match announce {
            Announce::Created { from, to, runs } if from == high_water + 1 => {
                deliver(&state, &runs).await.map(|()| to)
            }
            Announce::Created { to, .. } | Announce::UpTo { to } if to <= high_water => continue,
            Announce::Created { to, .. } | Announce::UpTo { to } => {
                catch_up(&state, high_water, Some(to)).await
            }
            Announce::Resync => catch_up(&state, high_water, None).await,
        };
        match result {
            Ok(to) => high_water = high_water.max(to),
            // Left undelivered for now: the next announcement or poll reads them again.
            Err(err) => tracing::warn!(error = %err, "delivering notifications failed; will retry"),
        }
    }
}

/// Reads and delivers notifications after `from` (up to `to`); the last id delivered.
async fn catch_up(state: &AppState, from: i64, to: Option<i64>) -> Result<i64, sea_orm::DbErr> {
    let mut cursor = from;
    loop {
        let mut query = notification::Entity::find().filter(notification::Column::Id.gt(cursor));
        if let Some(to) = to {
            query = query.filter(notification::Column::Id.lte(to));
        }
        let rows = query
            .order_by_asc(notification::Column::Id)
            .limit(CATCH_UP_PAGE)
            .all(&state.db)
            .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(cursor);
        };
        let full = rows.len() as u64 == CATCH_UP_PAGE;
        deliver(state, &Run::group(rows)).await?;
        cursor = last;
        if !full {
            return Ok(cursor);
        }
    }
}

/// Pushes the notifications of `runs` to the hub, each to its user if they may still
/// see it: a notification about a course's content goes only to those still enrolled
/// (in its batch) or on its staff — checked now, at delivery, not only when it was made.
async fn deliver(state: &AppState, runs: &[Run]) -> Result<(), sea_orm::DbErr> {
    let started = std::time::Instant::now();
    let mut allowed: HashMap<(Uuid, Option<Uuid>), HashSet<Uuid>> = HashMap::new();
    for run in runs {
        if let Some(course_id) = run.first.course_id {
            let key = (course_id, run.first.batch_id);
            if let std::collections::hash_map::Entry::Vacant(entry) = allowed.entry(key) {
                entry.insert(members_of(&state.db, course_id, run.first.batch_id).await?);
            }
        }
    }
    let mut deliveries = Vec::new();
    for run in runs {
        let members = run
            .first
            .course_id
            .map(|course_id| &allowed[&(course_id, run.first.batch_id)]);
        let message = Encoded::new(&run.first);
        deliveries.extend(
            run.each()
                .filter(|(_, user_id)| members.is_none_or(|m| m.contains(user_id)))
                .map(|(id, user_id)| hub::Delivery {
                    user_id,
                    id,
                    text: message.with_id(id),
                }),
        );
    }
    let checked = started.elapsed();
    let count = deliveries.len();
    if !deliveries.is_empty() {
        state
            .realtime
            .hub
            .send(hub::Command::Deliver(deliveries))
            .await;
    }
    tracing::debug!(
        runs = runs.len(),
        deliveries = count,
        check_and_encode_ms = checked.as_secs_f64() * 1e3,
        "notifications handed to the hub"
    );
    Ok(())
}

/// The `notification` message of a run, serialised once: the notifications of a run
/// differ only in id, which is the message's first field, so each one's text is the
/// same bytes around its id.
enum Encoded {
    Spliced {
        head: &'static str,
        tail: String,
    },
    /// The serialisation did not have the expected shape: each is serialised in full.
    Whole(api::Notification),
}

/// How every `notification` message begins, up to its id.
const NOTIFICATION_HEAD: &str = r#"{"type":"notification","notification":{"id":"#;

impl Encoded {
    fn new(first: &notification::Model) -> Self {
        let wire = crate::notifications::to_wire(first);
        let text = hub::text_of(&ServerMessage::Notification {
            notification: wire.clone(),
        });
        let tail = text
            .strip_prefix(NOTIFICATION_HEAD)
            .and_then(|rest| rest.strip_prefix(first.id.to_string().as_str()))
            .filter(|tail| tail.starts_with(','));
        match tail {
            Some(tail) => Self::Spliced {
                head: NOTIFICATION_HEAD,
                tail: tail.to_owned(),
            },
            None => Self::Whole(wire),
        }
    }

    fn with_id(&self, id: i64) -> ByteString {
        match self {
            Self::Spliced { head, tail } => {
                let mut text = String::with_capacity(head.len() + 20 + tail.len());
                text.push_str(head);
                let _ = write!(text, "{id}");
                text.push_str(tail);
                text.into()
            }
            Self::Whole(wire) => hub::text_of(&ServerMessage::Notification {
                notification: api::Notification { id, ..wire.clone() },
            }),
        }
    }
}

/// Who may see a course's (or batch's) content now: its enrolled students (in the
/// batch, when one is named) and its staff.
async fn members_of(
    db: &impl ConnectionTrait,
    course_id: Uuid,
    batch_id: Option<Uuid>,
) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    let mut query = crate::notifications::enrolled_students(course_id);
    if let Some(batch_id) = batch_id {
        query = query.filter(enrollment::Column::BatchId.eq(batch_id));
    }
    let mut members: HashSet<Uuid> = query
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let staff: Vec<Uuid> = course_staff::Entity::find()
        .select_only()
        .column(course_staff::Column::UserId)
        .filter(course_staff::Column::CourseId.eq(course_id))
        .into_tuple()
        .all(db)
        .await?;
    members.extend(staff);
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn row(id: i64, user_id: Uuid, title: &str) -> notification::Model {
        let now = Utc::now();
        notification::Model {
            id,
            user_id,
            kind: "ANNOUNCEMENT".into(),
            title: title.into(),
            message: "Quotes \" and \\ and ünïcode, \"id\":1,".into(),
            data: json!({"courseId": Uuid::nil(), "n": [1, 2]}),
            action_url: Some("/courses/x".into()),
            is_read: false,
            read_at: None,
            course_id: None,
            batch_id: None,
            event_seq: 7,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_runs_messages_are_each_notification_serialised_in_full() {
        let first = row(9, Uuid::now_v7(), "Broadcast");
        let encoded = Encoded::new(&first);
        assert!(matches!(encoded, Encoded::Spliced { .. }));
        for id in [9, 10, 99, 100, 123_456_789_012] {
            let whole = hub::text_of(&ServerMessage::Notification {
                notification: crate::notifications::to_wire(&notification::Model {
                    id,
                    ..first.clone()
                }),
            });
            assert_eq!(encoded.with_id(id), whole, "id {id}");
        }
    }

    #[test]
    fn stored_rows_group_into_runs_of_consecutive_ids_with_the_same_content() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let one = row(1, a, "One");
        let rows = vec![
            one.clone(),
            notification::Model {
                id: 2,
                user_id: b,
                ..one.clone()
            },
            // Another text: a new run.
            row(3, c, "Other"),
            // Same text, but an id missing in between: a new run.
            notification::Model {
                id: 5,
                user_id: a,
                created_at: one.created_at,
                updated_at: one.updated_at,
                ..row(5, a, "Other")
            },
        ];
        let runs = Run::group(rows);
        let shape: Vec<(i64, Vec<Uuid>)> =
            runs.iter().map(|r| (r.first.id, r.users.clone())).collect();
        assert_eq!(
            shape,
            vec![(1, vec![a, b]), (3, vec![c]), (5, vec![a])],
            "{runs:#?}"
        );
        assert_eq!(runs[0].each().collect::<Vec<_>>(), vec![(1, a), (2, b)]);
        assert_eq!(runs[0].last_id(), 2);
    }
}
