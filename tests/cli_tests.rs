//! `edupro tests …` and `edupro grade …` end to end: the real binary against a spawned
//! server. A teacher creates a test from a TOML file, publishes and exports it; a student
//! takes it over the API; the teacher grades the essay from the queue and reads the
//! results and the gradebook. Bad files exit 5 naming the field's path.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use harness::{PASSWORD, Terminal, register, spawn_server};
use serde_json::{Value, json};

const QUIZ: &str = r#"
title = "Forces quiz"
type = "QUIZ"
passingMarks = 3

[[questions]]
type = "MCQ"
questionText = "Unit of force?"
marks = 2
options = [ { text = "Newton", isCorrect = true }, { text = "Joule" } ]

[[questions]]
type = "LONG_ANSWER"
questionText = "Explain Newton's third law."
marks = 5
"#;

async fn api_login(url: &str, email: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"]["accessToken"].as_str().unwrap().to_owned()
}

async fn api(url: &str, token: &str, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(format!("{url}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_creates_publishes_exports_grades_and_reads_the_gradebook() {
    let server = spawn_server().await;
    register(&server, "teacher@cli.test", "TEACHER").await;
    register(&server, "student@cli.test", "STUDENT").await;
    let teacher = api_login(&server.url, "teacher@cli.test").await;
    let student = api_login(&server.url, "student@cli.test").await;
    let course = api(
        &server.url,
        &teacher,
        "/courses",
        json!({ "title": "Mechanics" }),
    )
    .await;
    let course = course["id"].as_str().unwrap().to_owned();
    let section = api(
        &server.url,
        &teacher,
        &format!("/courses/{course}/sections"),
        json!({ "title": "W1" }),
    )
    .await;
    api(
        &server.url,
        &teacher,
        &format!("/sections/{}/lessons", section["id"].as_str().unwrap()),
        json!({ "title": "Hi", "type": "VIDEO", "duration": 1, "url": "https://v.test/1", "isPublished": true }),
    )
    .await;
    api(
        &server.url,
        &teacher,
        &format!("/courses/{course}/publish"),
        json!({}),
    )
    .await;
    api(
        &server.url,
        &student,
        "/enrollments",
        json!({ "courseId": course }),
    )
    .await;

    let term = Terminal::new(&server);
    let login = term
        .run_with(
            &["login", "--email", "teacher@cli.test", "--password-stdin"],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quiz.toml");
    std::fs::write(&file, QUIZ).unwrap();

    let created = term
        .run(&[
            "tests",
            "create",
            "--from",
            file.to_str().unwrap(),
            "--course",
            &course,
            "--json",
        ])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json()["status"], "DRAFT");

    let published = term.run(&["tests", "publish", &id]).await;
    assert_eq!(published.code, 0, "{}", published.stderr);
    assert!(
        published.stdout.contains("PUBLISHED"),
        "{}",
        published.stdout
    );
    let listed = term
        .run(&["tests", "list", "--course", &course, "--json"])
        .await;
    assert_eq!(listed.json()[0]["totalMarks"], 7.0);
    let shown = term.run(&["tests", "show", &id]).await;
    assert!(
        shown.stdout.contains("2. [LONG_ANSWER, 5] Explain"),
        "{}",
        shown.stdout
    );

    let exported = dir.path().join("copy.toml");
    let export = term
        .run(&[
            "tests",
            "export",
            &id,
            "--format",
            "toml",
            "-o",
            exported.to_str().unwrap(),
        ])
        .await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("Explain Newton's third law."), "{text}");
    let json_export = term.run(&["tests", "export", &id]).await;
    assert_eq!(
        json_export.json()["questions"][0]["options"][0]["isCorrect"],
        true
    );

    // The student takes it over the API.
    let attempt = api(
        &server.url,
        &student,
        &format!("/tests/{id}/attempts"),
        json!({}),
    )
    .await;
    let questions = attempt["questions"].as_array().unwrap();
    let essay = questions
        .iter()
        .find(|q| q["type"] == "LONG_ANSWER")
        .unwrap();
    let mcq = questions.iter().find(|q| q["type"] == "MCQ").unwrap();
    let newton = mcq["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["text"] == "Newton")
        .unwrap();
    api(
        &server.url,
        &student,
        &format!("/attempts/{}/submit", attempt["id"].as_str().unwrap()),
        json!({ "answers": [
            { "questionId": mcq["id"], "selectedOptions": [newton["id"]] },
            { "questionId": essay["id"], "answer": "Forces come in pairs." }
        ] }),
    )
    .await;

    let queue = term.run(&["grade", "queue", "--json"]).await;
    assert_eq!(queue.code, 0, "{}", queue.stderr);
    let answer = queue.json()[0]["answerId"].as_str().unwrap().to_owned();
    let blind = term.run(&["grade", "queue", "--blind"]).await;
    assert!(blind.stdout.contains("(hidden)"), "{}", blind.stdout);
    let next = term.run(&["grade", "queue", "--next"]).await;
    assert!(
        next.stdout.contains("Forces come in pairs."),
        "{}",
        next.stdout
    );

    let too_much = term.run(&["grade", "set", &answer, "--marks", "9"]).await;
    assert_eq!(too_much.code, 5, "{}", too_much.stderr);
    assert!(too_much.stderr.contains("marks:"), "{}", too_much.stderr);
    let set = term
        .run(&[
            "grade",
            "set",
            &answer,
            "--marks",
            "4.5",
            "--feedback",
            "Good",
            "--json",
        ])
        .await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(set.json()["attemptScore"], 6.5);
    assert_eq!(set.json()["gradingComplete"], true);
    let shown = term.run(&["grade", "show", &answer]).await;
    assert!(shown.stdout.contains("Good"), "{}", shown.stdout);

    let results = term.run(&["tests", "results", &id, "--json"]).await;
    assert_eq!(results.json()[0]["score"], 6.5);
    assert_eq!(results.json()[0]["passed"], true);
    let book = term.run(&["tests", "gradebook", &course, "--csv"]).await;
    assert_eq!(book.code, 0, "{}", book.stderr);
    assert!(
        book.stdout
            .starts_with("studentId,firstName,lastName,email,Forces quiz"),
        "{}",
        book.stdout
    );
    assert!(
        book.stdout.contains("student@cli.test,6.5"),
        "{}",
        book.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_test_file_exits_5_naming_the_field_by_its_path() {
    let server = spawn_server().await;
    register(&server, "t2@cli.test", "TEACHER").await;
    let teacher = api_login(&server.url, "t2@cli.test").await;
    let course = api(
        &server.url,
        &teacher,
        "/courses",
        json!({ "title": "Optics" }),
    )
    .await;
    let course = course["id"].as_str().unwrap().to_owned();
    let term = Terminal::new(&server);
    let login = term
        .run_with(
            &["login", "--email", "t2@cli.test", "--password-stdin"],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        json!({ "title": "Bad", "type": "QUIZ", "questions": [
            { "type": "MCQ", "questionText": "?", "marks": -1, "options": [ { "text": "a", "isCorrect": true }, { "text": "b" } ] }
        ] })
        .to_string(),
    )
    .unwrap();
    let run = term
        .run(&[
            "tests",
            "create",
            "--from",
            file.to_str().unwrap(),
            "--course",
            &course,
        ])
        .await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("questions[0].marks"), "{}", run.stderr);
}
