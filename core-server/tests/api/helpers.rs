//! `spawn_app()`: the real server on port 0 against a fresh database, plus typed helpers.

use std::sync::{Arc, Once};

use edupro_server::Application;
use edupro_server::platform::config::ServerArgs;
use edupro_server::platform::state::AppState;
use serde_json::Value;

/// The OpenAPI document as the contract every answer must keep.
#[path = "contract.rs"]
pub mod contract;

use contract::Contract;

/// Set to a PostgreSQL URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`) to run
/// the suite on PostgreSQL: each test gets its own database, dropped afterwards.
pub const TEST_DATABASE_URL: &str = "EDUPRO_TEST_DATABASE_URL";

/// A running server and what it needs to stay alive for the test.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: &'static str,
    /// The server's own state (database, keys), for setting up what no endpoint makes.
    pub state: AppState,
    /// The server's OpenAPI document, which every answer through [`TestApp::send`] and
    /// [`TestApp::send_raw`] must satisfy.
    pub contract: Arc<Contract>,
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
            let _ = edupro_server::platform::telemetry::init(
                edupro_server::platform::config::LogFormat::Text,
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

/// Two servers on one fresh PostgreSQL database sharing a signing secret, as instances
/// behind one load balancer run; `None` (with a note naming `what`) without PostgreSQL.
pub async fn spawn_two_instances(what: &str) -> Option<(TestApp, TestApp)> {
    spawn_two_instances_with(what, |_| {}).await
}

/// Like [`spawn_two_instances`], both with settings changed by `customize`.
pub async fn spawn_two_instances_with(
    what: &str,
    customize: impl Fn(&mut ServerArgs),
) -> Option<(TestApp, TestApp)> {
    let admin_url = match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!("skipped: {what} needs PostgreSQL ({TEST_DATABASE_URL})");
            return None;
        }
    };
    let database = PgTestDatabase::create(&admin_url).await;
    let url = database.url.clone();
    let secret = || Some("two-instances-share-this-secret-of-32+bytes".to_owned());
    let a = spawn_app_on(Some(database), Some(url.clone()), |args| {
        customize(args);
        args.jwt_secret = secret();
    })
    .await;
    let b = spawn_app_on(None, Some(url), |args| {
        customize(args);
        args.jwt_secret = secret();
    })
    .await;
    Some((a, b))
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
        // Tests sign in often from one address; rate-limit tests lower these again.
        rate_limit_per_ip: Some(10_000),
        rate_limit_per_account: Some(10_000),
        // Realtime tests open hundreds of sockets from one address.
        connections_per_ip: Some(0),
        ..ServerArgs::default()
    };
    customize(&mut args);
    let settings = args.resolve().expect("settings resolve");
    let backend = settings.database.backend();
    let app = Application::build(settings).await.expect("server builds");
    let addr = app.local_addr();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let address = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Idle connections are dropped before the server's 5 s keep-alive closes them:
        // otherwise a request can race the close and fail as an incomplete message.
        .pool_idle_timeout(std::time::Duration::from_secs(3))
        .build()
        .expect("http client");
    let contract = contract::contract(&client, &address).await;
    TestApp {
        address,
        client,
        backend,
        state,
        contract,
        _data_dir: data_dir,
        _database: database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        contract::report_stats();
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends `request` and checks the answer against the OpenAPI document: its status,
    /// content type and body. The answer's parts.
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let (client, request) = request.build_split();
        let request = request.expect("request builds");
        let method = request.method().to_string();
        let path = request.url().path().to_owned();
        let request_type = request
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request_body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(<[u8]>::to_vec);
        let response = client.execute(request).await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read").to_vec();
        self.contract.assert(&contract::Exchange {
            method: &method,
            path: &path,
            request_type: request_type.as_deref(),
            request_body: request_body.as_deref(),
            status,
            content_type: headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            body: &bytes,
        });
        (status, headers, bytes)
    }

    /// Sends `request`, checks the answer against the OpenAPI document and hands it back
    /// whole, for answers that are not JSON (iCalendar, CSV, NDJSON, metrics).
    pub async fn send_raw(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let (status, headers, bytes) = self.exchange(request).await;
        let mut response = http::Response::new(bytes);
        *response.status_mut() = http::StatusCode::from_u16(status).expect("a status");
        *response.headers_mut() = headers;
        reqwest::Response::from(response)
    }

    /// Sends `request`, checks the answer against the OpenAPI document and parses its
    /// JSON body (`Null` when it has none).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let (status, headers, bytes) = self.exchange(request).await;
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

    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// `method path` with `Authorization: Bearer token` and an optional JSON body.
    pub async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Answer {
        self.call_as(token, reqwest::Method::GET, path, None).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.call_as(token, reqwest::Method::POST, path, Some(body))
            .await
    }

    pub async fn patch_as(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.call_as(token, reqwest::Method::PATCH, path, Some(body))
            .await
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> Answer {
        self.call_as(token, reqwest::Method::DELETE, path, None)
            .await
    }

    /// Registers and signs in a new user of `role` (STUDENT, TEACHER or PARENT) with a
    /// unique email and the password [`PASSWORD`].
    pub async fn register(&self, role: &str) -> TestUser {
        let email = format!(
            "{}-{}@school.test",
            role.to_lowercase(),
            uuid::Uuid::now_v7().simple()
        );
        let answer = self
            .post_json(
                "/api/v1/auth/register",
                &serde_json::json!({
                    "email": email, "password": PASSWORD,
                    "firstName": "Test", "lastName": role, "role": role,
                }),
            )
            .await;
        assert_eq!(answer.status, 201, "register {role}: {}", answer.body);
        TestUser::from_session(&answer.body["data"], PASSWORD, None)
    }

    /// Signs in with a password; the raw answer.
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    /// An admin made the way `edupro-server create-admin` makes one, signed in with 2FA.
    pub async fn admin(&self) -> TestUser {
        use edupro_server::domain::{Email, Password, PersonName};
        use edupro_server::service::accounts::{self, NewAccount};
        let email = format!("admin-{}@school.test", uuid::Uuid::now_v7().simple());
        let (user, secret) = accounts::create(
            &self.state.db,
            NewAccount {
                email: Email::parse(&email).expect("valid email"),
                password: Some(Password::parse(PASSWORD).expect("valid password")),
                first_name: PersonName::parse("Root").expect("valid name"),
                last_name: PersonName::parse("Admin").expect("valid name"),
                phone: None,
                role: edupro_server::api::Role::Admin,
                external_id: None,
            },
        )
        .await
        .expect("admin created");
        let secret = secret.expect("admins get a TOTP secret");
        let _ = user;
        let challenge = self.login(&email, PASSWORD).await;
        assert_eq!(
            challenge.body["data"]["mfaRequired"], true,
            "{}",
            challenge.body
        );
        let answer = self
            .post_json(
                "/api/v1/auth/2fa/verify",
                &serde_json::json!({
                    "challengeToken": challenge.body["data"]["challengeToken"],
                    "code": totp_now(&secret),
                }),
            )
            .await;
        assert_eq!(answer.status, 200, "2FA verify: {}", answer.body);
        TestUser::from_session(&answer.body["data"], PASSWORD, Some(secret))
    }

    /// The newest 6-digit code mailed to `email`, read from the dev outbox as `admin`.
    /// Waits (briefly, polling) for mail sent after the answer, as forgot-password does.
    pub async fn mailed_code(&self, admin_token: &str, email: &str) -> String {
        for _ in 0..100 {
            let answer = self
                .get_as(
                    admin_token,
                    &format!("/api/v1/admin/outbox?recipient={email}"),
                )
                .await;
            assert_eq!(answer.status, 200, "outbox: {}", answer.body);
            if let Some(body) = answer.body["data"]["messages"][0]["body"].as_str() {
                let code = body
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|word| word.len() == 6)
                    .expect("a 6-digit code in the mail");
                return code.to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no mail to {email} in the outbox");
    }
}

/// The password every test user gets.
pub const PASSWORD: &str = "Corr3ct-Horse!";

/// A signed-in test user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
    pub totp_secret: Option<String>,
}

impl TestUser {
    /// From an `AuthSession` (`{user, accessToken, refreshToken}`).
    pub fn from_session(data: &Value, password: &str, totp_secret: Option<String>) -> Self {
        Self {
            id: data["user"]["id"].as_str().expect("user id").to_owned(),
            email: data["user"]["email"].as_str().expect("email").to_owned(),
            password: password.to_owned(),
            access_token: data["accessToken"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh_token: data["refreshToken"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
            totp_secret,
        }
    }
}

/// The TOTP code of `secret` right now.
pub fn totp_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    edupro_server::service::auth::totp::code_at(
        secret,
        edupro_server::service::auth::totp::step_of(now),
    )
    .expect("valid secret")
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
