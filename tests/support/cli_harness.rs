//! The harness of the CLI end-to-end tests: the real server in-process (port 0, SQLite
//! or `EDUPRO_TEST_DATABASE_URL`), and "terminals" that run the real `edupro` binary with
//! a config dir of their own.

// Each test binary uses part of the harness.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use edupro_server::Application;
use edupro_server::platform::config::ServerArgs;
use serde_json::{Value, json};

/// The password of every account the harness makes.
pub const PASSWORD: &str = "Corr3ct-Horse!";

pub struct Server {
    pub url: String,
    pub state: edupro_server::platform::state::AppState,
    /// The server's data dir (its SQLite database, its JWT secret).
    pub data: tempfile::TempDir,
    /// The PostgreSQL database it runs on, when not SQLite.
    pub database_url: Option<String>,
}

impl Server {
    /// The settings flags that point `edupro-server` (or `edupro server`) at this
    /// server's database: for its commands besides serving (`create-admin`).
    pub fn settings_args(&self) -> Vec<String> {
        let mut args = vec![
            "--data-dir".to_owned(),
            self.data.path().display().to_string(),
        ];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".to_owned(), url.clone()]);
        }
        args
    }
}

pub async fn spawn_server() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(fresh_pg_database(&url).await),
        _ => None,
    };
    let settings = ServerArgs {
        data_dir: Some(data.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse().unwrap()),
        database_url: database_url.clone(),
        workers: Some(2),
        rate_limit_per_ip: Some(10_000),
        rate_limit_per_account: Some(10_000),
        ..ServerArgs::default()
    }
    .resolve()
    .unwrap();
    let app = Application::build(settings).await.unwrap();
    let url = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    Server {
        url,
        state,
        data,
        database_url,
    }
}

/// A database of its own on the test PostgreSQL (left for the throwaway server to drop).
pub async fn fresh_pg_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("edupro_cli_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// One user's terminal: a config dir of their own.
pub struct Terminal {
    pub server: String,
    pub config: tempfile::TempDir,
}

impl Terminal {
    pub fn new(server: &Server) -> Self {
        Self {
            server: server.url.clone(),
            config: tempfile::tempdir().unwrap(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_edupro"));
        command
            .args(args)
            .env("EDUPRO_SERVER", &self.server)
            .env("XDG_CONFIG_HOME", self.config.path())
            .env("HOME", self.config.path())
            .env("EDUPRO_KEYRING", "file")
            .env("NO_COLOR", "1")
            .env_remove("EDUPRO_TOKEN")
            .env_remove("EDUPRO_PROFILE")
            // Times typed and shown in UTC unless a test passes --tz.
            .env("TZ", "UTC")
            .env_remove("EDUPRO_TZ")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `edupro ARGS` with `stdin`, off the async runtime.
    pub async fn run_with(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        for (k, v) in env {
            command.env(k, v);
        }
        let stdin = stdin.to_owned();
        let output = tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        Run::from(output)
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "", &[]).await
    }

    /// `edupro login` as `email` (no 2FA) with `password` piped in; it must succeed.
    pub async fn login(&self, email: &str, password: &str) {
        let login = self
            .run_with(
                &["login", "--email", email, "--password-stdin"],
                &format!("{password}\n"),
                &[],
            )
            .await;
        assert_eq!(login.code, 0, "login as {email}: {}", login.stderr);
    }

    pub fn credentials_file(&self) -> std::path::PathBuf {
        self.config
            .path()
            .join("edupro")
            .join("credentials-default.json")
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

pub async fn register(server: &Server, email: &str, role: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", server.url))
        .json(&json!({"email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace", "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
}

/// `POST /auth/login`'s answer for `email` and `password`.
async fn login_answer(url: &str, email: &str, password: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs in the account `email` (made by [`register`]) over HTTP: its access token and id.
pub async fn sign_in(url: &str, email: &str) -> (String, String) {
    let answer = login_answer(url, email, PASSWORD).await;
    (
        answer["data"]["accessToken"].as_str().unwrap().to_owned(),
        answer["data"]["user"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Signs in over HTTP (with the TOTP step when `secret` is given); the access token.
pub async fn access_token(url: &str, email: &str, password: &str, secret: Option<&str>) -> String {
    let login = login_answer(url, email, password).await;
    let session = match secret {
        None => login,
        Some(secret) => reqwest::Client::new()
            .post(format!("{url}/api/v1/auth/2fa/verify"))
            .json(&json!({
                "challengeToken": login["data"]["challengeToken"], "code": totp_now(secret)
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    };
    session["data"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no token for {email}: {session}"))
        .to_owned()
}

/// An admin as `create-admin` makes one; returns the TOTP secret.
pub async fn create_admin(server: &Server, email: &str) -> String {
    use edupro_server::domain::{Email, Password, PersonName};
    use edupro_server::service::accounts::{self, NewAccount};
    let (_, secret) = accounts::create(
        &server.state.db,
        NewAccount {
            email: Email::parse(email).unwrap(),
            password: Some(Password::parse(PASSWORD).unwrap()),
            first_name: PersonName::parse("Root").unwrap(),
            last_name: PersonName::parse("Admin").unwrap(),
            phone: None,
            role: edupro_server::api::Role::Admin,
            external_id: None,
        },
    )
    .await
    .unwrap();
    secret.unwrap()
}

pub fn totp_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    edupro_server::service::auth::totp::code_at(
        secret,
        edupro_server::service::auth::totp::step_of(now),
    )
    .unwrap()
}

pub async fn logged_in_admin(server: &Server) -> Terminal {
    create_admin_terminal(server, "root@school.test").await
}

pub async fn create_admin_terminal(server: &Server, email: &str) -> Terminal {
    let secret = create_admin(server, email).await;
    let term = Terminal::new(server);
    let code = totp_now(&secret);
    let login = term
        .run_with(
            &[
                "login",
                "--email",
                email,
                "--password-stdin",
                "--code",
                &code,
            ],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    term
}
