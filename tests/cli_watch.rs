//! End to end: `edupro notifications` and `edupro watch` against the real server. The
//! watch test runs the server as its own process (`edupro server`) so it can be killed
//! and started again on the same data dir and port while `watch` keeps running.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use harness::{PASSWORD, Terminal, register, spawn_server};
use serde_json::{Value, json};

/// Long enough for anything on a loaded CI box.
const PATIENCE: Duration = Duration::from_secs(60);

/// Signs in over HTTP; the access token.
async fn token(server: &str, email: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{server}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"]["accessToken"].as_str().unwrap().to_owned()
}

/// A published course of the teacher behind `token`, with `student` enrolled.
async fn course_with(server: &str, token: &str, student_token: &str) -> String {
    let http = reqwest::Client::new();
    let post = |path: String, body: Value, token: String| {
        let request = http
            .post(format!("{server}/api/v1{path}"))
            .bearer_auth(token)
            .json(&body);
        async move {
            let answer: Value = request.send().await.unwrap().json().await.unwrap();
            assert_eq!(answer["success"], true, "{path}: {answer}");
            answer["data"].clone()
        }
    };
    let t = token.to_owned();
    let course = post("/courses".into(), json!({ "title": "Watching" }), t.clone()).await;
    let id = course["id"].as_str().unwrap().to_owned();
    let section = post(
        format!("/courses/{id}/sections"),
        json!({ "title": "W1" }),
        t.clone(),
    )
    .await;
    post(
        format!("/sections/{}/lessons", section["id"].as_str().unwrap()),
        json!({ "title": "Hi", "type": "VIDEO", "duration": 1,
                "url": "https://video.school.test/v/1", "isPublished": true }),
        t.clone(),
    )
    .await;
    post(format!("/courses/{id}/publish"), json!({}), t.clone()).await;
    post(
        "/enrollments".into(),
        json!({ "courseId": id }),
        student_token.to_owned(),
    )
    .await;
    id
}

async fn announce(server: &str, token: &str, course: &str, title: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{server}/api/v1/courses/{course}/announcements"))
        .bearer_auth(token)
        .json(&json!({ "title": title, "message": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_list_pages_through_everything_and_read_marks_them() {
    let server = spawn_server().await;
    register(&server, "teach@school.test", "TEACHER").await;
    register(&server, "stu@school.test", "STUDENT").await;
    let teacher = token(&server.url, "teach@school.test").await;
    let student = token(&server.url, "stu@school.test").await;
    let course = course_with(&server.url, &teacher, &student).await;
    for i in 1..=101 {
        announce(&server.url, &teacher, &course, &format!("News {i}")).await;
    }
    let term = Terminal::new(&server);
    term.login("stu@school.test", PASSWORD).await;
    // The consumer works in the background: wait until the newest is there.
    let mut listed = Value::Null;
    for _ in 0..600 {
        let run = term.run(&["notifications", "list", "--json"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        listed = run.json();
        if listed.as_array().unwrap().len() == 102 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = listed.as_array().unwrap();
    assert_eq!(
        all.len(),
        102,
        "101 announcements and the enrollment, over two pages"
    );
    assert_eq!(all[0]["title"], "News 101");
    assert_eq!(all[101]["type"], "ENROLLED");

    let limited = term.run(&["notifications", "list", "--limit", "3"]).await;
    assert_eq!(limited.code, 0, "{}", limited.stderr);
    let lines: Vec<&str> = limited.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "piped: one tab-separated line each: {lines:?}"
    );
    let cells: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(cells[1..4], ["ANNOUNCEMENT", "News 101", "x"]);

    let newest = all[0]["id"].as_i64().unwrap().to_string();
    let read = term
        .run(&["notifications", "read", &newest, "--json"])
        .await;
    assert_eq!(read.code, 0, "{}", read.stderr);
    assert_eq!(read.json()["isRead"], true);
    let unread = term
        .run(&["notifications", "list", "--unread", "--json"])
        .await;
    assert_eq!(unread.json().as_array().unwrap().len(), 101);
    let all_read = term
        .run(&["notifications", "read", "--all", "--json"])
        .await;
    assert_eq!(all_read.code, 0, "{}", all_read.stderr);
    assert_eq!(all_read.json(), json!({ "marked": 101, "unreadCount": 0 }));
    let missing = term.run(&["notifications", "read", "999999"]).await;
    assert_eq!(missing.code, 4, "not found: {}", missing.stderr);
    let neither = term.run(&["notifications", "read"]).await;
    assert_eq!(neither.code, 2, "usage: {}", neither.stderr);
}

/// A child process killed when the test ends, passing or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port (bound and released: the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `edupro server` on `data` and `port` (and the suite's PostgreSQL, when set).
fn start_server(data: &std::path::Path, port: u16, database_url: Option<&str>) -> Killed {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edupro"));
    command
        .args(["server", "--data-dir"])
        .arg(data)
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--log-level",
            "warn",
        ])
        .env_remove("EDUPRO_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    Killed(command.spawn().unwrap())
}

async fn wait_until_up(url: &str) {
    for _ in 0..1200 {
        if let Ok(answer) = reqwest::get(format!("{url}/health")).await
            && answer.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server at {url} did not come up");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_prints_every_notification_once_across_a_server_restart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(harness::fresh_pg_database(&url).await),
        _ => None,
    };
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = start_server(data.path(), port, database_url.as_deref());
    wait_until_up(&url).await;

    let http = reqwest::Client::new();
    for (email, role) in [("t@school.test", "TEACHER"), ("s@school.test", "STUDENT")] {
        let answer = http
            .post(format!("{url}/api/v1/auth/register"))
            .json(
                &json!({"email": email, "password": PASSWORD, "firstName": "Ada",
                          "lastName": "Lovelace", "role": role}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
    let teacher = token(&url, "t@school.test").await;
    let student = token(&url, "s@school.test").await;
    let course = course_with(&url, &teacher, &student).await;

    let term = Terminal {
        server: url.clone(),
        config: tempfile::tempdir().unwrap(),
    };
    term.login("s@school.test", PASSWORD).await;
    let mut watch = term.command(&["watch", "--json", "--since", "0"]);
    watch.stdin(Stdio::null());
    let mut watch = Killed(watch.spawn().unwrap());
    let stdout = watch.0.stdout.take().unwrap();
    let stderr = watch.0.stderr.take().unwrap();
    let (notes_tx, notes) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if notes_tx.send(line).is_err() {
                return;
            }
        }
    });
    let (lines_tx, lines) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("watch --json printed a non-JSON line ({e}): {line}"));
            if lines_tx.send(value).is_err() {
                return;
            }
        }
    });
    let next = |what: &str| {
        lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("watch printed nothing more, waiting for {what}"))
    };

    let mut seen = vec![next("the enrollment")];
    for i in 1..=3 {
        announce(&url, &teacher, &course, &format!("Before {i}")).await;
        seen.push(next("a live announcement"));
    }
    // Kill the server outright, start it again on the same data, and announce at once:
    // `watch` is still backing off, so these come through its `since` replay.
    drop(server);
    let _server = start_server(data.path(), port, database_url.as_deref());
    wait_until_up(&url).await;
    for i in 1..=3 {
        announce(&url, &teacher, &course, &format!("After {i}")).await;
    }
    for _ in 0..3 {
        seen.push(next("a replayed announcement"));
    }
    announce(&url, &teacher, &course, "Live again").await;
    seen.push(next("the live one after the restart"));
    // A repeat of anything would come before this one.
    announce(&url, &teacher, &course, "Final").await;
    seen.push(next("the final one"));

    let titles: Vec<&str> = seen.iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Enrolled in Watching",
            "Before 1",
            "Before 2",
            "Before 3",
            "After 1",
            "After 2",
            "After 3",
            "Live again",
            "Final"
        ]
    );
    let ids: Vec<i64> = seen.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    drop(watch);
    let notes: Vec<String> = notes.iter().collect();
    assert!(
        notes.iter().any(|n| n.contains("connection lost")),
        "watch said it lost the connection: {notes:?}"
    );
}
