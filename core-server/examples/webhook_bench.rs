//! Outgoing webhook figures: deliveries per second to a local receiver (which checks
//! every signature) and the delay from an event's commit to its delivery, p50/p99.
//!
//! 1. **Burst**: 5,000 events committed at once (batches of 500, as an import does),
//!    one endpoint subscribed to all: deliveries/s from the first commit to the last
//!    delivery, and the delay of each (it includes the wait in the queue).
//! 2. **Steady**: 300 events, one every 10 ms: the delay an event sees on a quiet server.
//!
//! SQLite always; PostgreSQL too when `EDUPRO_DATABASE_URL` (or `PG_URL`) is a
//! postgres:// URL. Run with `--release`:
//!
//! `cargo run --release -p edupro-server --example webhook_bench`

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use edupro_server::domain::events::{DomainEvent, EnrollmentChange};
use edupro_server::platform::state::AppState;
use edupro_server::service::events;
use sea_orm::TransactionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

mod support;

#[path = "../tests/support/webhook_receiver.rs"]
mod receiver;

const BURST: usize = 5_000;
const BATCH: usize = 500;
const STEADY: usize = 300;

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

fn event() -> DomainEvent {
    let id = Uuid::now_v7();
    DomainEvent::CourseEnrolled(EnrollmentChange {
        enrollment_id: id,
        course_id: id,
        student_id: id,
        actor_id: id,
    })
}

/// Commits `events` in one transaction and announces them, as a handler does.
async fn commit(state: &AppState, batch: Vec<DomainEvent>) -> anyhow::Result<()> {
    let txn = state.db.begin().await?;
    let stored = events::publish_all(&txn, batch).await?;
    txn.commit().await?;
    state.events.announce(stored);
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The delays (ms) from each accepted delivery's `createdAt` to its arrival, sorted.
fn delays(received: &[receiver::Received]) -> Vec<f64> {
    let mut delays: Vec<f64> = received
        .iter()
        .filter(|r| r.accepted)
        .filter_map(|r| {
            let created = r.body["createdAt"].as_str()?;
            let created: DateTime<Utc> = DateTime::parse_from_rfc3339(created).ok()?.into();
            Some((r.received_at - created).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    delays
}

async fn wait_for(receiver: &receiver::Receiver, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while receiver.count() < n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} deliveries arrived",
            receiver.count()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

async fn bench(name: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let receiver = receiver::Receiver::start().await;
    let server = support::server(database_url).await?;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/api/v1/webhooks", server.base))
        .bearer_auth(&server.token)
        .json(&json!({ "url": receiver.url(), "events": ["*"] }))
        .send()
        .await?
        .json()
        .await?;
    let secret = created["data"]["secret"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no secret: {created}"))?;
    receiver.set_secret(secret);
    let state = server.state.clone();

    // 1. Burst.
    let started = Instant::now();
    for _ in 0..BURST / BATCH {
        commit(&state, (0..BATCH).map(|_| event()).collect()).await?;
    }
    let committed = started.elapsed();
    wait_for(&receiver, BURST).await?;
    let took = started.elapsed();
    let received = receiver.received();
    anyhow::ensure!(
        received.iter().all(|r| r.signature_ok && r.accepted),
        "a signature did not verify"
    );
    let burst = delays(&received);
    println!(
        "{name}: burst of {BURST} events (committed in {:.2} s): {:.0} deliveries/s; delay p50 {:.0} ms, p99 {:.0} ms",
        committed.as_secs_f64(),
        BURST as f64 / took.as_secs_f64(),
        percentile(&burst, 0.5),
        percentile(&burst, 0.99),
    );

    // 2. Steady.
    receiver.clear();
    for _ in 0..STEADY {
        commit(&state, vec![event()]).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wait_for(&receiver, STEADY).await?;
    let steady = delays(&receiver.received());
    println!(
        "{name}: steady, one event every 10 ms ({STEADY}): delay p50 {:.1} ms, p99 {:.1} ms",
        percentile(&steady, 0.5),
        percentile(&steady, 0.99),
    );
    Ok(())
}
