//! The `--json` output of the main commands is a contract for scripts: its shapes are
//! pinned by insta snapshots (tests/snapshots/), with ids, timestamps and random codes
//! redacted. Run against a spawned server, SQLite or PostgreSQL alike.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Server, Terminal, logged_in_admin, register, spawn_server};
use serde_json::Value;

/// Ids become `[uuid]`, instants `[timestamp]`, random codes `[code]`; the rest stays.
fn redact(value: Value) -> Value {
    match value {
        Value::String(s) if uuid::Uuid::parse_str(&s).is_ok() => "[uuid]".into(),
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(&s).is_ok() => {
            "[timestamp]".into()
        }
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "referralCode" if v.is_string() => "[code]".into(),
                        _ => redact(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

async fn signed_in(server: &Server, email: &str, role: &str) -> Terminal {
    register(server, email, role).await;
    let term = Terminal::new(server);
    term.login(email, PASSWORD).await;
    term
}

/// `edupro ARGS --json`, expecting success, unredacted.
async fn raw(term: &Terminal, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let run = term.run(&args).await;
    assert_eq!(run.code, 0, "edupro {args:?}: {}", run.stderr);
    run.json()
}

async fn shape(term: &Terminal, args: &[&str]) -> Value {
    redact(raw(term, args).await)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn whoami_users_list_and_an_import_plan_keep_their_json_shapes() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    register(&server, "ada@school.test", "TEACHER").await;
    insta::assert_json_snapshot!("whoami", shape(&admin, &["whoami"]).await);
    insta::assert_json_snapshot!("users_list", shape(&admin, &["users", "list"]).await);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(
        &file,
        "user_id,email,first_name,last_name,role,status\n\
         u1,ann@cli.test,Ann,One,student,active\n\
         u2,ada@school.test,Ada,Byron,teacher,active\n\
         u3,not-an-email,Bad,Row,student,active\n",
    )
    .unwrap();
    let plan = admin
        .run(&[
            "import",
            "users",
            file.to_str().unwrap(),
            "--dry-run",
            "--json",
        ])
        .await;
    assert_eq!(plan.code, 6, "a failed row exits 6: {}", plan.stderr);
    let lines: Vec<Value> = plan
        .stdout
        .lines()
        .map(|l| redact(serde_json::from_str(l).unwrap()))
        .collect();
    insta::assert_json_snapshot!("import_users_plan", lines);
}

#[tokio::test(flavor = "multi_thread")]
async fn catalogue_commands_keep_their_json_shapes() {
    let server = spawn_server().await;
    let teacher = signed_in(&server, "ada@school.test", "TEACHER").await;
    let student = signed_in(&server, "kid@school.test", "STUDENT").await;
    let kid = id(&raw(&student, &["whoami"]).await);

    insta::assert_json_snapshot!(
        "courses_create",
        shape(
            &teacher,
            &[
                "courses",
                "create",
                "--title",
                "Intro to Rust",
                "--price",
                "499",
                "--tags",
                "rust",
            ],
        )
        .await
    );
    let section = raw(
        &teacher,
        &["sections", "add", "intro-to-rust", "--title", "Basics"],
    )
    .await;
    insta::assert_json_snapshot!("sections_add", redact(section.clone()));
    let lesson = raw(
        &teacher,
        &[
            "lessons",
            "add",
            &id(&section),
            "--title",
            "Hello",
            "--type",
            "VIDEO",
            "--url",
            "https://videos.example/hello.mp4",
            "--duration",
            "12",
            "--publish",
        ],
    )
    .await;
    insta::assert_json_snapshot!("lessons_add", redact(lesson.clone()));
    insta::assert_json_snapshot!(
        "lessons_list",
        shape(&teacher, &["lessons", "list", "intro-to-rust"]).await
    );
    insta::assert_json_snapshot!(
        "sections_list",
        shape(&teacher, &["sections", "list", "intro-to-rust"]).await
    );
    insta::assert_json_snapshot!(
        "courses_publish",
        shape(&teacher, &["courses", "publish", "intro-to-rust", "--yes"]).await
    );
    insta::assert_json_snapshot!("courses_list", shape(&student, &["courses", "list"]).await);

    insta::assert_json_snapshot!(
        "enrollments_add",
        shape(&teacher, &["enrollments", "add", "intro-to-rust", &kid]).await
    );
    insta::assert_json_snapshot!(
        "enrollments_list",
        shape(&teacher, &["enrollments", "list", "intro-to-rust"]).await
    );
    insta::assert_json_snapshot!(
        "enrollments_my",
        shape(&student, &["enrollments", "my"]).await
    );
    let batch = raw(
        &teacher,
        &[
            "batches",
            "create",
            "intro-to-rust",
            "--name",
            "Morning",
            "--capacity",
            "30",
            "--starts-on",
            "2027-01-04",
            "--ends-on",
            "2027-03-26",
        ],
    )
    .await;
    insta::assert_json_snapshot!(
        "batches_add_member",
        shape(&teacher, &["batches", "add-member", &id(&batch), &kid]).await
    );
    insta::assert_json_snapshot!(
        "batches_list",
        shape(&teacher, &["batches", "list", "intro-to-rust"]).await
    );
    insta::assert_json_snapshot!(
        "courses_show",
        shape(&student, &["courses", "show", "intro-to-rust"]).await
    );
}
