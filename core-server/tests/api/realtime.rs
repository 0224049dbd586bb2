//! The WebSocket hub over a real socket (tokio-tungstenite): authentication on the
//! upgrade, replay with `since` and live pushes without gaps or repeats, 1013 for a
//! client that stops reading, membership checked on replay, sockets closed when their
//! credentials end, quiet hours, and two instances on one PostgreSQL.

use std::collections::HashSet;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::helpers::{spawn_app, spawn_app_with, spawn_two_instances};
use crate::realtime_helpers::{
    Ws, announce, classroom, code, enroll, ids, newest_id, upgrade, wait_for_title,
};

/// The titles of notifications.
fn titles(notifications: &[Value]) -> Vec<String> {
    notifications
        .iter()
        .map(|n| n["title"].as_str().expect("title").to_owned())
        .collect()
}

/// Strictly increasing: nothing twice, nothing out of order.
fn assert_increasing(seen: &[i64]) {
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "ids must increase: {seen:?}"
    );
}

#[tokio::test]
async fn an_upgrade_without_a_valid_token_is_refused() {
    let app = spawn_app().await;
    let student = app.register("STUDENT").await;

    let bad = tokio_tungstenite::connect_async(upgrade(&app, Some("not-a-token"), None)).await;
    match bad {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("a bad token must be a 401, got {other:?}"),
    }
    let in_url = format!(
        "{}?token={}",
        crate::realtime_helpers::ws_url(&app, None),
        student.access_token
    );
    match tokio_tungstenite::connect_async(in_url).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("a token in the URL must be a 400, got {other:?}"),
    }
    match tokio_tungstenite::connect_async(upgrade(&app, Some(&student.access_token), Some(-1)))
        .await
    {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("a negative since must be a 400, got {other:?}"),
    }

    // Without the header the first message must authenticate; a bad one closes.
    let (stream, _) = tokio_tungstenite::connect_async(upgrade(&app, None, None))
        .await
        .expect("upgrade without a header");
    let mut anonymous = Ws { stream };
    anonymous
        .send(&json!({ "type": "auth", "token": "forged" }))
        .await;
    let error = anonymous.next().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["code"], "UNAUTHORIZED");
    let (close, _) = anonymous.until_closed().await;
    assert_eq!(code(close), 4003);

    let (stream, _) = tokio_tungstenite::connect_async(upgrade(&app, None, None))
        .await
        .expect("upgrade without a header");
    let mut browser = Ws { stream };
    browser
        .send(&json!({ "type": "auth", "token": student.access_token }))
        .await;
    let welcome = browser.next().await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["userId"], student.id);
    browser.send(&json!({ "type": "ping" })).await;
    assert_eq!(browser.next().await["type"], "pong");
}

#[tokio::test]
async fn a_client_that_reconnects_with_since_misses_nothing_and_sees_nothing_twice() {
    let app = spawn_app().await;
    let room = classroom(&app, "Algebra", 1).await;
    let student = &room.students[0];
    wait_for_title(&app, student, "Enrolled in Algebra").await;

    let (mut ws, replayed) = Ws::connect_caught_up(&app, &student.access_token, 0).await;
    assert_eq!(titles(&replayed), ["Enrolled in Algebra"]);
    let mut seen = replayed;

    // Announcements keep coming while the client drops and comes back several times.
    const TOTAL: usize = 30;
    let poster = {
        let address = app.address.clone();
        let token = room.teacher.access_token.clone();
        let course = room.course.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 1..=TOTAL {
                let answer = client
                    .post(format!("{address}/api/v1/courses/{course}/announcements"))
                    .bearer_auth(&token)
                    .json(&json!({ "title": format!("News {i}"), "message": "x" }))
                    .send()
                    .await
                    .expect("announce");
                assert_eq!(answer.status(), 201);
            }
        })
    };
    let mut reconnects = 0;
    while seen.len() < TOTAL + 1 {
        // Take a few live ones, drop the socket, reconnect from the last id held.
        for _ in 0..4 {
            if seen.len() == TOTAL + 1 {
                break;
            }
            seen.push(ws.next_notification().await);
        }
        drop(ws);
        reconnects += 1;
        let last = seen.last().and_then(|n| n["id"].as_i64()).expect("an id");
        let (again, replayed) = Ws::connect_caught_up(&app, &student.access_token, last).await;
        seen.extend(replayed);
        ws = again;
    }
    poster.await.expect("poster");
    assert!(reconnects >= 2, "the test reconnected ({reconnects} times)");
    let got = ids(&seen);
    assert_increasing(&got);
    let mut expected = vec!["Enrolled in Algebra".to_owned()];
    expected.extend((1..=TOTAL).map(|i| format!("News {i}")));
    assert_eq!(titles(&seen), expected);

    // And live pushes continue after the last replay.
    announce(&app, &room.teacher, &room.course, "Live again", "x").await;
    assert_eq!(ws.next_notification().await["title"], "Live again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_with_1013_and_others_keep_receiving() {
    // The queue holds more than one consumer batch (100 events) can push at once, so
    // only a client that really stops reading overflows it.
    let app = spawn_app_with(|args| args.realtime.ws_queue_size = Some(128)).await;
    let room = classroom(&app, "Load", 2).await;
    let (slow_user, fast_user) = (&room.students[0], &room.students[1]);
    for student in &room.students {
        wait_for_title(&app, student, "Enrolled in Load").await;
    }
    let since = newest_id(&app, fast_user)
        .await
        .max(newest_id(&app, slow_user).await);
    let mut slow = Ws::connect_with_small_buffer(&app, &slow_user.access_token, since).await;
    let (mut fast, _) = Ws::connect_caught_up(&app, &fast_user.access_token, since).await;
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            let n = fast.next_notification().await;
            let done = n["title"] == "Last";
            got.push(n);
            if done {
                return got;
            }
        }
    });

    // Big messages fill the slow socket's buffers quickly; stop once it is cut off.
    let body = "x".repeat(5_000);
    let mut posted = 0;
    while app.state.realtime.hub.stats().await.evicted_slow == 0 {
        posted += 1;
        assert!(posted <= 3_000, "the slow client was never cut off");
        announce(
            &app,
            &room.teacher,
            &room.course,
            &format!("Bulk {posted}"),
            &body,
        )
        .await;
    }
    announce(&app, &room.teacher, &room.course, "Last", "x").await;

    let fast_got = reader.await.expect("fast reader");
    let mut expected: Vec<String> = (1..=posted).map(|i| format!("Bulk {i}")).collect();
    expected.push("Last".into());
    assert_eq!(
        titles(&fast_got),
        expected,
        "the fast client missed nothing"
    );
    assert_increasing(&ids(&fast_got));

    let (close, slow_got) = slow.until_closed().await;
    assert_eq!(
        code(close),
        1013,
        "the slow client is told to try again later"
    );
    assert!(slow_got.len() < expected.len(), "it fell behind");
    let last = slow_got
        .last()
        .and_then(|n| n["id"].as_i64())
        .unwrap_or(since);
    let (_ws, rest) = Ws::connect_caught_up(&app, &slow_user.access_token, last).await;
    let mut all = slow_got;
    all.extend(rest);
    assert_increasing(&ids(&all));
    assert_eq!(
        titles(&all),
        expected,
        "and recovers everything through since"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_bounded_in_bytes_too_so_big_messages_cut_a_slow_client_off_sooner() {
    // 100,000 messages would never fill during this test: only the byte bound (768 KiB,
    // more than one consumer batch of 100 × 5 KB) can close the slow client.
    let app = spawn_app_with(|args| {
        args.realtime.ws_queue_size = Some(100_000);
        args.realtime.ws_queue_bytes = Some(768 * 1024);
    })
    .await;
    let room = classroom(&app, "Bytes", 2).await;
    let (slow_user, fast_user) = (&room.students[0], &room.students[1]);
    for student in &room.students {
        wait_for_title(&app, student, "Enrolled in Bytes").await;
    }
    let since = newest_id(&app, fast_user)
        .await
        .max(newest_id(&app, slow_user).await);
    let mut slow = Ws::connect_with_small_buffer(&app, &slow_user.access_token, since).await;
    let (mut fast, _) = Ws::connect_caught_up(&app, &fast_user.access_token, since).await;
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            let n = fast.next_notification().await;
            let done = n["title"] == "Last";
            got.push(n);
            if done {
                return got;
            }
        }
    });
    let body = "x".repeat(5_000);
    let mut posted = 0;
    while app.state.realtime.hub.stats().await.evicted_slow == 0 {
        posted += 1;
        assert!(posted <= 3_000, "the slow client was never cut off");
        announce(
            &app,
            &room.teacher,
            &room.course,
            &format!("Bulk {posted}"),
            &body,
        )
        .await;
    }
    announce(&app, &room.teacher, &room.course, "Last", "x").await;
    let fast_got = reader.await.expect("fast reader");
    assert_eq!(fast_got.len(), posted + 1, "the fast client missed nothing");
    let (close, _) = slow.until_closed().await;
    assert_eq!(
        code(close),
        1013,
        "the slow client is told to try again later"
    );
}

#[tokio::test]
async fn a_student_removed_from_a_course_no_longer_gets_its_news_on_replay() {
    let app = spawn_app().await;
    let room = classroom(&app, "Drama", 1).await;
    let student = &room.students[0];
    let other_teacher = app.register("TEACHER").await;
    let (other_course, _, _) =
        crate::catalogue_helpers::published(&app, &other_teacher.access_token, "Dance").await;
    enroll(&app, student, &other_course).await;
    wait_for_title(&app, student, "Enrolled in Dance").await;
    let (mut ws, _) = Ws::connect_caught_up(&app, &student.access_token, 0).await;

    announce(&app, &room.teacher, &room.course, "Rehearsal", "x").await;
    let rehearsal = ws.next_notification().await;
    assert_eq!(rehearsal["title"], "Rehearsal");
    let before = rehearsal["id"].as_i64().expect("id");
    drop(ws);

    // Made while the student still belonged, then they are removed before reading.
    announce(&app, &room.teacher, &room.course, "Costumes", "x").await;
    wait_for_title(&app, student, "Costumes").await;
    let removed = app
        .delete_as(
            &room.teacher.access_token,
            &format!("/api/v1/courses/{}/enrollments/{}", room.course, student.id),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    wait_for_title(&app, student, "Removed from Drama").await;
    announce(&app, &room.teacher, &room.course, "Premiere", "x").await;
    announce(&app, &other_teacher, &other_course, "Dance news", "x").await;
    wait_for_title(&app, student, "Dance news").await;

    let (mut ws, replayed) = Ws::connect_caught_up(&app, &student.access_token, before).await;
    assert_eq!(
        titles(&replayed),
        ["Removed from Drama", "Dance news"],
        "a removed student's replay skips the course's news"
    );
    // Live: the course's next news is not theirs; the other course's is.
    announce(&app, &room.teacher, &room.course, "Encore", "x").await;
    announce(&app, &other_teacher, &other_course, "Dance live", "x").await;
    assert_eq!(ws.next_notification().await["title"], "Dance live");
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets_and_deactivation_closes_the_rest() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let student = app.register("STUDENT").await;
    let laptop = app.login(&student.email, &student.password).await;
    assert_eq!(laptop.status, 200, "{}", laptop.body);
    let laptop_token = laptop.body["data"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut phone = Ws::connect(&app, &student.access_token, None).await;
    let mut desk = Ws::connect(&app, &laptop_token, None).await;

    let out = app
        .post_as(&student.access_token, "/api/v1/auth/logout", &json!({}))
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    let (close, _) = phone.until_closed().await;
    assert_eq!(code(close), 4001, "the signed-out session's socket closes");
    desk.send(&json!({ "type": "ping" })).await;
    assert_eq!(
        desk.next().await["type"],
        "pong",
        "the other session's stays"
    );

    let deactivated = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/users/{}/deactivate", student.id),
            &json!({}),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    let (close, _) = desk.until_closed().await;
    assert_eq!(code(close), 4001);
    let refused = tokio_tungstenite::connect_async(upgrade(&app, Some(&laptop_token), None)).await;
    assert!(
        matches!(&refused, Err(WsError::Http(r)) if r.status() == 401),
        "{refused:?}"
    );
}

#[tokio::test]
async fn quiet_hours_hold_pushes_back_until_they_end() {
    let app = spawn_app().await;
    let room = classroom(&app, "Poetry", 1).await;
    let student = &room.students[0];
    let t = &student.access_token;
    let now = chrono::Utc::now();
    let hhmm = |d: chrono::DateTime<chrono::Utc>| d.format("%H:%M").to_string();
    let quiet = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&json!({ "quietHours": {
                "start": hhmm(now - chrono::Duration::hours(1)),
                "end": hhmm(now + chrono::Duration::hours(1)) } })),
        )
        .await;
    assert_eq!(quiet.status, 200, "{}", quiet.body);
    wait_for_title(&app, student, "Enrolled in Poetry").await;
    let since = newest_id(&app, student).await;
    announce(&app, &room.teacher, &room.course, "Late news", "x").await;
    wait_for_title(&app, student, "Late news").await;
    // During quiet hours even the replay is held: the answer to a ping comes first.
    let mut ws = Ws::connect(&app, t, Some(since)).await;
    ws.send(&json!({ "type": "ping" })).await;
    let first = ws.next().await;
    assert_eq!(
        first["type"], "pong",
        "nothing is pushed in quiet hours: {first}"
    );
    let loud = app
        .call_as(
            t,
            reqwest::Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&json!({ "quietHours": null })),
        )
        .await;
    assert_eq!(loud.status, 200, "{}", loud.body);
    // When they end, what was held comes as a catch-up ending in `caughtUp`.
    let held = ws.until_caught_up().await;
    assert_eq!(titles(&held), ["Late news"]);
    announce(&app, &room.teacher, &room.course, "Day news", "x").await;
    assert_eq!(ws.next_notification().await["title"], "Day news");
}

#[tokio::test]
async fn two_instances_on_one_postgresql_deliver_each_others_notifications_once() {
    let Some((a, b)) = spawn_two_instances("the two-instance fan-out test").await else {
        return;
    };
    let room = classroom(&a, "Networks", 2).await;
    let (on_a, on_b) = (&room.students[0], &room.students[1]);
    wait_for_title(&a, on_a, "Enrolled in Networks").await;
    wait_for_title(&b, on_b, "Enrolled in Networks").await;
    let since = newest_id(&a, on_a).await.max(newest_id(&a, on_b).await);
    let (mut ws_a, _) = Ws::connect_caught_up(&a, &on_a.access_token, since).await;
    let (mut ws_b, _) = Ws::connect_caught_up(&b, &on_b.access_token, since).await;

    announce(&a, &room.teacher, &room.course, "From A", "x").await;
    announce(&b, &room.teacher, &room.course, "From B", "x").await;
    for ws in [&mut ws_a, &mut ws_b] {
        let got = vec![ws.next_notification().await, ws.next_notification().await];
        assert_eq!(titles(&got), ["From A", "From B"]);
        assert_increasing(&ids(&got));
    }
    // Both consumers ran on the events; each made its notifications once.
    for student in [on_a, on_b] {
        let inbox = crate::realtime_helpers::inbox(&b, student).await;
        let all: Vec<String> = titles(&inbox);
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!(all.len(), unique.len(), "{all:?}");
        assert_eq!(all.len(), 3, "{all:?}");
    }
}
