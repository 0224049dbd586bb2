//! `spawn_app()`: the real server on port 0 against a fresh database, plus typed helpers.

use std::sync::Once;

use edupro_server::Application;
use edupro_server::config::ServerArgs;
use serde_json::Value;

/// Set to a PostgreSQL URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`) to run
/// the suite on PostgreSQL: each test gets its own database, dropped afterwards.
pub const TEST_DATABASE_URL: &str = "EDUPRO_TEST_DATABASE_URL";

/// A running server and what it needs to stay alive for the test.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: &'static str,
    _data_dir: tempfile::TempDir,
    _database: Option<PgTestDatabase>,
}

/// A JSON answer: status, headers and parsed body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

static INIT: Once = Once::new();

fn init_process() {
    INIT.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = edupro_server::telemetry::init(
                edupro_server::config::LogFormat::Text,
                "info,sqlx=warn",
            );
        }
    });
}

/// The real server, on port 0, with a database of its own.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed by `customize` first.
pub async fn spawn_app_with(customize: impl FnOnce(&mut ServerArgs)) -> TestApp {
    init_process();
    let database = match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => Some(PgTestDatabase::create(&url).await),
        _ => None,
    };
    let database_url = database.as_ref().map(|db| db.url.clone());
    spawn_app_on(database, database_url, customize).await
}

/// Like [`spawn_app_with`], on a test database made by the caller and reached at
/// `database_url`, which may differ from `database.url` (e.g. through a proxy). The
/// database lives, and is dropped, with the returned app.
pub async fn spawn_app_on(
    database: Option<PgTestDatabase>,
    database_url: Option<String>,
    customize: impl FnOnce(&mut ServerArgs),
) -> TestApp {
    init_process();
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut args = ServerArgs {
        data_dir: Some(data_dir.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse().expect("addr")),
        database_url,
        workers: Some(2),
        db_max_connections: Some(5),
        ..ServerArgs::default()
    };
    customize(&mut args);
    let settings = args.resolve().expect("settings resolve");
    let backend = settings.database.backend();
    let app = Application::build(settings).await.expect("server builds");
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        backend,
        _data_dir: data_dir,
        _database: database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends `request` and parses the answer's JSON body (`Null` when it has none).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "answer {status} is not JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path))).await
    }
}

/// A PostgreSQL database made for one test and dropped when the test ends.
pub struct PgTestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgTestDatabase {
    pub async fn create(admin_url: &str) -> Self {
        use sqlx::Connection;
        init_process();
        let name = format!("edupro_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL} is set but unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let mut url = url::Url::parse(admin_url).expect("admin url parses");
        url.set_path(&name);
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgTestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a thread with its own runtime can block.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                )))
                .execute(&mut conn)
                .await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
