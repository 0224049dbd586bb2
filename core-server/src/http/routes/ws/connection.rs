//! One WebSocket connection: authenticate (upgrade header or first message), register
//! with the hub, replay stored notifications after `since`, then one `select!` loop
//! over incoming frames, the connection's queue, the hub's close order and a heartbeat.
//!
//! Every notification is sent at most once and in id order (`last_sent`); during the
//! user's quiet hours nothing is pushed, and when they end the connection catches up
//! from the table, so the stream never has a gap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use bytestring::ByteString;
use chrono::Utc;
use tokio::sync::oneshot;

use super::rooms::{self, RoomRefusal};
use crate::api::{
    CLOSE_CREDENTIALS_REVOKED, CLOSE_HEARTBEAT_TIMEOUT, CLOSE_RATE_LIMITED, CLOSE_UNAUTHENTICATED,
    ClientMessage, RoomMember, ServerMessage, TokenScope,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::realtime::hub::{Close, Command, ConnId, Outgoing, text_of};
use crate::realtime::rooms::RoomAccess;
use crate::service::auth::AuthUser;
use crate::service::auth::rate_limit::{Bucket, network_of};
use crate::service::connections::{self, Credential};
use crate::service::notifications::Preferences;
use crate::service::notifications::inbox::{self, Backlog};

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// Rows per replay query.
const REPLAY_PAGE: u64 = 500;
/// How often a socket checks its credentials by itself, for revocations that did not
/// announce themselves (a session expiring, a user deactivated by an import).
const RECHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(300);
/// Largest text frame a client may send.
const MAX_FRAME: usize = 64 * 1024;
/// How long a room's access check holds: a delivery to a room whose check is older
/// asks again, so someone removed from a course stops getting its rooms' traffic within
/// this even when the removal is not announced (removals that are announced — see
/// [`Outgoing::RecheckRooms`] — take effect at once).
const ROOM_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Chat messages a connection may send at once, and how many more it may send per
/// second after that (a classroom chat, not a flood).
const CHAT_BURST: f64 = 10.0;
const CHAT_PER_SECOND: f64 = 1.0;

/// A token bucket for one connection's chat messages.
#[derive(Debug, Clone, Copy)]
struct ChatAllowance {
    tokens: f64,
    at: Instant,
}

impl ChatAllowance {
    fn new(now: Instant) -> Self {
        Self {
            tokens: CHAT_BURST,
            at: now,
        }
    }

    /// Takes one message's allowance at `now`, or says how long until there is one.
    fn take(&mut self, now: Instant) -> Result<(), std::time::Duration> {
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * CHAT_PER_SECOND;
        self.tokens = (self.tokens + refill).min(CHAT_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(std::time::Duration::from_secs_f64(
                (1.0 - self.tokens) / CHAT_PER_SECOND,
            ))
        }
    }
}

/// A room the connection is in.
#[derive(Debug, Clone, Copy)]
struct Joined {
    can_chat: bool,
    /// When the user's access to the room was last confirmed.
    checked: Instant,
}

/// An authenticated WebSocket peer.
pub struct Peer {
    pub auth: AuthUser,
    pub credential: Credential,
}

impl Peer {
    /// Wraps the caller a bearer `token` authenticated as.
    pub fn new(auth: AuthUser, token: &str) -> Self {
        let credential = Credential::of(&auth, token);
        Self { auth, credential }
    }
}

/// Why the loop stopped.
enum Stop {
    /// Close with this code (if the peer still listens), then drop.
    Close(Close),
    /// The peer is gone or closed first: just drop.
    Gone,
}

fn stop(code: u16, reason: &str) -> Stop {
    Stop::Close(Close {
        code,
        reason: reason.to_owned(),
    })
}

struct Connection {
    state: AppState,
    conn: ConnId,
    session: Session,
    peer: Peer,
    prefs: Preferences,
    /// The last notification id sent; nothing at or below it is sent again.
    last_sent: i64,
    /// Notifications were held back (quiet hours): catch up from the table when allowed.
    held: bool,
    rooms: std::collections::HashMap<String, Joined>,
    chat_allowance: ChatAllowance,
    close_rx: oneshot::Receiver<Close>,
    last_seen: Instant,
    /// When the credentials were last checked (they are again every
    /// [`RECHECK_EVERY`], besides on every explicit revocation).
    checked: Instant,
}

/// Serves one upgraded connection until it closes. `peer` is `None` when the upgrade
/// carried no credentials: the first message must then be `auth`.
pub async fn run(
    state: AppState,
    mut session: Session,
    stream: MessageStream,
    peer: Option<Peer>,
    since: Option<i64>,
    ip: String,
) {
    let mut stream = stream.max_frame_size(MAX_FRAME);
    let peer = match peer {
        Some(peer) => peer,
        None => match first_message_auth(&state, &mut session, &mut stream, &ip).await {
            Ok(peer) => peer,
            Err(close) => {
                let _ = tokio::time::timeout(
                    state.realtime.settings.pong_timeout,
                    session.close(Some(reason_of(&close))),
                )
                .await;
                return;
            }
        },
    };
    let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let settings = &state.realtime.settings;
    let (queue_tx, queue) =
        crate::realtime::queue::queue(settings.queue_size, settings.queue_bytes);
    let (close_tx, close_rx) = oneshot::channel();
    let user_id = peer.auth.id();
    state
        .realtime
        .hub
        .send(Command::Register {
            conn,
            user_id,
            queue: queue_tx,
            close: close_tx,
        })
        .await;
    let prefs = crate::service::notifications::preferences(&state.db, user_id)
        .await
        .unwrap_or_default();
    let mut connection = Connection {
        state: state.clone(),
        conn,
        session,
        peer,
        prefs,
        last_sent: 0,
        held: false,
        rooms: Default::default(),
        chat_allowance: ChatAllowance::new(Instant::now()),
        close_rx,
        last_seen: Instant::now(),
        checked: Instant::now(),
    };
    let outcome = connection.serve(stream, queue, since).await;
    state.realtime.hub.send(Command::Unregister { conn }).await;
    if let Stop::Close(close) = outcome {
        let grace = state.realtime.settings.pong_timeout;
        let _ =
            tokio::time::timeout(grace, connection.session.close(Some(reason_of(&close)))).await;
    }
}

fn reason_of(close: &Close) -> CloseReason {
    CloseReason {
        code: CloseCode::from(close.code),
        description: Some(close.reason.clone()),
    }
}

/// Waits for `{"type":"auth","token":…}` (browsers can't set headers on an upgrade).
async fn first_message_auth(
    state: &AppState,
    session: &mut Session,
    stream: &mut MessageStream,
    ip: &str,
) -> Result<Peer, Close> {
    let limit = state.realtime.settings.pong_timeout;
    let unauthenticated = |reason: &str| Close {
        code: CLOSE_UNAUTHENTICATED,
        reason: reason.to_owned(),
    };
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let frame = tokio::time::timeout_at(deadline, stream.recv())
            .await
            .map_err(|_| unauthenticated("send an auth message first"))?;
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(bytes))) => {
                let _ = session.pong(&bytes).await;
                continue;
            }
            Some(Ok(Message::Pong(_))) => continue,
            _ => return Err(unauthenticated("send an auth message first")),
        };
        let Ok(ClientMessage::Auth { token }) = serde_json::from_str::<ClientMessage>(&text) else {
            return Err(unauthenticated(
                r#"the first message must be {"type":"auth","token":"…"}"#,
            ));
        };
        let network = network_of(ip);
        if let Some(retry) = state.limiter.blocked_ip(Bucket::WebSocket, &network) {
            return Err(Close {
                code: CLOSE_RATE_LIMITED,
                reason: format!("too many failed attempts; retry in {retry} s"),
            });
        }
        return match crate::service::auth::caller::authenticate(state, &token, true).await {
            Ok(auth) => Ok(Peer::new(auth, &token)),
            Err(_) => {
                let _ = state.limiter.check_ip(Bucket::WebSocket, &network);
                let _ = session
                    .text(text_of(&ServerMessage::Error {
                        code: "UNAUTHORIZED".into(),
                        message: "Invalid or expired token. Please login again.".into(),
                    }))
                    .await;
                Err(unauthenticated("invalid token"))
            }
        };
    }
}

impl Connection {
    async fn serve(
        &mut self,
        mut stream: MessageStream,
        mut queue: crate::realtime::queue::QueueReceiver,
        since: Option<i64>,
    ) -> Stop {
        let settings = self.state.realtime.settings.clone();
        let welcome = text_of(&ServerMessage::Welcome {
            user_id: self.peer.auth.id(),
            heartbeat_seconds: settings.ping_interval.as_secs().max(1),
        });
        if let Err(stop) = self.send(welcome).await {
            return stop;
        }
        let newest = match inbox::newest_id(&self.state, self.peer.auth.id()).await {
            Ok(id) => id,
            Err(err) => {
                tracing::warn!(error = ?err, "WebSocket start failed");
                return stop(1011, "server error; reconnect");
            }
        };
        match since {
            // A `since` beyond the user's newest id (a cursor from another database, or
            // forged) would count every later notification as sent: the socket would
            // stay silent. It is clamped to the newest; `caughtUp` tells the client.
            Some(since) => {
                self.last_sent = since.min(newest);
                if let Err(stop) = self.catch_up().await {
                    return stop;
                }
            }
            None => self.last_sent = newest,
        }
        let mut heartbeat = tokio::time::interval(settings.ping_interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.tick().await;
        loop {
            let step = tokio::select! {
                biased;
                close = &mut self.close_rx => match close {
                    Ok(close) => Err(Stop::Close(close)),
                    Err(_) => Err(Stop::Gone),
                },
                frame = stream.recv() => self.on_frame(frame).await,
                out = queue.recv() => match out {
                    Some(out) => self.on_outgoing(out).await,
                    None => Err(Stop::Gone),
                },
                _ = heartbeat.tick() => self.on_heartbeat().await,
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    /// Sends one frame, unless the hub orders a close meanwhile (a blocked send is how
    /// a slow client fills its queue).
    async fn send(&mut self, text: ByteString) -> Result<(), Stop> {
        tokio::select! {
            sent = self.session.text(text) => sent.map_err(|_| Stop::Gone),
            close = &mut self.close_rx => Err(match close {
                Ok(close) => Stop::Close(close),
                Err(_) => Stop::Gone,
            }),
        }
    }

    async fn send_message(&mut self, message: &ServerMessage) -> Result<(), Stop> {
        self.send(text_of(message)).await
    }

    async fn error(&mut self, code: &str, message: impl Into<String>) -> Result<(), Stop> {
        self.send_message(&ServerMessage::Error {
            code: code.to_owned(),
            message: message.into(),
        })
        .await
    }

    /// Sends every stored notification after `last_sent` the user may see, then
    /// `caughtUp` — unless it is quiet hours, when it waits for them to end.
    async fn catch_up(&mut self) -> Result<(), Stop> {
        if self.prefs.is_quiet(Utc::now()) {
            self.held = true;
            return Ok(());
        }
        self.held = false;
        let failed = |err: ApiError| {
            tracing::warn!(error = ?err, "WebSocket replay failed");
            stop(1011, "server error; reconnect with since")
        };
        let backlog = Backlog::of(&self.state, &self.peer.auth.user)
            .await
            .map_err(failed)?;
        loop {
            let page = backlog
                .page(&self.state, self.last_sent, REPLAY_PAGE)
                .await
                .map_err(failed)?;
            for notification in &page {
                let id = notification.id;
                self.send_message(&ServerMessage::Notification {
                    notification: notification.clone(),
                })
                .await?;
                self.last_sent = id;
            }
            if (page.len() as u64) < REPLAY_PAGE {
                break;
            }
        }
        let last_id = Some(self.last_sent).filter(|id| *id > 0);
        self.send_message(&ServerMessage::CaughtUp { last_id })
            .await
    }

    async fn on_outgoing(&mut self, out: Outgoing) -> Result<(), Stop> {
        match out {
            Outgoing::Notification { id, text } => {
                if id <= self.last_sent {
                    return Ok(());
                }
                if self.held || self.prefs.is_quiet(Utc::now()) {
                    self.held = true;
                    return Ok(());
                }
                self.send(text).await?;
                self.last_sent = id;
                Ok(())
            }
            Outgoing::Room { room, text } => {
                if self.still_in_room(&room, false).await? {
                    self.send(text).await?;
                }
                Ok(())
            }
            Outgoing::Recheck => self.recheck().await,
            Outgoing::RecheckRooms => {
                let rooms: Vec<String> = self.rooms.keys().cloned().collect();
                for room in rooms {
                    self.still_in_room(&room, true).await?;
                }
                Ok(())
            }
            Outgoing::ReloadPreferences => {
                let now = Utc::now();
                let was_quiet = self.prefs.is_quiet(now);
                if let Ok(prefs) =
                    crate::service::notifications::preferences(&self.state.db, self.peer.auth.id())
                        .await
                {
                    self.prefs = prefs;
                }
                // Quiet hours turned off: catch up from the table now, also on what was
                // made but not yet handed to this connection (it comes later, and is
                // then dropped as already sent).
                if (self.held || was_quiet) && !self.prefs.is_quiet(now) {
                    self.catch_up().await?;
                }
                Ok(())
            }
        }
    }

    async fn recheck(&mut self) -> Result<(), Stop> {
        match connections::still_valid(&self.state, self.peer.auth.id(), &self.peer.credential)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(stop(
                CLOSE_CREDENTIALS_REVOKED,
                "signed out: your session or token ended",
            )),
            // Can't tell now; the next check decides.
            Err(err) => {
                tracing::warn!(error = ?err, "WebSocket credential check failed");
                Ok(())
            }
        }
    }

    async fn on_heartbeat(&mut self) -> Result<(), Stop> {
        if self.last_seen.elapsed() > self.state.realtime.settings.pong_timeout {
            return Err(stop(
                CLOSE_HEARTBEAT_TIMEOUT,
                "no pong: connection presumed dead",
            ));
        }
        self.session.ping(b"").await.map_err(|_| Stop::Gone)?;
        if self.checked.elapsed() >= RECHECK_EVERY {
            self.checked = Instant::now();
            self.recheck().await?;
        }
        if self.held && !self.prefs.is_quiet(Utc::now()) {
            self.catch_up().await?;
        }
        Ok(())
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, actix_ws::ProtocolError>>,
    ) -> Result<(), Stop> {
        let message = match frame {
            None | Some(Ok(Message::Close(_))) => return Err(Stop::Gone),
            Some(Err(err)) => {
                return Err(stop(1002, &format!("protocol error: {err}")));
            }
            Some(Ok(message)) => message,
        };
        self.last_seen = Instant::now();
        match message {
            Message::Ping(bytes) => self.session.pong(&bytes).await.map_err(|_| Stop::Gone),
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(&text) {
                Ok(message) => self.on_client_message(message).await,
                Err(err) => {
                    self.error("BAD_MESSAGE", format!("unreadable message: {err}"))
                        .await
                }
            },
            Message::Binary(_) => {
                self.error(
                    "BAD_MESSAGE",
                    "binary frames are not supported; send JSON text",
                )
                .await
            }
            _ => Ok(()),
        }
    }

    async fn on_client_message(&mut self, message: ClientMessage) -> Result<(), Stop> {
        match message {
            ClientMessage::Ping => self.send_message(&ServerMessage::Pong).await,
            ClientMessage::Auth { .. } => self.error("BAD_MESSAGE", "already authenticated").await,
            ClientMessage::Join { room } => self.join(room).await,
            ClientMessage::Leave { room } => {
                if self.rooms.remove(&room).is_some() {
                    self.state
                        .realtime
                        .hub
                        .send(Command::Leave {
                            conn: self.conn,
                            room: room.clone(),
                        })
                        .await;
                }
                self.send_message(&ServerMessage::Left { room }).await
            }
            ClientMessage::Chat { room, text } => self.chat(room, text).await,
            ClientMessage::History {
                room,
                before,
                limit,
            } => self.history(room, before, limit).await,
        }
    }

    async fn join(&mut self, room: String) -> Result<(), Stop> {
        let user = self.peer.auth.user.clone();
        let access = match rooms::authorize(&self.state, &user, &room).await {
            Ok(access) => access,
            Err(RoomRefusal::NotFound) => {
                return self
                    .error(
                        "ROOM_NOT_FOUND",
                        format!("no room {room} that you may join"),
                    )
                    .await;
            }
            Err(RoomRefusal::Failed(err)) => {
                tracing::warn!(error = %err, "room check failed");
                return self
                    .error("INTERNAL", "could not check the room; try again")
                    .await;
            }
        };
        let can_chat = self.may_chat(access);
        self.rooms.insert(
            room.clone(),
            Joined {
                can_chat,
                checked: Instant::now(),
            },
        );
        let (reply, members) = oneshot::channel();
        self.state
            .realtime
            .hub
            .send(Command::Join {
                conn: self.conn,
                room: room.clone(),
                member: RoomMember {
                    id: user.id,
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    role: user.role,
                },
                reply,
            })
            .await;
        let members = members.await.unwrap_or_default();
        let messages = match crate::service::chat::latest(&self.state.db, &room).await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(error = %err, "reading chat messages failed");
                Vec::new()
            }
        };
        self.send_message(&ServerMessage::Joined {
            room,
            members,
            messages,
        })
        .await
    }

    /// Whether the room lets this connection's user chat: the room says so and a
    /// personal access token (if that is how they signed in) may write.
    fn may_chat(&self, access: RoomAccess) -> bool {
        access.can_chat
            && self
                .peer
                .auth
                .scopes
                .as_ref()
                .is_none_or(|s| s.contains(&TokenScope::Write))
    }

    /// Whether the user may still be in `room`, which the connection has joined: asks
    /// again when the last check is older than [`ROOM_RECHECK`] (or always, with
    /// `force`). When the answer is no, the connection leaves the room and tells the
    /// client (`error` ROOM_ACCESS_ENDED, then `left`).
    async fn still_in_room(&mut self, room: &str, force: bool) -> Result<bool, Stop> {
        let Some(joined) = self.rooms.get(room) else {
            return Ok(false);
        };
        if !force && joined.checked.elapsed() < ROOM_RECHECK {
            return Ok(true);
        }
        match rooms::authorize(&self.state, &self.peer.auth.user, room).await {
            Ok(access) => {
                let can_chat = self.may_chat(access);
                self.rooms.insert(
                    room.to_owned(),
                    Joined {
                        can_chat,
                        checked: Instant::now(),
                    },
                );
                Ok(true)
            }
            Err(RoomRefusal::NotFound) => {
                self.rooms.remove(room);
                self.state
                    .realtime
                    .hub
                    .send(Command::Leave {
                        conn: self.conn,
                        room: room.to_owned(),
                    })
                    .await;
                self.error(
                    "ROOM_ACCESS_ENDED",
                    format!("you no longer have access to {room}"),
                )
                .await?;
                self.send_message(&ServerMessage::Left {
                    room: room.to_owned(),
                })
                .await?;
                Ok(false)
            }
            // Can't tell now: keep the room; the next delivery asks again.
            Err(RoomRefusal::Failed(err)) => {
                tracing::warn!(error = %err, "room check failed");
                Ok(true)
            }
        }
    }

    /// Stores a chat message, then sends it to everyone in the room (on every instance).
    async fn chat(&mut self, room: String, text: String) -> Result<(), Stop> {
        if !self.rooms.contains_key(&room) {
            return self
                .error("NOT_IN_ROOM", format!("join {room} first"))
                .await;
        }
        if !self.still_in_room(&room, false).await? {
            return Ok(());
        }
        let can_chat = self.rooms.get(&room).is_some_and(|j| j.can_chat);
        if !can_chat {
            return self
                .error("FORBIDDEN", "you may not chat in this room")
                .await;
        }
        let text = match crate::service::chat::parse_text(&text) {
            Ok(text) => text,
            Err(message) => return self.error("BAD_MESSAGE", message).await,
        };
        if let Err(wait) = self.chat_allowance.take(Instant::now()) {
            let seconds = wait.as_secs_f64().ceil().max(1.0);
            return self
                .error(
                    "RATE_LIMITED",
                    format!(
                        "slow down: at most {CHAT_BURST} messages at once and \
                         {CHAT_PER_SECOND} a second; send again in {seconds} s"
                    ),
                )
                .await;
        }
        match crate::service::chat::post(&self.state.db, &room, &self.peer.auth.user, text).await {
            Ok(message) => {
                let push = ServerMessage::Chat {
                    room: room.clone(),
                    message,
                };
                self.state
                    .realtime
                    .room_broadcast(&self.state.db, &room, &push)
                    .await;
                Ok(())
            }
            Err(err) => {
                tracing::warn!(error = %err, "storing a chat message failed");
                self.error("INTERNAL", "could not send the message; try again")
                    .await
            }
        }
    }

    /// Older chat messages of a joined room, newest first.
    async fn history(
        &mut self,
        room: String,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<(), Stop> {
        if !self.rooms.contains_key(&room) {
            return self
                .error("NOT_IN_ROOM", format!("join {room} first"))
                .await;
        }
        if !self.still_in_room(&room, false).await? {
            return Ok(());
        }
        let limit = u64::from(limit.unwrap_or(50));
        match crate::service::chat::history(&self.state.db, &room, before, limit).await {
            Ok(messages) => {
                self.send_message(&ServerMessage::History { room, messages })
                    .await
            }
            Err(err) => {
                tracing::warn!(error = %err, "reading chat history failed");
                self.error("INTERNAL", "could not read the history; try again")
                    .await
            }
        }
    }
}

/// Whether the upgrade request tried to carry a token in its URL (refused: URLs end up
/// in logs and browser history).
pub fn token_in_url(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| {
        matches!(
            k.to_ascii_lowercase().as_str(),
            "token" | "access_token" | "accesstoken" | "authorization" | "auth"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn chat_allows_a_burst_then_one_message_a_second() {
        let start = Instant::now();
        let mut allowance = ChatAllowance::new(start);
        for _ in 0..10 {
            assert!(allowance.take(start).is_ok());
        }
        let wait = allowance.take(start).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        let later = start + Duration::from_millis(1_500);
        assert!(allowance.take(later).is_ok());
        assert!(allowance.take(later).is_err());
        // An hour's silence refills the burst, no more.
        let much_later = later + Duration::from_secs(3_600);
        for _ in 0..10 {
            assert!(allowance.take(much_later).is_ok());
        }
        assert!(allowance.take(much_later).is_err());
    }
}
