//! WebSocket clients (tokio-tungstenite) against the real server, and the classroom
//! setups the notification and real-time tests share.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::catalogue_helpers::published;
use crate::helpers::{TestApp, TestUser};

/// Long enough for any message on a loaded CI box; waiting longer means it never comes.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A connected WebSocket client.
pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The `ws://…/api/v1/ws[?since=N]` URL of `app`.
pub fn ws_url(app: &TestApp, since: Option<i64>) -> String {
    let base = app.address.replacen("http://", "ws://", 1);
    match since {
        Some(since) => format!("{base}/api/v1/ws?since={since}"),
        None => format!("{base}/api/v1/ws"),
    }
}

/// The upgrade request for `app` with `Authorization: Bearer token` (when given).
pub fn upgrade(
    app: &TestApp,
    token: Option<&str>,
    since: Option<i64>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = ws_url(app, since)
        .into_client_request()
        .expect("ws request");
    if let Some(token) = token {
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
    }
    request
}

impl Ws {
    /// Connects with `Authorization: Bearer token` and reads the `welcome`.
    pub async fn connect(app: &TestApp, token: &str, since: Option<i64>) -> Self {
        let (stream, response) = tokio_tungstenite::connect_async(upgrade(app, Some(token), since))
            .await
            .expect("WebSocket upgrade");
        assert_eq!(response.status(), 101);
        let mut ws = Self { stream };
        let welcome = ws.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        ws
    }

    /// Connects over a socket with a tiny receive buffer (a client on a bad link), reads
    /// the `welcome` and the replay after `since`, and then reads nothing more until
    /// told to: the server's pushes pile up.
    pub async fn connect_with_small_buffer(app: &TestApp, token: &str, since: i64) -> Self {
        let addr: std::net::SocketAddr = app
            .address
            .trim_start_matches("http://")
            .parse()
            .expect("server address");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let tcp = socket.connect(addr).await.expect("connect");
        let (stream, response) = tokio_tungstenite::client_async(
            upgrade(app, Some(token), Some(since)),
            MaybeTlsStream::Plain(tcp),
        )
        .await
        .expect("WebSocket upgrade");
        assert_eq!(response.status(), 101);
        let mut ws = Self { stream };
        let welcome = ws.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        ws.until_caught_up().await;
        ws
    }

    /// Connects and waits until the replay after `since` is done; the replayed
    /// notifications.
    pub async fn connect_caught_up(app: &TestApp, token: &str, since: i64) -> (Self, Vec<Value>) {
        let mut ws = Self::connect(app, token, Some(since)).await;
        let replayed = ws.until_caught_up().await;
        (ws, replayed)
    }

    pub async fn send(&mut self, message: &Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// The next JSON message (pings are answered by tungstenite and skipped).
    pub async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("a message within the patience limit")
                .expect("the socket is open")
                .expect("a frame");
            match frame {
                Message::Text(text) => return serde_json::from_str(&text).expect("JSON message"),
                Message::Close(close) => panic!("closed unexpectedly: {close:?}"),
                _ => continue,
            }
        }
    }

    /// The next `notification` message's notification, skipping other messages.
    pub async fn next_notification(&mut self) -> Value {
        loop {
            let message = self.next().await;
            if message["type"] == "notification" {
                return message["notification"].clone();
            }
        }
    }

    /// Notifications until `caughtUp`.
    pub async fn until_caught_up(&mut self) -> Vec<Value> {
        let mut got = Vec::new();
        loop {
            let message = self.next().await;
            match message["type"].as_str() {
                Some("notification") => got.push(message["notification"].clone()),
                Some("caughtUp") => return got,
                _ => {}
            }
        }
    }

    /// Reads until the server closes; its close code and the notifications before it.
    pub async fn until_closed(&mut self) -> (Option<CloseCode>, Vec<Value>) {
        let mut got = Vec::new();
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("closed within the patience limit");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON");
                    if message["type"] == "notification" {
                        got.push(message["notification"].clone());
                    }
                }
                Some(Ok(Message::Close(close))) => return (close.map(|c| c.code), got),
                Some(Ok(_)) => {}
                None | Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                    return (None, got);
                }
                Some(Err(e)) => panic!("socket error before a close: {e}"),
            }
        }
    }
}

/// The close code as a number.
pub fn code(close: Option<CloseCode>) -> u16 {
    close.map(u16::from).unwrap_or(0)
}

/// The ids of notifications.
pub fn ids(notifications: &[Value]) -> Vec<i64> {
    notifications
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect()
}

/// A teacher's published course with enrolled students.
pub struct Classroom {
    pub teacher: TestUser,
    pub course: String,
    pub students: Vec<TestUser>,
}

/// Enrolls `student` in `course` (they enroll themselves: the course is free).
pub async fn enroll(app: &TestApp, student: &TestUser, course: &str) {
    let answer = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": course }),
        )
        .await;
    assert_eq!(answer.status, 201, "enroll: {}", answer.body);
}

/// A teacher, a published course titled `title` and `n` enrolled students.
pub async fn classroom(app: &TestApp, title: &str, n: usize) -> Classroom {
    let teacher = app.register("TEACHER").await;
    let (course, _, _) = published(app, &teacher.access_token, title).await;
    let mut students = Vec::new();
    for _ in 0..n {
        let student = app.register("STUDENT").await;
        enroll(app, &student, &course).await;
        students.push(student);
    }
    Classroom {
        teacher,
        course,
        students,
    }
}

/// Posts an announcement to `course` as `teacher`; its id.
pub async fn announce(
    app: &TestApp,
    teacher: &TestUser,
    course: &str,
    title: &str,
    message: &str,
) -> String {
    let answer = app
        .post_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/announcements"),
            &json!({ "title": title, "message": message }),
        )
        .await;
    assert_eq!(answer.status, 201, "announce: {}", answer.body);
    answer.body["data"]["id"].as_str().expect("id").to_owned()
}

/// The caller's notifications from the REST inbox (newest first, up to 100).
pub async fn inbox(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let answer = app
        .get_as(&user.access_token, "/api/v1/notifications?limit=100")
        .await;
    assert_eq!(answer.status, 200, "inbox: {}", answer.body);
    answer.body["data"]["notifications"]
        .as_array()
        .expect("notifications")
        .clone()
}

/// Waits (polling the inbox) until `user` has a notification titled `title`; it.
pub async fn wait_for_title(app: &TestApp, user: &TestUser, title: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(n) = inbox(app, user)
            .await
            .into_iter()
            .find(|n| n["title"] == title)
        {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no notification titled {title:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The newest notification id `user` has (0 when none).
pub async fn newest_id(app: &TestApp, user: &TestUser) -> i64 {
    inbox(app, user)
        .await
        .first()
        .and_then(|n| n["id"].as_i64())
        .unwrap_or(0)
}

/// Publishes a domain event as the work that owns it will (live classes, tests,
/// imports), through the real bus: stored in a transaction, announced after commit.
pub async fn publish_event(app: &TestApp, kind: &str, payload: Value) {
    use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
    let db = &app.state.db;
    let txn = db.begin().await.expect("begin");
    if app.backend == "postgres" {
        use sea_orm::ConnectionTrait;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(1163284052)")
            .await
            .expect("order lock");
    }
    let now = chrono::Utc::now();
    let row = edupro_server::store::entity::domain_event::ActiveModel {
        seq: sea_orm::NotSet,
        id: Set(uuid::Uuid::now_v7()),
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .expect("event stored");
    txn.commit().await.expect("commit");
    app.state.events.announce([row.into()]);
}
