//! The reminder scheduler across restarts: server processes started and stopped on one
//! database, each in a runtime of its own (stopping it ends every task it spawned).

use std::net::SocketAddr;

use chrono::{Duration, Utc};
use edupro_server::Application;
use edupro_server::platform::config::ServerArgs;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PgTestDatabase, TEST_DATABASE_URL};

/// One server process's worth of runtime, stopped on demand.
struct Instance {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    fn start(args: ServerArgs) -> Self {
        let settings = args.resolve().expect("settings resolve");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let app = Application::build(settings).await.expect("server builds");
                ready_tx.send(app.local_addr()).expect("ready");
                tokio::select! {
                    _ = app.run_until_stopped() => {}
                    _ = stopped => {}
                }
            });
            // Ends the scheduler, the consumer and every other task of this instance.
            runtime.shutdown_background();
        });
        let addr = ready_rx.recv().expect("instance started");
        Self {
            base: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("instance thread");
        }
    }
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    async fn call(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn register(&self, base: &str, role: &str) -> (String, String) {
        let email = format!(
            "{}-{}@school.test",
            role.to_lowercase(),
            uuid::Uuid::now_v7().simple()
        );
        let (status, body) = self
            .call(base, reqwest::Method::POST, "/api/v1/auth/register", None, Some(json!({
                "email": email, "password": PASSWORD, "firstName": "Test", "lastName": role, "role": role,
            })))
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["data"]["user"]["id"].as_str().expect("id").to_owned(),
            body["data"]["accessToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        )
    }

    /// A 5-minute class `minutes` from now: its 15-minute reminder is due at once.
    async fn schedule(
        &self,
        base: &str,
        token: &str,
        course: &str,
        title: &str,
        minutes: i64,
    ) -> String {
        let (status, body) = self
            .call(
                base,
                reqwest::Method::POST,
                "/api/v1/live-classes",
                Some(token),
                Some(json!({
                    "courseId": course, "title": title, "duration": 5, "reminderMinutes": 15,
                    "scheduledAt": (Utc::now() + Duration::minutes(minutes)).to_rfc3339(),
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().expect("id").to_owned()
    }

    /// The live-class ids of the student's reminders, once `count` exist.
    async fn reminders(&self, base: &str, token: &str, count: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..400 {
            let (status, body) = self
                .call(
                    base,
                    reqwest::Method::GET,
                    "/api/v1/notifications?limit=100",
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            ids = body["data"]["notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|n| n["type"] == "CLASS_STARTING_SOON")
                .map(|n| {
                    n["data"]["liveClassId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            if ids.len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        ids
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_is_sent_once_even_when_the_server_restarts() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let database = match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => Some(PgTestDatabase::create(&url).await),
        _ => None,
    };
    let args = |poll: &str| ServerArgs {
        data_dir: Some(data_dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse().expect("addr")),
        database_url: database.as_ref().map(|d| d.url.clone()),
        workers: Some(2),
        db_max_connections: Some(5),
        rate_limit_per_ip: Some(10_000),
        rate_limit_per_account: Some(10_000),
        realtime: edupro_server::realtime::RealtimeArgs {
            notification_poll_interval: Some(poll.to_owned()),
            ..Default::default()
        },
        ..ServerArgs::default()
    };
    let client = Client {
        http: reqwest::Client::new(),
    };

    // First process: its scheduler looks once at start, then not for an hour, so the
    // class scheduled meanwhile (due at once) is still unsent when it stops.
    let first = Instance::start(args("1h"));
    let (teacher_id, teacher) = client.register(&first.base, "TEACHER").await;
    let _ = teacher_id;
    let (student_id, student) = client.register(&first.base, "STUDENT").await;
    let (status, body) = client
        .call(
            &first.base,
            reqwest::Method::POST,
            "/api/v1/courses",
            Some(&teacher),
            Some(json!({ "title": "Restarts" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let course = body["data"]["id"].as_str().expect("course").to_owned();
    let (status, body) = client
        .call(
            &first.base,
            reqwest::Method::POST,
            &format!("/api/v1/courses/{course}/enrollments"),
            Some(&teacher),
            Some(json!({ "studentId": student_id })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let class = client
        .schedule(&first.base, &teacher, &course, "Before the restart", 3)
        .await;
    first.stop();

    // Second process: sends the reminder that was due.
    let second = Instance::start(args("100ms"));
    let sent = client.reminders(&second.base, &student, 1).await;
    assert_eq!(sent, vec![class.clone()]);
    second.stop();

    // Third process: a new class's reminder proves its scheduler ran its passes; the
    // first class's reminder is not sent again.
    let third = Instance::start(args("100ms"));
    let marker = client
        .schedule(&third.base, &teacher, &course, "After the restart", 10)
        .await;
    let mut sent = client.reminders(&third.base, &student, 2).await;
    sent.sort();
    let mut want = vec![class, marker];
    want.sort();
    assert_eq!(sent, want, "each class reminded exactly once");
    third.stop();
}
