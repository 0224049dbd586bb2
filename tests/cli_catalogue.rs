//! The catalogue from the terminal, end to end: the real `edupro` binary against a
//! spawned server (SQLite, or PostgreSQL with EDUPRO_TEST_DATABASE_URL). Each resource's
//! happy path and its failures with their exit codes; lists paging past the server's
//! largest page.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Server, Terminal, register, spawn_server};
use serde_json::{Value, json};

/// A signed-in terminal of a new account with this role.
async fn signed_in(server: &Server, email: &str, role: &str) -> Terminal {
    register(server, email, role).await;
    let term = Terminal::new(server);
    term.login(email, PASSWORD).await;
    term
}

async fn user_id(term: &Terminal) -> String {
    let me = term.run(&["whoami", "--json"]).await;
    me.json()["id"].as_str().unwrap().to_owned()
}

/// Runs `edupro ARGS --json`, expecting success.
async fn json_of(term: &Terminal, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let run = term.run(&args).await;
    assert_eq!(run.code, 0, "edupro {args:?}: {}", run.stderr);
    run.json()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_builds_an_outline_publishes_it_and_the_catalogue_shows_it() {
    let server = spawn_server().await;
    let teacher = signed_in(&server, "ada@school.test", "TEACHER").await;

    let course = json_of(
        &teacher,
        &[
            "courses",
            "create",
            "--title",
            "Intro to Rust",
            "--price",
            "499.50",
            "--tags",
            "rust,systems",
            "--level",
            "beginner",
        ],
    )
    .await;
    assert_eq!(course["slug"], "intro-to-rust");
    assert_eq!(course["status"], "DRAFT");
    assert_eq!(course["price"], 49_950, "amounts are sent in minor units");
    assert_eq!(course["tags"], json!(["rust", "systems"]));

    let basics = json_of(
        &teacher,
        &["sections", "add", "intro-to-rust", "--title", "Basics"],
    )
    .await;
    let more = json_of(
        &teacher,
        &["sections", "add", "intro-to-rust", "--title", "More"],
    )
    .await;
    let first = json_of(
        &teacher,
        &[
            "sections",
            "add",
            "intro-to-rust",
            "--title",
            "Setup",
            "--position",
            "1",
        ],
    )
    .await;
    assert_eq!(first["order"], 1);
    let moved = json_of(&teacher, &["sections", "move", &id_of(&first), "3"]).await;
    assert_eq!(moved["order"], 3);
    json_of(
        &teacher,
        &["sections", "edit", &id_of(&more), "--title", "Ownership"],
    )
    .await;
    let listed = teacher.run(&["sections", "list", "intro-to-rust"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let titles: Vec<&str> = listed
        .stdout
        .lines()
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(titles, ["Basics", "Ownership", "Setup"]);

    let hello = json_of(
        &teacher,
        &[
            "lessons",
            "add",
            &id_of(&basics),
            "--title",
            "Hello, world",
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
    assert_eq!(hello["isPublished"], true);
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.md");
    std::fs::write(&notes, "# Cargo\nEverything about cargo.").unwrap();
    let cargo = json_of(
        &teacher,
        &[
            "lessons",
            "add",
            &id_of(&basics),
            "--title",
            "Cargo",
            "--content-file",
            notes.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(cargo["content"], "# Cargo\nEverything about cargo.");
    let reordered = json_of(&teacher, &["lessons", "move", &id_of(&cargo), "1"]).await;
    assert_eq!(reordered["order"], 1);
    let into_other = json_of(
        &teacher,
        &[
            "lessons",
            "move",
            &id_of(&hello),
            "--section",
            &id_of(&more),
        ],
    )
    .await;
    assert_eq!(into_other["sectionId"], more["id"]);
    let edited = json_of(
        &teacher,
        &[
            "lessons",
            "edit",
            &id_of(&cargo),
            "--title",
            "Cargo basics",
            "--published",
            "true",
        ],
    )
    .await;
    assert_eq!(
        (edited["title"].as_str(), edited["isPublished"].as_bool()),
        (Some("Cargo basics"), Some(true))
    );
    let lessons = json_of(&teacher, &["lessons", "list", "intro-to-rust"]).await;
    let outline: Vec<(i64, i64, &str)> = lessons
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sectionOrder"].as_i64().unwrap(),
                l["order"].as_i64().unwrap(),
                l["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(outline, [(1, 1, "Cargo basics"), (2, 1, "Hello, world")]);

    let shown = teacher.run(&["courses", "show", "intro-to-rust"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    for line in [
        "price      INR 499.50",
        "1  Basics  [",
        "   1.1  Cargo basics  (TEXT, 0 min)  [",
        "2  Ownership  [",
        "   2.1  Hello, world  (VIDEO, 12 min)  [",
        "3  Setup  [",
    ] {
        assert!(shown.stdout.contains(line), "{line:?} in\n{}", shown.stdout);
    }

    let published = json_of(&teacher, &["courses", "publish", "intro-to-rust", "--yes"]).await;
    assert_eq!(published["status"], "PUBLISHED");
    let edited = json_of(
        &teacher,
        &[
            "courses",
            "edit",
            "intro-to-rust",
            "--discounted-price",
            "299",
            "--description",
            "Ownership, borrowing and cargo.",
        ],
    )
    .await;
    assert_eq!(edited["discountedPrice"], 29_900);

    // The catalogue is public: a student, and someone signed out, find it.
    let student = signed_in(&server, "kid@school.test", "STUDENT").await;
    let found = json_of(&student, &["courses", "list", "--search", "RUST"]).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let anonymous = Terminal::new(&server);
    let plain = anonymous
        .run(&["courses", "list", "--max-price", "300"])
        .await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain
            .stdout
            .contains("\tintro-to-rust\tIntro to Rust\tPUBLISHED\tBEGINNER\tINR 299.00 (was INR 499.50)\t0\t\n"),
        "{}",
        plain.stdout
    );
    let cheaper = json_of(&anonymous, &["courses", "list", "--max-price", "100"]).await;
    assert_eq!(cheaper, json!([]));

    let archived = json_of(&teacher, &["courses", "archive", "intro-to-rust", "--yes"]).await;
    assert_eq!(archived["status"], "ARCHIVED");
    let gone = json_of(&student, &["courses", "list"]).await;
    assert_eq!(gone, json!([]), "archived courses leave the catalogue");
}

#[tokio::test(flavor = "multi_thread")]
async fn catalogue_mistakes_exit_4_5_or_3_and_name_the_field() {
    let server = spawn_server().await;
    let teacher = signed_in(&server, "ada@school.test", "TEACHER").await;

    let missing = teacher.run(&["courses", "show", "no-such-course"]).await;
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("error: Course not found"),
        "{}",
        missing.stderr
    );

    let blank = teacher.run(&["courses", "create", "--title", " "]).await;
    assert_eq!(blank.code, 5, "{}", blank.stderr);
    assert!(blank.stderr.contains("  title: "), "{}", blank.stderr);

    let bad_price = teacher
        .run(&["courses", "create", "--title", "X", "--price", "4.999"])
        .await;
    assert_eq!(bad_price.code, 2, "{}", bad_price.stderr);
    assert!(bad_price.stderr.contains("--price"), "{}", bad_price.stderr);

    let no_category = teacher
        .run(&[
            "courses",
            "create",
            "--title",
            "Cooking",
            "--category",
            "cooking",
        ])
        .await;
    assert_eq!(no_category.code, 5, "{}", no_category.stderr);
    assert!(
        no_category.stderr.contains("  category: "),
        "{}",
        no_category.stderr
    );

    json_of(&teacher, &["courses", "create", "--title", "Empty"]).await;
    let empty = teacher.run(&["courses", "publish", "empty", "--yes"]).await;
    assert_eq!(
        empty.code, 5,
        "publishing without a lesson breaks a rule: {}",
        empty.stderr
    );
    let taken = teacher
        .run(&["courses", "create", "--title", "Another", "--slug", "empty"])
        .await;
    assert_eq!(taken.code, 5, "{}", taken.stderr);
    assert!(
        taken.stderr.starts_with("error: slug: "),
        "the field is named, once: {}",
        taken.stderr
    );
    let nothing = teacher.run(&["courses", "edit", "empty"]).await;
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);

    let section = json_of(&teacher, &["sections", "add", "empty", "--title", "One"]).await;
    let far = teacher
        .run(&["sections", "move", &id_of(&section), "9"])
        .await;
    assert_eq!(far.code, 5, "{}", far.stderr);
    assert!(
        far.stderr.contains("  position: must be between 1 and 1"),
        "{}",
        far.stderr
    );
    let no_lesson = teacher
        .run(&["lessons", "show", "01a213dc-0000-7000-8000-000000000000"])
        .await;
    assert_eq!(no_lesson.code, 4, "{}", no_lesson.stderr);
    let no_section = teacher
        .run(&[
            "lessons",
            "add",
            "01a213dc-0000-7000-8000-000000000000",
            "--title",
            "X",
        ])
        .await;
    assert_eq!(no_section.code, 4, "{}", no_section.stderr);

    let student = signed_in(&server, "kid@school.test", "STUDENT").await;
    let refused = student.run(&["courses", "create", "--title", "Mine"]).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    let not_staff = student
        .run(&["sections", "add", "empty", "--title", "Hack"])
        .await;
    assert!(
        [3, 4].contains(&not_staff.code),
        "a draft is hidden or forbidden: {}",
        not_staff.stderr
    );

    let deleted = json_of(&teacher, &["courses", "delete", "empty", "--yes"]).await;
    assert!(deleted["id"].is_string());
    let again = teacher.run(&["courses", "show", "empty"]).await;
    assert_eq!(again.code, 4);
}

/// A published free course of `teacher`, with one published lesson.
async fn published_course(teacher: &Terminal, title: &str) -> Value {
    let course = json_of(teacher, &["courses", "create", "--title", title]).await;
    let slug = course["slug"].as_str().unwrap().to_owned();
    let section = json_of(teacher, &["sections", "add", &slug, "--title", "One"]).await;
    json_of(
        teacher,
        &[
            "lessons",
            "add",
            &id_of(&section),
            "--title",
            "First",
            "--publish",
        ],
    )
    .await;
    json_of(teacher, &["courses", "publish", &slug, "--yes"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_enroll_and_remove_students_and_a_student_sees_their_courses() {
    let server = spawn_server().await;
    let teacher = signed_in(&server, "ada@school.test", "TEACHER").await;
    let course = published_course(&teacher, "Rust 101").await;
    let kid = signed_in(&server, "kid@school.test", "STUDENT").await;
    let kid_id = user_id(&kid).await;
    let pal = signed_in(&server, "pal@school.test", "STUDENT").await;

    let enrolled = json_of(&teacher, &["enrollments", "add", "rust-101", &kid_id]).await;
    assert_eq!(enrolled["studentId"].as_str(), Some(kid_id.as_str()));
    assert_eq!(enrolled["status"], "ACTIVE");
    let twice = teacher
        .run(&["enrollments", "add", "rust-101", &kid_id])
        .await;
    assert_eq!(twice.code, 5, "{}", twice.stderr);
    assert!(
        twice.stderr.starts_with("error: studentId: "),
        "{}",
        twice.stderr
    );

    // A student enrolls themselves by slug.
    let own = json_of(&pal, &["enrollments", "add", "rust-101"]).await;
    assert_eq!(own["courseId"], course["id"]);
    let mine = json_of(&pal, &["enrollments", "my"]).await;
    assert_eq!(mine[0]["course"]["slug"], "rust-101");
    let plain = pal.run(&["enrollments", "my"]).await;
    assert!(
        plain.stdout.contains("\trust-101\tRust 101\tACTIVE\t0%\t"),
        "{}",
        plain.stdout
    );

    let roster = json_of(&teacher, &["enrollments", "list", "rust-101"]).await;
    let emails: Vec<&str> = roster
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["student"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["kid@school.test", "pal@school.test"]);
    let csv = teacher
        .run(&["enrollments", "list", "rust-101", "--csv"])
        .await;
    assert!(
        csv.stdout
            .starts_with("STUDENT,NAME,EMAIL,STATUS,PROGRESS,BATCH,ENROLLED\n"),
        "{}",
        csv.stdout
    );

    let removed = json_of(&teacher, &["enrollments", "remove", "rust-101", &kid_id]).await;
    assert_eq!(removed["status"], "CANCELLED");
    let active = json_of(
        &teacher,
        &["enrollments", "list", "rust-101", "--status", "ACTIVE"],
    )
    .await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(json_of(&kid, &["enrollments", "my"]).await, json!([]));

    let peek = kid.run(&["enrollments", "list", "rust-101"]).await;
    assert_eq!(peek.code, 3, "a roster is for staff: {}", peek.stderr);
    let nowhere = teacher
        .run(&["enrollments", "remove", "no-such-course", &kid_id])
        .await;
    assert_eq!(nowhere.code, 4, "{}", nowhere.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_are_created_filled_to_capacity_and_emptied() {
    let server = spawn_server().await;
    let teacher = signed_in(&server, "ada@school.test", "TEACHER").await;
    published_course(&teacher, "Rust 101").await;
    let kid = user_id(&signed_in(&server, "kid@school.test", "STUDENT").await).await;
    let pal = user_id(&signed_in(&server, "pal@school.test", "STUDENT").await).await;
    for student in [&kid, &pal] {
        json_of(&teacher, &["enrollments", "add", "rust-101", student]).await;
    }

    let morning = json_of(
        &teacher,
        &[
            "batches",
            "create",
            "rust-101",
            "--name",
            "Morning",
            "--capacity",
            "1",
            "--starts-on",
            "2027-01-04",
        ],
    )
    .await;
    assert_eq!(morning["startsOn"], "2027-01-04");
    let batch = id_of(&morning);
    let dup = teacher
        .run(&["batches", "create", "rust-101", "--name", "Morning"])
        .await;
    assert_eq!(dup.code, 5, "{}", dup.stderr);
    assert!(dup.stderr.starts_with("error: name: "), "{}", dup.stderr);

    let seated = json_of(&teacher, &["batches", "add-member", &batch, &kid]).await;
    assert_eq!(seated["student"]["id"].as_str(), Some(kid.as_str()));
    let full = teacher.run(&["batches", "add-member", &batch, &pal]).await;
    assert_eq!(full.code, 5, "{}", full.stderr);
    assert!(
        full.stderr.starts_with("error: capacity: "),
        "{}",
        full.stderr
    );

    let grown = json_of(&teacher, &["batches", "edit", &batch, "--unlimited"]).await;
    assert_eq!(grown["capacity"], Value::Null);
    json_of(&teacher, &["batches", "add-member", &batch, &pal]).await;
    let members = json_of(&teacher, &["batches", "members", &batch]).await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    let listed = teacher.run(&["batches", "list", "rust-101"]).await;
    assert!(
        listed
            .stdout
            .starts_with(&format!("{batch}\tMorning\t2\t\t2027-01-04\t\n")),
        "{}",
        listed.stdout
    );
    let in_batch = json_of(
        &teacher,
        &["enrollments", "list", "rust-101", "--batch", &batch],
    )
    .await;
    assert_eq!(in_batch.as_array().unwrap().len(), 2);

    json_of(&teacher, &["batches", "remove-member", &batch, &kid]).await;
    let again = teacher
        .run(&["batches", "remove-member", &batch, &kid])
        .await;
    assert_eq!(again.code, 4, "{}", again.stderr);
    json_of(&teacher, &["batches", "delete", &batch]).await;
    let gone = teacher.run(&["batches", "members", &batch]).await;
    assert_eq!(gone.code, 4, "{}", gone.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_page_through_everything_unless_limited() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "TEACHER").await;
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&json!({ "email": "ada@school.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["accessToken"].as_str().unwrap().to_owned();
    for n in 0..130 {
        let answer = http
            .post(format!("{}/api/v1/courses", server.url))
            .bearer_auth(&token)
            .json(&json!({ "title": format!("Course {n:03}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
    let term = Terminal::new(&server);
    let run = term
        .run_with(
            &["courses", "list", "--json"],
            "",
            &[("EDUPRO_TOKEN", &token)],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = run.json();
    let mut titles: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 130, "past the server's largest page (100)");
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(titles.len(), 130, "no course twice");

    for (limit, expected) in [("7", 7), ("105", 105), ("500", 130)] {
        let run = term
            .run_with(
                &["courses", "list", "--limit", limit],
                "",
                &[("EDUPRO_TOKEN", &token)],
            )
            .await;
        assert_eq!(run.stdout.lines().count(), expected, "--limit {limit}");
    }
}
