//! Payments over real HTTP: orders, verification and webhooks against a local server
//! that answers with Razorpay's documented shapes (and against the built-in test
//! gateway), coupons and their races, refunds and their retries, history and revenue,
//! and who may do what.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::catalogue_helpers::published;
use crate::helpers::{TestApp, TestUser, spawn_app, spawn_app_with};
use crate::realtime_helpers::wait_for_title;

const KEY_ID: &str = "rzp_test_localfake";
const KEY_SECRET: &str = "fake-key-secret-for-tests";
const WEBHOOK_SECRET: &str = "fake-webhook-secret-for-tests";

fn hmac_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("hmac key");
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One request the fake received: method, path, the basic-auth header, the JSON body.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: String,
    body: Value,
}

/// A local HTTP server answering `POST /v1/orders` and `POST /v1/payments/{id}/refund`
/// as Razorpay documents them (401 without the right basic auth), recording requests.
struct FakeRazorpay {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The refund status it answers: `processed` or `pending`.
    refund_status: Arc<Mutex<&'static str>>,
}

impl FakeRazorpay {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let refund_status = Arc::new(Mutex::new("processed"));
        let (log, status) = (seen.clone(), refund_status.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                n += 1;
                let (log, status) = (log.clone(), status.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        let read = socket.read(&mut chunk).await.unwrap_or(0);
                        if read == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..read]);
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        while buf.len() < end + 4 + length {
                            let read = socket.read(&mut chunk).await.unwrap_or(0);
                            if read == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..read]);
                        }
                        break (head, buf[end + 4..end + 4 + length].to_vec());
                    };
                    let mut first = head.lines().next().unwrap_or("").split(' ');
                    let method = first.next().unwrap_or("").to_owned();
                    let path = first.next().unwrap_or("").to_owned();
                    let authorization = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("authorization")
                                .then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    log.lock().expect("log").push(Seen {
                        method: method.clone(),
                        path: path.clone(),
                        authorization: authorization.clone(),
                        body: body.clone(),
                    });
                    let expected = format!(
                        "Basic {}",
                        data_encoding::BASE64.encode(format!("{KEY_ID}:{KEY_SECRET}").as_bytes())
                    );
                    let (code, answer) = if authorization != expected {
                        (
                            401,
                            json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}}),
                        )
                    } else if method == "POST" && path == "/v1/orders" {
                        (
                            200,
                            json!({
                                "id": format!("order_fake{n:010}"), "entity": "order",
                                "amount": body["amount"], "amount_paid": 0, "amount_due": body["amount"],
                                "currency": body["currency"], "receipt": body["receipt"],
                                "status": "created", "attempts": 0, "notes": [], "created_at": 1_765_000_000
                            }),
                        )
                    } else if method == "POST"
                        && path.starts_with("/v1/payments/")
                        && path.ends_with("/refund")
                    {
                        let payment =
                            path["/v1/payments/".len()..path.len() - "/refund".len()].to_owned();
                        let status = *status.lock().expect("status");
                        (
                            200,
                            json!({
                                "id": format!("rfnd_fake{n:010}"), "entity": "refund",
                                "amount": body["amount"], "currency": "INR", "payment_id": payment,
                                "notes": [], "receipt": body["receipt"], "status": status,
                                "speed_requested": "normal", "created_at": 1_765_000_000
                            }),
                        )
                    } else {
                        (
                            404,
                            json!({"error": {"code": "BAD_REQUEST_ERROR", "description": "The requested URL was not found on the server."}}),
                        )
                    };
                    let text = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Self {
            url,
            seen,
            refund_status,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

/// A server taking payments through the fake Razorpay.
async fn razorpay_app() -> (TestApp, FakeRazorpay) {
    let fake = FakeRazorpay::start().await;
    let url = fake.url.clone();
    let app = spawn_app_with(|args| {
        args.payments.razorpay_key_id = Some(KEY_ID.into());
        args.payments.razorpay_key_secret = Some(KEY_SECRET.into());
        args.payments.razorpay_webhook_secret = Some(WEBHOOK_SECRET.into());
        args.payments.razorpay_api_url = Some(url);
    })
    .await;
    (app, fake)
}

/// A published course priced `price` paise; (teacher, course id).
async fn paid_course(app: &TestApp, title: &str, price: i64) -> (TestUser, String) {
    let teacher = app.register("TEACHER").await;
    let (course, _, _) = published(app, &teacher.access_token, title).await;
    let answer = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/courses/{course}"),
            &json!({ "price": price, "isFree": false, "currency": "INR" }),
        )
        .await;
    assert_eq!(answer.status, 200, "price: {}", answer.body);
    (teacher, course)
}

async fn order(
    app: &TestApp,
    student: &TestUser,
    course: &str,
    coupon: Option<&str>,
) -> crate::helpers::Answer {
    let mut body = json!({ "courseId": course });
    if let Some(code) = coupon {
        body["couponCode"] = json!(code);
    }
    app.post_as(
        &student.access_token,
        "/api/v1/payments/create-order",
        &body,
    )
    .await
}

fn captured(order_id: &str, payment_id: &str, amount: i64) -> String {
    json!({
        "entity": "event", "account_id": "acc_fake", "event": "payment.captured",
        "contains": ["payment"],
        "payload": { "payment": { "entity": {
            "id": payment_id, "entity": "payment", "amount": amount, "currency": "INR",
            "status": "captured", "order_id": order_id, "method": "upi", "captured": true
        }}},
        "created_at": 1_765_000_000
    })
    .to_string()
}

async fn webhook(app: &TestApp, body: &str, signature: &str) -> reqwest::Response {
    app.send_raw(
        app.client
            .post(app.url("/api/v1/payments/webhook"))
            .header("content-type", "application/json")
            .header("x-razorpay-signature", signature)
            .body(body.to_owned()),
    )
    .await
}

async fn verify(
    app: &TestApp,
    student: &TestUser,
    course: &str,
    order_id: &str,
    payment_id: &str,
    signature: &str,
) -> crate::helpers::Answer {
    app.post_as(
        &student.access_token,
        "/api/v1/payments/verify",
        &json!({ "orderId": order_id, "paymentId": payment_id, "signature": signature, "courseId": course }),
    )
    .await
}

async fn enrolled(app: &TestApp, student: &TestUser, course: &str) -> bool {
    let answer = app
        .get_as(
            &student.access_token,
            "/api/v1/enrollments/my-courses?limit=100",
        )
        .await;
    assert_eq!(answer.status, 200, "my courses: {}", answer.body);
    answer.body.to_string().contains(course)
}

async fn payments_of(app: &TestApp, token: &str) -> Vec<Value> {
    let answer = app
        .get_as(token, "/api/v1/payments/history?limit=100")
        .await;
    assert_eq!(answer.status, 200, "history: {}", answer.body);
    answer.body["data"]["payments"]
        .as_array()
        .expect("payments")
        .clone()
}

#[tokio::test]
async fn an_order_is_verified_once_and_enrolls_against_razorpays_api() {
    let (app, fake) = razorpay_app().await;
    let (teacher, course) = paid_course(&app, "Paid Rust", 49_900).await;
    let student = app.register("STUDENT").await;

    // A paid course cannot be enrolled in for free: the 402 points at payments.
    let free = app
        .post_as(
            &student.access_token,
            "/api/v1/enrollments",
            &json!({ "courseId": course }),
        )
        .await;
    assert_eq!(free.status, 402, "{}", free.body);
    assert!(
        free.body["message"]
            .as_str()
            .unwrap()
            .contains("create-order"),
        "{}",
        free.body
    );

    let first = order(&app, &student, &course, None).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let data = &first.body["data"];
    assert_eq!(data["amount"], 49_900);
    assert_eq!(data["currency"], "INR");
    assert_eq!(data["paymentGateway"], "RAZORPAY");
    assert_eq!(data["key"], KEY_ID);
    let order_id = data["orderId"].as_str().unwrap().to_owned();
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/v1/orders")
    );
    assert_eq!(seen[0].body["amount"], 49_900);
    assert_eq!(seen[0].body["currency"], "INR");
    assert!(seen[0].authorization.starts_with("Basic "));

    // A second call returns the open order, without asking the gateway again.
    let again = order(&app, &student, &course, None).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["data"]["orderId"], order_id.as_str());
    assert_eq!(fake.seen().len(), 1);

    // A tampered signature: 400 naming it, audited, nothing recorded.
    let payment_id = "pay_fake0000000001";
    let signature = hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    let forged = verify(
        &app,
        &student,
        &course,
        &order_id,
        payment_id,
        &signature.replace('a', "b").replace('0', "1"),
    )
    .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert_eq!(forged.body["errors"][0]["field"], "signature");
    assert!(!enrolled(&app, &student, &course).await);
    assert!(payments_of(&app, &student.access_token).await.is_empty());
    let admin = app.admin().await;
    let audit = app
        .get_as(
            &admin.access_token,
            "/api/v1/admin/audit?action=PAYMENT_SIGNATURE_REJECTED",
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    assert_eq!(
        audit.body["data"]["events"].as_array().unwrap().len(),
        1,
        "{}",
        audit.body
    );

    // The real signature: paid and enrolled; a retry returns the same payment.
    let paid = verify(&app, &student, &course, &order_id, payment_id, &signature).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["data"]["status"], "SUCCESS");
    let payment = paid.body["data"]["paymentId"].as_str().unwrap().to_owned();
    assert!(enrolled(&app, &student, &course).await);
    let retry = verify(&app, &student, &course, &order_id, payment_id, &signature).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["data"]["paymentId"], payment.as_str());

    // Razorpay's webhook arrives after: nothing new.
    let body = captured(&order_id, payment_id, 49_900);
    let hook = webhook(&app, &body, &hmac_hex(WEBHOOK_SECRET, body.as_bytes())).await;
    assert_eq!(hook.status(), 200);
    let hook: Value = hook.json().await.unwrap();
    assert_eq!(hook["data"]["outcome"], "already settled", "{hook}");
    let history = payments_of(&app, &student.access_token).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["amount"], 49_900);
    assert_eq!(history[0]["gatewayPaymentId"], payment_id);

    // The student hears of the payment, the owner of the sale.
    wait_for_title(&app, &student, "Payment received: Paid Rust").await;
    let sale = wait_for_title(&app, &teacher, "Sold: Paid Rust").await;
    assert!(
        sale["message"].as_str().unwrap().contains("INR 499.00"),
        "{sale}"
    );
    // The teacher sees it in their history and revenue.
    assert_eq!(payments_of(&app, &teacher.access_token).await.len(), 1);
    let revenue = app
        .get_as(&teacher.access_token, "/api/v1/payments/revenue")
        .await;
    assert_eq!(revenue.status, 200, "{}", revenue.body);
    assert_eq!(
        revenue.body["data"]["totals"][0]["net"], 49_900,
        "{}",
        revenue.body
    );
    // Enrolled now: a new order is refused.
    let twice = order(&app, &student, &course, None).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
}

#[tokio::test]
async fn the_webhook_may_come_first_and_twice_and_forged_ones_change_nothing() {
    let (app, _fake) = razorpay_app().await;
    let (_, course) = paid_course(&app, "Webhooks First", 20_000).await;
    let student = app.register("STUDENT").await;
    let created = order(&app, &student, &course, None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    let payment_id = "pay_fakewebhook001";

    // Forged: a body signed with another secret, and one with no signature.
    let body = captured(&order_id, payment_id, 20_000);
    let forged = webhook(&app, &body, &hmac_hex("not-the-secret", body.as_bytes())).await;
    assert_eq!(forged.status(), 400);
    let unsigned = app
        .send_raw(
            app.client
                .post(app.url("/api/v1/payments/webhook"))
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
    assert_eq!(unsigned.status(), 400);
    assert!(!enrolled(&app, &student, &course).await);

    // An amount that does not match the order: 400 naming it, nothing written.
    let cheap = captured(&order_id, payment_id, 100);
    let wrong = webhook(&app, &cheap, &hmac_hex(WEBHOOK_SECRET, cheap.as_bytes())).await;
    assert_eq!(wrong.status(), 400);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong["errors"][0]["field"], "amount", "{wrong}");
    assert!(!enrolled(&app, &student, &course).await);

    // Another system's order on the same Razorpay account: acknowledged, ignored.
    let foreign = captured("order_notours00001", "pay_notours000001", 20_000);
    let hook = webhook(
        &app,
        &foreign,
        &hmac_hex(WEBHOOK_SECRET, foreign.as_bytes()),
    )
    .await;
    assert_eq!(hook.status(), 200);
    let hook: Value = hook.json().await.unwrap();
    assert!(
        hook["data"]["outcome"]
            .as_str()
            .unwrap()
            .starts_with("ignored"),
        "{hook}"
    );

    // The real one, twice: one payment.
    let signature = hmac_hex(WEBHOOK_SECRET, body.as_bytes());
    for expected in ["settled", "already settled"] {
        let hook = webhook(&app, &body, &signature).await;
        assert_eq!(hook.status(), 200);
        let hook: Value = hook.json().await.unwrap();
        assert_eq!(hook["data"]["outcome"], expected, "{hook}");
    }
    assert!(enrolled(&app, &student, &course).await);
    // The checkout's verify after the webhook: the same payment.
    let checkout = hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    let paid = verify(&app, &student, &course, &order_id, payment_id, &checkout).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(payments_of(&app, &student.access_token).await.len(), 1);
    // Another payment for the paid order is refused.
    let other = "pay_fakewebhook002";
    let second = hmac_hex(KEY_SECRET, format!("{order_id}|{other}").as_bytes());
    let refused = verify(&app, &student, &course, &order_id, other, &second).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
}

#[tokio::test]
async fn three_concurrent_verifies_of_one_payment_make_one_payment_and_one_enrollment() {
    let (app, _fake) = razorpay_app().await;
    let (_, course) = paid_course(&app, "Racing Verifies", 30_000).await;
    let student = app.register("STUDENT").await;
    let created = order(&app, &student, &course, None).await;
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    let payment_id = "pay_fakerace000001";
    let signature = hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    let body = captured(&order_id, payment_id, 30_000);
    let hook_signature = hmac_hex(WEBHOOK_SECRET, body.as_bytes());
    let (a, b, c, d) = tokio::join!(
        verify(&app, &student, &course, &order_id, payment_id, &signature),
        verify(&app, &student, &course, &order_id, payment_id, &signature),
        verify(&app, &student, &course, &order_id, payment_id, &signature),
        webhook(&app, &body, &hook_signature),
    );
    assert_eq!(d.status(), 200);
    let ids: Vec<Value> = [a, b, c]
        .into_iter()
        .map(|answer| {
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body["data"]["paymentId"].clone()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(payments_of(&app, &student.access_token).await.len(), 1);
    let course_row = app.get(&format!("/api/v1/courses/{course}")).await;
    assert_eq!(
        course_row.body["data"]["totalStudents"], 1,
        "{}",
        course_row.body
    );
}

#[tokio::test]
async fn twenty_concurrent_orders_on_a_coupon_with_five_uses_get_five_discounts() {
    let (app, _fake) = razorpay_app().await;
    let (teacher, course) = paid_course(&app, "Coupon Race", 10_000).await;
    let coupon = app
        .post_as(
            &teacher.access_token,
            "/api/v1/coupons",
            &json!({ "code": "race5", "kind": "PERCENT", "value": 50, "courseId": course, "maxUses": 5 }),
        )
        .await;
    assert_eq!(coupon.status, 201, "{}", coupon.body);
    assert_eq!(coupon.body["data"]["code"], "RACE5");
    let mut students = Vec::new();
    for _ in 0..20 {
        students.push(app.register("STUDENT").await);
    }
    let answers = futures_util::future::join_all(
        students
            .iter()
            .map(|s| order(&app, s, &course, Some("RACE5"))),
    )
    .await;
    let mut discounted = 0;
    for answer in &answers {
        match answer.status {
            201 => {
                assert_eq!(answer.body["data"]["amount"], 5_000, "{}", answer.body);
                discounted += 1;
            }
            400 => assert_eq!(
                answer.body["errors"][0]["field"], "couponCode",
                "{}",
                answer.body
            ),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(discounted, 5);
    let listed = app.get_as(&teacher.access_token, "/api/v1/coupons").await;
    assert_eq!(
        listed.body["data"]["coupons"][0]["used"], 5,
        "{}",
        listed.body
    );
}

#[tokio::test]
async fn coupons_that_do_not_apply_say_why_and_write_nothing() {
    let app = spawn_app_with(|args| args.payments.order_ttl = Some("1s".into())).await;
    let (teacher, course) = paid_course(&app, "Coupon Rules", 10_000).await;
    let (other_teacher, other_course) = paid_course(&app, "Another Course", 10_000).await;
    let make = |token: String, body: Value| {
        let app = &app;
        async move { app.post_as(&token, "/api/v1/coupons", &body).await }
    };
    // Bad coupons: each field named.
    for (body, field) in [
        (
            json!({ "code": "x", "kind": "PERCENT", "value": 10, "courseId": course }),
            "code",
        ),
        (
            json!({ "code": "BIG", "kind": "PERCENT", "value": 101, "courseId": course }),
            "value",
        ),
        (
            json!({ "code": "NOCOURSE", "kind": "PERCENT", "value": 10 }),
            "courseId",
        ),
        (
            json!({ "code": "WINDOW", "kind": "PERCENT", "value": 10, "courseId": course,
                 "validFrom": "2026-12-10T00:00:00Z", "validUntil": "2026-12-01T00:00:00Z" }),
            "validUntil",
        ),
    ] {
        let answer = make(teacher.access_token.clone(), body).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert_eq!(answer.body["errors"][0]["field"], field, "{}", answer.body);
    }
    // Another teacher's course: 403.
    let theirs = make(
        other_teacher.access_token.clone(),
        json!({ "code": "STEAL", "kind": "PERCENT", "value": 10, "courseId": course }),
    )
    .await;
    assert_eq!(theirs.status, 403, "{}", theirs.body);
    for body in [
        json!({ "code": "OLD", "kind": "PERCENT", "value": 10, "courseId": course, "validUntil": "2020-01-01T00:00:00Z" }),
        json!({ "code": "ONCE", "kind": "FIXED", "value": 2_500, "courseId": course, "maxUses": 1 }),
        json!({ "code": "THEIRS", "kind": "PERCENT", "value": 10, "courseId": other_course }),
    ] {
        let token = if body["code"] == "THEIRS" {
            &other_teacher
        } else {
            &teacher
        };
        let answer = make(token.access_token.clone(), body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    let taken = make(
        teacher.access_token.clone(),
        json!({ "code": "once", "kind": "PERCENT", "value": 10, "courseId": course }),
    )
    .await;
    assert_eq!(taken.status, 409, "{}", taken.body);

    let (a, b) = (app.register("STUDENT").await, app.register("STUDENT").await);
    for (code, why) in [
        ("OLD", "expired"),
        ("THEIRS", "another course"),
        ("NOPE", "no coupon"),
    ] {
        let answer = order(&app, &a, &course, Some(code)).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert_eq!(answer.body["errors"][0]["field"], "couponCode");
        assert!(
            answer.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(why),
            "{}",
            answer.body
        );
    }
    // Free course: no order needed.
    let free_teacher = app.register("TEACHER").await;
    let (free, _, _) = published(&app, &free_teacher.access_token, "Free Course").await;
    let answer = order(&app, &a, &free, None).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["errors"][0]["field"], "courseId");
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("free")
    );
    assert!(payments_of(&app, &a.access_token).await.is_empty());

    // A fixed coupon with one use: A takes it (10000 - 2500), B finds none left…
    let first = order(&app, &a, &course, Some("ONCE")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["data"]["amount"], 7_500);
    assert_eq!(first.body["data"]["discount"], 2_500);
    let none = order(&app, &b, &course, Some("ONCE")).await;
    assert_eq!(none.status, 400, "{}", none.body);
    assert!(
        none.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no uses left")
    );
    // …until A's order expires unpaid and gives it back.
    let mut back = None;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let answer = order(&app, &b, &course, Some("ONCE")).await;
        if answer.status == 201 {
            back = Some(answer);
            break;
        }
    }
    let back = back.expect("the expired order gave its coupon use back");
    assert_eq!(back.body["data"]["amount"], 7_500);
    // A coupon that takes everything off: enrolled at once, a payment of nothing.
    let all = make(
        teacher.access_token.clone(),
        json!({ "code": "FREE100", "kind": "PERCENT", "value": 100, "courseId": course }),
    )
    .await;
    assert_eq!(all.status, 201, "{}", all.body);
    let c = app.register("STUDENT").await;
    let free = order(&app, &c, &course, Some("FREE100")).await;
    assert_eq!(free.status, 200, "{}", free.body);
    assert_eq!(free.body["data"]["status"], "SUCCESS", "{}", free.body);
    assert_eq!(free.body["data"]["amount"], 0);
    assert!(enrolled(&app, &c, &course).await);

    // Switched off: refused.
    let coupons = app.get_as(&teacher.access_token, "/api/v1/coupons").await;
    let once = coupons.body["data"]["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "ONCE")
        .expect("ONCE listed")
        .clone();
    let off = app
        .patch_as(
            &teacher.access_token,
            &format!("/api/v1/coupons/{}", once["id"].as_str().unwrap()),
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["data"]["active"], false);
}

#[tokio::test]
async fn refunds_never_exceed_the_payment_and_a_full_one_cancels_the_enrollment() {
    let (app, fake) = razorpay_app().await;
    let (teacher, course) = paid_course(&app, "Refundable", 10_000).await;
    let student = app.register("STUDENT").await;
    let created = order(&app, &student, &course, None).await;
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    let payment_id = "pay_fakerefund0001";
    let signature = hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    let paid = verify(&app, &student, &course, &order_id, payment_id, &signature).await;
    let payment = paid.body["data"]["paymentId"].as_str().unwrap().to_owned();
    let refund_path = format!("/api/v1/payments/{payment}/refund");

    // Who may: not the student, not another teacher; the owner and admins may.
    let other = app.register("TEACHER").await;
    for token in [&student.access_token, &other.access_token] {
        let answer = app
            .post_as(token, &refund_path, &json!({ "reason": "no" }))
            .await;
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    let anonymous = app
        .post_json(&refund_path, &json!({ "reason": "no" }))
        .await;
    assert_eq!(anonymous.status, 401);
    // Bad input: above what was paid, no reason.
    let above = app
        .post_as(
            &teacher.access_token,
            &refund_path,
            &json!({ "amount": 10_001, "reason": "too much" }),
        )
        .await;
    assert_eq!(above.status, 400, "{}", above.body);
    assert_eq!(above.body["errors"][0]["field"], "amount");
    let blank = app
        .post_as(
            &teacher.access_token,
            &refund_path,
            &json!({ "reason": "  " }),
        )
        .await;
    assert_eq!(blank.status, 400, "{}", blank.body);
    assert_eq!(blank.body["errors"][0]["field"], "reason");

    // A partial refund by the owner.
    let part = app
        .post_as(
            &teacher.access_token,
            &refund_path,
            &json!({ "amount": 4_000, "reason": "Missed two weeks" }),
        )
        .await;
    assert_eq!(part.status, 201, "{}", part.body);
    assert_eq!(part.body["data"]["status"], "PROCESSED");
    let seen = fake.seen();
    let asked = seen
        .iter()
        .find(|s| s.path.ends_with("/refund"))
        .expect("refund asked");
    assert_eq!(asked.path, format!("/v1/payments/{payment_id}/refund"));
    assert_eq!(asked.body["amount"], 4_000);
    assert!(enrolled(&app, &student, &course).await);

    // Five concurrent full refunds of the rest (an admin retrying): one succeeds.
    let admin = app.admin().await;
    let rest = json!({ "reason": "Course cancelled" });
    let answers = futures_util::future::join_all(
        (0..5).map(|_| app.post_as(&admin.access_token, &refund_path, &rest)),
    )
    .await;
    let done: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(
        done.len(),
        1,
        "{:?}",
        answers
            .iter()
            .map(|a| (a.status, a.body.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(done[0].body["data"]["amount"], 6_000);
    for answer in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(answer.status, 409, "{}", answer.body);
    }
    let refund_calls = fake
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/refund"))
        .count();
    assert_eq!(
        refund_calls, 2,
        "the gateway was asked to refund twice, no more"
    );
    let shown = app
        .get_as(&admin.access_token, &format!("/api/v1/payments/{payment}"))
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["data"]["status"], "REFUNDED");
    assert_eq!(shown.body["data"]["refunded"], 10_000);
    assert_eq!(shown.body["data"]["refunds"].as_array().unwrap().len(), 2);
    assert!(
        !enrolled(&app, &student, &course).await,
        "a full refund cancels the enrollment"
    );
    wait_for_title(&app, &student, "Refund: Refundable").await;
    let revenue = app
        .get_as(&admin.access_token, "/api/v1/payments/revenue")
        .await;
    assert_eq!(
        revenue.body["data"]["totals"][0]["net"], 0,
        "{}",
        revenue.body
    );
    assert_eq!(revenue.body["data"]["totals"][0]["refunded"], 10_000);
}

#[tokio::test]
async fn a_pending_refund_settles_when_the_gateways_webhook_reports_it() {
    let (app, fake) = razorpay_app().await;
    *fake.refund_status.lock().unwrap() = "pending";
    let (_, course) = paid_course(&app, "Slow Refund", 10_000).await;
    let student = app.register("STUDENT").await;
    let created = order(&app, &student, &course, None).await;
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    let payment_id = "pay_fakepending001";
    let signature = hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    let paid = verify(&app, &student, &course, &order_id, payment_id, &signature).await;
    let payment = paid.body["data"]["paymentId"].as_str().unwrap().to_owned();
    let admin = app.admin().await;
    let refund = app
        .post_as(
            &admin.access_token,
            &format!("/api/v1/payments/{payment}/refund"),
            &json!({ "reason": "Duplicate purchase" }),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["data"]["status"], "PENDING");
    assert!(
        enrolled(&app, &student, &course).await,
        "not until the gateway says so"
    );
    let gateway_refund = refund.body["data"]["gatewayRefundId"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({
        "entity": "event", "event": "refund.processed", "contains": ["refund", "payment"],
        "payload": { "refund": { "entity": {
            "id": gateway_refund, "entity": "refund", "amount": 10_000, "currency": "INR",
            "payment_id": payment_id, "status": "processed"
        }}},
        "created_at": 1_765_000_000
    })
    .to_string();
    let signature = hmac_hex(WEBHOOK_SECRET, body.as_bytes());
    for expected in ["refund settled", "refund already settled"] {
        let hook = webhook(&app, &body, &signature).await;
        assert_eq!(hook.status(), 200);
        let hook: Value = hook.json().await.unwrap();
        assert_eq!(hook["data"]["outcome"], expected, "{hook}");
    }
    let shown = app
        .get_as(&admin.access_token, &format!("/api/v1/payments/{payment}"))
        .await;
    assert_eq!(shown.body["data"]["status"], "REFUNDED", "{}", shown.body);
    assert!(!enrolled(&app, &student, &course).await);
}

#[tokio::test]
async fn the_test_gateway_sells_a_course_end_to_end_with_nothing_external() {
    let app = spawn_app().await;
    let (teacher, course) = paid_course(&app, "Demo Sale", 49_900).await;
    let coupon = app
        .post_as(
            &teacher.access_token,
            "/api/v1/coupons",
            &json!({ "code": "WELCOME20", "kind": "PERCENT", "value": 20, "courseId": course }),
        )
        .await;
    assert_eq!(coupon.status, 201, "{}", coupon.body);
    let student = app.register("STUDENT").await;
    let created = order(&app, &student, &course, Some("welcome20")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["data"]["paymentGateway"], "TEST");
    assert_eq!(created.body["data"]["amount"], 39_920);
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    // Another student cannot pay (or see) this order.
    let stranger = app.register("STUDENT").await;
    let theirs = app
        .post_as(
            &stranger.access_token,
            "/api/v1/payments/test-checkout",
            &json!({ "orderId": order_id }),
        )
        .await;
    assert_eq!(theirs.status, 400, "{}", theirs.body);
    let checkout = app
        .post_as(
            &student.access_token,
            "/api/v1/payments/test-checkout",
            &json!({ "orderId": order_id }),
        )
        .await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let data = &checkout.body["data"];
    let paid = verify(
        &app,
        &student,
        &course,
        &order_id,
        data["paymentId"].as_str().unwrap(),
        data["signature"].as_str().unwrap(),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert!(enrolled(&app, &student, &course).await);
    // The test gateway's own webhook raced the verify: still one payment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let history = payments_of(&app, &student.access_token).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["couponCode"], "WELCOME20");
    // A failed checkout closes the order and gives the use back.
    let other = app.register("STUDENT").await;
    let created = order(&app, &other, &course, Some("WELCOME20")).await;
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    let failed = app
        .post_as(
            &other.access_token,
            "/api/v1/payments/test-checkout",
            &json!({ "orderId": order_id, "outcome": "failure" }),
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    let mut closed = false;
    for _ in 0..50 {
        let listed = app.get_as(&teacher.access_token, "/api/v1/coupons").await;
        if listed.body["data"]["coupons"][0]["used"] == 1 {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "the failed order gave its coupon use back");
    // Revenue as CSV, for the course's teacher.
    let csv = app
        .send_raw(
            app.client
                .get(app.url("/api/v1/payments/revenue"))
                .bearer_auth(&teacher.access_token)
                .header("accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("month,course_id,course_title,currency,payments,gross,refunded,net")
    );
    let row = lines.next().expect("one row");
    assert!(
        row.ends_with(",INR,1,39920,0,39920") && row.contains("Demo Sale"),
        "{row}"
    );
}

#[tokio::test]
async fn who_may_use_each_payment_route() {
    let (app, _fake) = razorpay_app().await;
    let (teacher, course) = paid_course(&app, "Matrix", 10_000).await;
    let student = app.register("STUDENT").await;
    let parent = app.register("PARENT").await;
    let other_teacher = app.register("TEACHER").await;
    let admin = app.admin().await;
    // Anonymous: 401 everywhere but the gateway's webhook (signed instead).
    for (method, path) in [
        ("POST", "/api/v1/payments/create-order"),
        ("POST", "/api/v1/payments/verify"),
        ("POST", "/api/v1/payments/test-checkout"),
        ("GET", "/api/v1/payments/history"),
        ("GET", "/api/v1/payments/revenue"),
        ("GET", "/api/v1/coupons"),
        ("POST", "/api/v1/coupons"),
    ] {
        let request = match method {
            "GET" => app.client.get(app.url(path)),
            _ => app.client.post(app.url(path)).json(&json!({})),
        };
        let answer = app.send(request).await;
        assert_eq!(answer.status, 401, "{method} {path}: {}", answer.body);
    }
    // Only students order.
    for user in [&teacher, &parent, &admin] {
        let answer = order(&app, user, &course, None).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    // Coupons and revenue: teachers and admins; not students or parents.
    for user in [&student, &parent] {
        for path in ["/api/v1/coupons", "/api/v1/payments/revenue"] {
            let answer = app.get_as(&user.access_token, path).await;
            assert_eq!(answer.status, 403, "{path}: {}", answer.body);
        }
    }
    // A sale, then each sees what is theirs.
    let created = order(&app, &student, &course, None).await;
    let order_id = created.body["data"]["orderId"].as_str().unwrap().to_owned();
    let payment_id = "pay_fakematrix0001";
    let signature = hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    // Another student cannot verify it.
    let stranger = app.register("STUDENT").await;
    let theirs = verify(&app, &stranger, &course, &order_id, payment_id, &signature).await;
    assert_eq!(theirs.status, 400, "{}", theirs.body);
    assert_eq!(theirs.body["errors"][0]["field"], "orderId");
    let paid = verify(&app, &student, &course, &order_id, payment_id, &signature).await;
    let payment = paid.body["data"]["paymentId"].as_str().unwrap().to_owned();
    for (user, count) in [
        (&student, 1),
        (&teacher, 1),
        (&admin, 1),
        (&stranger, 0),
        (&other_teacher, 0),
    ] {
        assert_eq!(payments_of(&app, &user.access_token).await.len(), count);
        let shown = app
            .get_as(&user.access_token, &format!("/api/v1/payments/{payment}"))
            .await;
        assert_eq!(
            shown.status,
            if count == 1 { 200 } else { 404 },
            "{}",
            shown.body
        );
    }
    let parents = app
        .get_as(&parent.access_token, "/api/v1/payments/history")
        .await;
    assert_eq!(parents.status, 403, "{}", parents.body);
    let revenue = app
        .get_as(&other_teacher.access_token, "/api/v1/payments/revenue")
        .await;
    assert_eq!(revenue.status, 200);
    assert!(revenue.body["data"]["rows"].as_array().unwrap().is_empty());
}
