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

#[tokio::test(flavor = "multi_thread")]
async fn json_with_fields_prints_only_those_fields_of_a_list_and_of_one_item() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    register(&server, "ada@school.test", "TEACHER").await;

    let list = admin.run(&["users", "list", "--json", "id,email"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let users = list.json();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2);
    for user in users {
        let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["email", "id"], "{user}");
    }
    assert_eq!(users[1]["email"], "ada@school.test");

    // A bare `--json` after a positional argument does not take it as FIELDS.
    let ada = id(&users[1]);
    let whole = admin.run(&["users", "show", &ada, "--json"]).await;
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    assert_eq!(whole.json()["lastName"], "Lovelace");
    assert!(whole.json().get("createdAt").is_some());

    // One item: the object with just those keys; one the server leaves out when empty
    // (`externalId`) is still a field, printed as null.
    let one = admin
        .run(&["users", "show", &ada, "--json", "role,externalId"])
        .await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(
        one.json(),
        serde_json::json!({"role": "TEACHER", "externalId": null})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_json_field_exits_2_and_lists_the_available_fields() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    let run = admin.run(&["users", "list", "--json", "id,nope"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("error: Unknown JSON field: \"nope\"\nAvailable fields:\n"),
        "{}",
        run.stderr
    );
    for field in ["  email\n", "  firstName\n", "  isActive\n", "  id\n"] {
        assert!(run.stderr.contains(field), "{field}: {}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jq_filters_a_list_and_prints_strings_raw() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    register(&server, "ada@school.test", "TEACHER").await;

    let emails = admin.run(&["users", "list", "--jq", ".[].email"]).await;
    assert_eq!(emails.code, 0, "{}", emails.stderr);
    assert_eq!(emails.stdout, "root@school.test\nada@school.test\n");

    // Fields first, then jq; other values print as compact JSON, one a line.
    let teachers = admin
        .run(&[
            "users",
            "list",
            "--json",
            "email,role",
            "--jq",
            "map(select(.role == \"TEACHER\"))",
        ])
        .await;
    assert_eq!(teachers.code, 0, "{}", teachers.stderr);
    assert_eq!(
        teachers.stdout,
        "[{\"email\":\"ada@school.test\",\"role\":\"TEACHER\"}]\n"
    );

    let broken = admin.run(&["users", "list", "--jq", ".[] | map("]).await;
    assert_eq!(
        broken.code, 2,
        "a jq that does not compile is a usage error"
    );
    assert!(
        broken
            .stderr
            .starts_with("error: invalid --jq expression: "),
        "{}",
        broken.stderr
    );
    let failing = admin
        .run(&["users", "list", "--jq", ".[0].email + 1"])
        .await;
    assert_eq!(failing.code, 1, "{}", failing.stderr);
    assert!(failing.stderr.contains("--jq: "), "{}", failing.stderr);
}
