//! A small SMTP server on loopback for tests: it takes any number of connections and
//! messages, records each message it accepts (recipient and DATA), and can refuse the
//! first few with a transient `451`, as a busy mail server does. Shared by the API
//! suite and the binary's tests, which each use a part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub data: String,
}

/// A running sink; it stops with the test's runtime.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    accepted: Arc<Mutex<Vec<Received>>>,
    refused: Arc<AtomicUsize>,
}

impl SmtpSink {
    /// A sink on a free port that refuses the first `refuse` messages with 451.
    pub async fn start(refuse: usize) -> Self {
        Self::start_on(0, refuse).await
    }

    /// A sink on `port` (0: any free one).
    pub async fn start_on(port: u16, refuse: usize) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the sink binds");
        let port = listener.local_addr().expect("an address").port();
        let sink = Self {
            port,
            accepted: Arc::default(),
            refused: Arc::default(),
        };
        let to_refuse = Arc::new(AtomicUsize::new(refuse));
        let shared = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let sink = shared.clone();
                let to_refuse = to_refuse.clone();
                tokio::spawn(async move {
                    let _ = sink.serve(socket, &to_refuse).await;
                });
            }
        });
        sink
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far.
    pub fn accepted(&self) -> Vec<Received> {
        self.accepted.lock().expect("sink lock").clone()
    }

    /// How many messages were refused with 451.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Waits (up to `timeout`) until at least `n` messages were accepted; all so far.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= n {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "the sink got {} of {n} messages within {timeout:?}",
                accepted.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn serve(
        &self,
        socket: tokio::net::TcpStream,
        to_refuse: &AtomicUsize,
    ) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut data = String::new();
        let mut to = String::new();
        let mut in_data = false;
        while let Some(line) = lines.next_line().await? {
            if in_data {
                if line == "." {
                    in_data = false;
                    let refuse = to_refuse
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if refuse {
                        self.refused.fetch_add(1, Ordering::SeqCst);
                        write.write_all(b"451 4.3.0 try again later\r\n").await?;
                    } else {
                        self.accepted.lock().expect("sink lock").push(Received {
                            to: std::mem::take(&mut to),
                            data: std::mem::take(&mut data),
                        });
                        write.write_all(b"250 queued\r\n").await?;
                    }
                    data.clear();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            let verb = upper.split_whitespace().next().unwrap_or("").to_owned();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "RCPT" => {
                    to = line
                        .split_once('<')
                        .and_then(|(_, rest)| rest.split_once('>'))
                        .map(|(addr, _)| addr.to_owned())
                        .unwrap_or_default();
                    b"250 ok\r\n"
                }
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await?;
        }
        Ok(())
    }
}
