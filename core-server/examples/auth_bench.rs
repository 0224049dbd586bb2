//! Login throughput against the raw argon2 rate, and `GET /auth/me` latency while a
//! login burst runs, measured side by side in one run on an in-process server (SQLite).
//!
//!     cargo run --release -p edupro-server --example auth_bench [SECONDS]
//!
//! Prints: argon2 verifications/s using every core, logins/s over HTTP with their ratio
//! to it (goal ≥ 0.9), and p50/p99 of `/auth/me` with and without the burst.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use edupro_server::Application;
use edupro_server::platform::config::ServerArgs;
use serde_json::{Value, json};

const PASSWORD: &str = "Corr3ct-Horse!";
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let window = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let dir = tempfile::tempdir()?;
    let settings = ServerArgs {
        data_dir: Some(dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse()?),
        log_level: Some("warn".into()),
        rate_limit_per_ip: Some(u32::MAX),
        rate_limit_per_account: Some(u32::MAX),
        ..ServerArgs::default()
    }
    .resolve()?;
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    let mut emails = Vec::new();
    for i in 0..16 {
        let email = format!("bench{i}@school.test");
        let answer: Value = client
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD, "firstName": "B", "lastName": "M"}))
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(answer["success"] == true, "register failed: {answer}");
        emails.push(email);
    }
    let token = login(&client, &base, &emails[0]).await?;

    let idle = me_latencies(&client, &base, &token, Duration::from_secs(2)).await?;
    println!(
        "GET /auth/me, idle:               p50 {:6.2} ms   p99 {:6.2} ms",
        pct(&idle, 50.0),
        pct(&idle, 99.0)
    );

    // Alternate the two measurements so a change in the machine's load hits both alike.
    let (mut raws, mut rates, mut busy) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let raw = raw_argon2_rate(cores, window);
        let (rate, mut latencies) =
            login_burst(&client, &base, &emails, &token, cores, window).await?;
        println!(
            "round {round}: argon2 {raw:7.1}/s on {cores} threads, logins {rate:7.1}/s ({:.2}x)",
            rate / raw
        );
        raws.push(raw);
        rates.push(rate);
        busy.append(&mut latencies);
    }
    raws.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    busy.sort_by(f64::total_cmp);
    let (raw, rate) = (pct(&raws, 50.0), pct(&rates, 50.0));
    println!("argon2id verify, {cores} threads (median): {raw:8.1} /s");
    println!(
        "logins over HTTP (median):        {rate:8.1} /s   ({:.2}x the raw argon2 rate)",
        rate / raw
    );
    println!(
        "GET /auth/me, during the bursts:  p50 {:6.2} ms   p99 {:6.2} ms",
        pct(&busy, 50.0),
        pct(&busy, 99.0)
    );
    Ok(())
}

/// Logins per second from `4 × cores` concurrent clients for `window`, and the
/// latencies of `GET /auth/me` measured meanwhile.
async fn login_burst(
    client: &reqwest::Client,
    base: &str,
    emails: &[String],
    token: &str,
    cores: usize,
    window: Duration,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let done = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(AtomicU64::new(0));
    let mut burst = Vec::new();
    for i in 0..(cores * 4) {
        let (client, base, done, logins) = (
            client.clone(),
            base.to_owned(),
            done.clone(),
            logins.clone(),
        );
        let email = emails[i % emails.len()].clone();
        burst.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if login(&client, &base, &email).await.is_ok() {
                    logins.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    let latencies = me_latencies(client, base, token, window).await?;
    done.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for task in burst {
        let _ = task.await;
    }
    Ok((logins.load(Ordering::Relaxed) as f64 / elapsed, latencies))
}

/// Verifications per second with `threads` threads hashing flat out.
fn raw_argon2_rate(threads: usize, window: Duration) -> f64 {
    let hasher = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19 * 1024, 2, 1, None).unwrap_or_default(),
    );
    let phc = hasher
        .hash_password(PASSWORD.as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (count, phc, hasher) = (count.clone(), phc.clone(), hasher.clone());
            scope.spawn(move || {
                let parsed = PasswordHash::new(&phc).expect("own hash parses");
                while started.elapsed() < window {
                    let _ = hasher.verify_password(PASSWORD.as_bytes(), &parsed);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let answer: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    answer["data"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login failed: {answer}"))
}

/// Sequential `GET /auth/me` for `window`; latencies in ms, sorted.
async fn me_latencies(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    window: Duration,
) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < window {
        let t = Instant::now();
        let status = client
            .get(format!("{base}/api/v1/auth/me"))
            .bearer_auth(token)
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "/auth/me answered {status}");
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
