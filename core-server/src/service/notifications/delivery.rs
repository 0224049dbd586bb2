//! Delivery: every notification id handed to this instance's hub once, in order —
//! rows the local consumer announces, or rows read back when another instance
//! (NOTIFY) or a poll says there are more. Notification ids are dense and assigned in
//! commit order (see [`super::consumer`]), so the pipeline keeps a high-water mark.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Run, enrolled_students, to_wire};
use crate::api::{self, ServerMessage};
use crate::realtime::{Realtime, hub};
use crate::store::entity::{course_staff, enrollment, notification};

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

/// The sending end of the pipeline, in the application state.
#[derive(Clone)]
pub struct Delivery {
    pipeline: mpsc::UnboundedSender<Announce>,
    pending: Arc<Mutex<Option<mpsc::UnboundedReceiver<Announce>>>>,
}

impl Default for Delivery {
    fn default() -> Self {
        let (pipeline, rx) = mpsc::unbounded_channel();
        Self {
            pipeline,
            pending: Arc::new(Mutex::new(Some(rx))),
        }
    }
}

impl Delivery {
    /// The pipeline's loop, once: it delivers to `realtime`'s hub from the highest
    /// notification id stored now. `None` when already taken.
    pub async fn pipeline(
        &self,
        db: DatabaseConnection,
        realtime: Realtime,
    ) -> anyhow::Result<Option<impl Future<Output = ()> + use<>>> {
        let rx = self
            .pending
            .lock()
            .map_err(|_| anyhow::anyhow!("delivery state poisoned"))?
            .take();
        let Some(rx) = rx else {
            return Ok(None);
        };
        let high_water = max_notification_id(&db).await?;
        Ok(Some(run_pipeline(db, realtime, rx, high_water)))
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
    pub fn notifications_exist(&self, to: i64) {
        let _ = self.pipeline.send(Announce::UpTo { to });
    }

    /// Looks for notifications nobody announced.
    pub fn resync(&self) {
        let _ = self.pipeline.send(Announce::Resync);
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
    db: DatabaseConnection,
    realtime: Realtime,
    mut rx: mpsc::UnboundedReceiver<Announce>,
    mut high_water: i64,
) {
    while let Some(announce) = rx.recv().await {
        let result = match announce {
            Announce::Created { from, to, runs } if from == high_water + 1 => {
                deliver(&db, &realtime, &runs).await.map(|()| to)
            }
            Announce::Created { to, .. } | Announce::UpTo { to } if to <= high_water => continue,
            Announce::Created { to, .. } | Announce::UpTo { to } => {
                catch_up(&db, &realtime, high_water, Some(to)).await
            }
            Announce::Resync => catch_up(&db, &realtime, high_water, None).await,
        };
        match result {
            Ok(to) => high_water = high_water.max(to),
            // Left undelivered for now: the next announcement or poll reads them again.
            Err(err) => tracing::warn!(error = %err, "delivering notifications failed; will retry"),
        }
    }
}

/// Reads and delivers notifications after `from` (up to `to`); the last id delivered.
async fn catch_up(
    db: &DatabaseConnection,
    realtime: &Realtime,
    from: i64,
    to: Option<i64>,
) -> Result<i64, sea_orm::DbErr> {
    let mut cursor = from;
    loop {
        let mut query = notification::Entity::find().filter(notification::Column::Id.gt(cursor));
        if let Some(to) = to {
            query = query.filter(notification::Column::Id.lte(to));
        }
        let rows = query
            .order_by_asc(notification::Column::Id)
            .limit(CATCH_UP_PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(cursor);
        };
        let full = rows.len() as u64 == CATCH_UP_PAGE;
        deliver(db, realtime, &Run::group(rows)).await?;
        cursor = last;
        if !full {
            return Ok(cursor);
        }
    }
}

/// Pushes the notifications of `runs` to the hub, each to its user if they may still
/// see it: a notification about a course's content goes only to those still enrolled
/// (in its batch) or on its staff — checked now, at delivery, not only when it was made.
async fn deliver(
    db: &DatabaseConnection,
    realtime: &Realtime,
    runs: &[Run],
) -> Result<(), sea_orm::DbErr> {
    let started = std::time::Instant::now();
    let mut allowed: HashMap<(Uuid, Option<Uuid>), HashSet<Uuid>> = HashMap::new();
    for run in runs {
        if let Some(course_id) = run.first.course_id {
            let key = (course_id, run.first.batch_id);
            if let std::collections::hash_map::Entry::Vacant(entry) = allowed.entry(key) {
                entry.insert(members_of(db, course_id, run.first.batch_id).await?);
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
        realtime.hub.send(hub::Command::Deliver(deliveries)).await;
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
        let wire = to_wire(first);
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
    let mut query = enrolled_students(course_id);
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
    use serde_json::json;

    fn row(id: i64, user_id: Uuid, title: &str) -> notification::Model {
        let now = Utc::now();
        notification::Model {
            id,
            user_id,
            kind: api::NotificationType::Announcement,
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
                notification: to_wire(&notification::Model {
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
