//! A live-class room over `/api/v1/ws`: connect with `Authorization: Bearer`, join the
//! room (its members and latest chat messages come back), then chat and hear what
//! happens in it. One connection per open room; dropping it leaves.

use std::time::Duration;

use edupro_server::api::{
    ChatMessage, ClientMessage, PresenceChange, RoomMember, ServerMessage, WS_PATH,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::ApiClient;
use crate::error::{ClientError, Result};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long joining may take before it counts as failed.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Something that happened in a joined room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    Chat(ChatMessage),
    Presence {
        member: RoomMember,
        joined: bool,
    },
    /// The class `started`, `ended` or was `cancelled`.
    Event(String),
    /// The server refused something we sent; the connection stays open.
    Error(String),
}

/// The sending half of a joined room.
pub struct RoomSender {
    room: String,
    sink: SplitSink<Socket, Message>,
}

/// The receiving half of a joined room.
pub struct RoomReceiver {
    room: String,
    stream: SplitStream<Socket>,
}

/// What joining gives.
pub struct JoinedRoom {
    pub members: Vec<RoomMember>,
    pub messages: Vec<ChatMessage>,
    pub sender: RoomSender,
    pub receiver: RoomReceiver,
}

fn send_error(err: WsError) -> ClientError {
    ClientError::Other(anyhow::anyhow!("the room connection failed: {err}"))
}

fn frame(message: &ClientMessage) -> Result<Message> {
    let text = serde_json::to_string(message).map_err(|e| ClientError::Other(e.into()))?;
    Ok(Message::text(text))
}

/// Connects and joins `room` (`live_class:<id>`).
pub async fn join(client: &ApiClient, room: &str) -> Result<JoinedRoom> {
    let mut socket = connect(client).await?;
    socket
        .send(frame(&ClientMessage::Join {
            room: room.to_owned(),
        })?)
        .await
        .map_err(send_error)?;
    let joined = tokio::time::timeout(JOIN_TIMEOUT, async {
        while let Some(frame) = socket.next().await {
            let frame = frame.map_err(send_error)?;
            let Message::Text(text) = frame else {
                if let Message::Close(close) = frame {
                    let reason = close.map(|c| c.reason.to_string()).unwrap_or_default();
                    return Err(ClientError::Other(anyhow::anyhow!(
                        "the server closed the connection {reason}"
                    )));
                }
                continue;
            };
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Joined {
                    room: joined,
                    members,
                    messages,
                }) if joined == room => return Ok((members, messages)),
                Ok(ServerMessage::Error { message, .. }) => {
                    return Err(ClientError::Other(anyhow::anyhow!("{message}")));
                }
                _ => {}
            }
        }
        Err(ClientError::Other(anyhow::anyhow!(
            "the connection closed before the room was joined"
        )))
    })
    .await
    .map_err(|_| ClientError::Other(anyhow::anyhow!("joining the room timed out")))??;
    let (sink, stream) = socket.split();
    Ok(JoinedRoom {
        members: joined.0,
        messages: joined.1,
        sender: RoomSender {
            room: room.to_owned(),
            sink,
        },
        receiver: RoomReceiver {
            room: room.to_owned(),
            stream,
        },
    })
}

impl RoomSender {
    /// Sends a chat message; it comes back to everyone in the room, us included.
    pub async fn chat(&mut self, text: &str) -> Result<()> {
        let message = frame(&ClientMessage::Chat {
            room: self.room.clone(),
            text: text.to_owned(),
        })?;
        self.sink.send(message).await.map_err(send_error)
    }

    /// Leaves the room and closes the connection.
    pub async fn leave(mut self) {
        if let Ok(message) = frame(&ClientMessage::Leave {
            room: self.room.clone(),
        }) {
            let _ = self.sink.send(message).await;
        }
        let _ = self.sink.close().await;
    }
}

impl RoomReceiver {
    /// The next thing that happens in the room; `Err` with the reason once the
    /// connection is gone. Cancel-safe.
    pub async fn next(&mut self) -> std::result::Result<RoomEvent, String> {
        loop {
            let frame = match self.stream.next().await {
                None => return Err("the connection closed".into()),
                Some(Err(err)) => return Err(err.to_string()),
                Some(Ok(frame)) => frame,
            };
            let text = match frame {
                Message::Text(text) => text,
                Message::Close(close) => {
                    return Err(close
                        .map(|c| {
                            format!("closed by the server ({} {})", u16::from(c.code), c.reason)
                        })
                        .unwrap_or_else(|| "closed by the server".into()));
                }
                _ => continue,
            };
            let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                continue;
            };
            match message {
                ServerMessage::Chat { room, message } if room == self.room => {
                    return Ok(RoomEvent::Chat(message));
                }
                ServerMessage::Presence {
                    room,
                    change,
                    member,
                } if room == self.room => {
                    return Ok(RoomEvent::Presence {
                        member,
                        joined: change == PresenceChange::Joined,
                    });
                }
                ServerMessage::RoomEvent { room, event, .. } if room == self.room => {
                    return Ok(RoomEvent::Event(event));
                }
                ServerMessage::Left { room } if room == self.room => {
                    return Err("you are no longer in this room".into());
                }
                ServerMessage::Error { message, .. } => return Ok(RoomEvent::Error(message)),
                _ => {}
            }
        }
    }
}

/// Opens `/api/v1/ws` with the client's token (refreshing it once on a 401).
async fn connect(client: &ApiClient) -> Result<Socket> {
    let mut refreshed = false;
    loop {
        match tokio_tungstenite::connect_async(request(client)?).await {
            Ok((socket, _)) => return Ok(socket),
            Err(WsError::Http(response)) if response.status() == 401 && !refreshed => {
                // An expired access token: any API call refreshes it, then retry.
                refreshed = true;
                client.me().await?;
            }
            Err(WsError::Http(response)) if response.status() == 401 => {
                return Err(ClientError::Api {
                    status: 401,
                    message: "the server refused the credentials for the WebSocket".into(),
                    errors: Vec::new(),
                });
            }
            Err(err) => {
                return Err(ClientError::Other(anyhow::anyhow!(
                    "cannot open the room connection: {err}"
                )));
            }
        }
    }
}

fn request(
    client: &ApiClient,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
    let base = client
        .server
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let url = format!("{}{WS_PATH}", base.trim_end_matches('/'));
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::Usage(format!("bad server URL {url}: {e}")))?;
    if let Some(token) = client.access_token() {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|e| ClientError::Other(e.into()))?;
        request.headers_mut().insert("authorization", value);
    }
    Ok(request)
}
