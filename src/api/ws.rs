//! The WebSocket client of `/api/v1/ws`: connects with `Authorization: Bearer`, asks
//! for everything after the last notification id it has (`since`), reconnects with
//! backoff when the connection drops, and hands out each notification once, in id
//! order, whatever the reconnects (de-duplicated by id).

use std::time::Duration;

use edupro_server::api::{
    CLOSE_CREDENTIALS_REVOKED, CLOSE_UNAUTHENTICATED, Notification, NotificationFilter,
    ServerMessage, WS_PATH,
};
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::ApiClient;
use crate::error::{ClientError, Result};

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What [`NotificationWatcher::next`] reports.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// Connected (again); notifications after `since` follow.
    Connected { since: i64 },
    /// A notification not seen before.
    Notification(Box<Notification>),
    /// The connection dropped; the next call waits `retry_in` and reconnects.
    Disconnected { reason: String, retry_in: Duration },
}

/// Where a notification stream resumes, and which notifications it has handed out:
/// ids increase, so one high-water mark de-duplicates a replay after a reconnect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resume {
    last_id: Option<i64>,
}

impl Resume {
    /// Resumes after `since` (nothing at or below it is handed out again).
    pub fn after(since: Option<i64>) -> Self {
        Self { last_id: since }
    }

    /// The id to reconnect with (`since=`), when one is known.
    pub fn since(&self) -> Option<i64> {
        self.last_id
    }

    /// Whether notification `id` is new; if so it becomes the high-water mark.
    pub fn accept(&mut self, id: i64) -> bool {
        if self.last_id.is_some_and(|last| id <= last) {
            return false;
        }
        self.last_id = Some(id);
        true
    }
}

/// Waits between reconnects: [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`], back to
/// the first once a connection is welcomed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: FIRST_BACKOFF,
        }
    }
}

impl Backoff {
    /// The wait before the next attempt (each call doubles the one after).
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        wait
    }

    /// A connection worked: the next drop retries quickly again.
    pub fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }
}

/// A stream of the signed-in user's notifications that survives reconnects.
pub struct NotificationWatcher<'a> {
    client: &'a ApiClient,
    /// The last notification id handed out (or the newest one at the start).
    resume: Resume,
    socket: Option<Socket>,
    backoff: Backoff,
    wait: Option<Duration>,
    /// The server's ping interval; twice it without a frame means a dead link.
    heartbeat: Duration,
}

impl<'a> NotificationWatcher<'a> {
    /// A watcher that first replays every notification after `since`; without it,
    /// only notifications newer than the newest one now.
    pub fn new(client: &'a ApiClient, since: Option<i64>) -> Self {
        Self {
            client,
            resume: Resume::after(since),
            socket: None,
            backoff: Backoff::default(),
            wait: None,
            heartbeat: Duration::from_secs(20),
        }
    }

    /// The last notification id handed out.
    pub fn last_id(&self) -> Option<i64> {
        self.resume.since()
    }

    /// The next thing that happens: a (re)connection, a new notification, or a drop.
    /// Errors only when reconnecting can't help (signed out, refused credentials).
    pub async fn next(&mut self) -> Result<WatchEvent> {
        loop {
            if self.socket.is_none() {
                if let Some(wait) = self.wait.take() {
                    tokio::time::sleep(wait).await;
                }
                return self.connect().await;
            }
            let limit = self.heartbeat * 2 + Duration::from_secs(5);
            let Some(socket) = self.socket.as_mut() else {
                continue;
            };
            let frame = match tokio::time::timeout(limit, socket.next()).await {
                Err(_) => return Ok(self.dropped("no heartbeat from the server".into())),
                Ok(None) => return Ok(self.dropped("the connection closed".into())),
                Ok(Some(Err(err))) => return Ok(self.dropped(err.to_string())),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                        continue;
                    };
                    match message {
                        ServerMessage::Welcome {
                            heartbeat_seconds, ..
                        } => {
                            self.heartbeat = Duration::from_secs(heartbeat_seconds.max(1));
                            self.backoff.reset();
                        }
                        ServerMessage::Notification { notification } => {
                            if !self.resume.accept(notification.id) {
                                continue;
                            }
                            return Ok(WatchEvent::Notification(Box::new(notification)));
                        }
                        _ => {}
                    }
                }
                Message::Close(close) => {
                    let (code, reason) = close
                        .map(|c| (u16::from(c.code), c.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    if code == CLOSE_CREDENTIALS_REVOKED || code == CLOSE_UNAUTHENTICATED {
                        self.socket = None;
                        return Err(ClientError::Api {
                            status: 401,
                            message: format!("the server closed the connection: {reason}"),
                            errors: Vec::new(),
                        });
                    }
                    return Ok(self.dropped(format!("closed by the server ({code} {reason})")));
                }
                _ => {}
            }
        }
    }

    /// Forgets the socket and schedules the reconnect.
    fn dropped(&mut self, reason: String) -> WatchEvent {
        self.socket = None;
        let retry_in = self.backoff.next_wait();
        self.wait = Some(retry_in);
        WatchEvent::Disconnected { reason, retry_in }
    }

    async fn connect(&mut self) -> Result<WatchEvent> {
        let since = match self.resume.since() {
            Some(id) => id,
            None => match self.newest_id().await {
                Ok(id) => id,
                Err(ClientError::Unreachable { reason, .. }) => return Ok(self.dropped(reason)),
                Err(err) => return Err(err),
            },
        };
        self.resume = Resume::after(Some(since));
        let mut refreshed = false;
        loop {
            match tokio_tungstenite::connect_async(self.request(since)?).await {
                Ok((socket, _)) => {
                    self.socket = Some(socket);
                    return Ok(WatchEvent::Connected { since });
                }
                Err(WsError::Http(response)) if response.status() == 401 && !refreshed => {
                    // An expired access token: any API call refreshes it, then retry.
                    refreshed = true;
                    self.client.me().await?;
                }
                Err(WsError::Http(response)) if response.status() == 401 => {
                    return Err(ClientError::Api {
                        status: 401,
                        message: "the server refused the credentials for the WebSocket".into(),
                        errors: Vec::new(),
                    });
                }
                Err(err) => return Ok(self.dropped(err.to_string())),
            }
        }
    }

    /// The newest notification id now (0 when there is none).
    async fn newest_id(&self) -> Result<i64> {
        let list = self
            .client
            .notifications(&NotificationFilter::default(), super::first(1))
            .await?;
        Ok(list.notifications.first().map_or(0, |n| n.id))
    }

    fn request(
        &self,
        since: i64,
    ) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
        let base = self
            .client
            .server
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let url = format!("{}{WS_PATH}?since={since}", base.trim_end_matches('/'));
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::Usage(format!("bad server URL {url}: {e}")))?;
        if let Some(token) = self.client.access_token() {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| ClientError::Other(e.into()))?;
            request.headers_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_after_a_reconnect_hands_out_only_what_is_new() {
        let mut resume = Resume::after(Some(3));
        // The replay of `since=3` repeats nothing at or below 3…
        assert!(!resume.accept(2));
        assert!(!resume.accept(3));
        assert!(resume.accept(4));
        assert!(resume.accept(5));
        // …and a live push that overlaps the replay is dropped.
        assert!(!resume.accept(5));
        assert!(!resume.accept(4));
        assert_eq!(
            resume.since(),
            Some(5),
            "the next reconnect asks for after 5"
        );
    }

    #[test]
    fn without_a_start_the_first_notification_sets_the_mark() {
        let mut resume = Resume::after(None);
        assert_eq!(resume.since(), None);
        assert!(resume.accept(1));
        assert!(!resume.accept(1));
    }

    #[test]
    fn reconnects_back_off_doubling_to_a_cap_and_start_over_once_welcomed() {
        let mut backoff = Backoff::default();
        let waits: Vec<u128> = (0..8).map(|_| backoff.next_wait().as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        backoff.reset();
        assert_eq!(backoff.next_wait(), FIRST_BACKOFF);
    }
}
