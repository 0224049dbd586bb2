//! Grading figures through the HTTP API: submit requests/s (200 students answering a
//! 50-question test at once), then regrading one question over 10k submitted attempts
//! (dry run and apply, median of 3 each). SQLite always; PostgreSQL too when
//! `EDUPRO_DATABASE_URL` (or `PG_URL`, as `scripts/with-postgres.sh` sets) is a
//! postgres:// URL this may create a throwaway database in. Run with `--release`:
//!
//! `cargo run --release -p edupro-server --example grading_bench`

use std::time::Instant;

use chrono::Utc;
use edupro_server::Application;
use edupro_server::api::Role;
use edupro_server::platform::config::ServerArgs;
use edupro_server::store::entity::{attempt_answer, test_attempt};
use futures_util::StreamExt;
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

mod support;

const STUDENTS: usize = 200;
const ATTEMPTS_EACH: usize = 50;
const QUESTIONS: usize = 50;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    bench("SQLite", None).await?;
    let pg = std::env::var("EDUPRO_DATABASE_URL")
        .ok()
        .or_else(|| std::env::var("PG_URL").ok())
        .filter(|u| u.starts_with("postgres"));
    if let Some(url) = pg {
        let db = support::fresh_pg_database(&url).await?;
        bench("PostgreSQL", Some(db)).await?;
    }
    Ok(())
}

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let answer = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        let status = answer.status();
        let body: Value = answer.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body["data"].clone())
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call(token, reqwest::Method::POST, path, body).await
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn bench(name: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let settings = ServerArgs {
        data_dir: Some(dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse()?),
        database_url,
        log_level: Some("warn".into()),
        ..ServerArgs::default()
    }
    .resolve()?;
    let app = Application::build(settings).await?;
    let http = Http {
        base: format!("http://{}", app.local_addr()),
        client: reqwest::Client::new(),
    };
    let state = app.state();
    tokio::spawn(app.run_until_stopped());

    // A teacher's published course and a published 50-question MCQ test.
    let (_, teacher) = support::account(&state, Role::Teacher, 0, true).await?;
    let course = http
        .post(
            &teacher,
            "/api/v1/courses",
            &json!({ "title": "Bench course" }),
        )
        .await?;
    let course = course["id"].as_str().unwrap_or_default().to_owned();
    let section = http
        .post(
            &teacher,
            &format!("/api/v1/courses/{course}/sections"),
            &json!({ "title": "S" }),
        )
        .await?;
    let section = section["id"].as_str().unwrap_or_default().to_owned();
    http.post(
        &teacher,
        &format!("/api/v1/sections/{section}/lessons"),
        &json!({ "title": "L", "type": "VIDEO", "duration": 1, "url": "https://v.test/1", "isPublished": true }),
    )
    .await?;
    http.post(
        &teacher,
        &format!("/api/v1/courses/{course}/publish"),
        &json!({}),
    )
    .await?;
    let questions: Vec<Value> = (0..QUESTIONS)
        .map(|i| {
            json!({ "type": "MCQ", "questionText": format!("Question {i}"), "marks": 1, "negativeMarks": 0.25,
                    "options": [ { "text": "A", "isCorrect": true }, { "text": "B" }, { "text": "C" }, { "text": "D" } ] })
        })
        .collect();
    let created = http
        .post(
            &teacher,
            "/api/v1/tests",
            &json!({ "courseId": course, "title": "Bench test", "type": "MOCK_TEST",
                     "attemptsAllowed": 100, "questions": questions }),
        )
        .await?;
    let test = created["id"].as_str().unwrap_or_default().to_owned();
    http.post(
        &teacher,
        &format!("/api/v1/tests/{test}/publish"),
        &json!({}),
    )
    .await?;
    let test_id: Uuid = test.parse()?;

    let mut students = Vec::with_capacity(STUDENTS);
    for n in 0..STUDENTS {
        let (id, token) = support::account(&state, Role::Student, n, true).await?;
        http.post(
            &token,
            "/api/v1/enrollments",
            &json!({ "courseId": course }),
        )
        .await?;
        students.push((id, token));
    }

    // Submit: every student starts, then all submit 50 answers, 16 at a time.
    let mut started = Vec::with_capacity(STUDENTS);
    for (_, token) in &students {
        let attempt = http
            .post(token, &format!("/api/v1/tests/{test}/attempts"), &json!({}))
            .await?;
        started.push((token.clone(), attempt));
    }
    let options_of = |attempt: &Value| -> Vec<(String, Vec<String>)> {
        attempt["questions"]
            .as_array()
            .map(|qs| {
                qs.iter()
                    .map(|q| {
                        let ids = q["options"]
                            .as_array()
                            .map(|os| {
                                os.iter()
                                    .filter_map(|o| o["id"].as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default();
                        (q["id"].as_str().unwrap_or_default().to_owned(), ids)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let clock = Instant::now();
    let results: Vec<anyhow::Result<Value>> = futures_util::stream::iter(started.iter().enumerate().map(|(i, (token, attempt))| {
        let answers: Vec<Value> = options_of(attempt)
            .iter()
            .enumerate()
            .map(|(j, (q, os))| json!({ "questionId": q, "selectedOptions": [os[(i + j) % os.len()]] }))
            .collect();
        let path = format!("/api/v1/attempts/{}/submit", attempt["id"].as_str().unwrap_or_default());
        let http = &http;
        async move { http.post(token, &path, &json!({ "answers": answers })).await }
    }))
    .buffer_unordered(16)
    .collect()
    .await;
    let elapsed = clock.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    println!(
        "{name:10} submit (50 answers)        {:>8.0} requests/s  ({STUDENTS} in {elapsed:.2} s)",
        STUDENTS as f64 / elapsed
    );

    // Fill up to 10k submitted attempts directly (49 more per student).
    let question_rows = edupro_server::service::assessments::questions_of(&state.db, test_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let keys: Vec<(Uuid, Vec<Uuid>)> = question_rows
        .iter()
        .map(|q| {
            (
                q.id,
                edupro_server::service::assessments::options_of(q)
                    .iter()
                    .map(|o| o.id)
                    .collect(),
            )
        })
        .collect();
    let course_id: Uuid = course.parse()?;
    let now = Utc::now();
    let fill = Instant::now();
    let mut attempts = Vec::new();
    let mut answers = Vec::new();
    for (s, (student, _)) in students.iter().enumerate() {
        for number in 2..=ATTEMPTS_EACH {
            let id = Uuid::now_v7();
            let mut raw = 0i64;
            for (j, (q, os)) in keys.iter().enumerate() {
                let pick = (s * 7 + number * 3 + j) % os.len();
                let (marks, outcome) = if pick == 0 {
                    (100, "CORRECT")
                } else {
                    (-25, "WRONG")
                };
                raw += marks;
                answers.push(attempt_answer::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    attempt_id: Set(id),
                    question_id: Set(*q),
                    test_id: Set(test_id),
                    selected_options: Set(edupro_server::service::assessments::selected_text(&[
                        os[pick],
                    ])),
                    answer_text: Set(None),
                    marks: Set(Some(marks)),
                    outcome: Set(Some(outcome.into())),
                    feedback: Set(None),
                    graded_by: Set(None),
                    graded_at: Set(Some(now)),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
            }
            attempts.push(test_attempt::ActiveModel {
                id: Set(id),
                test_id: Set(test_id),
                course_id: Set(course_id),
                student_id: Set(*student),
                number: Set(number as i32),
                status: Set(edupro_server::api::AttemptStatus::Submitted),
                started_at: Set(now),
                deadline: Set(None),
                submitted_at: Set(Some(now)),
                auto_submitted: Set(false),
                raw_score: Set(Some(raw)),
                score: Set(Some(raw.max(0))),
                pending_answers: Set(0),
                graded_at: Set(Some(now)),
                time_spent_seconds: Set(None),
                layout: Set(Default::default()),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    for chunk in attempts.chunks(1000) {
        test_attempt::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&state.db)
            .await?;
    }
    for chunk in answers.chunks(2000) {
        attempt_answer::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&state.db)
            .await?;
    }
    println!(
        "{name:10} filled {} attempts × {QUESTIONS} answers in {:.1} s",
        STUDENTS * ATTEMPTS_EACH,
        fill.elapsed().as_secs_f64()
    );

    // Regrade question 1 back and forth: the key moves from A to B and back.
    let (question, options) = &keys[0];
    let mut dry = Vec::new();
    let mut apply = Vec::new();
    let mut affected = 0;
    for round in 0..3 {
        let key = options[(round + 1) % 2];
        for (dry_run, times) in [(true, &mut dry), (false, &mut apply)] {
            let clock = Instant::now();
            let report = http
                .post(
                    &teacher,
                    &format!("/api/v1/questions/{question}/regrade"),
                    &json!({ "dryRun": dry_run, "correctOptions": [key] }),
                )
                .await?;
            times.push(clock.elapsed().as_secs_f64());
            affected = report["affected"].as_array().map_or(0, Vec::len);
            anyhow::ensure!(
                report["examined"] == (STUDENTS * ATTEMPTS_EACH) as u64,
                "examined {}",
                report["examined"]
            );
        }
    }
    println!(
        "{name:10} regrade over {} attempts: dry run median {:.3} s, apply median {:.3} s ({affected} attempts changed each time)",
        STUDENTS * ATTEMPTS_EACH,
        median(dry),
        median(apply)
    );
    Ok(())
}
