//! Fan-out between instances on one PostgreSQL database: LISTEN/NOTIFY on the
//! `edupro_realtime` channel. Messages are small JSON objects:
//!
//! - `{"k":"notifications","to":N}`: notifications up to id N exist (sent inside the
//!   consumer's transaction, so it arrives exactly when they commit, in commit order);
//!   each instance reads back what it has not delivered.
//! - `{"k":"recheck"|"prefs","user":ID}`: a user's credentials or preferences changed.
//! - `{"k":"room","room":R,"text":T}`: a room message for every instance's members.
//! - `{"k":"user","user":ID}`, `{"k":"users"}`, `{"k":"catalogue"}`: a user's row, many
//!   users, or the public catalogue changed; instances forget what they keep of it.
//!
//! `o` names the sending instance; instances skip their own user and room messages
//! (already handled locally). A lost listener connection is re-opened and followed by a
//! resync, so nothing announced meanwhile is missed. On SQLite there are no other
//! instances to tell; the poll interval covers a second process on the same file.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::Realtime;
use super::hub::{Command, Outgoing};
use crate::platform::background::Background;

/// The LISTEN/NOTIFY channel.
pub const CHANNEL: &str = "edupro_realtime";

/// Sends `message` to every instance (nothing on SQLite). Failures are logged: the
/// instances' polls catch up on notifications; user and room messages are best effort.
pub async fn notify(db: &DatabaseConnection, message: &Value) {
    if let Err(err) = notify_in(db, message).await {
        tracing::warn!(error = %err, "NOTIFY failed");
    }
}

/// Sends `message` from inside `txn`: PostgreSQL delivers it when (and only if) the
/// transaction commits.
pub async fn notify_in(txn: &impl ConnectionTrait, message: &Value) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), message.to_string().into()],
    ))
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "o")]
    origin: Option<Uuid>,
    #[serde(rename = "k")]
    kind: String,
    to: Option<i64>,
    user: Option<Uuid>,
    room: Option<String>,
    text: Option<String>,
}

/// What the listener tells the services: notifications up to an id exist (another
/// instance made them), some may have been missed (resync), or something kept in
/// memory changed on another instance.
pub trait InstanceSignals: Send + Sync + 'static {
    fn notifications_exist(&self, to: i64);
    fn resync(&self);
    /// A user's row or credentials changed.
    fn user_changed(&self, user: Uuid);
    /// Many users changed.
    fn users_changed(&self);
    /// A public catalogue page may have changed.
    fn catalogue_changed(&self);
}

/// Starts the listener when the database is PostgreSQL.
pub async fn start(
    db: &DatabaseConnection,
    realtime: &Realtime,
    signals: impl InstanceSignals,
    background: &Background,
) -> anyhow::Result<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let pool = db.get_postgres_connection_pool().clone();
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    let realtime = realtime.clone();
    background.spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => handle(&realtime, &signals, notification.payload()).await,
                Ok(None) => {
                    tracing::warn!("LISTEN connection lost; reconnecting and catching up");
                    signals.resync();
                }
                Err(err) => {
                    tracing::warn!(error = %err, "LISTEN failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    signals.resync();
                }
            }
        }
    });
    Ok(())
}

async fn handle(realtime: &Realtime, signals: &impl InstanceSignals, payload: &str) {
    let Ok(message) = serde_json::from_str::<Message>(payload) else {
        tracing::warn!("unreadable fan-out message ignored");
        return;
    };
    let own = message.origin == Some(realtime.instance);
    let kind = message.kind.clone();
    match (kind.as_str(), message) {
        ("notifications", Message { to: Some(to), .. }) => signals.notifications_exist(to),
        (
            "user",
            Message {
                user: Some(user), ..
            },
        ) if !own => signals.user_changed(user),
        ("users", _) if !own => signals.users_changed(),
        ("catalogue", _) if !own => signals.catalogue_changed(),
        (
            "recheck" | "prefs" | "rooms",
            Message {
                user: Some(user_id),
                kind,
                ..
            },
        ) if !own => {
            if kind == "recheck" {
                signals.user_changed(user_id);
            }
            let message = match kind.as_str() {
                "recheck" => Outgoing::Recheck,
                "rooms" => Outgoing::RecheckRooms,
                _ => Outgoing::ReloadPreferences,
            };
            realtime
                .hub
                .send(Command::ToUser { user_id, message })
                .await;
        }
        (
            "room",
            Message {
                room: Some(room),
                text: Some(text),
                ..
            },
        ) if !own => {
            realtime
                .hub
                .send(Command::RoomBroadcast {
                    room,
                    text: text.into(),
                })
                .await;
        }
        _ => {}
    }
}
