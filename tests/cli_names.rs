//! People name things by what they know: users by email or SIS `user_id`, courses by
//! slug or SIS `course_id`, batches, tests and classes by `COURSE/NAME`, times as
//! `2026-12-07 10:30` in `--tz`. The real binary against a spawned server.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Server, Terminal, logged_in_admin, spawn_server};
use serde_json::Value;

const QUIZ: &str = r#"
title = "Forces quiz"
type = "QUIZ"
passingMarks = 1

[[questions]]
type = "MCQ"
questionText = "Unit of force?"
marks = 2
options = [ { text = "Newton", isCorrect = true }, { text = "Joule" } ]
"#;

/// An account with a SIS id, as an import makes them (with a password to sign in).
async fn person(server: &Server, email: &str, sis: &str, role: edupro_server::api::Role) {
    use edupro_server::domain::{Email, Password, PersonName};
    use edupro_server::service::accounts::{self, NewAccount};
    accounts::create(
        &server.state.db,
        NewAccount {
            email: Email::parse(email).unwrap(),
            password: Some(Password::parse(PASSWORD).unwrap()),
            first_name: PersonName::parse("Sam").unwrap(),
            last_name: PersonName::parse("Names").unwrap(),
            phone: None,
            role,
            external_id: Some(sis.to_owned()),
        },
    )
    .await
    .unwrap();
}

fn ok(run: &harness::Run, what: &str) -> Value {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run.json()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_noun_is_named_by_its_human_key_and_times_are_read_in_the_zone() {
    use edupro_server::api::Role;
    let server = spawn_server().await;
    person(&server, "teach@names.test", "T1", Role::Teacher).await;
    person(&server, "other@names.test", "T2", Role::Teacher).await;
    person(&server, "sam@names.test", "S1", Role::Student).await;
    person(&server, "kim@names.test", "S2", Role::Student).await;

    let term = Terminal::new(&server);
    term.login("teach@names.test", PASSWORD).await;
    let course = ok(
        &term
            .run(&["courses", "create", "--title", "Terminal algebra", "--json"])
            .await,
        "create",
    );
    let course_id = course["id"].as_str().unwrap().to_owned();
    // A SIS course_id, as an import sets it.
    {
        use edupro_server::store::entity::course;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        course::Entity::update_many()
            .col_expr(course::Column::ExternalId, Expr::value("ALG-1"))
            .filter(course::Column::Id.eq(uuid::Uuid::parse_str(&course_id).unwrap()))
            .exec(&server.state.db)
            .await
            .unwrap();
    }
    let shown = ok(
        &term.run(&["courses", "show", "ALG-1", "--json"]).await,
        "show",
    );
    assert_eq!(shown["id"], course_id.as_str());

    // Students by email and by SIS id, in a course named by SIS id and by slug.
    let added = ok(
        &term
            .run(&["enrollments", "add", "ALG-1", "sam@names.test", "--json"])
            .await,
        "enroll by email",
    );
    let sam = added["studentId"].as_str().unwrap().to_owned();
    ok(
        &term
            .run(&["enrollments", "add", "terminal-algebra", "S2", "--json"])
            .await,
        "enroll by SIS id",
    );
    // A teacher may name students, not other staff.
    let other = term.run(&["users", "show", "other@names.test"]).await;
    assert_eq!(other.code, 4, "{}", other.stderr);
    assert!(
        other.stderr.contains("No student has this email or SIS id"),
        "{}",
        other.stderr
    );

    // Batches as COURSE/NAME (any case), or by name where the course is given.
    let batch = ok(
        &term
            .run(&["batches", "create", "ALG-1", "--name", "Morning", "--json"])
            .await,
        "batch",
    );
    ok(
        &term
            .run(&[
                "batches",
                "add-member",
                "ALG-1/morning",
                "sam@names.test",
                "--json",
            ])
            .await,
        "seat",
    );
    let members = ok(
        &term
            .run(&["batches", "members", "terminal-algebra/Morning", "--json"])
            .await,
        "members",
    );
    assert_eq!(members[0]["student"]["id"], sam.as_str(), "{members}");
    let roster = ok(
        &term
            .run(&[
                "enrollments",
                "list",
                "ALG-1",
                "--batch",
                "Morning",
                "--json",
            ])
            .await,
        "roster of a batch",
    );
    assert_eq!(roster.as_array().unwrap().len(), 1, "{roster}");
    let missing = term.run(&["batches", "members", "ALG-1/Evening"]).await;
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("course ALG-1 has no batch named “Evening”"),
        "{}",
        missing.stderr
    );
    let bare = term.run(&["batches", "members", "Morning"]).await;
    assert_eq!(bare.code, 2, "{}", bare.stderr);
    assert!(
        bare.stderr.contains("give its id or COURSE/NAME"),
        "{}",
        bare.stderr
    );

    // A class at 09:30 in Kolkata is 04:00 UTC; it is named by COURSE/TITLE after.
    let class = ok(
        &term
            .run(&[
                "live",
                "schedule",
                "--course",
                "ALG-1",
                "--batch",
                "Morning",
                "--title",
                "Office hours",
                "--at",
                "2027-01-15 09:30",
                "--tz",
                "Asia/Kolkata",
                "--json",
            ])
            .await,
        "schedule",
    );
    assert_eq!(class["scheduledAt"], "2027-01-15T04:00:00Z", "{class}");
    assert_eq!(class["batchId"], batch["id"], "{class}");
    let listed = term
        .run(&[
            "live",
            "list",
            "--course",
            "terminal-algebra",
            "--from",
            "2027-01-15 00:00",
            "--to",
            "2027-01-16 00:00",
            "--tz",
            "Asia/Kolkata",
        ])
        .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("2027-01-15 09:30 IST"),
        "{}",
        listed.stdout
    );
    let bad = term
        .run(&[
            "live",
            "schedule",
            "--course",
            "ALG-1",
            "--title",
            "X",
            "--at",
            "next friday",
        ])
        .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("--at: `next friday` is not a date and time: use `2026-12-07 10:30` (in UTC"),
        "{}",
        bad.stderr
    );
    let cancelled = ok(
        &term
            .run(&["live", "cancel", "ALG-1/office hours", "--json"])
            .await,
        "cancel",
    );
    assert_eq!(cancelled[0]["id"], class["id"], "{cancelled}");
    assert_eq!(cancelled[0]["status"], "CANCELLED", "{cancelled}");
    let again = term.run(&["live", "cancel", "ALG-1/Office hours"]).await;
    assert_eq!(again.code, 4, "{}", again.stderr);

    // Tests as COURSE/TITLE, in the grading queue's filters too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quiz.toml");
    std::fs::write(&file, QUIZ).unwrap();
    ok(
        &term
            .run(&[
                "tests",
                "create",
                "--from",
                file.to_str().unwrap(),
                "--course",
                "ALG-1",
                "--json",
            ])
            .await,
        "test",
    );
    let test = ok(
        &term
            .run(&["tests", "show", "ALG-1/forces quiz", "--json"])
            .await,
        "test by title",
    );
    assert_eq!(test["title"], "Forces quiz");
    let queue = term
        .run(&[
            "grade",
            "queue",
            "--course",
            "ALG-1",
            "--test",
            "terminal-algebra/Forces quiz",
        ])
        .await;
    assert_eq!(queue.code, 0, "{}", queue.stderr);

    // An admin names anyone by email or SIS id; an unknown key is a clear 404.
    let admin = logged_in_admin(&server).await;
    let by_sis = ok(&admin.run(&["users", "show", "S2", "--json"]).await, "SIS");
    assert_eq!(by_sis["email"], "kim@names.test");
    let by_email = ok(
        &admin
            .run(&["users", "show", "Other@Names.test", "--json"])
            .await,
        "email",
    );
    assert_eq!(by_email["role"], "TEACHER");
    // Shown to a person, times are in --tz like every other time.
    let shown = admin
        .run(&["users", "show", "S2", "--tz", "Asia/Kolkata"])
        .await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let created = shown
        .stdout
        .lines()
        .find(|l| l.starts_with("created"))
        .unwrap_or_default();
    assert!(created.ends_with(" IST"), "{}", shown.stdout);
    let nobody = admin.run(&["users", "show", "nobody@names.test"]).await;
    assert_eq!(nobody.code, 4, "{}", nobody.stderr);
    assert!(
        nobody.stderr.contains("No user has this email or SIS id"),
        "{}",
        nobody.stderr
    );
    let courses = ok(
        &admin
            .run(&["courses", "list", "--creator", "teach@names.test", "--json"])
            .await,
        "creator by email",
    );
    assert_eq!(courses[0]["id"], course_id.as_str(), "{courses}");
}
