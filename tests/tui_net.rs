//! The TUI's network layer against the real server: the effects behind Today's new
//! panels and the Notifications tab, and the WebSocket task, read back as the actions
//! the update loop would get.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use std::time::Duration;

use edupro::api::ApiClient;
use edupro::config::Target;
use edupro::tui::action::{Action, Effect, Realtime};
use edupro::tui::net::Net;
use harness::{Server, register, sign_in, spawn_server};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

async fn post(server: &Server, token: &str, path: &str, body: Value) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/v1{path}", server.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["success"], true, "{path}: {answer}");
    answer["data"].clone()
}

fn net(server: &Server, token: &str) -> (Net, UnboundedReceiver<Action>) {
    let (tx, rx) = unbounded_channel();
    let target = Target {
        profile: "tui-net".into(),
        server: server.url.clone(),
    };
    let client = ApiClient::with_token(&server.url, token).unwrap();
    (Net::new(target, Some(client), tx), rx)
}

/// The next WebSocket report the task posts.
async fn next_realtime(rx: &mut UnboundedReceiver<Action>) -> Realtime {
    loop {
        let action = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the WebSocket task posted nothing")
            .expect("the channel closed");
        if let Action::Realtime(event) = action {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn today_panels_and_the_live_feed_work_against_the_real_server() {
    let server = spawn_server().await;
    register(&server, "teacher@school.test", "TEACHER").await;
    register(&server, "sam@school.test", "STUDENT").await;
    let (teacher, _) = sign_in(&server.url, "teacher@school.test").await;
    let (student, sam) = sign_in(&server.url, "sam@school.test").await;
    let course = post(
        &server,
        &teacher,
        "/courses",
        json!({ "title": "Live algebra" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &server,
        &teacher,
        &format!("/courses/{course}/enrollments"),
        json!({ "studentId": sam }),
    )
    .await;
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    post(
        &server,
        &teacher,
        "/live-classes",
        json!({ "courseId": course, "title": "Factoring", "scheduledAt": at, "duration": 30 }),
    )
    .await;

    // Today, as the teacher: the class is upcoming, nothing waits for marks.
    let (teacher_net, _rx) = net(&server, &teacher);
    match teacher_net.run(Effect::LoadUpcoming).await {
        Action::Upcoming(Ok(list)) => {
            let titles: Vec<&str> = list.classes.iter().map(|c| c.title.as_str()).collect();
            assert_eq!(titles, ["Factoring"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        teacher_net.run(Effect::LoadGradingCount).await,
        Action::GradingCount(Ok(0))
    );

    // The student's feed: the enrollment and the class (the consumer runs apart).
    let (student_net, mut rx) = net(&server, &student);
    let mut list = None;
    for _ in 0..200 {
        match student_net
            .run(Effect::LoadNotifications {
                generation: 1,
                page: 1,
            })
            .await
        {
            Action::Notifications {
                answer: Ok(l),
                generation: 1,
            } if l.notifications.len() == 2 => {
                list = Some(l);
                break;
            }
            Action::Notifications { answer: Ok(_), .. } => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("{other:?}"),
        }
    }
    let list = list.expect("the two notifications were never made");
    assert_eq!(list.unread_count, 2);
    let newest = list.notifications[0].id;

    // The socket, resumed after the feed's newest: only what comes next arrives.
    assert_eq!(
        student_net
            .run(Effect::Watch {
                since: Some(newest)
            })
            .await,
        Action::Realtime(Realtime::Started)
    );
    assert_eq!(
        next_realtime(&mut rx).await,
        Realtime::Connected { since: newest }
    );
    post(
        &server,
        &teacher,
        &format!("/courses/{course}/announcements"),
        json!({ "title": "Bring a calculator", "message": "Tomorrow." }),
    )
    .await;
    let arrived = match next_realtime(&mut rx).await {
        Realtime::Notification(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(arrived.title, "Bring a calculator");
    assert!(arrived.id > newest);

    // Marking read, one and all.
    match student_net.run(Effect::MarkRead { id: arrived.id }).await {
        Action::MarkedRead(Ok(n)) => assert!(n.is_read && n.id == arrived.id),
        other => panic!("{other:?}"),
    }
    match student_net.run(Effect::MarkAllRead).await {
        Action::MarkedAllRead(Ok(marked)) => {
            assert_eq!((marked.marked, marked.unread_count), (2, 0))
        }
        other => panic!("{other:?}"),
    }
}
