//! The hub: one owner task holding every connection and room of this instance.
//! Commands arrive over an mpsc channel (with oneshot replies where an answer is
//! needed). The hub never awaits a connection: it `try_send`s into each connection's
//! bounded queue, and a connection whose queue is full is evicted and told to close
//! with 1013; it recovers through `since`.

use super::queue::QueueSender;
use std::collections::{HashMap, HashSet};

use bytestring::ByteString;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::api::{
    CLOSE_SERVICE_RESTART, CLOSE_TRY_AGAIN_LATER, PresenceChange, RoomMember, ServerMessage,
};

/// A connection's id, unique in this process.
pub type ConnId = u64;

/// Why the hub closes a connection: the close code and reason it should send.
#[derive(Debug, Clone)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

/// What the hub puts in a connection's queue.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A notification for the connection's user, already checked for access and
    /// serialised as a `notification` message.
    Notification { id: i64, text: ByteString },
    /// Room traffic (chat, presence, class events), serialised; the connection checks
    /// that its user may still be in `room` before sending it.
    Room { room: String, text: ByteString },
    /// The user's credentials may have ended (logout, password change…): check them.
    Recheck,
    /// The user's access to courses may have shrunk (removed from a course, its staff
    /// or a batch): check every room the connection is in.
    RecheckRooms,
    /// The user's preferences changed: reload them (quiet hours).
    ReloadPreferences,
}

impl Outgoing {
    /// The bytes it holds while queued (what the queue's byte bound counts).
    pub fn size(&self) -> usize {
        match self {
            Self::Notification { text, .. } => text.len(),
            Self::Room { room, text } => room.len() + text.len(),
            Self::Recheck | Self::RecheckRooms | Self::ReloadPreferences => 0,
        }
    }
}

/// One notification to push.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub user_id: Uuid,
    pub id: i64,
    pub text: ByteString,
}

/// A command to the hub.
pub enum Command {
    Register {
        conn: ConnId,
        user_id: Uuid,
        queue: QueueSender,
        close: oneshot::Sender<Close>,
    },
    Unregister {
        conn: ConnId,
    },
    Deliver(Vec<Delivery>),
    /// A control message for every connection of a user.
    ToUser {
        user_id: Uuid,
        message: Outgoing,
    },
    /// Adds the connection to `room`; answers with everyone in it (the joiner too).
    Join {
        conn: ConnId,
        room: String,
        member: RoomMember,
        reply: oneshot::Sender<Vec<RoomMember>>,
    },
    Leave {
        conn: ConnId,
        room: String,
    },
    /// Sends `text` to every connection in `room`.
    RoomBroadcast {
        room: String,
        text: ByteString,
    },
    /// Closes every connection with `code`, then answers.
    CloseAll {
        code: u16,
        reason: String,
        reply: oneshot::Sender<()>,
    },
    /// Counts, for tests and benchmarks.
    Stats {
        reply: oneshot::Sender<HubStats>,
    },
}

/// How busy the hub is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub users: usize,
    pub rooms: usize,
    /// Connections evicted for a full queue since start.
    pub evicted_slow: u64,
}

/// A cheap handle to send the hub commands.
#[derive(Clone)]
pub struct Hub {
    tx: mpsc::Sender<Command>,
}

/// The receiving end, until the owner task is started.
pub struct HubTask {
    rx: mpsc::Receiver<Command>,
}

/// Commands that may wait for the hub before senders have to wait.
const COMMAND_CAPACITY: usize = 65_536;

impl Hub {
    /// A hub handle and its (not yet running) owner task.
    pub fn new() -> (Self, HubTask) {
        let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
        (Self { tx }, HubTask { rx })
    }

    /// Sends a command; a stopped hub drops it (the server is shutting down).
    pub async fn send(&self, command: Command) {
        let _ = self.tx.send(command).await;
    }

    /// Sends a command without waiting; dropped when the hub is overwhelmed.
    pub fn try_send(&self, command: Command) {
        if self.tx.try_send(command).is_err() {
            tracing::warn!("realtime hub command queue full; command dropped");
        }
    }

    pub async fn stats(&self) -> HubStats {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Stats { reply }).await;
        rx.await.unwrap_or_default()
    }

    /// Closes every connection with 1012 (clients reconnect with `since`).
    pub async fn close_all(&self, reason: &str) {
        let (reply, rx) = oneshot::channel();
        self.send(Command::CloseAll {
            code: CLOSE_SERVICE_RESTART,
            reason: reason.to_owned(),
            reply,
        })
        .await;
        let _ = rx.await;
    }
}

struct Entry {
    user_id: Uuid,
    queue: QueueSender,
    close: Option<oneshot::Sender<Close>>,
    rooms: HashSet<String>,
}

#[derive(Default)]
struct Room {
    /// Connections in the room, with the member each stands for.
    conns: HashMap<ConnId, RoomMember>,
}

impl Room {
    fn has_user(&self, user_id: Uuid) -> bool {
        self.conns.values().any(|m| m.id == user_id)
    }

    /// Everyone in the room once, in the order they are found.
    fn members(&self) -> Vec<RoomMember> {
        let mut seen = HashSet::new();
        let mut members: Vec<RoomMember> = self
            .conns
            .values()
            .filter(|m| seen.insert(m.id))
            .cloned()
            .collect();
        members.sort_by(|a, b| {
            (&a.last_name, &a.first_name, a.id).cmp(&(&b.last_name, &b.first_name, b.id))
        });
        members
    }
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Entry>,
    users: HashMap<Uuid, Vec<ConnId>>,
    rooms: HashMap<String, Room>,
    evicted_slow: u64,
    /// Set once the server is shutting down: a connection that registers after the
    /// close-all (its upgrade raced the signal) is closed at once with the same code.
    closing: Option<Close>,
}

impl HubTask {
    /// Runs the owner task until every handle is dropped.
    pub async fn run(mut self) {
        let mut state = State::default();
        while let Some(command) = self.rx.recv().await {
            state.handle(command);
        }
    }
}

fn presence(room: &str, change: PresenceChange, member: RoomMember) -> ByteString {
    text_of(&ServerMessage::Presence {
        room: room.to_owned(),
        change,
        member,
    })
}

/// A server message as the text frame it is sent in.
pub fn text_of(message: &ServerMessage) -> ByteString {
    serde_json::to_string(message)
        .unwrap_or_else(|_| {
            String::from(r#"{"type":"error","code":"INTERNAL","message":"unserialisable message"}"#)
        })
        .into()
}

impl State {
    fn handle(&mut self, command: Command) {
        match command {
            Command::Register {
                conn,
                user_id,
                queue,
                close,
            } => {
                if let Some(closing) = &self.closing {
                    let _ = close.send(closing.clone());
                    return;
                }
                self.conns.insert(
                    conn,
                    Entry {
                        user_id,
                        queue,
                        close: Some(close),
                        rooms: HashSet::new(),
                    },
                );
                self.users.entry(user_id).or_default().push(conn);
            }
            Command::Unregister { conn } => self.remove(conn, None),
            Command::Deliver(deliveries) => {
                for d in deliveries {
                    let Some(conns) = self.users.get(&d.user_id) else {
                        continue;
                    };
                    let conns = conns.clone();
                    for conn in conns {
                        self.push(
                            conn,
                            Outgoing::Notification {
                                id: d.id,
                                text: d.text.clone(),
                            },
                        );
                    }
                }
            }
            Command::ToUser { user_id, message } => {
                let conns = self.users.get(&user_id).cloned().unwrap_or_default();
                for conn in conns {
                    self.push(conn, message.clone());
                }
            }
            Command::Join {
                conn,
                room,
                member,
                reply,
            } => {
                let Some(entry) = self.conns.get_mut(&conn) else {
                    let _ = reply.send(Vec::new());
                    return;
                };
                entry.rooms.insert(room.clone());
                let r = self.rooms.entry(room.clone()).or_default();
                let first_of_user = !r.has_user(member.id);
                r.conns.insert(conn, member.clone());
                let members = r.members();
                let others: Vec<ConnId> = r.conns.keys().copied().filter(|c| *c != conn).collect();
                let _ = reply.send(members);
                if first_of_user {
                    let text = presence(&room, PresenceChange::Joined, member);
                    for other in others {
                        self.push(
                            other,
                            Outgoing::Room {
                                room: room.clone(),
                                text: text.clone(),
                            },
                        );
                    }
                }
            }
            Command::Leave { conn, room } => {
                if let Some(entry) = self.conns.get_mut(&conn) {
                    entry.rooms.remove(&room);
                }
                self.leave_room(conn, &room);
            }
            Command::RoomBroadcast { room, text } => {
                let conns: Vec<ConnId> = self
                    .rooms
                    .get(&room)
                    .map(|r| r.conns.keys().copied().collect())
                    .unwrap_or_default();
                for conn in conns {
                    self.push(
                        conn,
                        Outgoing::Room {
                            room: room.clone(),
                            text: text.clone(),
                        },
                    );
                }
            }
            Command::CloseAll {
                code,
                reason,
                reply,
            } => {
                self.closing = Some(Close {
                    code,
                    reason: reason.clone(),
                });
                let conns: Vec<ConnId> = self.conns.keys().copied().collect();
                for conn in conns {
                    self.remove(
                        conn,
                        Some(Close {
                            code,
                            reason: reason.clone(),
                        }),
                    );
                }
                let _ = reply.send(());
            }
            Command::Stats { reply } => {
                let _ = reply.send(HubStats {
                    connections: self.conns.len(),
                    users: self.users.len(),
                    rooms: self.rooms.len(),
                    evicted_slow: self.evicted_slow,
                });
            }
        }
    }

    /// Queues `message` for `conn` without waiting; a full queue evicts it with 1013.
    fn push(&mut self, conn: ConnId, message: Outgoing) {
        let Some(entry) = self.conns.get(&conn) else {
            return;
        };
        match entry.queue.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.evicted_slow += 1;
                tracing::info!(conn, user_id = %entry.user_id, "WebSocket client too slow; closing with 1013");
                self.remove(
                    conn,
                    Some(Close {
                        code: CLOSE_TRY_AGAIN_LATER,
                        reason: "too slow: reconnect with since=<last id>".into(),
                    }),
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.remove(conn, None),
        }
    }

    /// Forgets `conn` (leaving its rooms) and tells it to close with `close`, if any.
    fn remove(&mut self, conn: ConnId, close: Option<Close>) {
        let Some(mut entry) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(list) = self.users.get_mut(&entry.user_id) {
            list.retain(|c| *c != conn);
            if list.is_empty() {
                self.users.remove(&entry.user_id);
            }
        }
        for room in std::mem::take(&mut entry.rooms) {
            self.leave_room(conn, &room);
        }
        if let (Some(close), Some(tx)) = (close, entry.close.take()) {
            let _ = tx.send(close);
        }
    }

    /// Takes `conn` out of `room`; the others hear `left` when its user has no other
    /// connection there.
    fn leave_room(&mut self, conn: ConnId, room: &str) {
        let Some(r) = self.rooms.get_mut(room) else {
            return;
        };
        let Some(member) = r.conns.remove(&conn) else {
            return;
        };
        if r.conns.is_empty() {
            self.rooms.remove(room);
            return;
        }
        if r.has_user(member.id) {
            return;
        }
        let others: Vec<ConnId> = r.conns.keys().copied().collect();
        let text = presence(room, PresenceChange::Left, member);
        for other in others {
            self.push(
                other,
                Outgoing::Room {
                    room: room.to_owned(),
                    text: text.clone(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Role;

    fn member(name: &str) -> RoomMember {
        RoomMember {
            id: Uuid::now_v7(),
            first_name: name.into(),
            last_name: "Test".into(),
            role: Role::Student,
        }
    }

    fn register(
        state: &mut State,
        conn: ConnId,
        user_id: Uuid,
        size: usize,
    ) -> (
        crate::realtime::queue::QueueReceiver,
        oneshot::Receiver<Close>,
    ) {
        let (queue, rx) = crate::realtime::queue::queue(size, usize::MAX);
        let (close, close_rx) = oneshot::channel();
        state.handle(Command::Register {
            conn,
            user_id,
            queue,
            close,
        });
        (rx, close_rx)
    }

    #[test]
    fn a_connection_registering_after_the_close_all_is_closed_at_once() {
        let mut state = State::default();
        let (reply, _) = oneshot::channel();
        state.handle(Command::CloseAll {
            code: CLOSE_SERVICE_RESTART,
            reason: "server restarting".into(),
            reply,
        });
        // Its upgrade raced the signal: it must not wait for a close that came before it.
        let (_rx, mut close) = register(&mut state, 7, Uuid::now_v7(), 4);
        let close = close.try_recv().expect("closed at once");
        assert_eq!(close.code, CLOSE_SERVICE_RESTART);
        assert!(state.conns.is_empty());
    }

    #[test]
    fn a_full_queue_evicts_only_that_connection_with_1013() {
        let mut state = State::default();
        let (slow_user, fast_user) = (Uuid::now_v7(), Uuid::now_v7());
        let (_slow_rx, mut slow_close) = register(&mut state, 1, slow_user, 2);
        let (mut fast_rx, _fast_close) = register(&mut state, 2, fast_user, 100);
        for id in 1..=5 {
            state.handle(Command::Deliver(vec![
                Delivery {
                    user_id: slow_user,
                    id,
                    text: "s".into(),
                },
                Delivery {
                    user_id: fast_user,
                    id,
                    text: "f".into(),
                },
            ]));
        }
        let close = slow_close
            .try_recv()
            .expect("the slow connection is told to close");
        assert_eq!(close.code, CLOSE_TRY_AGAIN_LATER);
        let mut got = 0;
        while let Ok(Outgoing::Notification { .. }) = fast_rx.try_recv() {
            got += 1;
        }
        assert_eq!(got, 5);
        assert_eq!(state.conns.len(), 1);
        assert_eq!(state.evicted_slow, 1);
    }

    #[test]
    fn presence_is_per_user_not_per_connection() {
        let mut state = State::default();
        let (ada, bob) = (member("Ada"), member("Bob"));
        let (mut ada_rx, _c1) = register(&mut state, 1, ada.id, 10);
        let (_ada_tab, _c2) = register(&mut state, 2, ada.id, 10);
        let (_bob_rx, _c3) = register(&mut state, 3, bob.id, 10);
        let join = |state: &mut State, conn, m: &RoomMember| {
            let (reply, mut rx) = oneshot::channel();
            state.handle(Command::Join {
                conn,
                room: "r".into(),
                member: m.clone(),
                reply,
            });
            rx.try_recv().unwrap()
        };
        assert_eq!(join(&mut state, 1, &ada).len(), 1);
        assert_eq!(
            join(&mut state, 2, &ada).len(),
            1,
            "a second tab is the same member"
        );
        assert_eq!(join(&mut state, 3, &bob).len(), 2);
        let Ok(Outgoing::Room { text, .. }) = ada_rx.try_recv() else {
            panic!("ada hears bob join")
        };
        assert!(text.contains("joined") && text.contains("Bob"), "{text}");
        state.handle(Command::Unregister { conn: 3 });
        let Ok(Outgoing::Room { text, .. }) = ada_rx.try_recv() else {
            panic!("ada hears bob leave")
        };
        assert!(text.contains("left"), "{text}");
        state.handle(Command::Leave {
            conn: 1,
            room: "r".into(),
        });
        assert_eq!(
            state.rooms["r"].members().len(),
            1,
            "ada's other tab is still there"
        );
    }
}
