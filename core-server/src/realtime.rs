//! Real time: the WebSocket transport's hub, rooms and fan-out between instances.
//! It knows connections, users and room names, never what a notification or a live
//! class is: the WebSocket endpoint (`http::routes::ws`) authorizes and serves each
//! connection, and `service::notifications::delivery` hands it notifications in order.
//!
//! - [`hub`]: one owner task holding this instance's connections and rooms; it never
//!   awaits a connection (bounded queues, `try_send`, 1013 for the slow).
//! - [`rooms`]: room names (`kind:id`); the kinds and their checks live above.
//! - [`fanout`]: PostgreSQL LISTEN/NOTIFY between instances.

pub mod fanout;
pub mod hub;
pub mod queue;
pub mod rooms;

use std::sync::{Arc, Mutex};

use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

pub use crate::platform::config::realtime::{RealtimeArgs, RealtimeSettings, parse_duration};
pub use hub::{Hub, HubStats};

use crate::api::ServerMessage;
use crate::platform::background::Background;

/// The real-time side of the application state.
#[derive(Clone)]
pub struct Realtime {
    pub hub: Hub,
    /// This process's id in fan-out messages.
    pub instance: Uuid,
    pub settings: RealtimeSettings,
    pending: Arc<Mutex<Option<hub::HubTask>>>,
}

impl Realtime {
    /// Channels only; nothing runs until [`Self::start`].
    pub fn new(settings: RealtimeSettings) -> Self {
        let (hub, hub_task) = Hub::new();
        Self {
            hub,
            instance: Uuid::now_v7(),
            settings,
            pending: Arc::new(Mutex::new(Some(hub_task))),
        }
    }

    /// Spawns the hub. Call once, inside the runtime; the application starts the
    /// notification delivery and the fan-out listener beside it.
    pub fn start(&self, background: &Background) -> anyhow::Result<()> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| anyhow::anyhow!("realtime state poisoned"))?
            .take();
        if let Some(hub_task) = pending {
            background.spawn(hub_task.run());
        }
        Ok(())
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

    /// Tells the other instances that something they keep in memory changed: `kind`
    /// is `user` (one user's row, `user` set), `users` (many) or `catalogue`.
    pub async fn tell_others(&self, db: &DatabaseConnection, kind: &str, user: Option<Uuid>) {
        fanout::notify(db, &json!({"o": self.instance, "k": kind, "user": user})).await;
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
