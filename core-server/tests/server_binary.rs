//! The real `edupro-server` binary as an operator meets it: how it refuses bad settings,
//! what it logs when it starts, and how it stops on SIGTERM and SIGINT.
//!
//! Each test runs the binary in a clean environment (no inherited `EDUPRO_*` variables,
//! `NO_COLOR=1`) with a data dir of its own, and waits on what the process says on
//! stderr, never on fixed sleeps. A guard kills the process if a test fails.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[path = "support/smtp_sink.rs"]
mod smtp_sink;

const SERVER: &str = env!("CARGO_BIN_EXE_edupro-server");
/// Generous: a debug build on a loaded CI machine, with migrations to run.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// A refusal or a graceful stop must come well within this.
const EXIT_TIMEOUT: Duration = Duration::from_secs(15);
/// The part of the startup log line that carries the bound address.
const LISTENING: &str = "listening on http://";

/// `edupro-server --data-dir DIR` with nothing inherited that could change its settings.
fn server_command(data_dir: &Path) -> Command {
    let mut command = Command::new(SERVER);
    // Every setting the server knows, and anything else of ours the parent may have set.
    for known in [
        "EDUPRO_CONFIG",
        "EDUPRO_DATA_DIR",
        "EDUPRO_BIND",
        "EDUPRO_DATABASE_URL",
        "EDUPRO_DB_MAX_CONNECTIONS",
        "EDUPRO_ENV",
        "EDUPRO_JWT_SECRET",
        "EDUPRO_LOG_FORMAT",
        "EDUPRO_LOG",
        "EDUPRO_CORS_ORIGINS",
        "EDUPRO_BODY_LIMIT",
        "EDUPRO_SHUTDOWN_TIMEOUT",
        "EDUPRO_WORKERS",
    ] {
        command.env_remove(known);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("EDUPRO_") {
            command.env_remove(&key);
        }
    }
    command
        .env("NO_COLOR", "1")
        // A panic would print a backtrace: the tests check none ever shows.
        .env("RUST_BACKTRACE", "1")
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// What a finished process left behind.
struct Exited {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    /// From start to the end of its stderr.
    elapsed: Duration,
}

impl Exited {
    fn assert_no_panic(&self) {
        for text in [&self.stderr, &self.stdout] {
            assert!(
                !text.contains("panicked") && !text.contains("backtrace"),
                "the server panicked or printed a backtrace:\n{text}"
            );
        }
    }
}

/// A running `edupro-server`, killed on drop unless it has already exited.
struct Running {
    child: Child,
    started: Instant,
    stderr: Receiver<String>,
    stdout: Option<JoinHandle<String>>,
    /// Every stderr line read so far.
    lines: Vec<String>,
}

impl Running {
    fn spawn(mut command: Command) -> Self {
        let started = Instant::now();
        let mut child = command.spawn().expect("edupro-server can be spawned");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        Self {
            child,
            started,
            stderr: rx,
            stdout: Some(stdout),
            lines: Vec::new(),
        }
    }

    fn said(&self) -> String {
        self.lines.join("\n")
    }

    /// Reads stderr until a line satisfies `wanted` and returns it.
    fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    let found = wanted(&line);
                    self.lines.push(line.clone());
                    if found {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no {what} within {START_TIMEOUT:?}; stderr so far:\n{}",
                    self.said()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    panic!(
                        "the server exited ({status:?}) before logging {what}; stderr:\n{}",
                        self.said()
                    )
                }
            }
        }
    }

    /// Reads stderr to its end (the process closes it on exit), then reaps the process.
    fn wait_for_exit(&mut self) -> Exited {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        loop {
            match self
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.lines.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "the server was still running after {EXIT_TIMEOUT:?}; stderr so far:\n{}",
                    self.said()
                ),
            }
        }
        let elapsed = self.started.elapsed();
        let status = self.child.wait().expect("the server can be reaped");
        let stdout = self
            .stdout
            .take()
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default();
        Exited {
            status,
            stdout,
            stderr: self.said(),
            elapsed,
        }
    }

    /// Sends `signal` (`TERM`, `INT`) with kill(1): the workspace forbids unsafe code.
    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "kill -{signal} failed: {sent}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the binary to its end; it must exit within [`EXIT_TIMEOUT`].
fn run_to_exit(command: Command) -> Exited {
    Running::spawn(command).wait_for_exit()
}

/// A data dir inside a fresh temp dir, not created yet: the server must make it.
fn fresh_data_dir() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("temp dir");
    let data_dir = root.path().join("data");
    (root, data_dir)
}

/// The address from the startup line `… listening on http://ADDR …`.
fn listening_address(line: &str) -> SocketAddr {
    let start = line.find(LISTENING).expect("line names the address") + LISTENING.len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == ')')
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|e| panic!("`{}` in `{line}` is not an address: {e}", &rest[..end]))
}

/// Starts the binary on 127.0.0.1:0 with `extra` flags and waits for its listening line.
fn start(data_dir: &Path, extra: &[&str]) -> (Running, SocketAddr, String) {
    let mut command = server_command(data_dir);
    command.args(["--bind", "127.0.0.1:0"]).args(extra);
    let mut server = Running::spawn(command);
    let line = server.wait_for_line("its listening line", |line| line.contains(LISTENING));
    let address = listening_address(&line);
    (server, address, line)
}

async fn get_health(address: SocketAddr) -> (u16, serde_json::Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::new()
        .get(format!("http://{address}/health"))
        .send()
        .await
        .expect("GET /health is answered");
    let status = response.status().as_u16();
    let body = response.json().await.expect("/health answers JSON");
    (status, body)
}

#[test]
fn a_bad_log_format_flag_exits_2_naming_the_flag_and_the_accepted_values() {
    let (_root, data_dir) = fresh_data_dir();
    let mut command = server_command(&data_dir);
    command.args(["--log-format", "xml"]);
    let out = run_to_exit(command);
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    for expected in ["--log-format", "xml", "text", "json"] {
        assert!(
            out.stderr.contains(expected),
            "no `{expected}` in:\n{}",
            out.stderr
        );
    }
    out.assert_no_panic();
    assert!(
        !data_dir.exists(),
        "a refused start must not create the data dir"
    );
}

#[test]
fn a_bad_address_in_edupro_bind_exits_2_naming_the_bind_flag() {
    let (_root, data_dir) = fresh_data_dir();
    let mut command = server_command(&data_dir);
    command.env("EDUPRO_BIND", "not-an-address");
    let out = run_to_exit(command);
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("--bind") && out.stderr.contains("not-an-address"),
        "{}",
        out.stderr
    );
    out.assert_no_panic();
}

#[test]
fn an_unknown_key_in_the_config_file_stops_the_server_and_names_the_key() {
    let (root, data_dir) = fresh_data_dir();
    let config = root.path().join("edupro.toml");
    std::fs::write(&config, "bnid = \"127.0.0.1:7000\"\n").expect("config written");
    let mut command = server_command(&data_dir);
    command.arg("--config").arg(&config);
    let out = run_to_exit(command);
    assert!(!out.status.success(), "{}", out.stderr);
    assert!(out.stderr.contains("bnid"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&config.display().to_string()),
        "the error names the file: {}",
        out.stderr
    );
    out.assert_no_panic();
}

#[test]
fn a_bad_value_in_the_config_file_stops_the_server_and_names_the_key() {
    let (root, data_dir) = fresh_data_dir();
    let config = root.path().join("edupro.toml");
    std::fs::write(&config, "log_format = \"xml\"\n").expect("config written");
    let mut command = server_command(&data_dir);
    command.arg("--config").arg(&config);
    let out = run_to_exit(command);
    assert!(!out.status.success(), "{}", out.stderr);
    for expected in ["log_format", "xml", "text", "json"] {
        assert!(
            out.stderr.contains(expected),
            "no `{expected}` in:\n{}",
            out.stderr
        );
    }
    out.assert_no_panic();
}

#[test]
fn production_without_a_jwt_secret_refuses_to_start_and_names_the_variable() {
    let (_root, data_dir) = fresh_data_dir();
    let mut command = server_command(&data_dir);
    command.env("EDUPRO_ENV", "production");
    let out = run_to_exit(command);
    assert!(!out.status.success(), "{}", out.stderr);
    assert!(out.stderr.contains("EDUPRO_JWT_SECRET"), "{}", out.stderr);
    out.assert_no_panic();
    assert!(
        !data_dir.join("jwt-secret").exists(),
        "production must never fall back to a generated secret"
    );
}

#[test]
fn an_unreachable_postgresql_stops_the_server_quickly_without_showing_the_password() {
    let (_root, data_dir) = fresh_data_dir();
    let mut command = server_command(&data_dir);
    // Nothing listens on port 1.
    command
        .env(
            "EDUPRO_DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:1/edupro",
        )
        .args(["--bind", "127.0.0.1:0"]);
    let out = run_to_exit(command);
    eprintln!(
        "edupro-server gave up on an unreachable PostgreSQL after {:.2} s",
        out.elapsed.as_secs_f64()
    );
    assert!(!out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot connect to PostgreSQL"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("app:***@127.0.0.1:1"),
        "the error names the database, password masked: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"),
        "the password leaked:\n{}\n{}",
        out.stderr,
        out.stdout
    );
    out.assert_no_panic();
}

/// Starts with defaults, checks what it created, logged and serves, stops it with
/// `signal` and checks it stopped gracefully.
async fn starts_serves_and_stops_on(signal: &str) {
    let (_root, data_dir) = fresh_data_dir();
    let (mut server, address, listening) = start(&data_dir, &[]);
    assert_ne!(address.port(), 0);

    let database = format!("sqlite:{}", data_dir.join("edupro.db").display());
    assert!(listening.contains(&database), "{listening}");
    assert!(data_dir.join("edupro.db").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&data_dir.join("jwt-secret")), 0o600);
        // The database holds password hashes and, in development, mailed codes.
        for file in ["edupro.db", "edupro.db-wal", "edupro.db-shm"] {
            assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
        }
        assert_eq!(mode(&data_dir), 0o700, "a new data dir is private");
    }

    let (status, body) = get_health(address).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "OK");
    assert_eq!(body["services"]["database"], "connected");
    assert_eq!(body["services"]["databaseBackend"], "sqlite");

    server.signal(signal);
    let out = server.wait_for_exit();
    assert_eq!(
        out.status.code(),
        Some(0),
        "SIG{signal} must stop the server cleanly:\n{}",
        out.stderr
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    let announcing = lines
        .iter()
        .filter(|l| l.contains(&address.to_string()) && l.contains(&database))
        .count();
    assert_eq!(
        announcing, 1,
        "exactly one line names both address and database:\n{}",
        out.stderr
    );
    assert!(
        lines.iter().any(|l| l.contains(&format!("SIG{signal}"))),
        "the signal is logged:\n{}",
        out.stderr
    );
    assert!(
        lines.last().is_some_and(|l| l.contains("stopped")),
        "the last line says it stopped:\n{}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "logs go to stderr only: {}",
        out.stdout
    );
    out.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_flags_it_starts_on_sqlite_serves_health_and_stops_gracefully_on_sigterm() {
    starts_serves_and_stops_on("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_the_server_as_gracefully_as_sigterm() {
    starts_serves_and_stops_on("INT").await;
}

/// On the suite's database (PostgreSQL when `EDUPRO_TEST_DATABASE_URL` is set, where
/// the fan-out listener holds a connection for as long as it runs), with a WebSocket
/// open: SIGTERM closes the socket, stops the background loops and exits 0. Before,
/// on PostgreSQL the pool's close waited forever for the listener's connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_with_its_background_work_on_the_suites_database() {
    use futures_util::StreamExt;
    let (_root, data_dir) = fresh_data_dir();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => Some(fresh_pg_database(&admin).await),
        _ => None,
    };
    let mut extra = vec![];
    if let Some(url) = &database_url {
        extra.extend(["--database-url", url.as_str()]);
    }
    let (mut server, address, listening) = start(&data_dir, &extra);
    let backend = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let (status, body) = get_health(address).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["services"]["databaseBackend"], backend, "{listening}");

    let base = format!("http://{address}/api/v1");
    let http = reqwest::Client::new();
    let registered: serde_json::Value = http
        .post(format!("{base}/auth/register"))
        .json(
            &serde_json::json!({ "email": "ada@school.test", "password": "Corr3ct-Horse!",
                                   "firstName": "Ada", "lastName": "Lovelace", "role": "STUDENT" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["data"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut upgrade =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{address}/api/v1/ws"
        ))
        .unwrap();
    upgrade
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(upgrade).await.unwrap();

    server.signal("TERM");
    // The socket is told the server is going away (1012) rather than cut.
    let closed = tokio::time::timeout(EXIT_TIMEOUT, async {
        while let Some(frame) = socket.next().await {
            if let Ok(tokio_tungstenite::tungstenite::Message::Close(close)) = frame {
                return close.map(|c| u16::from(c.code));
            }
        }
        None
    })
    .await
    .expect("the WebSocket is closed at shutdown");
    assert_eq!(closed, Some(1012));
    let out = server.wait_for_exit();
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert!(
        !out.stderr.contains("still busy at shutdown"),
        "every connection came back to the pool:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .lines()
            .last()
            .is_some_and(|l| l.contains("stopped")),
        "the last line says it stopped:\n{}",
        out.stderr
    );
    out.assert_no_panic();
}

/// A new, empty database on the PostgreSQL server of `admin_url`.
async fn fresh_pg_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("edupro_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("EDUPRO_TEST_DATABASE_URL accepts connections");
    sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut conn)
        .await
        .expect("the test database can be created");
    let mut url = url::Url::parse(admin_url).expect("EDUPRO_TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    url.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_and_the_listening_line_has_address_and_database() {
    let (_root, data_dir) = fresh_data_dir();
    let (mut server, address, _) = start(&data_dir, &["--log-format", "json"]);
    let (status, _) = get_health(address).await;
    assert_eq!(status, 200);
    server.signal("TERM");
    let out = server.wait_for_exit();
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);

    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"));
            assert!(event.is_object(), "not an object: {line}");
            event
        })
        .collect();
    let listening: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.get("address").is_some())
        .collect();
    assert_eq!(listening.len(), 1, "{}", out.stderr);
    let listening = listening[0];
    assert_eq!(listening["address"], address.to_string());
    assert_eq!(
        listening["database"],
        format!("sqlite:{}", data_dir.join("edupro.db").display())
    );
    assert_eq!(listening["level"], "INFO");
    assert!(
        events
            .last()
            .and_then(|e| e["message"].as_str())
            .is_some_and(|m| m.contains("stopped")),
        "{}",
        out.stderr
    );
}

/// A request whose body is still arriving when SIGTERM comes in must be answered in
/// full before the process exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_sigterm_is_answered_before_the_server_exits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (_root, data_dir) = fresh_data_dir();
    let (mut server, address, _) = start(&data_dir, &[]);
    let body = serde_json::json!({
        "email": "inflight@school.test", "password": "Corr3ct-Horse!",
        "firstName": "In", "lastName": "Flight",
    })
    .to_string();
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    // `Expect: 100-continue` makes the server say when the handler starts reading the
    // body: from then on the request is in flight, whatever the machine's load.
    let request = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send head");
    let mut interim = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&interim).contains("\r\n\r\n") {
        let n = stream.read(&mut buf).await.expect("read 100 Continue");
        assert!(n > 0, "connection closed before 100 Continue");
        interim.extend_from_slice(&buf[..n]);
    }
    let interim = String::from_utf8_lossy(&interim).into_owned();
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");

    server.signal("TERM");
    server.wait_for_line("the SIGTERM log line", |l| l.contains("SIGTERM received"));
    stream
        .write_all(body.as_bytes())
        .await
        .expect("send the body");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("read answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("inflight@school.test"), "{answer}");

    let out = server.wait_for_exit();
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    out.assert_no_panic();
}

/// Runs `edupro-server --data-dir DIR create-admin ARGS` with `stdin`.
fn create_admin(data_dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut command = server_command(data_dir);
    command
        .arg("create-admin")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("create-admin runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("password written");
    child.wait_with_output().expect("create-admin finishes")
}

#[test]
fn create_admin_makes_the_first_admin_and_prints_the_2fa_secret_once() {
    let (_root, data_dir) = fresh_data_dir();
    let made = create_admin(
        &data_dir,
        &["--email", "Head@School.test", "--password-stdin"],
        "Corr3ct-Horse!\n",
    );
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(
        stdout.contains("Created admin head@school.test"),
        "{stdout}"
    );
    assert!(
        stdout.contains("secret: ") && stdout.contains("otpauth://totp/"),
        "{stdout}"
    );
    let recovery = stdout
        .lines()
        .filter(|l| l.trim().len() == 14 && l.trim().matches('-').count() == 2)
        .count();
    assert_eq!(recovery, 10, "ten recovery codes: {stdout}");

    let again = create_admin(
        &data_dir,
        &["--email", "head@school.test", "--password-stdin"],
        "Corr3ct-Horse!\n",
    );
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&again.stdout).contains("secret:"),
        "no second secret"
    );
}

#[test]
fn create_admin_refuses_a_weak_password_and_names_the_rule() {
    let (_root, data_dir) = fresh_data_dir();
    let weak = create_admin(
        &data_dir,
        &["--email", "head@school.test", "--password-stdin"],
        "password\n",
    );
    assert_eq!(weak.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("password: must contain"), "{stderr}");
    assert!(
        stderr.contains("uppercase") && stderr.contains("digit"),
        "{stderr}"
    );
    let bad_email = create_admin(
        &data_dir,
        &["--email", "head", "--password-stdin"],
        "Corr3ct-Horse!\n",
    );
    assert!(String::from_utf8_lossy(&bad_email.stderr).contains("--email"));
}

/// An admin's access token on the server at `base`: `create-admin` on the same database,
/// then the password and a TOTP code.
async fn admin_token(data_dir: &Path, database_url: Option<&str>, base: &str) -> String {
    use std::io::Write;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut command = server_command(data_dir);
    if let Some(url) = database_url {
        command.env("EDUPRO_DATABASE_URL", url);
    }
    command
        .args([
            "create-admin",
            "--email",
            "head@school.test",
            "--password-stdin",
        ])
        .stdin(Stdio::piped());
    let mut child = command.spawn().expect("create-admin runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(b"Corr3ct-Horse!\n")
        .expect("password written");
    let made = child.wait_with_output().expect("create-admin finishes");
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(made.status.success(), "{stdout}");
    let secret = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret: "))
        .expect("the 2FA secret is printed")
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    let challenge: serde_json::Value = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({ "email": "head@school.test", "password": "Corr3ct-Horse!" }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON answer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let code = edupro_server::service::auth::totp::code_at(
        &secret,
        edupro_server::service::auth::totp::step_of(now),
    )
    .expect("a valid secret");
    let verified: serde_json::Value = http
        .post(format!("{base}/auth/2fa/verify"))
        .json(&serde_json::json!({
            "challengeToken": challenge["data"]["challengeToken"], "code": code
        }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON answer");
    verified["data"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("signed in: {verified}"))
        .to_owned()
}

/// Polls `GET url` with `token` until `done` holds for the answer's `data`.
async fn poll(
    url: &str,
    token: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(answer) = http.get(url).bearer_auth(token).send().await
            && let Ok(body) = answer.json::<serde_json::Value>().await
            && done(&body["data"])
        {
            return body["data"].clone();
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_is_marked_interrupted_with_what_it_wrote_and_can_be_reverted() {
    use tokio::io::AsyncWriteExt;
    let (_root, data_dir) = fresh_data_dir();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => Some(fresh_pg_database(&admin).await),
        _ => None,
    };
    let mut extra = vec!["--import-lease", "2"];
    if let Some(url) = &database_url {
        extra.extend(["--database-url", url.as_str()]);
    }
    let (mut server, address, _) = start(&data_dir, &extra);
    let base = format!("http://{address}/api/v1");
    let token = admin_token(&data_dir, database_url.as_deref(), &base).await;

    // An upload that sends three batches of ten users and then stalls, as a long file
    // would while the server is killed.
    let mut upload = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut rows = String::from("user_id,login_id,first_name,last_name,role,status\n");
    for i in 0..30 {
        rows.push_str(&format!(
            "crash-{i},crash-{i}@school.test,Row,Number{i},student,active\n"
        ));
    }
    let head = format!(
        "POST /api/v1/imports/users?mode=apply&batch=10 HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: text/csv\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{rows}\r\n",
        rows.len()
    );
    upload.write_all(head.as_bytes()).await.unwrap();
    let running = poll(
        &format!("{base}/imports"),
        &token,
        "the run to write its three batches",
        |data| data["imports"][0]["counts"]["create"] == 30,
    )
    .await;
    let id = running["imports"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(running["imports"][0]["status"], "RUNNING");

    server.signal("KILL");
    server.wait_for_exit();
    drop(upload);
    let (mut server, address, _) = start(&data_dir, &extra);
    let base = format!("http://{address}/api/v1");
    let run = poll(
        &format!("{base}/imports/{id}"),
        &token,
        "the restarted server to mark the run interrupted",
        |data| data["status"] != "RUNNING" && !data["status"].is_null(),
    )
    .await;
    assert_eq!(run["status"], "INTERRUPTED", "{run}");
    assert_eq!(run["counts"]["create"], 30, "{run}");
    assert_eq!(run["counts"]["total"], 30, "{run}");
    assert!(
        run["fileError"]
            .as_str()
            .is_some_and(|e| e.contains("server stopped")),
        "{run}"
    );

    // Every user the killed run committed has its invitation, exactly one each: the
    // codes and their mail were written in the batches' own transactions.
    let outbox = poll(
        &format!("{base}/admin/outbox?limit=100"),
        &token,
        "the outbox",
        |data| data["messages"].is_array(),
    )
    .await;
    let mut invited: Vec<&str> = outbox["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["subject"] == "Set your EduPro+ password")
        .filter_map(|m| m["recipient"].as_str())
        .collect();
    invited.sort_unstable();
    let mut expected: Vec<String> = (0..30).map(|i| format!("crash-{i}@school.test")).collect();
    expected.sort_unstable();
    assert_eq!(invited, expected, "{outbox}");

    let reverted: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/imports/{id}/revert"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reverted["data"]["deleted"], 30, "{reverted}");
    assert_eq!(reverted["data"]["run"]["status"], "REVERTED", "{reverted}");
    server.signal("TERM");
    server.wait_for_exit().assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_smtp_was_down_is_delivered_after_a_kill_and_restart() {
    let (_root, data_dir) = fresh_data_dir();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => Some(fresh_pg_database(&admin).await),
        _ => None,
    };
    // A port nothing listens on yet: the SMTP server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let mut extra = vec!["--smtp-url", smtp_url.as_str(), "--mail-retry-base", "1s"];
    if let Some(url) = &database_url {
        extra.extend(["--database-url", url.as_str()]);
    }
    let (mut server, address, _) = start(&data_dir, &extra);
    let base = format!("http://{address}/api/v1");
    let token = admin_token(&data_dir, database_url.as_deref(), &base).await;

    let csv = "user_id,login_id,first_name,last_name,role,status\n\
               down-1,down-1@school.test,Down,One,student,active\n\
               down-2,down-2@school.test,Down,Two,teacher,active\n";
    let imported = reqwest::Client::new()
        .post(format!("{base}/imports/users?mode=apply"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("the server answers")
        .text()
        .await
        .expect("an answer");
    assert!(imported.contains("\"create\":2"), "{imported}");
    // Both invitations were tried, and are waiting for a retry.
    let outbox = poll(
        &format!("{base}/admin/outbox"),
        &token,
        "both invitations to be tried once",
        |data| {
            data["messages"].as_array().is_some_and(|m| {
                m.len() == 2
                    && m.iter()
                        .all(|m| m["status"] == "PENDING" && m["attempts"].as_i64() >= Some(1))
            })
        },
    )
    .await;
    assert!(outbox["messages"][0]["lastError"].is_string(), "{outbox}");
    server.signal("KILL");
    server.wait_for_exit();

    // The SMTP server is back, and so is ours: the queued mail goes out.
    let sink = smtp_sink::SmtpSink::start_on(port, 0).await;
    let (mut server, address, _) = start(&data_dir, &extra);
    let base = format!("http://{address}/api/v1");
    let got = sink.wait_for(2, Duration::from_secs(30)).await;
    let mut to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["down-1@school.test", "down-2@school.test"]);
    poll(
        &format!("{base}/admin/outbox"),
        &token,
        "both invitations to be marked SENT",
        |data| {
            data["messages"]
                .as_array()
                .is_some_and(|m| m.len() == 2 && m.iter().all(|m| m["status"] == "SENT"))
        },
    )
    .await;
    // The mailed code sets the password.
    let (_, body) = got[0]
        .data
        .split_once("\n\n")
        .expect("headers, then a body");
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code in the mail");
    let reset = reqwest::Client::new()
        .post(format!("{base}/auth/reset-password"))
        .json(&serde_json::json!({
            "email": got[0].to, "otp": code, "newPassword": "Back-0n-L1ne!!"
        }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(
        reset.status(),
        200,
        "{}",
        reset.text().await.unwrap_or_default()
    );
    assert_eq!(sink.accepted().len(), 2, "each sent once");
    server.signal("TERM");
    server.wait_for_exit().assert_no_panic();
}

#[test]
fn create_admin_whose_reader_went_away_says_so_instead_of_panicking() {
    use std::io::Write;
    let (_root, data_dir) = fresh_data_dir();
    let mut command = server_command(&data_dir);
    command
        .arg("create-admin")
        .args(["--email", "piped@school.test", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("create-admin runs");
    // The reader closes before anything is written (`create-admin | true`).
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(b"Str0ng-Admin#pass\n")
        .expect("password written");
    let out = child.wait_with_output().expect("create-admin finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("standard output closed before its 2FA secret"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The value of `scheduled_job_runs_total{job="JOB"}` in `/metrics` (0 when absent).
async fn job_runs(address: SocketAddr, job: &str) -> u64 {
    let text = reqwest::get(format!("http://{address}/metrics"))
        .await
        .expect("GET /metrics is answered")
        .text()
        .await
        .expect("/metrics answers text");
    let series = format!("scheduled_job_runs_total{{job=\"{job}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

async fn scheduled_jobs(address: SocketAddr) -> String {
    let (status, body) = get_health(address).await;
    assert_eq!(status, 200, "{body}");
    body["services"]["scheduledJobs"]
        .as_str()
        .expect("/health says which instance runs the scheduled jobs")
        .to_owned()
}

/// Two processes on one PostgreSQL database, as behind a load balancer: the first to
/// start leads and runs the scheduled jobs, the other stands by and runs none; killed
/// with SIGKILL, the leader's session ends and the other takes the jobs over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_instances_on_one_postgresql_exactly_one_runs_the_scheduled_jobs() {
    let admin = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => admin,
        _ => {
            println!("skipped: two instances need PostgreSQL (EDUPRO_TEST_DATABASE_URL)");
            return;
        }
    };
    let url = fresh_pg_database(&admin).await;
    let flags = [
        "--database-url",
        url.as_str(),
        "--leader-interval",
        "200ms",
        "--rollup-interval",
        "100ms",
        "--notification-poll-interval",
        "100ms",
    ];
    let (_root_a, dir_a) = fresh_data_dir();
    let (_root_b, dir_b) = fresh_data_dir();
    let (mut first, at_a, _) = start(&dir_a, &flags);
    let (_second, at_b, _) = start(&dir_b, &flags);
    assert_eq!(scheduled_jobs(at_a).await, "leader");
    assert_eq!(scheduled_jobs(at_b).await, "standby");

    // Several roll-up and reminder intervals: the leader runs its passes, the standby
    // none of any job.
    let deadline = Instant::now() + Duration::from_secs(20);
    while job_runs(at_a, "rollup").await < 5 || job_runs(at_a, "reminders").await < 5 {
        assert!(Instant::now() < deadline, "the leader runs no passes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for job in ["rollup", "reminders", "deadline_sweep", "order_expiry"] {
        assert_eq!(job_runs(at_b, job).await, 0, "the standby ran {job}");
    }
    assert_eq!(scheduled_jobs(at_b).await, "standby");

    first.child.kill().expect("the leader can be killed");
    first.child.wait().expect("the leader is reaped");
    let killed = Instant::now();
    while scheduled_jobs(at_b).await != "leader" {
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "the standby did not take over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "took over {} ms after the kill",
        killed.elapsed().as_millis()
    );
    while job_runs(at_b, "rollup").await == 0 || job_runs(at_b, "reminders").await == 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the new leader runs no passes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
