//! Gamification figures through the HTTP API:
//!
//! 1. a 10k-student course's leaderboard: p50/p99 of `GET /courses/{id}/leaderboard`
//!    (all time and this week) with 50k XP awards in the ledger;
//! 2. XP during a submission burst: 500 students submit a 10-question test at once
//!    (32 in flight); submits/s and XP awards written/s.
//!
//! SQLite always; PostgreSQL too when `EDUPRO_DATABASE_URL` (or `PG_URL`, as
//! `scripts/with-postgres.sh` sets) is a postgres:// URL. Run with `--release`:
//!
//! `cargo run --release -p edupro-server --example leaderboard_bench`

use std::time::Instant;

use chrono::{Duration, Utc};
use edupro_server::api::Role;
use edupro_server::store::entity::{user, xp_award};
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

mod support;

const BOARD_STUDENTS: usize = 10_000;
const AWARDS_EACH: usize = 5;
const BURST_STUDENTS: usize = 500;
const QUESTIONS: usize = 10;
const REQUESTS: usize = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    for (name, database_url) in support::databases().await? {
        bench(name, database_url).await?;
    }
    Ok(())
}

async fn bench(name: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let server = support::server(database_url).await?;
    let (base, state) = (server.base.clone(), server.state.clone());
    let client = reqwest::Client::new();
    let post = |token: &str, path: &str, body: Value| {
        let (client, base, token, path) = (
            client.clone(),
            base.clone(),
            token.to_owned(),
            path.to_owned(),
        );
        async move { support::call(&client, &base, &token, reqwest::Method::POST, &path, &body).await }
    };
    let (_, teacher) = support::account(&state, Role::Teacher, 0, true).await?;
    let course_id = support::published_course(&base, &teacher, "Bench course").await?;
    let course = course_id.to_string();

    // 1. A 10k-student leaderboard: accounts and ledger rows written directly (the
    // HTTP path that writes them is the burst below).
    let t0 = Instant::now();
    let mut ids = Vec::with_capacity(BOARD_STUDENTS);
    for n in 0..BOARD_STUDENTS {
        ids.push(
            support::account(&state, Role::Student, 100_000 + n, false)
                .await?
                .0,
        );
    }
    let now = Utc::now();
    let rows: Vec<xp_award::ActiveModel> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            (0..AWARDS_EACH).map(move |k| xp_award::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(*id),
                cause: Set(format!("lesson:bench-{k}")),
                kind: Set("LESSON_COMPLETED".into()),
                // Spread with ties: 1,000 distinct totals over 10k students.
                points: Set(((i % 1000) as i32) + 1),
                course_id: Set(Some(course_id)),
                awarded_at: Set(now - Duration::days((k * 3) as i64)),
                created_at: Set(now),
                updated_at: Set(now),
            })
        })
        .collect();
    for chunk in rows.chunks(1000) {
        xp_award::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&state.db)
            .await?;
    }
    println!(
        "{name}: seeded {} students and {} awards in {:.1} s",
        BOARD_STUDENTS,
        rows.len(),
        t0.elapsed().as_secs_f64()
    );
    for period in ["all", "week"] {
        let path = format!("/api/v1/courses/{course}/leaderboard?period={period}&limit=20");
        let mut times = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let at = Instant::now();
            let board = support::call(
                &client,
                &base,
                &teacher,
                reqwest::Method::GET,
                &path,
                &json!(null),
            )
            .await?;
            times.push(at.elapsed().as_secs_f64() * 1e3);
            anyhow::ensure!(board["entries"].as_array().is_some_and(|e| e.len() == 20));
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: leaderboard of {BOARD_STUDENTS} students ({period}): p50 {:.1} ms, p99 {:.1} ms over {REQUESTS} requests",
            support::percentile(&times, 0.5),
            support::percentile(&times, 0.99)
        );
    }

    // 2. A submission burst: 500 students, a 10-question MCQ test; each submit settles
    // the student's test XP (passed, perfect) and the day's activity in its transaction.
    let questions: Vec<Value> = (0..QUESTIONS)
        .map(|i| {
            json!({ "type": "MCQ", "questionText": format!("Question {i}"), "marks": 1,
                    "options": [ { "text": "A", "isCorrect": true }, { "text": "B" } ] })
        })
        .collect();
    let test = post(
        &teacher,
        "/api/v1/tests",
        json!({ "courseId": course, "title": "Burst", "type": "QUIZ", "passingMarks": 5,
                "attemptsAllowed": 1, "questions": questions }),
    )
    .await?;
    let test = test["id"].as_str().unwrap_or_default().to_owned();
    post(
        &teacher,
        &format!("/api/v1/tests/{test}/publish"),
        json!({}),
    )
    .await?;
    let mut attempts = Vec::with_capacity(BURST_STUDENTS);
    for n in 0..BURST_STUDENTS {
        let (_, token) = support::account(&state, Role::Student, n, true).await?;
        post(&token, "/api/v1/enrollments", json!({ "courseId": course })).await?;
        let attempt = post(&token, &format!("/api/v1/tests/{test}/attempts"), json!({})).await?;
        // Half answer everything right (pass, perfect), the rest only the first half.
        let answers: Vec<Value> = attempt["questions"]
            .as_array()
            .map(|qs| {
                qs.iter()
                    .enumerate()
                    .map(|(i, q)| {
                        let pick = if n % 2 == 0 || i < QUESTIONS / 2 {
                            "A"
                        } else {
                            "B"
                        };
                        let option = q["options"]
                            .as_array()
                            .and_then(|os| os.iter().find(|o| o["text"] == pick))
                            .map(|o| o["id"].clone())
                            .unwrap_or(Value::Null);
                        json!({ "questionId": q["id"], "selectedOptions": [option] })
                    })
                    .collect()
            })
            .unwrap_or_default();
        attempts.push((
            token,
            attempt["id"].as_str().unwrap_or_default().to_owned(),
            answers,
        ));
    }
    let before = xp_award::Entity::find().count(&state.db).await?;
    let t0 = Instant::now();
    let results: Vec<anyhow::Result<Value>> = futures_util::stream::iter(attempts)
        .map(|(token, attempt, answers)| {
            post(
                &token,
                &format!("/api/v1/attempts/{attempt}/submit"),
                json!({ "answers": answers }),
            )
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let elapsed = t0.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let written = xp_award::Entity::find().count(&state.db).await? - before;
    let passed = xp_award::Entity::find()
        .filter(xp_award::Column::Kind.eq("TEST_PASSED"))
        .count(&state.db)
        .await?;
    println!(
        "{name}: burst of {BURST_STUDENTS} submits (32 in flight): {:.2} s, {:.0} submits/s, {written} XP awards ({passed} passes) = {:.0} awards/s, {failed} failed",
        elapsed,
        BURST_STUDENTS as f64 / elapsed,
        written as f64 / elapsed
    );
    let students = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Student.as_str()))
        .count(&state.db)
        .await?;
    anyhow::ensure!(students as usize == BOARD_STUDENTS + BURST_STUDENTS);
    Ok(())
}
