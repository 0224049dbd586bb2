//! One notification broadcast to N WebSocket clients on loopback, 20 times: how long
//! until the last client has it (p50/p99), deliveries per second, and the server's RSS
//! with N connections open.
//!
//!     cargo run --release -p edupro-server --example ws_bench [N]        (N = 10000)
//!     scripts/with-postgres.sh target/release/examples/ws_bench [N]     (SQLite, then PG)
//!
//! The server runs in this process (SQLite in a temp dir, then a throwaway PostgreSQL
//! database when `PG_URL` names a server); the clients run in a child
//! process (this example again, `--clients`), so each side needs only N file
//! descriptors and the RSS read from `/proc` is the server's alone. A broadcast is a
//! course announcement to N enrolled students, timed from the `POST` to the moment the
//! last client has read its notification: the real path (event, N rows in one
//! transaction, membership check, hub, N sockets). It is reported in two parts too:
//! until the first client has it (the event and the N rows stored), and from the first
//! to the last (the hub's fan-out and the sockets).

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

// Only its throwaway PostgreSQL databases are used here.
#[allow(dead_code)]
#[path = "support/mod.rs"]
mod support;

use edupro_server::Application;
use edupro_server::api::Role;
use edupro_server::domain::{Email, PersonName};
use edupro_server::platform::config::ServerArgs;
use edupro_server::service::accounts::{self, NewAccount, SignIn};
use futures_util::StreamExt;
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const BROADCASTS: usize = 20;

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.get(1).map(String::as_str) == Some("--clients") {
        return runtime.block_on(clients(&args[2..]));
    }
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    // Warnings and errors of the server (a failed broadcast says why); RUST_LOG for
    // more, e.g. `edupro_server::service::notifications=debug,edupro_server::realtime=debug`
    // for the time each broadcast spends in each phase.
    support::logging();
    runtime.block_on(async {
        println!("== SQLite");
        server(n, None).await?;
        if let Ok(url) = std::env::var("PG_URL") {
            println!("== PostgreSQL");
            server(n, Some(support::fresh_pg_database(&url).await?)).await?;
        }
        Ok(())
    })
}

/// The fd limit this process has (soft), from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Resident set size of process `pid` in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn server(n: usize, database_url: Option<String>) -> anyhow::Result<()> {
    if let Some(limit) = open_files_limit() {
        anyhow::ensure!(
            limit as usize > n + 200,
            "the open-files limit is {limit}, too low for {n} connections: raise it (ulimit -n) or pass a smaller N"
        );
    }
    let dir = tempfile::tempdir()?;
    let settings = ServerArgs {
        data_dir: Some(dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse()?),
        database_url,
        log_level: Some("warn".into()),
        rate_limit_per_ip: Some(u32::MAX),
        rate_limit_per_account: Some(u32::MAX),
        // 10k sockets from one address.
        connections_per_ip: Some(0),
        ..ServerArgs::default()
    }
    .resolve()?;
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());

    eprintln!("setting up a course with {n} enrolled students…");
    let setup = Instant::now();
    let account = |email: String, role: Role| NewAccount {
        email: Email::parse(&email).expect("email"),
        password: None,
        first_name: PersonName::parse("Bench").expect("name"),
        last_name: PersonName::parse("User").expect("name"),
        phone: None,
        role,
        external_id: None,
    };
    let (teacher, _) = accounts::create(
        &state.db,
        account("teacher@bench.test".into(), Role::Teacher),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let teacher_token =
        accounts::start_session(&state, &teacher, None, "127.0.0.1", SignIn::Registered)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .access_token;
    let course_uuid = support::published_course(&base, &teacher_token, "Broadcast").await?;
    let course_id = course_uuid.to_string();

    let mut tokens = Vec::with_capacity(n);
    let mut enrollments = Vec::with_capacity(n);
    for i in 0..n {
        let (student, _) = accounts::create(
            &state.db,
            account(format!("student{i}@bench.test"), Role::Student),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let session =
            accounts::start_session(&state, &student, None, "127.0.0.1", SignIn::Registered)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        tokens.push(session.access_token);
        let now = chrono::Utc::now();
        enrollments.push(edupro_server::store::entity::enrollment::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            course_id: Set(course_uuid),
            student_id: Set(student.id),
            status: Set(edupro_server::api::EnrollmentStatus::Active),
            enrolled_at: Set(now),
            completed_at: Set(None),
            expires_at: Set(None),
            progress_percent: Set(0),
            last_accessed_at: Set(None),
            batch_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    for chunk in enrollments.chunks(1_000) {
        edupro_server::store::entity::enrollment::Entity::insert_many(chunk.to_vec())
            .exec(&state.db)
            .await?;
    }
    eprintln!("set up in {:.1} s", setup.elapsed().as_secs_f64());

    let tokens_file = dir.path().join("tokens.txt");
    std::fs::write(&tokens_file, tokens.join("\n"))?;
    let rss_before = rss_mib(std::process::id()).unwrap_or(0.0);
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--clients",
            &base,
            &tokens_file.to_string_lossy(),
            &teacher_token,
            &course_id,
            &std::process::id().to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    // The child reports when its clients are connected; the server's RSS then.
    let mut lines = std::io::BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        if line == "connected" {
            let stats = state.realtime.hub.stats().await;
            println!(
                "server RSS: {:.0} MiB before, {:.0} MiB with {} connections ({:.1} KiB each)",
                rss_before,
                rss_mib(std::process::id()).unwrap_or(0.0),
                stats.connections,
                (rss_mib(std::process::id()).unwrap_or(0.0) - rss_before) * 1024.0
                    / stats.connections.max(1) as f64
            );
            continue;
        }
        println!("{line}");
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "the client process failed: {status}");
    let stats = state.realtime.hub.stats().await;
    println!("clients evicted as too slow: {}", stats.evicted_slow);
    Ok(())
}

/// One client: connects, reads up to `caughtUp`, then reports the instant each
/// notification arrives (with its broadcast number, from the title).
async fn client(
    url: String,
    token: String,
    arrivals: mpsc::UnboundedSender<(usize, Instant)>,
    ready: mpsc::UnboundedSender<()>,
) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    // Small buffers: tungstenite's default 128 KiB ones, times 10k clients sharing the
    // server's two cores, had the kernel zeroing fresh pages for a fifth of the CPU.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let mut ready = Some(ready);
    while let Some(frame) = ws.next().await {
        let Message::Text(text) = frame? else {
            continue;
        };
        let message: Value = serde_json::from_str(&text)?;
        match message["type"].as_str() {
            Some("caughtUp") => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
            }
            Some("notification") => {
                let at = Instant::now();
                let round = message["notification"]["title"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("Broadcast "))
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                if arrivals.send((round, at)).is_err() {
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn clients(args: &[String]) -> anyhow::Result<()> {
    let [base, tokens_file, teacher_token, course_id, _server_pid] = args else {
        anyhow::bail!("usage: ws_bench --clients URL TOKENS TEACHER_TOKEN COURSE SERVER_PID");
    };
    let tokens: Vec<String> = std::fs::read_to_string(tokens_file)?
        .lines()
        .map(str::to_owned)
        .collect();
    let n = tokens.len();
    let ws_url = format!("{}/api/v1/ws?since=0", base.replacen("http://", "ws://", 1));
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel();
    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    let connect = Instant::now();
    // Connect in waves so the listen backlog never overflows.
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    for token in tokens {
        let permit = gate.clone().acquire_owned().await?;
        let (url, arrivals, ready) = (ws_url.clone(), arrivals_tx.clone(), ready_tx.clone());
        tokio::spawn(async move {
            let (inner_ready, mut inner_rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(client(url, token, arrivals, inner_ready));
            if inner_rx.recv().await.is_some() {
                let _ = ready.send(Ok(()));
                drop(permit);
                if let Ok(Err(err)) = task.await {
                    eprintln!("a client failed: {err:#}");
                }
            } else {
                let _ = ready.send(Err(format!("{:?}", task.await)));
            }
        });
    }
    drop(ready_tx);
    for _ in 0..n {
        match ready.recv().await {
            Some(Ok(())) => {}
            Some(Err(err)) => anyhow::bail!("a client failed to connect: {err}"),
            None => anyhow::bail!("the clients stopped"),
        }
    }
    eprintln!(
        "{n} clients connected in {:.1} s",
        connect.elapsed().as_secs_f64()
    );
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "connected")?;
        out.flush()?;
    }

    let http = reqwest::Client::new();
    let mut lasts = Vec::with_capacity(BROADCASTS);
    let mut firsts = Vec::with_capacity(BROADCASTS);
    let mut spreads = Vec::with_capacity(BROADCASTS);
    let mut total = Duration::ZERO;
    for round in 1..=BROADCASTS {
        let start = Instant::now();
        let answer = http
            .post(format!("{base}/api/v1/courses/{course_id}/announcements"))
            .bearer_auth(teacher_token)
            .json(&json!({ "title": format!("Broadcast {round}"), "message": "to everyone" }))
            .send()
            .await?;
        let status = answer.status();
        anyhow::ensure!(
            status == 201,
            "announce: {status}: {}",
            answer.text().await?
        );
        let mut got = 0;
        let mut last = start;
        let mut first: Option<Instant> = None;
        while got < n {
            let (r, at) = arrivals
                .recv()
                .await
                .ok_or_else(|| anyhow::anyhow!("clients gone"))?;
            anyhow::ensure!(
                r == round,
                "a notification of round {r} during round {round}"
            );
            got += 1;
            last = last.max(at);
            first = Some(first.map_or(at, |f| f.min(at)));
        }
        let took = last - start;
        let first = first.unwrap_or(start);
        total += took;
        lasts.push(took.as_secs_f64() * 1000.0);
        firsts.push((first - start).as_secs_f64() * 1000.0);
        spreads.push((last - first).as_secs_f64() * 1000.0);
    }
    let summary = |what: &str, mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        println!(
            "  {what}: p50 {:.1} ms, p99 {:.1} ms (min {:.1}, max {:.1})",
            percentile(&values, 50.0),
            percentile(&values, 99.0),
            values[0],
            values[values.len() - 1]
        );
    };
    println!("{BROADCASTS} broadcasts to {n} clients:");
    summary("POST until the last client has it", lasts);
    summary("POST until the first client has it (stored)", firsts);
    summary("first to last client (fan-out)", spreads);
    println!(
        "deliveries: {:.0}/s ({} in {:.2} s of broadcasting)",
        (n * BROADCASTS) as f64 / total.as_secs_f64(),
        n * BROADCASTS,
        total.as_secs_f64()
    );
    Ok(())
}
