//! The WebSocket protocol of `/api/v1/ws`: JSON text frames tagged by `type`.
//!
//! Authenticate with `Authorization: Bearer` on the upgrade, or (browsers) with an
//! `auth` message first. Connect with `?since=<id>` to receive every notification after
//! that id, then live ones; the server says `caughtUp` when the replay is done. Clients
//! de-duplicate by notification id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{Notification, Role};

/// Path of the WebSocket endpoint.
pub const WS_PATH: &str = "/api/v1/ws";

/// Close code for a client whose outgoing queue overflowed: reconnect with `since`.
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
/// Close code when the server stops or restarts: reconnect with `since`.
pub const CLOSE_SERVICE_RESTART: u16 = 1012;
/// Close code when the connection's credentials ended (logout, password change,
/// deactivation): do not reconnect with them.
pub const CLOSE_CREDENTIALS_REVOKED: u16 = 4001;
/// Close code for a peer that stopped answering pings.
pub const CLOSE_HEARTBEAT_TIMEOUT: u16 = 4002;
/// Close code for a connection that never authenticated, or failed to.
pub const CLOSE_UNAUTHENTICATED: u16 = 4003;
/// Close code for too many failed authentication attempts (retry later).
pub const CLOSE_RATE_LIMITED: u16 = 4029;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClientMessage {
    /// The first message, when the upgrade carried no `Authorization` header.
    Auth {
        token: String,
    },
    /// Answered with `pong` (for clients that can't send WebSocket pings).
    Ping,
    /// Enter a room (`live_class:<id>`): presence, chat and class events.
    Join {
        room: String,
    },
    Leave {
        room: String,
    },
    /// A chat message to a joined room.
    Chat {
        room: String,
        text: String,
    },
    /// Older chat messages of a joined room, before message `before` (newest first).
    History {
        room: String,
        before: Option<i64>,
        limit: Option<u32>,
    },
}

/// Someone in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomMember {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
}

/// A chat message of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: i64,
    pub room: String,
    pub user_id: Uuid,
    pub author: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// `joined` or `left`, in a `presence` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PresenceChange {
    Joined,
    Left,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerMessage {
    /// Authenticated; notifications follow.
    Welcome {
        user_id: Uuid,
        /// The server pings this often; answer with pongs (WebSocket libraries do).
        heartbeat_seconds: u64,
    },
    Notification {
        notification: Notification,
    },
    /// Every stored notification after `since` has been sent; live ones follow.
    CaughtUp {
        last_id: Option<i64>,
    },
    Pong,
    /// You are in the room: who is there and its latest chat messages (oldest first).
    Joined {
        room: String,
        members: Vec<RoomMember>,
        messages: Vec<ChatMessage>,
    },
    Left {
        room: String,
    },
    /// Someone entered or left a room you are in.
    Presence {
        room: String,
        change: PresenceChange,
        member: RoomMember,
    },
    Chat {
        room: String,
        message: ChatMessage,
    },
    /// Answer to `history`: newest first.
    History {
        room: String,
        messages: Vec<ChatMessage>,
    },
    /// The room's subject changed (a class `started`, `ended`, `cancelled`).
    RoomEvent {
        room: String,
        event: String,
        data: Value,
    },
    /// A request failed; the connection stays open unless a close follows.
    Error {
        code: String,
        message: String,
    },
}
