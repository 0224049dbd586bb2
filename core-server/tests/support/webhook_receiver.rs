//! A webhook receiver on 127.0.0.1:0 for tests and benchmarks: a small HTTP/1.1 server
//! that verifies each request's Standard Webhooks signature with the endpoint's secret
//! (independently of the server's code), records what came, and answers 200 — or 503
//! while told to fail.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    pub timestamp: i64,
    /// Whether `webhook-signature` matched the secret the receiver was given.
    pub signature_ok: bool,
    pub body: Value,
    /// Whether the receiver answered 2xx.
    pub accepted: bool,
    pub at: Instant,
    /// The same moment on the wall clock (to compare with the event's `createdAt`).
    pub received_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct State {
    secret: Option<String>,
    /// Answer 503 to the next this many requests.
    fail_next: usize,
    /// Answer 503 to every request.
    fail_all: bool,
    received: Vec<Received>,
}

/// A running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

/// Whether `signature` (`v1,<base64>`, possibly several separated by spaces) signs
/// `{id}.{timestamp}.{body}` with `secret` (`whsec_<base64 key>`).
pub fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Some(key) = secret
        .strip_prefix("whsec_")
        .and_then(|k| BASE64.decode(k.as_bytes()).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return false;
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", BASE64.encode(&mac.finalize().into_bytes()));
    signature.split(' ').any(|s| s == expected)
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Self { addr, state }
    }

    /// The URL endpoints are registered with.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_secret(&self, secret: &str) {
        self.lock().secret = Some(secret.to_owned());
    }

    pub fn fail_next(&self, n: usize) {
        self.lock().fail_next = n;
    }

    pub fn fail_all(&self, on: bool) {
        self.lock().fail_all = on;
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// How many requests came.
    pub fn count(&self) -> usize {
        self.lock().received.len()
    }

    /// Forgets what came.
    pub fn clear(&self) {
        self.lock().received.clear();
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.accepted).collect()
    }

    /// Waits until `done` holds for what came, or panics after `within`.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Received]) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver waited in vain; it got {received:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Serves one connection: requests until it closes (keep-alive).
async fn serve(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).await?;
            let header = header.trim_end().to_owned();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let length: usize = get("content-length").parse().unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let (id, timestamp, signature) = (
            get("webhook-id"),
            get("webhook-timestamp"),
            get("webhook-signature"),
        );
        let accepted = {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            let signature_ok = state
                .secret
                .as_deref()
                .is_some_and(|s| verify(s, &id, &timestamp, &body, &signature));
            let accepted = if state.fail_all {
                false
            } else if state.fail_next > 0 {
                state.fail_next -= 1;
                false
            } else {
                true
            };
            state.received.push(Received {
                id,
                timestamp: timestamp.parse().unwrap_or(0),
                signature_ok,
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                accepted,
                at: Instant::now(),
                received_at: chrono::Utc::now(),
            });
            accepted
        };
        let answer: &[u8] = if accepted {
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
        } else {
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\ndown"
        };
        write.write_all(answer).await?;
    }
}
