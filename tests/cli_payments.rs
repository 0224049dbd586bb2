//! `edupro enroll|buy|payments|coupons|revenue` end to end: the real binary against a
//! spawned server and its built-in test gateway. A teacher prices a course and makes a
//! coupon; a student's `enroll` meets the price and buys it with the coupon
//! (create-order → test-checkout → verify) and is enrolled; the payment is listed; an
//! admin refunds it and it reads REFUNDED; revenue comes as a table, JSON and CSV. A
//! coupon that does not apply is refused naming `couponCode`.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Run, Server, Terminal, logged_in_admin, register, spawn_server};
use serde_json::Value;

/// The run's JSON, after checking that it succeeded.
fn ok(run: &Run, what: &str) -> Value {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// `mechanics` at INR 499.00, published by its teacher, with one published lesson.
async fn paid_course(server: &Server) -> Terminal {
    register(server, "teacher@pay.test", "TEACHER").await;
    let teacher = Terminal::new(server);
    teacher.login("teacher@pay.test", PASSWORD).await;
    ok(
        &teacher
            .run(&[
                "courses",
                "create",
                "--title",
                "Mechanics",
                "--price",
                "499",
                "--json",
            ])
            .await,
        "create the course",
    );
    let section = ok(
        &teacher
            .run(&[
                "sections",
                "add",
                "mechanics",
                "--title",
                "Forces",
                "--json",
            ])
            .await,
        "add a section",
    );
    ok(
        &teacher
            .run(&[
                "lessons",
                "add",
                &id(&section),
                "--title",
                "Newton's laws",
                "--content",
                "F = ma",
                "--publish",
                "--json",
            ])
            .await,
        "add a lesson",
    );
    ok(
        &teacher
            .run(&["courses", "publish", "mechanics", "--yes", "--json"])
            .await,
        "publish",
    );
    teacher
}

async fn student(server: &Server, email: &str) -> Terminal {
    register(server, email, "STUDENT").await;
    let term = Terminal::new(server);
    term.login(email, PASSWORD).await;
    term
}

#[tokio::test(flavor = "multi_thread")]
async fn a_student_buys_with_a_coupon_an_admin_refunds_and_revenue_shows_it() {
    let server = spawn_server().await;
    let teacher = paid_course(&server).await;
    let sam = student(&server, "sam@pay.test").await;
    let admin = logged_in_admin(&server).await;

    // The teacher's coupon: 20 % off this course.
    let coupon = ok(
        &teacher
            .run(&[
                "coupons",
                "create",
                "--code",
                "WELCOME20",
                "--percent",
                "20",
                "--course",
                "mechanics",
                "--max-uses",
                "10",
                "--json",
            ])
            .await,
        "create the coupon",
    );
    assert_eq!(coupon["code"], "WELCOME20");
    assert_eq!(coupon["kind"], "PERCENT");
    assert_eq!(coupon["value"], 20);
    let coupons = ok(&teacher.run(&["coupons", "list", "--json"]).await, "list");
    assert_eq!(coupons.as_array().unwrap().len(), 1, "{coupons}");
    let table = teacher
        .run(&["coupons", "list", "--course", "mechanics"])
        .await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("WELCOME20\t20%\tMechanics"),
        "{}",
        table.stdout
    );

    // Off a terminal, `enroll` meets the price and will not buy without --yes.
    let asked = sam.run(&["enroll", "mechanics"]).await;
    assert_eq!(asked.code, 2, "{}{}", asked.stdout, asked.stderr);
    assert!(asked.stderr.contains("INR 499.00"), "{}", asked.stderr);
    assert!(
        asked
            .stderr
            .contains("hint: pass --yes to buy the course without being asked"),
        "{}",
        asked.stderr
    );

    // A coupon that does not exist: the server's error, naming the field.
    let wrong = sam
        .run(&["buy", "mechanics", "--coupon", "NOPE10", "--yes"])
        .await;
    assert_eq!(wrong.code, 5, "{}{}", wrong.stdout, wrong.stderr);
    assert!(
        wrong.stderr.contains("couponCode") && wrong.stderr.contains("NOPE10"),
        "{}",
        wrong.stderr
    );

    // Bought with the coupon: INR 499.00 less 20 %.
    let bought = sam
        .run(&["enroll", "mechanics", "--coupon", "welcome20", "--yes"])
        .await;
    assert_eq!(bought.code, 0, "{}{}", bought.stdout, bought.stderr);
    assert_eq!(
        bought.stdout.trim(),
        "Paid INR 399.20 for Mechanics; you are enrolled."
    );
    for line in [
        "Course:   Mechanics",
        "Price:    INR 499.00",
        "Discount: -INR 99.80 (WELCOME20)",
        "Total:    INR 399.20",
    ] {
        assert!(bought.stderr.contains(line), "{line}: {}", bought.stderr);
    }
    let mine = ok(&sam.run(&["enrollments", "my", "--json"]).await, "my");
    assert_eq!(mine[0]["course"]["slug"], "mechanics", "{mine}");
    assert_eq!(mine[0]["status"], "ACTIVE", "{mine}");

    // Buying again: enrolled already.
    let again = sam.run(&["buy", "mechanics", "--yes"]).await;
    assert_eq!(again.code, 5, "{}{}", again.stdout, again.stderr);

    // The payment, as the student and the teacher see it.
    let payments = ok(&sam.run(&["payments", "list", "--json"]).await, "payments");
    let payments = payments.as_array().unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
    let payment = &payments[0];
    assert_eq!(payment["amount"], 39_920);
    assert_eq!(payment["currency"], "INR");
    assert_eq!(payment["status"], "SUCCESS");
    assert_eq!(payment["couponCode"], "WELCOME20");
    assert_eq!(payment["gateway"], "TEST");
    let payment_id = id(payment);
    let listed = teacher
        .run(&[
            "payments",
            "list",
            "--course",
            "mechanics",
            "--student",
            "sam@pay.test",
        ])
        .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("INR 399.20") && listed.stdout.contains(&payment_id),
        "{}",
        listed.stdout
    );
    let coupons = ok(&teacher.run(&["coupons", "list", "--json"]).await, "list");
    assert_eq!(coupons[0]["used"], 1, "{coupons}");

    // Revenue: a table with totals, the server's CSV, JSON.
    let table = teacher.run(&["revenue"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("Mechanics\t1\tINR 399.20\tINR 0.00\tINR 399.20"),
        "{}",
        table.stdout
    );
    let csv = teacher
        .run(&["revenue", "--course", "mechanics", "--csv"])
        .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("month,course_id,course_title,currency,payments,gross,refunded,net")
    );
    let row = lines.next().unwrap_or_default();
    assert!(
        row.ends_with(",Mechanics,INR,1,39920,0,39920"),
        "{}",
        csv.stdout
    );
    let report = ok(&admin.run(&["revenue", "--json"]).await, "revenue");
    assert_eq!(report["totals"][0]["net"], 39_920, "{report}");

    // A refund asks first; off a terminal without --yes, nothing happens.
    let unasked = admin
        .run(&[
            "payments",
            "refund",
            &payment_id,
            "--reason",
            "Changed mind",
        ])
        .await;
    assert_eq!(unasked.code, 2, "{}", unasked.stderr);
    let refund = ok(
        &admin
            .run(&[
                "payments",
                "refund",
                &payment_id,
                "--reason",
                "Changed mind",
                "--yes",
                "--json",
            ])
            .await,
        "refund",
    );
    assert_eq!(refund["amount"], 39_920, "{refund}");
    assert_eq!(refund["reason"], "Changed mind");
    let shown = ok(
        &admin
            .run(&["payments", "show", &payment_id, "--json"])
            .await,
        "show",
    );
    assert_eq!(shown["status"], "REFUNDED", "{shown}");
    assert_eq!(shown["refunded"], 39_920);
    assert_eq!(shown["refunds"].as_array().unwrap().len(), 1, "{shown}");
    let text = admin.run(&["payments", "show", &payment_id]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("REFUNDED") && text.stdout.contains("Changed mind"),
        "{}",
        text.stdout
    );
    // Wholly refunded already: the server says so.
    let twice = admin
        .run(&[
            "payments",
            "refund",
            &payment_id,
            "--reason",
            "Again",
            "--yes",
        ])
        .await;
    assert_ne!(twice.code, 0, "{}", twice.stdout);
    let refunded = ok(
        &admin
            .run(&["payments", "list", "--status", "REFUNDED", "--json"])
            .await,
        "refunded",
    );
    assert_eq!(refunded.as_array().unwrap().len(), 1, "{refunded}");

    // The revenue's net is back to nothing.
    let csv = admin.run(&["revenue", "--csv"]).await;
    assert!(
        csv.stdout.contains(",Mechanics,INR,1,39920,39920,0"),
        "{}",
        csv.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_coupon_is_refused_by_name_until_enabled_again() {
    let server = spawn_server().await;
    let teacher = paid_course(&server).await;
    let ada = student(&server, "ada@pay.test").await;
    let coupon = ok(
        &teacher
            .run(&[
                "coupons",
                "create",
                "--code",
                "HALF-OFF",
                "--amount",
                "249.50",
                "--course",
                "mechanics",
                "--until",
                "2099-12-31",
                "--per-student",
                "2",
                "--json",
            ])
            .await,
        "create",
    );
    assert_eq!(coupon["kind"], "FIXED");
    assert_eq!(
        coupon["value"], 24_950,
        "major units typed, minor units sent"
    );
    assert_eq!(coupon["perStudentLimit"], 2);
    assert!(
        coupon["validUntil"]
            .as_str()
            .unwrap()
            .starts_with("2099-12-31T23:59:59"),
        "{coupon}"
    );
    let coupon_id = id(&coupon);

    let off = ok(
        &teacher
            .run(&["coupons", "disable", &coupon_id, "--json"])
            .await,
        "disable",
    );
    assert_eq!(off["active"], false);
    let refused = ada
        .run(&["buy", "mechanics", "--coupon", "HALF-OFF", "--yes"])
        .await;
    assert_eq!(refused.code, 5, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stderr
            .contains("couponCode: HALF-OFF is no longer offered"),
        "{}",
        refused.stderr
    );

    let on = ok(
        &teacher
            .run(&["coupons", "enable", &coupon_id, "--json"])
            .await,
        "enable",
    );
    assert_eq!(on["active"], true);
    let bought = ok(
        &ada.run(&[
            "buy",
            "mechanics",
            "--coupon",
            "HALF-OFF",
            "--yes",
            "--json",
        ])
        .await,
        "buy",
    );
    assert_eq!(bought["amount"], 49_900 - 24_950, "{bought}");
    assert_eq!(bought["status"], "SUCCESS");
    assert!(bought["enrollmentId"].is_string(), "{bought}");

    // A student may not make coupons; the server's refusal, exit 3.
    let denied = ada
        .run(&["coupons", "create", "--code", "MINE", "--percent", "50"])
        .await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    // Amounts are typed in the currency, never in minor units with decimals.
    let bad = teacher
        .run(&["coupons", "create", "--code", "BAD", "--amount", "1.234"])
        .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolling_in_a_free_course_needs_no_payment() {
    let server = spawn_server().await;
    register(&server, "teacher@free.test", "TEACHER").await;
    let teacher = Terminal::new(&server);
    teacher.login("teacher@free.test", PASSWORD).await;
    ok(
        &teacher
            .run(&["courses", "create", "--title", "Poetry", "--json"])
            .await,
        "create",
    );
    let section = ok(
        &teacher
            .run(&["sections", "add", "poetry", "--title", "Verse", "--json"])
            .await,
        "section",
    );
    ok(
        &teacher
            .run(&[
                "lessons",
                "add",
                &id(&section),
                "--title",
                "Metre",
                "--content",
                "da-DUM",
                "--publish",
                "--json",
            ])
            .await,
        "lesson",
    );
    ok(
        &teacher
            .run(&["courses", "publish", "poetry", "--yes", "--json"])
            .await,
        "publish",
    );
    let chen = student(&server, "chen@free.test").await;
    let enrolled = ok(&chen.run(&["enroll", "poetry", "--json"]).await, "enroll");
    assert_eq!(enrolled["status"], "ACTIVE", "{enrolled}");
    // `buy` on a free course: the server's refusal names the course.
    let bought = chen.run(&["buy", "poetry", "--yes"]).await;
    assert_ne!(bought.code, 0, "{}", bought.stdout);
    let none = ok(&chen.run(&["payments", "list", "--json"]).await, "list");
    assert_eq!(none, serde_json::json!([]));
}
