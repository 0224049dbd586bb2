//! Request heads the server will not take are answered in the error envelope, naming
//! what was wrong, and their connection is closed: a client learns why, where actix
//! alone would send an empty 400, 431 or 408.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn connect(app: &TestApp) -> TcpStream {
    let host = app.address.trim_start_matches("http://");
    TcpStream::connect(host).await.expect("connects")
}

/// One answer's status, headers and body, read by its `content-length`.
async fn read_answer(stream: &mut TcpStream) -> (u16, String, serde_json::Value) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|n| n.trim().parse().ok())
                .expect("the answer has a content-length");
            if bytes.len() >= end + 4 + length {
                let status = head[9..12].parse().expect("a status");
                let body = serde_json::from_slice(&bytes[end + 4..end + 4 + length])
                    .unwrap_or_else(|e| panic!("the body is JSON ({e}): {text}"));
                return (status, head, body);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, stream.read(&mut chunk))
            .await
            .expect("an answer within 15 s")
            .expect("reads");
        assert!(
            n > 0,
            "closed before a whole answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Whether the server closes the connection (reads its end within 5 s).
async fn closes(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .is_ok_and(|r| r.is_ok())
}

async fn send_alone(app: &TestApp, request: &[u8]) -> (u16, String, serde_json::Value) {
    let mut stream = connect(app).await;
    stream.write_all(request).await.expect("sends");
    let answer = read_answer(&mut stream).await;
    assert!(answer.1.contains("connection: close"), "{}", answer.1);
    assert!(closes(&mut stream).await, "the connection is closed");
    answer
}

#[tokio::test]
async fn heads_too_long_too_many_or_malformed_get_the_envelope_naming_what_was_wrong() {
    let app = spawn_app().await;
    let query = "a".repeat(100 * 1024);

    // A 100 KiB query string: over the head bound before the request line ends.
    let (status, _, body) = send_alone(
        &app,
        format!("GET /api/v1/courses?search={query} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status, 414, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(body["errors"][0]["field"], "query", "{body}");

    // 20 KiB: a whole head, its target over the bound.
    let (status, _, body) = send_alone(
        &app,
        format!(
            "GET /api/v1/courses?search={} HTTP/1.1\r\nHost: x\r\n\r\n",
            &query[..20 * 1024]
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 414, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("20503 bytes") && m.contains("16384")),
        "{body}"
    );

    let fields = "X-Filler: 1\r\n".repeat(100);
    let (status, _, body) = send_alone(
        &app,
        format!("GET /api/v1/courses HTTP/1.1\r\nHost: x\r\n{fields}\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(body["errors"][0]["field"], "headers", "{body}");

    let (status, _, body) = send_alone(
        &app,
        format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {query}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status, 431, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("64 KiB")),
        "{body}"
    );

    let (status, _, body) = send_alone(&app, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "BAD_REQUEST");
}

/// On a kept-alive connection the guard follows each body (by length and chunked, with
/// an extension and a trailer) to the next head, so the requests after it are served
/// and a bad head later on is still answered in the envelope.
#[tokio::test]
async fn a_kept_alive_connection_is_followed_through_bodies_to_its_next_heads() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    let login = r#"{"email":"nobody@school.test","password":"Wrong-pass1!"}"#;
    stream
        .write_all(
            format!(
                "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{login}",
                login.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (status, _, body) = read_answer(&mut stream).await;
    assert_eq!(status, 401, "{body}");

    let (first, second) = login.split_at(10);
    stream
        .write_all(
            format!(
                "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\n{:x};note=1\r\n{first}\r\n{:x}\r\n{second}\r\n\
                 0\r\nX-Trailer: 1\r\n\r\n",
                first.len(),
                second.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (status, _, body) = read_answer(&mut stream).await;
    assert_eq!(status, 401, "the chunked body was read whole: {body}");

    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (status, _, body) = read_answer(&mut stream).await;
    assert_eq!(status, 200, "{body}");

    let long = "b".repeat(20 * 1024);
    stream
        .write_all(format!("GET /api/v1/courses?q={long} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (status, head, body) = read_answer(&mut stream).await;
    assert_eq!(status, 414, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(closes(&mut stream).await);
}

#[tokio::test]
async fn a_head_slower_than_the_head_timeout_gets_a_408_in_the_envelope() {
    let app = spawn_app_with(|args| args.head_timeout = Some(1)).await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream
        .write_all(b"GET /api/v1/courses HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (status, _, body) = read_answer(&mut stream).await;
    let waited = started.elapsed();
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["code"], "REQUEST_TIMEOUT");
    assert!(closes(&mut stream).await);
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "answered at the 1 s head timeout, not actix's: {waited:?}"
    );

    // A connection that sends nothing at all is answered the same way.
    let mut idle = connect(&app).await;
    let (status, _, _) = read_answer(&mut idle).await;
    assert_eq!(status, 408);
}
