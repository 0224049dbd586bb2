//! Payment figures through the HTTP API, end to end on the built-in test gateway:
//! `STUDENTS` students each buy one paid course — create-order, test-checkout (whose
//! webhook races the verify, as a real gateway's would), verify — 16 in flight.
//! Prints orders verified per second and the p50/p99 of the whole purchase.
//!
//! SQLite always; PostgreSQL too when `EDUPRO_DATABASE_URL` (or `PG_URL`, as
//! `scripts/with-postgres.sh` sets) is a postgres:// URL. Run with `--release`:
//!
//! `cargo run --release -p edupro-server --example payment_bench`

use std::time::Instant;

use edupro_server::api::Role;
use futures_util::StreamExt;
use serde_json::{Value, json};

mod support;

const STUDENTS: usize = 1_000;
const IN_FLIGHT: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    for (name, database_url) in support::databases().await? {
        bench(name, database_url).await?;
    }
    Ok(())
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let answer = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
    Ok(body["data"].clone())
}

async fn bench(name: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let server = support::server(database_url).await?;
    let (base, state) = (server.base.clone(), server.state.clone());
    let client = reqwest::Client::new();
    let (_, teacher) = support::account(&state, Role::Teacher, 0, true).await?;
    let course = support::published_course(&base, &teacher, "Bench paid course").await?;
    let priced = client
        .patch(format!("{base}/api/v1/courses/{course}"))
        .bearer_auth(&teacher)
        .json(&json!({ "price": 49_900, "isFree": false }))
        .send()
        .await?;
    anyhow::ensure!(priced.status().is_success(), "price: {}", priced.status());
    let mut students = Vec::with_capacity(STUDENTS);
    for n in 0..STUDENTS {
        students.push(support::account(&state, Role::Student, n, true).await?.1);
    }
    let started = Instant::now();
    let times: Vec<anyhow::Result<f64>> = futures_util::stream::iter(students.iter())
        .map(|token| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let at = Instant::now();
                let order = post(
                    &client,
                    format!("{base}/api/v1/payments/create-order"),
                    token,
                    json!({ "courseId": course }),
                )
                .await?;
                let paid = post(
                    &client,
                    format!("{base}/api/v1/payments/test-checkout"),
                    token,
                    json!({ "orderId": order["orderId"] }),
                )
                .await?;
                let verified = post(
                    &client,
                    format!("{base}/api/v1/payments/verify"),
                    token,
                    json!({ "orderId": paid["orderId"], "paymentId": paid["paymentId"],
                            "signature": paid["signature"], "courseId": course }),
                )
                .await?;
                anyhow::ensure!(verified["status"] == "SUCCESS", "{verified}");
                Ok(at.elapsed().as_secs_f64() * 1000.0)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut times: Vec<f64> = times.into_iter().collect::<anyhow::Result<_>>()?;
    times.sort_by(f64::total_cmp);
    // Let the test gateway's webhooks land, then check: one payment per student.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let history: Value = client
        .get(format!("{base}/api/v1/payments/history?limit=1"))
        .bearer_auth(&server.token)
        .send()
        .await?
        .json()
        .await?;
    let recorded = history["data"]["pagination"]["total"].as_u64().unwrap_or(0);
    anyhow::ensure!(
        recorded == STUDENTS as u64,
        "{recorded} payments for {STUDENTS} purchases"
    );
    println!(
        "{name}: {STUDENTS} purchases (order + checkout + verify, {IN_FLIGHT} in flight) in {elapsed:.1} s: {:.0} orders verified/s; purchase p50 {:.1} ms, p99 {:.1} ms; {recorded} payments recorded",
        STUDENTS as f64 / elapsed,
        support::percentile(&times, 0.5),
        support::percentile(&times, 0.99),
    );
    Ok(())
}
