//! Database outages: the server reaches PostgreSQL through a TCP proxy the test can cut
//! and restore, and must report the outage (503) and recover by itself.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::helpers::{Answer, PgTestDatabase, TEST_DATABASE_URL, TestApp, spawn_app_on};

/// How long the server may take to notice PostgreSQL is back.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A TCP forwarder on a fixed local address; stopping it closes the listener and every
/// connection it carries, as a crashed database host or a network cut would.
struct Proxy {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on `address` (port 0 picks one) and forwards each connection to `upstream`.
    async fn start(address: SocketAddr, upstream: String) -> Self {
        let socket = TcpSocket::new_v4().expect("proxy socket");
        // Restarting on the same port must not trip over connections in TIME_WAIT.
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(address)
            .unwrap_or_else(|e| panic!("proxy cannot bind {address}: {e}"));
        let listener = socket.listen(128).expect("proxy listens");
        let address = listener.local_addr().expect("proxy address");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(forward(listener, upstream, stopped));
        Self {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Closes the listener and cuts every live connection; returns once all are closed.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("proxy task ends cleanly");
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn forward(listener: TcpListener, upstream: String, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { continue };
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// Polls `path` until it answers `status`, or panics at the deadline with the last answer.
async fn poll_until(app: &TestApp, path: &str, status: u16) -> (Answer, u32) {
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    let mut polls = 0;
    loop {
        polls += 1;
        let answer = app.get(path).await;
        if answer.status == status {
            return (answer, polls);
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {} after {RECOVERY_DEADLINE:?} ({polls} polls): {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[tokio::test]
async fn health_reports_a_lost_database_with_503_and_recovers_when_it_returns() {
    let admin_url = match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!("skipped: the database outage test needs PostgreSQL ({TEST_DATABASE_URL})");
            return;
        }
    };
    let database = PgTestDatabase::create(&admin_url).await;
    let mut url = url::Url::parse(&database.url).expect("test database url parses");
    let upstream = format!(
        "{}:{}",
        url.host_str().expect("database url has a host"),
        url.port().unwrap_or(5432)
    );
    let mut proxy = Proxy::start("127.0.0.1:0".parse().expect("addr"), upstream.clone()).await;
    url.set_host(Some("127.0.0.1")).expect("host set");
    url.set_port(Some(proxy.address.port())).expect("port set");
    let app = spawn_app_on(Some(database), Some(url.to_string()), |_| {}).await;

    let up = app.get("/health").await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["services"]["database"], "connected");

    proxy.stop().await;
    let down = app.get("/health").await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.body["status"], "ERROR");
    assert_eq!(down.body["services"]["database"], "disconnected");
    assert_eq!(down.body["services"]["databaseBackend"], "postgres");
    assert!(down.body["message"].is_string(), "{}", down.body);
    assert_eq!(down.header("cache-control"), Some("no-store"));
    let not_ready = app.get("/ready").await;
    assert_eq!(not_ready.status, 503, "{}", not_ready.body);
    assert_eq!(not_ready.body["ready"], false);
    assert!(not_ready.body["reason"].is_string(), "{}", not_ready.body);

    let _proxy = Proxy::start(proxy.address, upstream).await;
    let (back, polls) = poll_until(&app, "/health", 200).await;
    println!("/health answered 200 again after {polls} poll(s)");
    assert_eq!(back.body["status"], "OK");
    assert_eq!(back.body["services"]["database"], "connected");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["ready"], true);
}
