//! The `live_class:<id>` room over a real WebSocket: who may enter, presence, chat that
//! is persisted (the latest on join, older on request), and class events.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::catalogue_helpers::draft;
use crate::helpers::{TestApp, TestUser, spawn_app_with};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, user: &TestUser) -> Socket {
    let url = app.url("/api/v1/ws").replacen("http", "ws", 1);
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", user.access_token)
            .parse()
            .expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("ws connects");
    next_of(&mut socket, "welcome").await;
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("sent");
}

/// The next message of `kind`, skipping others (a guard stops a hung test).
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    let wait = async {
        while let Some(frame) = socket.next().await {
            if let Ok(Message::Text(text)) = frame {
                let value: Value = serde_json::from_str(&text).expect("JSON message");
                if value["type"] == kind {
                    return value;
                }
            }
        }
        panic!("socket closed before a {kind} message");
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("no {kind} message"))
}

/// A draft course of `teacher` with `students` enrolled and a BUILTIN class in five
/// minutes: the course's id, the class's id and its room.
async fn classroom(
    app: &TestApp,
    teacher: &TestUser,
    title: &str,
    students: &[&TestUser],
) -> (String, String, String) {
    let course = draft(app, &teacher.access_token, title).await;
    for s in students {
        let enrolled = app
            .post_as(
                &teacher.access_token,
                &format!("/api/v1/courses/{course}/enrollments"),
                &json!({ "studentId": s.id }),
            )
            .await;
        assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    }
    let created = app
        .post_as(
            &teacher.access_token,
            "/api/v1/live-classes",
            &json!({ "courseId": course, "title": format!("{title} class"),
                     "scheduledAt": (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339(),
                     "duration": 30 }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let room = created.body["data"]["room"]
        .as_str()
        .expect("a BUILTIN class has a room")
        .to_owned();
    let class = created.body["data"]["id"].as_str().expect("id").to_owned();
    (course, class, room)
}

#[tokio::test]
async fn the_class_room_has_presence_persisted_chat_and_class_events() {
    let app = spawn_app_with(|args| {
        args.realtime.notification_poll_interval = Some("100ms".into());
    })
    .await;
    let teacher = app.register("TEACHER").await;
    let ada = app.register("STUDENT").await;
    let bob = app.register("STUDENT").await;
    let (_, class, room) = classroom(&app, &teacher, "Rooms", &[&ada, &bob]).await;

    let mut ada_ws = connect(&app, &ada).await;
    send(&mut ada_ws, json!({ "type": "join", "room": room })).await;
    let joined = next_of(&mut ada_ws, "joined").await;
    assert_eq!(
        joined["members"].as_array().map(Vec::len),
        Some(1),
        "{joined}"
    );
    assert_eq!(joined["messages"], json!([]));

    let mut teacher_ws = connect(&app, &teacher).await;
    send(&mut teacher_ws, json!({ "type": "join", "room": room })).await;
    next_of(&mut teacher_ws, "joined").await;
    let presence = next_of(&mut ada_ws, "presence").await;
    assert_eq!(presence["change"], "joined");
    assert_eq!(presence["member"]["id"], teacher.id.as_str());

    for text in ["Welcome, everyone", "Open chapter 3"] {
        send(
            &mut teacher_ws,
            json!({ "type": "chat", "room": room, "text": text }),
        )
        .await;
        let got = next_of(&mut ada_ws, "chat").await;
        assert_eq!(got["message"]["text"], text);
        assert_eq!(got["message"]["userId"], teacher.id.as_str());
    }
    send(
        &mut ada_ws,
        json!({ "type": "chat", "room": room, "text": "   " }),
    )
    .await;
    assert_eq!(next_of(&mut ada_ws, "error").await["code"], "BAD_MESSAGE");

    // Ada leaves; the teacher sees it. Bob, joining later, gets the messages so far.
    drop(ada_ws);
    let left = next_of(&mut teacher_ws, "presence").await;
    assert_eq!(left["change"], "left");
    assert_eq!(left["member"]["id"], ada.id.as_str());
    let mut bob_ws = connect(&app, &bob).await;
    send(&mut bob_ws, json!({ "type": "join", "room": room })).await;
    let joined = next_of(&mut bob_ws, "joined").await;
    let texts: Vec<&str> = joined["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(texts, vec!["Welcome, everyone", "Open chapter 3"]);
    let newest = joined["messages"][1]["id"].as_i64().expect("id");
    send(
        &mut bob_ws,
        json!({ "type": "history", "room": room, "before": newest, "limit": 10 }),
    )
    .await;
    let history = next_of(&mut bob_ws, "history").await;
    assert_eq!(
        history["messages"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    assert_eq!(history["messages"][0]["text"], "Welcome, everyone");

    // Starting and ending the class reach everyone in the room.
    let started = app
        .post_as(
            &teacher.access_token,
            &format!("/api/v1/live-classes/{class}/start"),
            &json!({}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let event = next_of(&mut bob_ws, "roomEvent").await;
    assert_eq!(event["event"], "started");
    assert_eq!(event["room"], room.as_str());

    // Someone outside the course can't enter.
    let outsider = app.register("STUDENT").await;
    let mut outsider_ws = connect(&app, &outsider).await;
    send(&mut outsider_ws, json!({ "type": "join", "room": room })).await;
    assert_eq!(
        next_of(&mut outsider_ws, "error").await["code"],
        "ROOM_NOT_FOUND"
    );
    send(
        &mut outsider_ws,
        json!({ "type": "chat", "room": room, "text": "hi" }),
    )
    .await;
    assert_eq!(
        next_of(&mut outsider_ws, "error").await["code"],
        "NOT_IN_ROOM"
    );
}

/// Every message `socket` receives within `window`, by type.
async fn types_within(socket: &mut Socket, window: std::time::Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(window, async {
        while let Some(Ok(frame)) = socket.next().await {
            if let Message::Text(text) = frame {
                seen.push(serde_json::from_str(&text).expect("JSON message"));
            }
        }
    })
    .await;
    seen
}

#[tokio::test]
async fn someone_removed_from_the_course_or_its_staff_leaves_its_rooms_at_once() {
    let app = spawn_app_with(|args| {
        args.realtime.notification_poll_interval = Some("100ms".into());
    })
    .await;
    let teacher = app.register("TEACHER").await;
    let ta = app.register("TEACHER").await;
    let ada = app.register("STUDENT").await;
    let bob = app.register("STUDENT").await;
    let (course, _, room) = classroom(&app, &teacher, "Removals", &[&ada, &bob]).await;
    let staffed = app
        .post_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/staff"),
            &json!({ "userId": ta.id, "role": "TA" }),
        )
        .await;
    assert!((200..300).contains(&staffed.status), "{}", staffed.body);

    let mut sockets = Vec::new();
    for user in [&teacher, &ta, &ada, &bob] {
        let mut socket = connect(&app, user).await;
        send(&mut socket, json!({ "type": "join", "room": room })).await;
        next_of(&mut socket, "joined").await;
        sockets.push(socket);
    }
    let [mut teacher_ws, mut ta_ws, mut ada_ws, mut bob_ws] =
        <[Socket; 4]>::try_from(sockets).expect("four sockets");

    // Ada is removed from the course, the TA from its staff: each is told, and leaves.
    let removed = app
        .delete_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/enrollments/{}", ada.id),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let removed = app
        .delete_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}/staff/{}", ta.id),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    for socket in [&mut ada_ws, &mut ta_ws] {
        let ended = next_of(socket, "error").await;
        assert_eq!(ended["code"], "ROOM_ACCESS_ENDED", "{ended}");
        assert_eq!(next_of(socket, "left").await["room"], room.as_str());
    }
    // The others see them go.
    let mut gone = Vec::new();
    for _ in 0..2 {
        let left = next_of(&mut bob_ws, "presence").await;
        assert_eq!(left["change"], "left", "{left}");
        gone.push(left["member"]["id"].as_str().unwrap_or_default().to_owned());
    }
    gone.sort();
    let mut expected = vec![ada.id.to_string(), ta.id.to_string()];
    expected.sort();
    assert_eq!(gone, expected);

    // The room's traffic goes on without them; they can neither chat nor come back.
    send(
        &mut teacher_ws,
        json!({ "type": "chat", "room": room, "text": "After the removals" }),
    )
    .await;
    let got = next_of(&mut bob_ws, "chat").await;
    assert_eq!(got["message"]["text"], "After the removals");
    // The sender has it too, as everyone in the room does.
    let echo = next_of(&mut teacher_ws, "chat").await;
    assert_eq!(echo["message"]["text"], "After the removals");
    for socket in [&mut ada_ws, &mut ta_ws] {
        send(
            socket,
            json!({ "type": "chat", "room": room, "text": "still here?" }),
        )
        .await;
        assert_eq!(next_of(socket, "error").await["code"], "NOT_IN_ROOM");
        send(socket, json!({ "type": "join", "room": room })).await;
        assert_eq!(next_of(socket, "error").await["code"], "ROOM_NOT_FOUND");
        let later = types_within(socket, std::time::Duration::from_millis(500)).await;
        assert!(
            later
                .iter()
                .all(|m| m["type"] != "chat" && m["type"] != "presence"),
            "{later:?}"
        );
    }

    // A flood is cut short: ten messages at once, then one a second.
    for i in 1..=11 {
        send(
            &mut bob_ws,
            json!({ "type": "chat", "room": room, "text": format!("spam {i}") }),
        )
        .await;
    }
    let refused = next_of(&mut bob_ws, "error").await;
    assert_eq!(refused["code"], "RATE_LIMITED", "{refused}");
    for i in 1..=10 {
        let got = next_of(&mut teacher_ws, "chat").await;
        assert_eq!(got["message"]["text"], format!("spam {i}"));
    }
    let after = types_within(&mut teacher_ws, std::time::Duration::from_millis(300)).await;
    assert!(after.iter().all(|m| m["type"] != "chat"), "{after:?}");
}
