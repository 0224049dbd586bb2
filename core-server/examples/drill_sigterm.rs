//! The SIGTERM-under-load drill's client (`scripts/drills/sigterm-load.sh` runs it):
//! HTTP clients looping requests and WebSocket clients listening, against a running
//! `edupro-server`; after a warm-up it sends the server SIGTERM and keeps the load on
//! until the server is gone.
//!
//!     drill_sigterm URL TOKEN SERVER_PID [HTTP_CLIENTS=50] [WS_CLIENTS=200] [WARMUP_SECS=3]
//!                   [SHUTDOWN_TIMEOUT_SECS=10]
//!
//! Every request the server began must be answered 2xx and whole, before or after the
//! signal. Requests it never began are counted apart, not failures: those refused once
//! the listener is gone, and those sent on a keep-alive connection just as the draining
//! server closed it after its current request (no byte of answer; HTTP/1.1 lets a
//! client retry them, RFC 9112 §9.3.1). The server must be gone before its shutdown timeout: at the timeout actix
//! drops whatever it still serves, so a drain that needs it has cut requests. Every
//! WebSocket client must receive a close frame with 1012 (server restarting, reconnect
//! with `since`) within a second of the signal. Prints the counts and times; exits 1
//! when a property fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The close code the server stops with (`edupro_server::api::CLOSE_SERVICE_RESTART`).
const EXPECTED_CLOSE: u16 = edupro_server::api::CLOSE_SERVICE_RESTART;
/// How long after the signal a WebSocket client may wait for its close frame.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);
/// How long the load goes on after the signal, at most (the server's drain is bounded
/// by its shutdown timeout).
const AFTER_SIGNAL: Duration = Duration::from_secs(45);

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Answered 2xx.
    Ok,
    /// Answered, but not 2xx.
    Status(u16),
    /// No connection could be made (the listener is gone).
    Refused,
    /// The connection closed without a byte of answer: the server had not begun the
    /// request (a draining actix connection finishes the request it is serving and
    /// closes, leaving unread any sent just before; HTTP/1.1 lets a client retry those).
    Unanswered,
    /// The answer began and then broke off: a request the server was serving was cut.
    Cut,
}

/// One request's start and outcome.
struct Record {
    started: Instant,
    outcome: Outcome,
    /// What went wrong, for the report: the path, the time and the error.
    detail: String,
}

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, token, pid, rest @ ..] = args.as_slice() else {
        anyhow::bail!(
            "usage: drill_sigterm URL TOKEN SERVER_PID [HTTP_CLIENTS] [WS_CLIENTS] [WARMUP_SECS] [SHUTDOWN_TIMEOUT_SECS]"
        );
    };
    let number = |i: usize, default: u64| -> anyhow::Result<u64> {
        Ok(match rest.get(i) {
            Some(s) => s.parse()?,
            None => default,
        })
    };
    let (http_clients, ws_clients, warmup) = (number(0, 50)?, number(1, 200)?, number(2, 3)?);
    let shutdown_timeout = Duration::from_secs(number(3, 10)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let failed = runtime.block_on(drill(
        url.trim_end_matches('/').to_owned(),
        token.clone(),
        pid.clone(),
        http_clients as usize,
        ws_clients as usize,
        Duration::from_secs(warmup),
        shutdown_timeout,
    ))?;
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// Runs the drill; `true` when a property failed.
async fn drill(
    url: String,
    token: String,
    pid: String,
    http_clients: usize,
    ws_clients: usize,
    warmup: Duration,
    shutdown_timeout: Duration,
) -> anyhow::Result<bool> {
    // The WebSocket clients first, each signed in and caught up.
    let (closes_tx, mut closes) = mpsc::unbounded_channel();
    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    // `since` asks for the replay, which ends with `caughtUp`: the client is in.
    let ws_url = format!("{}/api/v1/ws?since=0", url.replacen("http://", "ws://", 1));
    for _ in 0..ws_clients {
        tokio::spawn(ws_client(
            ws_url.clone(),
            token.clone(),
            ready_tx.clone(),
            closes_tx.clone(),
        ));
    }
    drop((ready_tx, closes_tx));
    for _ in 0..ws_clients {
        match tokio::time::timeout(Duration::from_secs(30), ready.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(err))) => anyhow::bail!("a WebSocket client could not connect: {err}"),
            Ok(None) => anyhow::bail!("the WebSocket clients stopped"),
            Err(_) => anyhow::bail!("the WebSocket clients were not all in after 30 s"),
        }
    }

    // Then the HTTP load, until each client finds the server gone.
    let stop = Arc::new(AtomicBool::new(false));
    let signalled: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let mut loops = Vec::new();
    for i in 0..http_clients {
        loops.push(tokio::spawn(http_client(
            i,
            url.clone(),
            token.clone(),
            stop.clone(),
            signalled.clone(),
        )));
    }
    tokio::time::sleep(warmup).await;
    // Taken before kill(1) runs: the signal lands while it does, a few ms later, and
    // a request begun then is not "before the signal".
    let at = Instant::now();
    let _ = signalled.set(at);
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()?;
    anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
    let exited = tokio::spawn(exit_of(pid.clone(), at));

    // Close frames: (code, time since the signal); a client without one reports None.
    let mut close_times = Vec::new();
    let mut close_codes = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..ws_clients {
        let Some((code, when)) = closes.recv().await else {
            break;
        };
        *close_codes
            .entry(code.map_or("no close frame".into(), |c: u16| c.to_string()))
            .or_default() += 1;
        close_times.push(when.saturating_duration_since(at));
    }
    let give_up = tokio::time::sleep(AFTER_SIGNAL);
    tokio::pin!(give_up);
    let mut records = Vec::new();
    for handle in loops {
        tokio::select! {
            done = handle => {
                records.extend(done?);
            }
            () = &mut give_up => {
                stop.store(true, Ordering::Relaxed);
            }
        }
    }
    let exited = exited.await?;

    // Figures.
    let before: Vec<&Record> = records.iter().filter(|r| r.started < at).collect();
    let after: Vec<&Record> = records.iter().filter(|r| r.started >= at).collect();
    let count =
        |rs: &[&Record], want: fn(Outcome) -> bool| rs.iter().filter(|r| want(r.outcome)).count();
    let before_ok = count(&before, |o| o == Outcome::Ok);
    let before_unanswered = count(&before, |o| o == Outcome::Unanswered);
    let before_failed: Vec<String> = before
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Ok | Outcome::Unanswered))
        .map(|r| {
            format!(
                "{:?} begun {} ms before SIGTERM: {}",
                r.outcome,
                (at - r.started).as_millis(),
                r.detail
            )
        })
        .collect();
    let after_ok = count(&after, |o| o == Outcome::Ok);
    let after_refused = count(&after, |o| o == Outcome::Refused);
    let after_unanswered = count(&after, |o| o == Outcome::Unanswered);
    let after_failed = count(&after, |o| matches!(o, Outcome::Status(_) | Outcome::Cut));
    close_times.sort();
    let slowest_close = close_times.last().copied().unwrap_or_default();
    let closed_right = close_codes
        .get(&EXPECTED_CLOSE.to_string())
        .copied()
        .unwrap_or(0);
    println!(
        "sigterm-load: {http_clients} HTTP clients, {ws_clients} WebSocket clients, SIGTERM after {:.1} s of load",
        warmup.as_secs_f64()
    );
    println!(
        "sigterm-load: begun before SIGTERM: {} requests, {before_ok} answered 2xx, {before_unanswered} sent on a keep-alive connection the server closed before reading them, failed: {}",
        before.len(),
        before_failed.len()
    );
    println!(
        "sigterm-load: begun after SIGTERM: {after_ok} answered 2xx, {after_refused} refused, {after_unanswered} on a connection closed before reading them, failed (non-2xx or cut): {after_failed}"
    );
    println!(
        "sigterm-load: WebSocket close codes {close_codes:?}; last close frame {:.0} ms after SIGTERM (p50 {:.0} ms)",
        slowest_close.as_secs_f64() * 1000.0,
        close_times
            .get(close_times.len() / 2)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    );
    match exited {
        Some(exited) => println!(
            "sigterm-load: the server exited {:.0} ms after SIGTERM (shutdown timeout {} s)",
            exited.as_secs_f64() * 1000.0,
            shutdown_timeout.as_secs()
        ),
        None => println!("sigterm-load: the server had not exited {AFTER_SIGNAL:?} after SIGTERM"),
    }
    let mut failures = Vec::new();
    if !before_failed.is_empty() {
        failures.push(format!(
            "{} requests begun before SIGTERM failed:\n  {}",
            before_failed.len(),
            before_failed[..before_failed.len().min(10)].join("\n  ")
        ));
    }
    if after_failed > 0 {
        failures.push(format!(
            "{after_failed} requests begun after SIGTERM were answered non-2xx or cut"
        ));
    }
    if closed_right != ws_clients {
        failures.push(format!(
            "{} of {ws_clients} WebSocket clients got close code {EXPECTED_CLOSE}",
            closed_right
        ));
    }
    if slowest_close > CLOSE_WITHIN {
        failures.push(format!(
            "a WebSocket close frame came {} ms after SIGTERM",
            slowest_close.as_millis()
        ));
    }
    if exited.is_none_or(|e| e + Duration::from_millis(500) >= shutdown_timeout) {
        failures.push(format!(
            "the server needed its shutdown timeout ({} s) to stop: it dropped what it was still serving",
            shutdown_timeout.as_secs()
        ));
    }
    if before.is_empty() {
        failures.push("no load before SIGTERM".into());
    }
    for failure in &failures {
        eprintln!("sigterm-load: FAILED: {failure}");
    }
    Ok(!failures.is_empty())
}

/// How long after `at` process `pid` exited (it is gone, or a zombie), polled every
/// 10 ms; `None` if it is still running after [`AFTER_SIGNAL`].
async fn exit_of(pid: String, at: Instant) -> Option<Duration> {
    loop {
        let running = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                // The state follows the command name, which is in parentheses.
                let (_, rest) = stat.rsplit_once(')')?;
                rest.split_whitespace().next().map(|state| state != "Z")
            })
            .unwrap_or(false);
        if !running {
            return Some(at.elapsed());
        }
        if at.elapsed() > AFTER_SIGNAL {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One WebSocket client: connects with `token`, says when it is caught up, then reports
/// the close code it gets (or none) and when.
async fn ws_client(
    url: String,
    token: String,
    ready: mpsc::UnboundedSender<Result<(), String>>,
    closes: mpsc::UnboundedSender<(Option<u16>, Instant)>,
) {
    let connected = async {
        let mut request = url.into_client_request()?;
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        );
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok::<_, anyhow::Error>(ws)
    };
    let mut ws = match connected.await {
        Ok(ws) => ws,
        Err(err) => {
            let _ = ready.send(Err(format!("{err:#}")));
            return;
        }
    };
    let mut ready = Some(ready);
    let mut code = None;
    while let Some(frame) = ws.next().await {
        match frame {
            Ok(Message::Text(text)) if text.contains(r#""type":"caughtUp""#) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Ok(()));
                }
            }
            Ok(Message::Close(close)) => {
                code = close.map(|c| u16::from(c.code));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let at = Instant::now();
    if let Some(ready) = ready.take() {
        let _ = ready.send(Err("closed before catching up".into()));
    }
    let _ = closes.send((code, at));
}

/// One HTTP client (its own keep-alive connection) looping three kinds of request until
/// the server is gone after the signal, or `stop`.
async fn http_client(
    i: usize,
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
    signalled: Arc<std::sync::OnceLock<Instant>>,
) -> Vec<Record> {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
    else {
        return Vec::new();
    };
    let paths = [
        "/api/v1/courses?limit=10",
        "/api/v1/auth/me",
        "/api/v1/notifications?limit=10",
        "/api/v1/openapi.json",
    ];
    let mut records = Vec::new();
    let mut n = i;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let path = paths[n % paths.len()];
        let started = Instant::now();
        let mut detail = String::new();
        let outcome = match http
            .get(format!("{url}{path}"))
            .bearer_auth(&token)
            .send()
            .await
        {
            Ok(answer) => {
                let status = answer.status();
                match answer.bytes().await {
                    Ok(_) if status.is_success() => Outcome::Ok,
                    Ok(_) => Outcome::Status(status.as_u16()),
                    Err(err) => {
                        detail = format!("{status}, then the body broke: {err:?}");
                        Outcome::Cut
                    }
                }
            }
            Err(err) if err.is_connect() => Outcome::Refused,
            Err(err) => {
                detail = format!("{err:?}");
                Outcome::Unanswered
            }
        };
        if outcome != Outcome::Ok {
            detail = format!(
                "GET {path} after {} ms: {detail}",
                started.elapsed().as_millis()
            );
        }
        records.push(Record {
            started,
            outcome,
            detail,
        });
        // Once the server has been told to stop, the first refusal means it is gone.
        if outcome == Outcome::Refused && signalled.get().is_some() {
            break;
        }
        if outcome == Outcome::Refused {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    records
}
