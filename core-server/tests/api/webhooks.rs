//! Outgoing webhooks against a local receiver that verifies every signature: subscribed
//! events arrive signed, others do not; failures are retried with backoff and every
//! attempt is logged; an endpoint that keeps failing is disabled and admins are told;
//! resend and test pings; the outbox across a restart (nothing lost, nothing twice);
//! who may do what; bad input naming its field.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use edupro_server::Application;
use edupro_server::domain::events::{DomainEvent, EnrollmentChange};
use edupro_server::platform::config::ServerArgs;
use edupro_server::platform::config::webhooks::WebhookArgs;
use reqwest::Method;
use serde_json::{Value, json};

use crate::catalogue_helpers::{error_fields, published};
use crate::enrollments::staff_enroll;
use crate::helpers::{
    PASSWORD, PgTestDatabase, TEST_DATABASE_URL, TestApp, spawn_app_with, spawn_two_instances_with,
};
use crate::webhook_receiver::Receiver;

const WAIT: Duration = Duration::from_secs(20);

/// Fast retries, so a test sees several attempts in well under a second.
fn fast(disable_after: u32) -> WebhookArgs {
    WebhookArgs {
        webhook_retry_base: Some("50ms".into()),
        webhook_poll_interval: Some("100ms".into()),
        webhook_disable_after: Some(disable_after),
        webhook_timeout: Some("2s".into()),
        ..WebhookArgs::default()
    }
}

async fn app(disable_after: u32) -> TestApp {
    spawn_app_with(|args| args.webhooks = fast(disable_after)).await
}

/// Registers an endpoint for `events` at the receiver, which learns its secret; the
/// endpoint's id.
async fn register(app: &TestApp, admin: &str, receiver: &Receiver, events: Value) -> String {
    let answer = app
        .post_as(
            admin,
            "/api/v1/webhooks",
            &json!({ "url": receiver.url(), "events": events, "description": "Test receiver" }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let secret = answer.body["data"]["secret"].as_str().expect("a secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.set_secret(secret);
    answer.body["data"]["id"].as_str().expect("id").to_owned()
}

async fn delivery(app: &TestApp, admin: &str, id: &str) -> Value {
    let answer = app
        .get_as(admin, &format!("/api/v1/webhook-deliveries/{id}"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["data"].clone()
}

/// Waits until the delivery `id` has `status`; its detail.
async fn wait_for_status(app: &TestApp, admin: &str, id: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let detail = delivery(app, admin, id).await;
        if detail["delivery"]["status"] == status {
            return detail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivery never became {status}: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_subscribed_event_arrives_signed_and_others_do_not() {
    let receiver = Receiver::start().await;
    let app = app(100).await;
    let admin = app.admin().await;
    let webhook = register(
        &app,
        &admin.access_token,
        &receiver,
        json!(["course.enrolled"]),
    )
    .await;

    // The secret is shown once.
    let shown = app
        .get_as(&admin.access_token, &format!("/api/v1/webhooks/{webhook}"))
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body["data"].get("secret").is_none(), "{}", shown.body);
    assert_eq!(shown.body["data"]["events"], json!(["course.enrolled"]));

    // Publishing a course is `course.published`: not subscribed.
    let teacher = app.register("TEACHER").await;
    let (course, _, _) = published(&app, &teacher.access_token, "Webhooks 101").await;
    let student = app.register("STUDENT").await;
    staff_enroll(&app, &teacher.access_token, &course, &student.id).await;

    receiver
        .wait_until(WAIT, |r| r.iter().any(|r| r.accepted))
        .await;
    // Time for anything unsubscribed to arrive, were it sent.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    let hook = &received[0];
    assert!(hook.signature_ok, "{hook:?}");
    assert!((chrono::Utc::now().timestamp() - hook.timestamp).abs() < 60);
    assert_eq!(hook.body["type"], "course.enrolled");
    assert_eq!(hook.body["data"]["studentId"], student.id.as_str());
    assert_eq!(hook.body["data"]["courseId"], course.as_str());
    assert!(hook.body["id"].is_string() && hook.body["createdAt"].is_string());

    let list = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/deliveries"),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let deliveries = list.body["data"]["deliveries"].as_array().expect("list");
    assert_eq!(deliveries.len(), 1, "{}", list.body);
    assert_eq!(
        deliveries[0]["id"],
        hook.id.as_str(),
        "webhook-id is the delivery"
    );
    let detail = wait_for_status(&app, &admin.access_token, &hook.id, "DELIVERED").await;
    assert_eq!(detail["delivery"]["attempts"], 1);
    assert_eq!(detail["attempts"][0]["statusCode"], 200);
    assert!(detail["attempts"][0]["latencyMs"].as_i64().is_some());
    assert_eq!(detail["body"], hook.body);
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_with_backoff_and_every_attempt_is_logged() {
    let receiver = Receiver::start().await;
    let app = app(100).await;
    let admin = app.admin().await;
    let webhook = register(&app, &admin.access_token, &receiver, json!(["*"])).await;
    receiver.fail_next(2);

    let ping = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/test"),
            &json!({}),
        )
        .await;
    assert_eq!(ping.status, 201, "{}", ping.body);
    assert_eq!(ping.body["data"]["eventType"], "webhook.test");
    let id = ping.body["data"]["id"].as_str().expect("id").to_owned();

    let detail = wait_for_status(&app, &admin.access_token, &id, "DELIVERED").await;
    let attempts = detail["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 3, "{detail:#}");
    assert_eq!(attempts[0]["statusCode"], 503);
    assert!(attempts[0]["error"].is_string());
    assert_eq!(attempts[2]["statusCode"], 200);
    assert!(attempts[2]["error"].is_null());
    // Each wait is twice the one before (50 ms, then 100 ms).
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.id == id && r.signature_ok));
    let gaps: Vec<Duration> = received.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(45), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(95), "{gaps:?}");
    // The streak ended with the success.
    let endpoint = app
        .get_as(&admin.access_token, &format!("/api/v1/webhooks/{webhook}"))
        .await;
    assert_eq!(endpoint.body["data"]["consecutiveFailures"], 0);
    assert_eq!(endpoint.body["data"]["active"], true);
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_every_admin_is_told() {
    let receiver = Receiver::start().await;
    let app = app(3).await;
    let admin = app.admin().await;
    let other_admin = app.admin().await;
    let webhook = register(&app, &admin.access_token, &receiver, json!(["*"])).await;
    receiver.fail_all(true);
    let ping = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/test"),
            &json!({}),
        )
        .await;
    let id = ping.body["data"]["id"].as_str().expect("id").to_owned();

    // Disabled after the third failure in a row.
    let deadline = std::time::Instant::now() + WAIT;
    let endpoint = loop {
        let endpoint = app
            .get_as(&admin.access_token, &format!("/api/v1/webhooks/{webhook}"))
            .await;
        if endpoint.body["data"]["active"] == false {
            break endpoint.body["data"].clone();
        }
        assert!(std::time::Instant::now() < deadline, "{}", endpoint.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(endpoint["disabledAt"].is_string(), "{endpoint}");
    let reason = endpoint["disabledReason"].as_str().expect("a reason");
    assert!(reason.contains("3 failed attempts"), "{reason}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "nothing is sent once disabled"
    );

    for who in [&admin, &other_admin] {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let inbox = app.get_as(&who.access_token, "/api/v1/notifications").await;
            assert_eq!(inbox.status, 200, "{}", inbox.body);
            let told = inbox.body["data"]["notifications"]
                .as_array()
                .expect("list")
                .iter()
                .find(|n| n["type"] == "WEBHOOK_DISABLED")
                .cloned();
            if let Some(n) = told {
                assert_eq!(n["data"]["webhookId"], webhook.as_str());
                assert!(
                    n["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains(&receiver.url())
                );
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{}", inbox.body);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // A disabled endpoint takes no pings or resends until it is enabled.
    let refused = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhook-deliveries/{id}/resend"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let refused = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/test"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);

    // Enabled again: the failures are forgotten and the waiting delivery goes out.
    receiver.fail_all(false);
    let enabled = app
        .patch_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}"),
            &json!({ "active": true }),
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["data"]["consecutiveFailures"], 0);
    assert!(enabled.body["data"]["disabledAt"].is_null());
    let detail = wait_for_status(&app, &admin.access_token, &id, "DELIVERED").await;
    assert_eq!(detail["attempts"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn a_delivery_can_be_sent_again_with_the_same_id() {
    let receiver = Receiver::start().await;
    let app = app(100).await;
    let admin = app.admin().await;
    let webhook = register(&app, &admin.access_token, &receiver, json!(["*"])).await;
    let ping = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/test"),
            &json!({}),
        )
        .await;
    let id = ping.body["data"]["id"].as_str().expect("id").to_owned();
    wait_for_status(&app, &admin.access_token, &id, "DELIVERED").await;

    let again = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhook-deliveries/{id}/resend"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    receiver.wait_until(WAIT, |r| r.len() == 2).await;
    let received = receiver.received();
    assert_eq!(received[0].id, received[1].id);
    assert_eq!(received[0].body, received[1].body);
    assert!(received.iter().all(|r| r.signature_ok));
    let detail = wait_for_status(&app, &admin.access_token, &id, "DELIVERED").await;
    assert_eq!(detail["delivery"]["attempts"], 2);

    // The status filter, and an unknown delivery.
    let delivered = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/deliveries?status=FAILED"),
        )
        .await;
    assert_eq!(delivered.body["data"]["pagination"]["total"], 0);
    let missing = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhook-deliveries/{}/resend", uuid::Uuid::now_v7()),
            &json!({}),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn bad_input_names_its_field_and_aliases_are_accepted() {
    let app = app(100).await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    for (body, field) in [
        (
            json!({ "url": "ftp://hooks.test/x", "events": ["course.enrolled"] }),
            "url",
        ),
        (
            json!({ "url": "not a url", "events": ["course.enrolled"] }),
            "url",
        ),
        (
            json!({ "url": "https://hooks.test/x", "events": [] }),
            "events",
        ),
        (
            json!({ "url": "https://hooks.test/x", "events": ["course.enroled"] }),
            "events",
        ),
        (
            json!({ "url": "https://hooks.test/x", "events": ["*"], "description": "a\u{7}b" }),
            "description",
        ),
    ] {
        let answer = app.post_as(token, "/api/v1/webhooks", &body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert_eq!(error_fields(&answer.body), [field], "{}", answer.body);
    }
    let answer = app
        .post_as(
            token,
            "/api/v1/webhooks",
            &json!({ "url": "https://hooks.test/x", "events": ["class.started", "payment.success", "test.submitted", "achievement.unlocked"] }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.body["data"]["events"],
        json!([
            "live_class.started",
            "payment.success",
            "test.submitted",
            "achievement.unlocked"
        ])
    );
    let id = answer.body["data"]["id"].as_str().expect("id");
    let answer = app
        .patch_as(
            token,
            &format!("/api/v1/webhooks/{id}"),
            &json!({ "events": ["nope"], "url": "javascript:alert(1)" }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let mut fields = error_fields(&answer.body);
    fields.sort();
    assert_eq!(fields, ["events", "url"]);
}

#[tokio::test]
async fn only_admins_manage_webhooks() {
    let app = app(100).await;
    let admin = app.admin().await;
    let teacher = app.register("TEACHER").await;
    let student = app.register("STUDENT").await;
    let webhook = app
        .post_as(
            &admin.access_token,
            "/api/v1/webhooks",
            &json!({ "url": "http://127.0.0.1:9/x", "events": ["*"] }),
        )
        .await;
    let webhook = webhook.body["data"]["id"].as_str().expect("id").to_owned();
    let ping = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/webhooks/{webhook}/test"),
            &json!({}),
        )
        .await;
    let delivery = ping.body["data"]["id"].as_str().expect("id").to_owned();
    let body = json!({ "url": "https://hooks.test/x", "events": ["course.enrolled"] });
    // Method, path, body, the admin's status; the admin goes last in each row.
    let rows: Vec<(Method, String, Option<Value>, u16)> = vec![
        (Method::POST, "/webhooks".into(), Some(body.clone()), 201),
        (Method::GET, "/webhooks".into(), None, 200),
        (Method::GET, format!("/webhooks/{webhook}"), None, 200),
        (
            Method::PATCH,
            format!("/webhooks/{webhook}"),
            Some(json!({ "description": "Matrix" })),
            200,
        ),
        (
            Method::GET,
            format!("/webhooks/{webhook}/deliveries"),
            None,
            200,
        ),
        (
            Method::POST,
            format!("/webhooks/{webhook}/test"),
            Some(json!({})),
            201,
        ),
        (
            Method::GET,
            format!("/webhook-deliveries/{delivery}"),
            None,
            200,
        ),
        (
            Method::POST,
            format!("/webhook-deliveries/{delivery}/resend"),
            Some(json!({})),
            200,
        ),
        (Method::DELETE, format!("/webhooks/{webhook}"), None, 200),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, admin_status) in rows {
        let path = format!("/api/v1{path}");
        for (who, token, expected) in [
            ("anonymous", None, 401),
            ("student", Some(&student.access_token), 403),
            ("teacher", Some(&teacher.access_token), 403),
            ("admin", Some(&admin.access_token), admin_status),
        ] {
            let mut request = app.client.request(method.clone(), app.url(&path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let answer = app.send(request).await;
            if answer.status != expected {
                wrong.push(format!(
                    "{method} {path} as {who}: {} (expected {expected}) {}",
                    answer.status, answer.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// One server process's worth of runtime, stopped on demand (stopping it ends every
/// task it spawned, as a killed process would).
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

/// An admin made as `edupro-server create-admin` makes one, signed in with 2FA over
/// `base`; the access token.
async fn admin_on(db: &sea_orm::DatabaseConnection, http: &reqwest::Client, base: &str) -> String {
    use edupro_server::domain::{Email, Password, PersonName};
    use edupro_server::service::accounts::{self, NewAccount};
    let email = format!("admin-{}@school.test", uuid::Uuid::now_v7().simple());
    let (_, secret) = accounts::create(
        db,
        NewAccount {
            email: Email::parse(&email).expect("email"),
            password: Some(Password::parse(PASSWORD).expect("password")),
            first_name: PersonName::parse("Root").expect("name"),
            last_name: PersonName::parse("Admin").expect("name"),
            phone: None,
            role: edupro_server::api::Role::Admin,
            external_id: None,
        },
    )
    .await
    .expect("admin created");
    let secret = secret.expect("a TOTP secret");
    let challenge: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let session: Value = http
        .post(format!("{base}/api/v1/auth/2fa/verify"))
        .json(&json!({
            "challengeToken": challenge["data"]["challengeToken"],
            "code": crate::helpers::totp_now(&secret),
        }))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    session["data"]["accessToken"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// Events committed straight into the table (as another instance would), `n` of them.
async fn enrolled_events(db: &sea_orm::DatabaseConnection, n: usize) {
    for _ in 0..n {
        let id = uuid::Uuid::now_v7();
        edupro_server::service::events::publish(
            db,
            DomainEvent::CourseEnrolled(EnrollmentChange {
                enrollment_id: id,
                course_id: id,
                student_id: id,
                actor_id: id,
            }),
        )
        .await
        .expect("event published");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_restart_and_delivers_each_event_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let receiver = Receiver::start().await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let database = match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => Some(PgTestDatabase::create(&url).await),
        _ => None,
    };
    // The first process retries after 2 s, so it stops between attempts; the second
    // retries at once.
    let args = |retry_base: &str| ServerArgs {
        data_dir: Some(data_dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse().expect("addr")),
        database_url: database.as_ref().map(|d| d.url.clone()),
        workers: Some(2),
        db_max_connections: Some(5),
        rate_limit_per_ip: Some(10_000),
        rate_limit_per_account: Some(10_000),
        webhooks: WebhookArgs {
            webhook_retry_base: Some(retry_base.to_owned()),
            ..fast(1000)
        },
        ..ServerArgs::default()
    };
    let settings = args("2s").resolve().expect("settings");
    let http = reqwest::Client::new();

    // First process: the receiver is down, so every delivery waits in the outbox.
    let first = Instance::start(args("2s"));
    let db = edupro_server::store::db::connect(&settings.database, 2)
        .await
        .expect("a connection of the test's own");
    let admin = admin_on(&db, &http, &first.base).await;
    let created: Value = http
        .post(format!("{}/api/v1/webhooks", first.base))
        .bearer_auth(&admin)
        .json(&json!({ "url": receiver.url(), "events": ["course.enrolled"] }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    receiver.set_secret(created["data"]["secret"].as_str().expect("secret"));
    receiver.fail_all(true);
    enrolled_events(&db, 5).await;
    let webhook = created["data"]["id"].as_str().expect("id");
    // Every delivery's first attempt failed and is on record.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let page: Value = http
            .get(format!(
                "{}/api/v1/webhooks/{webhook}/deliveries",
                first.base
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("deliveries")
            .json()
            .await
            .expect("json");
        let failed = page["data"]["deliveries"]
            .as_array()
            .map(|list| list.iter().filter(|d| d["lastStatusCode"] == 503).count());
        if failed == Some(5) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.stop();

    // While no server runs, more events commit; the receiver comes back.
    enrolled_events(&db, 3).await;
    receiver.fail_all(false);

    // Second process on the same database: everything goes out, once.
    let second = Instance::start(args("50ms"));
    receiver
        .wait_until(WAIT, |r| {
            r.iter()
                .filter(|r| r.accepted)
                .map(|r| r.id.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
                == 8
        })
        .await;
    // Anything sent twice would come after the eighth; give it the time to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut accepted: HashMap<String, usize> = HashMap::new();
    for hook in receiver.accepted() {
        assert!(hook.signature_ok, "{hook:?}");
        assert_eq!(hook.body["type"], "course.enrolled");
        *accepted.entry(hook.id).or_default() += 1;
    }
    assert_eq!(accepted.len(), 8, "{accepted:?}");
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
    second.stop();
}

/// Two instances on one PostgreSQL database, both running the webhook consumer and the
/// drainer: the consumers take the events in turn under the cursor's row lock and the
/// drainers claim deliveries by lease, so each event makes one delivery, sent once.
#[tokio::test]
async fn two_instances_on_one_postgresql_send_each_delivery_once() {
    let Some((a, b)) = spawn_two_instances_with("the two-instance webhook test", |args| {
        args.webhooks = fast(1000)
    })
    .await
    else {
        return;
    };
    let receiver = Receiver::start().await;
    let admin = a.admin().await;
    let webhook = register(
        &a,
        &admin.access_token,
        &receiver,
        json!(["course.enrolled"]),
    )
    .await;
    enrolled_events(&a.state.db, 40).await;
    let distinct = |hooks: &[crate::webhook_receiver::Received]| {
        hooks
            .iter()
            .filter(|r| r.accepted)
            .map(|r| r.id.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    receiver.wait_until(WAIT, |r| distinct(r) == 40).await;
    // Anything sent twice would come after the fortieth; give it the time to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut accepted: HashMap<String, usize> = HashMap::new();
    for hook in receiver.accepted() {
        assert!(hook.signature_ok, "{hook:?}");
        *accepted.entry(hook.id).or_default() += 1;
    }
    assert_eq!(accepted.len(), 40, "{accepted:?}");
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
    // Both instances list the same 40 deliveries.
    for app in [&a, &b] {
        let page = app
            .get_as(
                &admin.access_token,
                &format!("/api/v1/webhooks/{webhook}/deliveries?limit=100"),
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(
            page.body["data"]["deliveries"].as_array().map(Vec::len),
            Some(40),
            "{}",
            page.body
        );
    }
}
