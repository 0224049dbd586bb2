//! `edupro import` end to end: the real binary against a spawned server (SQLite, or
//! PostgreSQL with EDUPRO_TEST_DATABASE_URL): plan, apply, re-run, revert, bad files.
//! The harness is tests/cli.rs's.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use edupro_server::Application;
use edupro_server::config::ServerArgs;
use serde_json::Value;

const PASSWORD: &str = "Corr3ct-Horse!";

struct Server {
    url: String,
    state: edupro_server::state::AppState,
    _data: tempfile::TempDir,
}

async fn spawn_server() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(fresh_pg_database(&url).await),
        _ => None,
    };
    let settings = ServerArgs {
        data_dir: Some(data.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse().unwrap()),
        database_url,
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
        _data: data,
    }
}

/// A database of its own on the test PostgreSQL (left for the throwaway server to drop).
async fn fresh_pg_database(admin_url: &str) -> String {
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
struct Terminal {
    server: String,
    config: tempfile::TempDir,
}

impl Terminal {
    fn new(server: &Server) -> Self {
        Self {
            server: server.url.clone(),
            config: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
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
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `edupro ARGS` with `stdin`, off the async runtime.
    async fn run_with(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
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

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "", &[]).await
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
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
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}
/// An admin as `create-admin` makes one; returns the TOTP secret.
async fn create_admin(server: &Server, email: &str) -> String {
    use edupro_server::accounts::{self, NewAccount};
    use edupro_server::domain::{Email, Password, PersonName};
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

fn totp_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    edupro_server::auth::totp::code_at(secret, edupro_server::auth::totp::step_of(now)).unwrap()
}

async fn logged_in_admin(server: &Server) -> Terminal {
    create_admin_terminal(server, "root@school.test").await
}

async fn create_admin_terminal(server: &Server, email: &str) -> Terminal {
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

const USERS: &str = "user_id,email,first_name,last_name,role,status\n\
u1,ann@cli.test,Ann,One,student,active\n\
u2,bob@cli.test,Bob,Two,teacher,active\n";

fn write_file(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_then_apply_then_a_rerun_that_changes_nothing_then_revert() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "users.csv", USERS.as_bytes());

    let plan = term.run(&["import", "users", &file, "--dry-run"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("line 2\tcreate\tu1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("line 3\tcreate\tu2"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("2 created"), "{}", plan.stdout);
    let listed = term
        .run(&["users", "list", "--search", "cli.test", "--json"])
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 0);

    let json_plan = term
        .run(&["import", "users", &file, "--dry-run", "--json"])
        .await;
    let lines: Vec<Value> = json_plan
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", json_plan.stdout);
    assert_eq!(lines[0]["outcome"], "create");
    assert_eq!(lines[2]["type"], "summary");

    let apply = term.run(&["import", "users", &file]).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(apply.stdout.contains("2 created"), "{}", apply.stdout);
    let listed = term
        .run(&["users", "list", "--search", "cli.test", "--json"])
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 2);

    let again = term.run(&["import", "users", &file]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("0 created, 0 updated, 2 unchanged"),
        "{}",
        again.stdout
    );

    let runs = term.run(&["import", "list", "--json"]).await;
    let runs = runs.json();
    assert_eq!(runs[0]["counts"]["unchanged"], 2);
    let applied = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["counts"]["create"] == 2 && r["mode"] == "apply")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revert = term.run(&["import", "revert", &applied]).await;
    assert_eq!(revert.code, 0, "{}", revert.stderr);
    assert!(revert.stdout.contains("deleted"), "{}", revert.stdout);
    let listed = term
        .run(&["users", "list", "--search", "cli.test", "--json"])
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 0);
    let twice = term.run(&["import", "revert", &applied]).await;
    assert_eq!(twice.code, 5, "{}", twice.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_rows_exit_6_with_their_lines_on_stderr_and_in_the_errors_file() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "users.csv",
        b"user_id,email,first_name,last_name\nok1,ok1@cli.test,Ok,One\nbad,bad@cli.test,Short\nbad2,not-an-email,Bad,Email\n",
    );
    let errors = dir.path().join("errors.csv");
    let run = term
        .run(&[
            "import",
            "courses",
            &file,
            "--errors",
            errors.to_str().unwrap(),
        ])
        .await;
    // A users file sent as courses: a bad header, refused before anything is written.
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown column `user_id`"),
        "{}",
        run.stderr
    );

    let run = term
        .run(&[
            "import",
            "users",
            &file,
            "--errors",
            errors.to_str().unwrap(),
        ])
        .await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stderr.contains("line 3: -: line: has 3 columns"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("line 4: -: email:"), "{}", run.stderr);
    let written = std::fs::read_to_string(&errors).unwrap();
    assert!(
        written.starts_with("line,key,field,message\n3,"),
        "{written}"
    );
    assert_eq!(written.lines().count(), 3, "{written}");
}
