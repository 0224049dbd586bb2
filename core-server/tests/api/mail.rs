//! The mail queue: mail commits with what it announces, goes out over SMTP with retries,
//! and two servers on one database send each message once.

use std::collections::HashMap;
use std::time::Duration;

use edupro_server::platform::mail::Mail;
use edupro_server::service::accounts::{self, CodePurpose};
use edupro_server::service::outbox;
use edupro_server::store::entity::{outbox_message, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{
    PgTestDatabase, TEST_DATABASE_URL, TestApp, spawn_app, spawn_app_on, spawn_app_with,
};
use crate::smtp_sink::SmtpSink;

/// The 6-digit code in a mail's text.
fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap_or_else(|| panic!("a 6-digit code in {text}"))
        .to_owned()
}

/// Imports `csv` into users (apply, batches of `batch`); the summary line.
async fn import_users(app: &TestApp, token: &str, csv: &str, batch: usize) -> Value {
    let response = app
        .send_raw(
            app.client
                .post(app.url(&format!("/api/v1/imports/users?mode=apply&batch={batch}")))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(csv.to_owned()),
        )
        .await;
    let status = response.status().as_u16();
    let text = response.text().await.expect("import answer");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("an NDJSON line"))
        .find(|line| line["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary in {text}"))
}

/// The outbox's messages to `email`, newest first.
async fn outbox_of(app: &TestApp, token: &str, email: &str) -> Vec<Value> {
    let answer = app
        .get_as(token, &format!("/api/v1/admin/outbox?recipient={email}"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["data"]["messages"]
        .as_array()
        .expect("messages")
        .clone()
}

/// Makes every insert into the outbox fail, as a full disk or a dropped connection
/// would at the moment mail is written; `false` lets them through again.
async fn refuse_mail(app: &TestApp, refuse: bool) {
    let statements: &[&str] = match (app.backend, refuse) {
        ("postgres", true) => &[
            "CREATE FUNCTION refuse_mail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'mail is down'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON outbox_messages FOR EACH ROW EXECUTE FUNCTION refuse_mail()",
        ],
        ("postgres", false) => &["DROP TRIGGER refuse_mail ON outbox_messages"],
        (_, true) => &[
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON outbox_messages BEGIN SELECT RAISE(ABORT, 'mail is down'); END",
        ],
        (_, false) => &["DROP TRIGGER refuse_mail"],
    };
    for sql in statements {
        app.state
            .db
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[tokio::test]
async fn an_imported_user_never_commits_without_its_invitation_and_every_code_works() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let n = 40;
    let mut csv = String::from("user_id,login_id,first_name,last_name,role,status\n");
    for i in 0..n {
        csv.push_str(&format!(
            "inv-{i},inv-{i}@invite.test,Invitee,Number{i},student,active\n"
        ));
    }

    // Mail cannot be written while the first run goes: its batches must not commit
    // users either (before the fix, they did, and their invitations were lost).
    refuse_mail(&app, true).await;
    let failed = import_users(&app, token, &csv, 15).await;
    refuse_mail(&app, false).await;
    let created_before = user::Entity::find()
        .filter(user::Column::Email.like("%@invite.test"))
        .all(&app.state.db)
        .await
        .expect("users read");
    assert!(
        created_before.is_empty(),
        "users committed while their mail could not be: {failed}"
    );

    // The run again: every user is made, each with exactly one invitation.
    let summary = import_users(&app, token, &csv, 15).await;
    assert_eq!(summary["counts"]["create"], n, "{summary}");
    let users = user::Entity::find()
        .filter(user::Column::Email.like("%@invite.test"))
        .all(&app.state.db)
        .await
        .expect("users read");
    assert_eq!(users.len(), n);
    for user in &users {
        let mail = outbox_of(&app, token, &user.email).await;
        assert_eq!(mail.len(), 1, "{}: {mail:?}", user.email);
        assert_eq!(mail[0]["status"], "KEPT", "{mail:?}");
        assert_eq!(mail[0]["subject"], "Set your EduPro+ password");
        let code = code_in(mail[0]["body"].as_str().expect("a body"));
        if user.email == "inv-0@invite.test" {
            // One over HTTP, to the end: the code sets a password that signs in.
            let reset = app
                .post_json(
                    "/api/v1/auth/reset-password",
                    &json!({ "email": user.email, "otp": code, "newPassword": "Inv1tee-Pass!!" }),
                )
                .await;
            assert_eq!(reset.status, 200, "{}", reset.body);
            let login = app.login(&user.email, "Inv1tee-Pass!!").await;
            assert_eq!(login.status, 200, "{}", login.body);
        } else {
            accounts::redeem_code(&app.state, user.id, CodePurpose::ResetPassword, &code)
                .await
                .unwrap_or_else(|e| panic!("{}'s code works: {e:?}", user.email));
        }
    }
}

#[tokio::test]
async fn a_sign_up_whose_mail_cannot_be_written_makes_no_account() {
    let app = spawn_app().await;
    refuse_mail(&app, true).await;
    let answer = app
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": "lost@invite.test", "password": crate::helpers::PASSWORD,
                "firstName": "Lost", "lastName": "Mail", "role": "STUDENT",
            }),
        )
        .await;
    assert_eq!(answer.status, 500, "{}", answer.body);
    refuse_mail(&app, false).await;
    // Nothing half-made: the address is free and a new try gets its mail.
    let answer = app
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": "lost@invite.test", "password": crate::helpers::PASSWORD,
                "firstName": "Lost", "lastName": "Mail", "role": "STUDENT",
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let admin = app.admin().await;
    let mail = outbox_of(&app, &admin.access_token, "lost@invite.test").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
}

#[tokio::test]
async fn mail_the_smtp_server_refuses_for_a_while_is_retried_and_delivered() {
    let sink = SmtpSink::start(2).await;
    let app = spawn_app_with(|args| {
        args.smtp_url = Some(sink.url());
        args.mail.mail_retry_base = Some("200ms".into());
    })
    .await;
    let student = app.register("STUDENT").await;
    let got = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(sink.refused(), 2, "the first two attempts were refused");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, student.email);
    // The body follows the headers (which have digits of their own).
    let (_, body) = got[0]
        .data
        .split_once("\n\n")
        .expect("headers, then a body");
    let code = code_in(body);
    let verified = app
        .post_as(
            &student.access_token,
            "/api/v1/auth/verify-email",
            &json!({ "otp": code }),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);

    let admin = app.admin().await;
    let mail = outbox_of(&app, &admin.access_token, &student.email).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["status"], "SENT", "{mail:?}");
    assert_eq!(mail[0]["attempts"], 3, "{mail:?}");
    assert!(mail[0]["sentAt"].is_string(), "{mail:?}");
    assert!(mail[0]["lastError"].is_null(), "{mail:?}");
    // Delivered: the code is no longer kept in the table.
    assert_eq!(mail[0]["body"], "", "{mail:?}");
}

#[tokio::test]
async fn mail_refused_every_time_is_failed_after_the_last_attempt() {
    let sink = SmtpSink::start(usize::MAX).await;
    let app = spawn_app_with(|args| {
        args.smtp_url = Some(sink.url());
        args.mail.mail_retry_base = Some("100ms".into());
        args.mail.mail_max_attempts = Some(3);
    })
    .await;
    let student = app.register("STUDENT").await;
    let admin = app.admin().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mail = loop {
        let mail = outbox_of(&app, &admin.access_token, &student.email).await;
        if mail[0]["status"] != "PENDING" {
            break mail;
        }
        assert!(std::time::Instant::now() < deadline, "{mail:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(mail[0]["status"], "FAILED", "{mail:?}");
    assert_eq!(mail[0]["attempts"], 3, "{mail:?}");
    assert!(
        mail[0]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("451")),
        "{mail:?}"
    );
    assert_eq!(mail[0]["body"], "", "{mail:?}");
    assert_eq!(sink.refused(), 3);
    assert!(sink.accepted().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_deliver_each_message_once() {
    let sink = SmtpSink::start(0).await;
    let shared_dir = tempfile::tempdir().expect("a shared dir");
    let (database, url) = match std::env::var(TEST_DATABASE_URL) {
        Ok(admin) if !admin.is_empty() => {
            let database = PgTestDatabase::create(&admin).await;
            let url = database.url.clone();
            (Some(database), url)
        }
        _ => (
            None,
            format!("sqlite://{}", shared_dir.path().join("shared.db").display()),
        ),
    };
    let settings = |args: &mut edupro_server::platform::config::ServerArgs| {
        args.smtp_url = Some(sink.url());
        // Both look often, so they race for every message.
        args.mail.mail_poll_interval = Some("20ms".into());
    };
    let a = spawn_app_on(database, Some(url.clone()), settings).await;
    let b = spawn_app_on(None, Some(url), settings).await;

    // Queued straight into the shared table, waking neither: both find them by polling.
    let n = 120;
    let messages = (0..n)
        .map(|i| Mail {
            to: format!("once-{i}@invite.test"),
            subject: "Once".into(),
            body: format!("Message {i}"),
        })
        .collect();
    // Not woken on purpose: both drainers find the messages by polling.
    let _not_woken = outbox::enqueue(&a.state.db, &a.state.mailer, messages)
        .await
        .expect("queued");
    sink.wait_for(n, Duration::from_secs(60)).await;
    // Anything sent twice would arrive after the n-th; give it time to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for message in sink.accepted() {
        *per_recipient.entry(message.to).or_default() += 1;
    }
    assert_eq!(per_recipient.len(), n);
    let twice: Vec<_> = per_recipient.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let rows = outbox_message::Entity::find()
        .filter(outbox_message::Column::Subject.eq("Once"))
        .all(&b.state.db)
        .await
        .expect("rows read");
    assert_eq!(rows.len(), n);
    for row in &rows {
        assert_eq!(row.status, outbox_message::MailStatus::Sent, "{row:?}");
        assert_eq!(row.attempts, 1, "claimed once: {row:?}");
    }
}

#[tokio::test]
async fn a_re_run_invites_again_a_user_whose_invitation_ran_out_and_only_them() {
    use edupro_server::store::entity::one_time_code;
    use sea_orm::sea_query::Expr;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let csv = "user_id,login_id,first_name,last_name,role,status\n\
               again-1,again-1@invite.test,Again,One,student,active\n\
               again-2,again-2@invite.test,Again,Two,student,active\n";
    let first = import_users(&app, token, csv, 500).await;
    assert_eq!(first["counts"]["create"], 2, "{first}");
    // again-1's invitation runs out unused.
    let one = user::Entity::find()
        .filter(user::Column::Email.eq("again-1@invite.test"))
        .one(&app.state.db)
        .await
        .expect("read")
        .expect("again-1 exists");
    one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(one_time_code::Column::UserId.eq(one.id))
        .exec(&app.state.db)
        .await
        .expect("expired");

    let rerun = import_users(&app, token, csv, 500).await;
    assert_eq!(rerun["counts"]["update"], 1, "{rerun}");
    assert_eq!(rerun["counts"]["unchanged"], 1, "{rerun}");
    let mail = outbox_of(&app, token, "again-1@invite.test").await;
    assert_eq!(mail.len(), 2, "a second invitation: {mail:?}");
    assert_eq!(outbox_of(&app, token, "again-2@invite.test").await.len(), 1);
    let code = code_in(mail[0]["body"].as_str().expect("a body"));
    accounts::redeem_code(&app.state, one.id, CodePurpose::ResetPassword, &code)
        .await
        .expect("the new code works");

    // The code is spent, and again-1 still has no password: the next run invites once
    // more, and the run after it, with that invitation live, does nothing.
    let third = import_users(&app, token, csv, 500).await;
    assert_eq!(third["counts"]["update"], 1, "{third}");
    let fourth = import_users(&app, token, csv, 500).await;
    assert_eq!(fourth["counts"]["unchanged"], 2, "{fourth}");
    assert_eq!(outbox_of(&app, token, "again-1@invite.test").await.len(), 3);
}
