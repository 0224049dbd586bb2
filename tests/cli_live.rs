//! End to end: `edupro live …` with the real binary against the real server.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use chrono::{Duration, SecondsFormat, Utc};
use harness::{PASSWORD, Terminal, register, sign_in, spawn_server};
use serde_json::{Value, json};

fn at(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn post(url: &str, token: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{url}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_schedules_runs_and_reports_a_class_from_the_terminal() {
    let server = spawn_server().await;
    register(&server, "teacher@school.test", "TEACHER").await;
    register(&server, "sam@school.test", "STUDENT").await;
    register(&server, "kim@school.test", "STUDENT").await;
    let (teacher_token, _) = sign_in(&server.url, "teacher@school.test").await;
    let course = post(
        &server.url,
        &teacher_token,
        "/courses",
        json!({ "title": "Terminal algebra" }),
    )
    .await;
    let course = course["data"]["id"].as_str().unwrap().to_owned();
    let (sam_token, sam) = sign_in(&server.url, "sam@school.test").await;
    let (_, kim) = sign_in(&server.url, "kim@school.test").await;
    for student in [&sam, &kim] {
        post(
            &server.url,
            &teacher_token,
            &format!("/courses/{course}/enrollments"),
            json!({ "studentId": student }),
        )
        .await;
    }

    let term = Terminal::new(&server);
    let login = term
        .run_with(
            &[
                "login",
                "--email",
                "teacher@school.test",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);

    let scheduled = term
        .run(&[
            "live",
            "schedule",
            "--course-id",
            &course,
            "--title",
            "Factoring",
            "--at",
            &at(5),
            "--duration",
            "30",
            "--json",
        ])
        .await;
    assert_eq!(scheduled.code, 0, "{}", scheduled.stderr);
    let id = scheduled.json()["id"].as_str().unwrap().to_owned();

    let clash = term
        .run(&[
            "live",
            "schedule",
            "--course-id",
            &course,
            "--title",
            "Overlap",
            "--at",
            &at(10),
            "--duration",
            "30",
        ])
        .await;
    assert_eq!(clash.code, 5, "a clash is a conflict: {}", clash.stderr);
    assert!(clash.stderr.contains("Factoring"), "{}", clash.stderr);

    let series = term
        .run(&[
            "live",
            "schedule",
            "--course-id",
            &course,
            "--title",
            "Drill",
            "--at",
            &at(3 * 24 * 60),
            "--duration",
            "45",
            "--days",
            "MON,FRI",
            "--count",
            "4",
            "--json",
        ])
        .await;
    assert_eq!(series.code, 0, "{}", series.stderr);
    let occurrences = series.json();
    assert_eq!(
        occurrences.as_array().map(Vec::len),
        Some(4),
        "{occurrences}"
    );
    let last = occurrences[3]["id"].as_str().unwrap().to_owned();

    let moved = term
        .run(&[
            "live",
            "reschedule",
            &last,
            "--at",
            &at(60 * 24 * 60),
            "--json",
        ])
        .await;
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    let cancelled = term.run(&["live", "cancel", &last, "--json"]).await;
    assert_eq!(cancelled.code, 0, "{}", cancelled.stderr);
    assert_eq!(cancelled.json()[0]["status"], "CANCELLED");

    let list = term.run(&["live", "list", "--status", "upcoming"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(
        list.stdout.lines().count(),
        4,
        "Factoring and three drills: {}",
        list.stdout
    );
    assert!(list.stdout.lines().next().unwrap().contains("Factoring"));

    let started = term.run(&["live", "start", &id, "--json"]).await;
    assert_eq!(started.code, 0, "{}", started.stderr);
    assert_eq!(started.json()["status"], "LIVE");
    post(
        &server.url,
        &sam_token,
        &format!("/live-classes/{id}/join"),
        json!({}),
    )
    .await;
    let ended = term.run(&["live", "end", &id]).await;
    assert_eq!(ended.code, 0, "{}", ended.stderr);

    let report = term.run(&["live", "attendance", &id, "--json"]).await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    let lines = report.json();
    let present: Vec<(String, bool)> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["studentId"].as_str().unwrap().to_owned(),
                l["present"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(present, vec![(sam.clone(), true), (kim.clone(), false)]);

    let ics = term.run(&["live", "ics", "--json"]).await;
    assert_eq!(ics.code, 0, "{}", ics.stderr);
    let url = ics.json()["url"].as_str().unwrap().to_owned();
    let feed = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(feed.starts_with("BEGIN:VCALENDAR\r\n"), "{feed}");
    assert!(feed.contains(&format!("UID:{id}@edupro")));

    let missing = term
        .run(&["live", "start", "0193a0a0-0000-7000-8000-000000000000"])
        .await;
    assert_eq!(missing.code, 4, "{}", missing.stderr);
}
