//! What the benchmarks share: an in-process server with a signed-in admin, and
//! throwaway PostgreSQL databases.

use edupro_server::Application;
use edupro_server::api::Role;
use edupro_server::domain::{Email, Password, PersonName};
use edupro_server::platform::config::ServerArgs;
use edupro_server::platform::state::AppState;
use edupro_server::service::accounts::{self, NewAccount};

/// A running server: its base URL, an admin's access token, its state, and the data
/// dir that lives as long as it does.
pub struct Server {
    pub base: String,
    pub token: String,
    #[allow(dead_code)]
    pub state: AppState,
    pub _dir: tempfile::TempDir,
}

/// Starts a server on SQLite in a temporary dir (or on `database_url`) with an admin.
#[allow(dead_code)]
pub async fn server(database_url: Option<String>) -> anyhow::Result<Server> {
    server_with(database_url, |_| {}).await
}

/// [`server`] with settings changed by `customize` first.
pub async fn server_with(
    database_url: Option<String>,
    customize: impl FnOnce(&mut ServerArgs),
) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let mut args = ServerArgs {
        data_dir: Some(dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse()?),
        database_url,
        log_level: Some("warn".into()),
        // Load comes from one address: thousands of sockets in ws_bench.
        connections_per_ip: Some(0),
        ..ServerArgs::default()
    };
    customize(&mut args);
    let settings = args.resolve()?;
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let (admin, _) = accounts::create(
        &state.db,
        NewAccount {
            email: Email::parse("bench-admin@school.test").map_err(anyhow::Error::msg)?,
            password: Some(Password::parse("Corr3ct-Horse!").map_err(anyhow::Error::msg)?),
            first_name: PersonName::parse("Bench").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("Admin").map_err(anyhow::Error::msg)?,
            phone: None,
            role: Role::Admin,
            external_id: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let session = accounts::start_session(
        &state,
        &admin,
        None,
        "127.0.0.1",
        accounts::SignIn::Password,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Server {
        base,
        token: session.access_token,
        state,
        _dir: dir,
    })
}

/// `server`, as (base URL, admin token, data dir).
#[allow(dead_code)]
pub async fn start(
    database_url: Option<String>,
) -> anyhow::Result<(String, String, tempfile::TempDir)> {
    let s = server(database_url).await?;
    Ok((s.base, s.token, s._dir))
}

/// Logs the server's warnings and errors to stderr; `RUST_LOG` for more (e.g.
/// `sqlx::query=debug` for every statement with its time).
#[allow(dead_code)]
pub fn logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// A passwordless account `<role><n>@bench.test` and, when `session`, an access token
/// (else an empty string).
#[allow(dead_code)]
pub async fn account(
    state: &AppState,
    role: Role,
    n: usize,
    session: bool,
) -> anyhow::Result<(uuid::Uuid, String)> {
    let (user, _) = accounts::create(
        &state.db,
        NewAccount {
            email: Email::parse(&format!("{}{n}@bench.test", role.as_str().to_lowercase()))
                .map_err(anyhow::Error::msg)?,
            password: None,
            first_name: PersonName::parse("Bench").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse(&format!("User{n}")).map_err(anyhow::Error::msg)?,
            phone: None,
            role,
            external_id: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !session {
        return Ok((user.id, String::new()));
    }
    let session =
        accounts::start_session(state, &user, None, "127.0.0.1", accounts::SignIn::Password)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((user.id, session.access_token))
}

/// A new, empty database on the PostgreSQL server of `admin_url`.
#[allow(dead_code)]
pub async fn fresh_pg_database(admin_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("edupro_bench_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut conn)
        .await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&name);
    Ok(url.to_string())
}

/// A published course of the teacher's with one lesson, made over HTTP as a teacher
/// would; its id.
#[allow(dead_code)]
pub async fn published_course(
    base: &str,
    teacher_token: &str,
    title: &str,
) -> anyhow::Result<uuid::Uuid> {
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        let request = http
            .post(format!("{base}/api/v1{path}"))
            .bearer_auth(teacher_token)
            .json(&body);
        async move {
            let answer: serde_json::Value = request.send().await?.json().await?;
            anyhow::ensure!(answer["success"] == true, "{answer}");
            Ok::<_, anyhow::Error>(answer["data"].clone())
        }
    };
    let course = post("/courses".into(), serde_json::json!({ "title": title })).await?;
    let course_id = course["id"].as_str().unwrap_or_default().to_owned();
    let section = post(
        format!("/courses/{course_id}/sections"),
        serde_json::json!({ "title": "Week 1" }),
    )
    .await?;
    post(
        format!(
            "/sections/{}/lessons",
            section["id"].as_str().unwrap_or_default()
        ),
        serde_json::json!({ "title": "Welcome", "type": "VIDEO", "duration": 1,
                "url": "https://video.school.test/v/1", "isPublished": true }),
    )
    .await?;
    post(
        format!("/courses/{course_id}/publish"),
        serde_json::json!({}),
    )
    .await?;
    Ok(course_id.parse()?)
}

/// The databases a benchmark runs on: SQLite (`None`), then a fresh PostgreSQL database
/// when `EDUPRO_DATABASE_URL` (or `PG_URL`, as `scripts/with-postgres.sh` sets) is a
/// postgres:// URL.
#[allow(dead_code)]
pub async fn databases() -> anyhow::Result<Vec<(&'static str, Option<String>)>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut databases = vec![("SQLite", None)];
    let pg = std::env::var("EDUPRO_DATABASE_URL")
        .ok()
        .or_else(|| std::env::var("PG_URL").ok())
        .filter(|u| u.starts_with("postgres"));
    if let Some(url) = pg {
        databases.push(("PostgreSQL", Some(fresh_pg_database(&url).await?)));
    }
    Ok(databases)
}

/// The `p` quantile (0–1) of sorted samples.
#[allow(dead_code)]
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `method path` with `body` as `token`; the answer's `data`, or an error naming the
/// path, the status and the body.
#[allow(dead_code)]
pub async fn call(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let answer = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await?;
    anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
    Ok(body["data"].clone())
}
