//! The consumer: domain events in, notification rows out, exactly once.
//!
//! The consumer follows `docs/ARCHITECTURE.md` "Consuming them": its cursor (the last
//! event `seq` handled) lives in `notification_cursor`; it reads `seq > cursor` at start,
//! on every announced event it has not handled yet, after a `Lagged`, and every poll
//! interval (events another instance published). Each batch runs in one transaction
//! that first writes the cursor row — its lock: on PostgreSQL a second instance's
//! consumer queues behind it and then finds the events handled; SQLite serialises
//! writers — then inserts the notifications with ids taken from the same row, and
//! advances the cursor. Events and notifications therefore commit together, once, and
//! notification ids are dense and increase in commit order.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::platform::state::AppState;
use crate::store::entity::{
    course_staff, domain_event, enrollment, notification, notification_cursor, user,
};

use super::delivery::Delivery;
use super::plan::*;
use super::*;

/// The cursor row's name.
const CURSOR: &str = "notifications";
/// Events handled per transaction.
const EVENT_BATCH: u64 = 100;

/// Which of the users the batch's plans name one by one still exist, in one query.
async fn existing_users(
    db: &impl ConnectionTrait,
    plans: &[(&domain_event::Model, Plan)],
) -> Result<HashSet<Uuid>, DbErr> {
    let named: HashSet<Uuid> = plans
        .iter()
        .filter_map(|(_, plan)| match plan.audience {
            Audience::User(id) => Some(id),
            Audience::Course { .. } | Audience::Staff(_) | Audience::Admins => None,
        })
        .collect();
    if named.is_empty() {
        return Ok(HashSet::new());
    }
    // At most one per event of the batch (EVENT_BATCH): one query.
    let found: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(named))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// The users a plan reaches before preferences: the named user if they still exist (in
/// `existing`, from [`existing_users`]), or the course's (batch's) students enrolled
/// when the event happened (`at`: a consumer running behind must not tell a student who
/// enrolled later that the course just opened); never the actor.
async fn recipients(
    db: &impl ConnectionTrait,
    plan: &Plan,
    existing: &HashSet<Uuid>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let mut users: Vec<Uuid> = match plan.audience {
        Audience::User(id) => existing.contains(&id).then_some(id).into_iter().collect(),
        Audience::Course {
            course_id,
            batch_id,
        } => {
            let mut query =
                enrolled_students(course_id).filter(enrollment::Column::EnrolledAt.lte(at));
            if let Some(batch_id) = batch_id {
                query = query.filter(enrollment::Column::BatchId.eq(batch_id));
            }
            query
                .order_by_asc(enrollment::Column::StudentId)
                .into_tuple()
                .all(db)
                .await?
        }
        Audience::Staff(course_id) => {
            course_staff::Entity::find()
                .select_only()
                .column(course_staff::Column::UserId)
                .filter(course_staff::Column::CourseId.eq(course_id))
                .order_by_asc(course_staff::Column::UserId)
                .into_tuple()
                .all(db)
                .await?
        }
        Audience::Admins => {
            user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .filter(user::Column::Role.eq(crate::api::Role::Admin))
                .filter(user::Column::IsActive.eq(true))
                .order_by_asc(user::Column::Id)
                .into_tuple()
                .all(db)
                .await?
        }
    };
    if let Some(actor) = plan.exclude {
        users.retain(|u| *u != actor);
    }
    Ok(users)
}

/// What one batch did.
struct Handled {
    /// The cursor after it.
    last_seq: i64,
    /// Whether events may remain after it (a full or cut batch).
    more: bool,
    runs: Vec<Run>,
    rooms: Vec<RoomPush>,
    /// Users who lost access to a course: their sockets check their rooms again.
    lost_access: Vec<Uuid>,
}

/// Handles the next batch of events in one transaction.
async fn handle_batch(state: &AppState) -> Result<Handled, DbErr> {
    let started = std::time::Instant::now();
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
        .ok_or_else(|| DbErr::RecordNotFound("notification_cursor row".into()))?;
    let events = domain_event::Entity::find()
        .filter(domain_event::Column::Seq.gt(cursor.event_seq))
        .order_by_asc(domain_event::Column::Seq)
        .limit(EVENT_BATCH)
        .all(&txn)
        .await?;
    let Some(mut last_seq) = events.last().map(|e| e.seq) else {
        txn.commit().await?;
        return Ok(Handled {
            last_seq: cursor.event_seq,
            more: false,
            runs: Vec::new(),
            rooms: Vec::new(),
            lost_access: Vec::new(),
        });
    };
    // What the batch's events need is read a query per kind of thing, not per event:
    // while an import runs, every event of a batch is an enrollment.
    let decoded = decode(&events);
    let names = names(&txn, &decoded).await?;
    let mut plans: Vec<(&domain_event::Model, Plan)> = decoded
        .iter()
        .flat_map(|d| plans(d, &names).into_iter().map(|p| (d.row, p)))
        .collect();
    let existing = existing_users(&txn, &plans).await?;
    let mut audiences = Vec::with_capacity(plans.len());
    let mut reached = 0;
    for (i, (event, plan)) in plans.iter().enumerate() {
        let users = recipients(&txn, plan, &existing, event.created_at).await?;
        reached += users.len();
        // An event's plans go in the same batch: it may end before the event's first.
        let first_of_event = i == 0 || plans[i - 1].0.seq != event.seq;
        if reached > state.realtime.settings.batch_rows && i > 0 {
            // The batch ends before this event; the next batch starts with it.
            last_seq = event.seq - 1;
            if !first_of_event {
                let start = plans[..i]
                    .iter()
                    .rposition(|(e, _)| e.seq != event.seq)
                    .map_or(0, |j| j + 1);
                if start > 0 {
                    audiences.truncate(start);
                    break;
                }
                // The batch's first event: kept whole however many it reaches.
                last_seq = event.seq;
                audiences.push(users);
                continue;
            }
            break;
        }
        audiences.push(users);
    }
    plans.truncate(audiences.len());
    let handled = events.iter().take_while(|e| e.seq <= last_seq).count();
    let handled_decoded = decoded.iter().take_while(|d| d.row.seq <= last_seq);
    let rooms: Vec<RoomPush> = handled_decoded.clone().filter_map(room_push).collect();
    let lost: Vec<Uuid> = handled_decoded.filter_map(lost_access).collect();
    let everyone: Vec<Uuid> = audiences
        .iter()
        .flatten()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let prefs = preferences_of(&txn, &everyone).await?;
    let default = Preferences::default();
    let mut next_id = cursor.last_notification_id;
    let mut runs: Vec<Run> = Vec::new();
    let mut made = 0;
    for ((event, plan), users) in plans.iter().zip(audiences) {
        // Class times are written in each recipient's zone: rendered once per zone.
        let mut texts: HashMap<Tz, (String, String)> = HashMap::new();
        for user_id in users {
            let pref = prefs.get(&user_id).unwrap_or(&default);
            if pref.muted.contains(&plan.kind) {
                continue;
            }
            let (title, message) = texts.entry(pref.time_zone).or_insert_with(|| {
                let (title, message) = plan.text.render(pref.time_zone);
                (truncate(title, 255), message)
            });
            next_id += 1;
            made += 1;
            match runs.last_mut() {
                Some(run)
                    if run.first.event_seq == event.seq
                        && run.first.title == *title
                        && run.first.message == *message =>
                {
                    run.users.push(user_id);
                }
                _ => runs.push(Run {
                    first: notification::Model {
                        id: next_id,
                        user_id,
                        kind: plan.kind,
                        title: title.clone(),
                        message: message.clone(),
                        data: plan.data.clone(),
                        action_url: plan.action_url.clone(),
                        is_read: false,
                        read_at: None,
                        course_id: plan.scope.map(|s| s.0),
                        batch_id: plan.scope.and_then(|s| s.1),
                        event_seq: event.seq,
                        created_at: now,
                        updated_at: now,
                    },
                    users: vec![user_id],
                }),
            }
        }
    }
    let planned = started.elapsed();
    insert_runs(&txn, &runs).await?;
    let inserted = started.elapsed();
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::EventSeq, Expr::value(last_seq))
        .col_expr(
            notification_cursor::Column::LastNotificationId,
            Expr::value(next_id),
        )
        .filter(notification_cursor::Column::Name.eq(CURSOR))
        .exec(&txn)
        .await?;
    if made > 0 {
        crate::realtime::fanout::notify_in(
            &txn,
            &json!({"o": state.realtime.instance, "k": "notifications", "to": next_id}),
        )
        .await?;
    }
    txn.commit().await?;
    // Where a broadcast's time goes (ws_bench reads these with RUST_LOG=…=debug).
    tracing::debug!(
        events = handled,
        rows = made,
        plan_ms = planned.as_secs_f64() * 1e3,
        insert_ms = (inserted - planned).as_secs_f64() * 1e3,
        commit_ms = (started.elapsed() - inserted).as_secs_f64() * 1e3,
        "notifications made"
    );
    Ok(Handled {
        last_seq,
        more: handled < events.len() || events.len() as u64 == EVENT_BATCH,
        runs,
        rooms,
        lost_access: lost,
    })
}

fn truncate(mut text: String, max: usize) -> String {
    if text.chars().count() > max {
        text = text.chars().take(max - 1).collect::<String>() + "…";
    }
    text
}

/// Inserts `runs` with one statement each: the run's recipients go as one parameter,
/// so a broadcast to 10k students is one statement whose parameters do not grow with
/// them, and the database makes the rows itself.
async fn insert_runs(txn: &impl ConnectionTrait, runs: &[Run]) -> Result<(), DbErr> {
    const COLUMNS: &str = "user_id, id, \"type\", title, message, data, action_url, is_read, \
                           course_id, batch_id, event_seq, created_at, updated_at";
    const SHARED: &str = "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14";
    let backend = txn.get_database_backend();
    for run in runs {
        let (recipients, sql) = if backend == DatabaseBackend::Postgres {
            (
                sea_orm::Value::from(
                    run.users
                        .iter()
                        .map(Uuid::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                format!(
                    "INSERT INTO notifications ({COLUMNS}) SELECT t.u, $3 + t.i - 1, {SHARED} \
                     FROM unnest(string_to_array($1, ',')::uuid[]) WITH ORDINALITY AS t(u, i) \
                     WHERE t.i <= $2"
                ),
            )
        } else {
            // SQLite keeps a uuid as its 16 bytes: one blob of them all, cut in SQL.
            (
                sea_orm::Value::from(
                    run.users
                        .iter()
                        .flat_map(|u| *u.as_bytes())
                        .collect::<Vec<u8>>(),
                ),
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2) \
                     INSERT INTO notifications ({COLUMNS}) \
                     SELECT substr($1, 16 * i + 1, 16), $3 + i, {SHARED} FROM n"
                )
                .replace('$', "?"),
            )
        };
        let first = &run.first;
        let values: Vec<sea_orm::Value> = vec![
            recipients,
            (run.users.len() as i64).into(),
            first.id.into(),
            first.kind.into(),
            first.title.clone().into(),
            first.message.clone().into(),
            first.data.clone().into(),
            first.action_url.clone().into(),
            first.is_read.into(),
            first.course_id.into(),
            first.batch_id.into(),
            first.event_seq.into(),
            first.created_at.into(),
            first.updated_at.into(),
        ];
        let done = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        if done.rows_affected() != run.users.len() as u64 {
            return Err(DbErr::Custom(format!(
                "inserting {} notifications made {}",
                run.users.len(),
                done.rows_affected()
            )));
        }
    }
    Ok(())
}

/// Handles every event after the cursor; the cursor after them.
async fn drain(state: &AppState) -> Result<i64, DbErr> {
    loop {
        let handled = handle_batch(state).await?;
        state.delivery.notifications_created(handled.runs);
        for push in handled.rooms {
            state
                .realtime
                .room_broadcast(&state.db, &push.room, &push.message)
                .await;
        }
        for user_id in handled.lost_access {
            state
                .realtime
                .course_access_changed(&state.db, user_id)
                .await;
        }
        if !handled.more {
            return Ok(handled.last_seq);
        }
    }
}

/// The consumer task: drains at start, then on every event it has not handled yet, on
/// a lag, and every poll interval. A failed batch is retried (nothing was written).
pub async fn run_consumer(state: AppState) {
    let mut events = state.events.subscribe();
    let mut tick = tokio::time::interval(state.realtime.settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cursor = i64::MIN;
    let mut due = true;
    loop {
        if due {
            match drain(&state).await {
                Ok(c) => cursor = c,
                Err(err) => {
                    tracing::warn!(error = %err, "making notifications failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            }
        }
        due = tokio::select! {
            received = events.recv() => match received {
                // Already handled by an earlier drain: de-duplicated by seq.
                Ok(event) => event.seq > cursor,
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "notification consumer lagged; reading the table");
                    true
                }
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => true,
        };
    }
}

/// What the fan-out listener hears from other instances, handed to this one's
/// delivery and memory caches.
struct Signals {
    delivery: Delivery,
    sessions: std::sync::Arc<crate::service::auth::cache::SessionCache>,
    catalogue: std::sync::Arc<crate::service::catalogue::cache::CatalogueCache>,
}

impl crate::realtime::fanout::InstanceSignals for Signals {
    fn notifications_exist(&self, to: i64) {
        self.delivery.notifications_exist(to);
    }

    fn resync(&self) {
        self.delivery.resync();
        // Announcements may have been missed while the listener was down.
        self.sessions.forget_all();
        self.catalogue.changed();
    }

    fn user_changed(&self, user: uuid::Uuid) {
        self.sessions.forget_user(user);
    }

    fn users_changed(&self) {
        self.sessions.forget_all();
    }

    fn catalogue_changed(&self) {
        self.catalogue.changed();
    }
}

/// Starts notifications: the delivery pipeline to this instance's hub, the fan-out
/// listener that hears of other instances' notifications (PostgreSQL), the consumer,
/// and the poll that catches anything unannounced. Call once, after the hub started.
pub async fn start(state: &AppState) -> anyhow::Result<()> {
    let background = &state.background;
    if let Some(pipeline) = state
        .delivery
        .pipeline(state.db.clone(), state.realtime.clone())
        .await?
    {
        background.spawn(pipeline);
    }
    crate::realtime::fanout::start(
        &state.db,
        &state.realtime,
        Signals {
            delivery: state.delivery.clone(),
            sessions: state.sessions.clone(),
            catalogue: state.catalogue.clone(),
        },
        background,
    )
    .await?;
    background.spawn(run_consumer(state.clone()));
    let delivery = state.delivery.clone();
    let mut tick = tokio::time::interval(state.realtime.settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    background.spawn(async move {
        loop {
            tick.tick().await;
            delivery.resync();
        }
    });
    Ok(())
}
