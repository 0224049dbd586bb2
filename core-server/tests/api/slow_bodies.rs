//! Slow bodies: a request whose body does not arrive in time is answered 408 in the
//! envelope and its connection closed; an import upload may be slow but not stall.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_with};

async fn app_with_body_timeout(secs: u64) -> TestApp {
    spawn_app_with(|args| args.body_timeout = Some(secs)).await
}

async fn connect(app: &TestApp) -> TcpStream {
    let host = app.address.trim_start_matches("http://");
    TcpStream::connect(host).await.expect("connects")
}

/// Everything the server sends until it closes the connection (or 15 s pass).
async fn read_to_close(stream: &mut TcpStream) -> (String, bool) {
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut bytes))
        .await
        .is_ok();
    (String::from_utf8_lossy(&bytes).into_owned(), closed)
}

#[tokio::test]
async fn a_body_that_stops_short_is_a_408_and_the_connection_is_closed() {
    let app = app_with_body_timeout(1).await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let (answer, closed) = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
    assert!(closed, "the connection is closed after the 408");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered within the body timeout, not the OS's"
    );
}

#[tokio::test]
async fn a_body_trickling_past_its_deadline_is_a_408_too() {
    let app = app_with_body_timeout(1).await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n",
        )
        .await
        .unwrap();
    // A byte every 300 ms never pauses for the whole second, but the body as a whole
    // is late: its 100 bytes would take 30 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let started = Instant::now();
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), reader.read_to_end(&mut bytes))
        .await
        .is_ok();
    trickle.abort();
    let answer = String::from_utf8_lossy(&bytes);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
    assert!(closed, "the connection is closed after the 408");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_slow_import_upload_is_read_to_the_end_while_it_keeps_coming() {
    let app = app_with_body_timeout(1).await;
    let admin = app.admin().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/imports/users?mode=apply HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\nConnection: close\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        admin.access_token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut chunks = vec!["user_id,login_id,first_name,last_name,role,status\n".to_owned()];
    for i in 0..5 {
        chunks.push(format!(
            "slow-{i},slow-{i}@school.test,Slow,Row{i},student,active\n"
        ));
    }
    // Six chunks 400 ms apart: 2.4 s in all, more than the 1 s timeout, never a pause
    // of a whole second.
    for chunk in chunks {
        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        stream.write_all(framed.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let (answer, _) = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""create":5"#), "{answer}");
}

/// Sends a GET /health on a new connection; the answer up to the close.
async fn health_on_new_connection(app: &TestApp) -> String {
    let mut stream = connect(app).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request sent");
    read_to_close(&mut stream).await.0
}

#[tokio::test]
async fn connections_beyond_the_bound_per_address_are_answered_429_and_closed() {
    let app = spawn_app_with(|args| args.connections_per_ip = Some(3)).await;
    // Three connections held open, as a slow client would (the suite's own client may
    // hold one more).
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&app).await);
    }
    // The server counts a connection when a worker accepts it: ask until it has.
    let refused = until_answer_starts(&app, "HTTP/1.1 429").await;
    assert!(refused.contains(r#""code":"RATE_LIMITED""#), "{refused}");
    assert!(
        refused.to_lowercase().contains("connection: close"),
        "{refused}"
    );
    // Closing them gives the address its slots back (once the server sees the closes).
    drop(held);
    until_answer_starts(&app, "HTTP/1.1 200").await;
}

/// Asks GET /health on new connections until the answer starts with `status` (5 s).
async fn until_answer_starts(app: &TestApp, status: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = health_on_new_connection(app).await;
        if answer.starts_with(status) || Instant::now() > deadline {
            assert!(answer.starts_with(status), "{answer}");
            return answer;
        }
        tokio::task::yield_now().await;
    }
}
