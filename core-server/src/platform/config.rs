//! Server settings from flags, `EDUPRO_*` environment variables and an optional TOML
//! file, in that order of precedence, resolved once at start into [`Settings`].

pub mod analytics;
pub mod mail;
pub mod payments;
pub mod realtime;
pub mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Where the server listens unless told otherwise: the original EduPro+ port.
pub const DEFAULT_BIND: &str = "127.0.0.1:5001";
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Bulk-import bodies (CSV, JSON lines) are streamed, so they may be far larger.
pub const DEFAULT_IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;
const JWT_SECRET_FILE: &str = "jwt-secret";
const MIN_JWT_SECRET_LEN: usize = 32;

/// Deployment environment. `production` refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Every server setting as a flag; each also reads its `EDUPRO_*` variable.
///
/// Values left unset fall back to the TOML file given by `--config`, then to defaults.
#[derive(Args, Clone, Default)]
pub struct ServerArgs {
    /// TOML file with any of the settings below (keys in snake_case, e.g. `data_dir`).
    #[arg(long, env = "EDUPRO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory for the SQLite database and generated secrets
    /// [default: the platform data dir, e.g. ~/.local/share/edupro].
    #[arg(long, env = "EDUPRO_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address and port to listen on; port 0 picks a free one [default: 127.0.0.1:5001].
    #[arg(long, env = "EDUPRO_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,

    /// Database URL: `postgres://user:pass@host/db` for PostgreSQL, or `sqlite://FILE`
    /// [default: edupro.db in the data dir].
    #[arg(
        long,
        env = "EDUPRO_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Most database connections to hold open [default: 10].
    #[arg(long, env = "EDUPRO_DB_MAX_CONNECTIONS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: Option<u32>,

    /// `development` or `production`; production requires EDUPRO_JWT_SECRET [default: development].
    #[arg(long = "env", env = "EDUPRO_ENV", value_name = "ENV")]
    pub environment: Option<Environment>,

    /// Secret that signs access tokens, at least 32 bytes. Prefer the environment variable:
    /// command lines are visible to other users [default in development: generated once and
    /// kept in DATA_DIR/jwt-secret].
    #[arg(
        long,
        env = "EDUPRO_JWT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,

    /// Log format [default: text].
    #[arg(long, env = "EDUPRO_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Log filter in tracing's syntax, e.g. `info` or `edupro_server=debug,sqlx=warn`
    /// [default: info].
    #[arg(long, env = "EDUPRO_LOG", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Origins allowed by CORS, comma-separated, e.g. `https://app.school.example`
    /// [default: none].
    #[arg(
        long,
        env = "EDUPRO_CORS_ORIGINS",
        value_name = "ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Option<Vec<String>>,

    /// Largest request body accepted, e.g. `2MiB`, `512KiB` or bytes [default: 2MiB].
    #[arg(long, env = "EDUPRO_BODY_LIMIT", value_name = "SIZE", value_parser = parse_size)]
    pub body_limit: Option<usize>,

    /// Seconds a request body may take to arrive whole; an import upload may take
    /// longer but may not pause for longer than this [default: 20].
    #[arg(long, env = "EDUPRO_BODY_TIMEOUT", value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout: Option<u64>,

    /// Seconds a request head (request line and fields) may take to arrive; a slower
    /// one is answered 408 and its connection closed [default: 5].
    #[arg(long, env = "EDUPRO_HEAD_TIMEOUT", value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub head_timeout: Option<u64>,

    /// Largest bulk-import body (CSV or JSON lines, streamed) [default: 64MiB].
    #[arg(long, env = "EDUPRO_IMPORT_BODY_LIMIT", value_name = "SIZE", value_parser = parse_size)]
    pub import_body_limit: Option<usize>,

    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT [default: 30].
    #[arg(long, env = "EDUPRO_SHUTDOWN_TIMEOUT", value_name = "SECS")]
    pub shutdown_timeout: Option<u64>,

    /// Seconds after which an import whose server stopped heartbeating is marked
    /// INTERRUPTED by another (or the restarted) server [default: 30].
    #[arg(long, env = "EDUPRO_IMPORT_LEASE", value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub import_lease: Option<u64>,

    /// On PostgreSQL, how often an instance tries to become the one that runs the
    /// scheduled jobs (reminders, roll-ups, sweeps), and how often the leader checks
    /// that it still is, e.g. `5s` or `500ms` [default: 5s].
    #[arg(long, env = "EDUPRO_LEADER_INTERVAL", value_name = "DURATION")]
    pub leader_interval: Option<String>,

    /// Seconds a page of the public catalogue is kept in memory at most (changes drop
    /// it at once); 0 turns the cache off [default: 30].
    #[arg(long, env = "EDUPRO_CATALOGUE_CACHE", value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub catalogue_cache: Option<u64>,

    /// Open connections one client address may hold; requests on more are answered
    /// 429 and closed. Behind a load balancer all clients share its address: raise it
    /// or set 0 (no bound) [default: 256].
    #[arg(long, env = "EDUPRO_CONNECTIONS_PER_IP", value_name = "N")]
    pub connections_per_ip: Option<u32>,

    /// HTTP worker threads [default: one per CPU core].
    #[arg(long, env = "EDUPRO_WORKERS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=512))]
    pub workers: Option<u16>,

    /// SMTP server for outgoing mail, e.g. `smtps://user:pass@smtp.school.example`
    /// [default: none; mail is kept in the development outbox, GET /api/v1/admin/outbox].
    #[arg(
        long,
        env = "EDUPRO_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// Sender of outgoing mail [default: EduPro+ <no-reply@edupro.local>].
    #[arg(long, env = "EDUPRO_MAIL_FROM", value_name = "MAILBOX")]
    pub mail_from: Option<String>,

    /// Login, refresh, OTP and 2FA attempts allowed per minute from one IP address [default: 30].
    #[arg(long, env = "EDUPRO_RATE_LIMIT_PER_IP", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_per_ip: Option<u32>,

    /// Login, OTP and 2FA attempts allowed per 15 minutes on one account [default: 10].
    #[arg(long, env = "EDUPRO_RATE_LIMIT_PER_ACCOUNT", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_per_account: Option<u32>,

    /// WebSocket and notification settings.
    #[command(flatten)]
    pub realtime: realtime::RealtimeArgs,

    /// Mail queue settings.
    #[command(flatten)]
    pub mail: mail::MailArgs,

    /// Payment settings.
    #[command(flatten)]
    pub payments: payments::PaymentArgs,

    /// Outgoing webhook settings.
    #[command(flatten)]
    pub webhooks: webhooks::WebhookArgs,

    /// Activity and analytics settings.
    #[command(flatten)]
    pub analytics: analytics::AnalyticsArgs,
}

impl fmt::Debug for ServerArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerArgs")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("environment", &self.environment)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

/// The same settings as they may appear in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    bind: Option<SocketAddr>,
    database_url: Option<String>,
    db_max_connections: Option<u32>,
    environment: Option<Environment>,
    jwt_secret: Option<String>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
    cors_origins: Option<Vec<String>>,
    #[serde(default, deserialize_with = "deserialize_size")]
    body_limit: Option<usize>,
    #[serde(default, deserialize_with = "deserialize_size")]
    import_body_limit: Option<usize>,
    shutdown_timeout: Option<u64>,
    body_timeout: Option<u64>,
    head_timeout: Option<u64>,
    import_lease: Option<u64>,
    leader_interval: Option<String>,
    catalogue_cache: Option<u64>,
    connections_per_ip: Option<u32>,
    workers: Option<u16>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    rate_limit_per_ip: Option<u32>,
    rate_limit_per_account: Option<u32>,
    ws_queue_size: Option<usize>,
    #[serde(default, deserialize_with = "deserialize_size")]
    ws_queue_bytes: Option<usize>,
    ws_ping_interval: Option<String>,
    ws_pong_timeout: Option<String>,
    notification_poll_interval: Option<String>,
    notification_batch_rows: Option<usize>,
    mail_retry_base: Option<String>,
    mail_max_attempts: Option<u32>,
    mail_poll_interval: Option<String>,
    mail_lease: Option<String>,
    razorpay_key_id: Option<String>,
    razorpay_key_secret: Option<String>,
    razorpay_webhook_secret: Option<String>,
    razorpay_api_url: Option<String>,
    order_ttl: Option<String>,
    refund_window: Option<String>,
    webhook_retry_base: Option<String>,
    webhook_retry_window: Option<String>,
    webhook_disable_after: Option<u32>,
    webhook_poll_interval: Option<String>,
    webhook_timeout: Option<String>,
    activity_retention_days: Option<u32>,
    rollup_interval: Option<String>,
    at_risk_inactive_days: Option<u32>,
}

/// Which database to open.
#[derive(Clone)]
pub enum DatabaseSettings {
    /// A SQLite file (created when missing).
    Sqlite { path: PathBuf },
    /// A PostgreSQL URL; it may carry a password.
    Postgres { url: SecretString },
}

impl DatabaseSettings {
    /// Parses a database URL from the settings.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres {
                url: SecretString::from(url.to_owned()),
            })
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() || path == ":memory:" {
                bail!(
                    "database_url: `{url}` names no file; use sqlite://PATH (an in-memory database would vanish on restart)"
                );
            }
            Ok(Self::Sqlite {
                path: PathBuf::from(path),
            })
        } else {
            bail!(
                "database_url: unsupported scheme in `{}`; accepted: postgres://…, postgresql://… or sqlite://FILE",
                redact_url(url)
            )
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    /// A description safe for logs: the file, or the URL with its password masked.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite:{}", path.display()),
            Self::Postgres { url } => redact_url(url.expose_secret()),
        }
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Resolved settings the server runs with. `Debug` never shows secrets.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub database: DatabaseSettings,
    pub db_max_connections: u32,
    pub environment: Environment,
    pub jwt_secret: SecretString,
    pub log_format: LogFormat,
    pub log_level: String,
    pub cors_origins: Vec<String>,
    pub body_limit: usize,
    pub import_body_limit: usize,
    pub shutdown_timeout: Duration,
    /// How long a request body may take to arrive (an import's: between two chunks).
    pub body_timeout: Duration,
    /// How long a request head may take to arrive.
    pub head_timeout: Duration,
    /// How long an import run's owner may go without a heartbeat before the run counts
    /// as interrupted.
    pub import_lease: Duration,
    /// How often a standby instance tries to lead the scheduled jobs, and the leader
    /// checks its hold (PostgreSQL).
    pub leader_interval: Duration,
    /// How long a public catalogue page is kept at most; zero: not kept.
    pub catalogue_cache: Duration,
    /// Open connections per client address; 0: no bound.
    pub connections_per_ip: u32,
    pub workers: Option<usize>,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub rate_limit_per_ip: u32,
    pub rate_limit_per_account: u32,
    pub realtime: realtime::RealtimeSettings,
    pub mail: mail::MailSettings,
    pub payments: payments::PaymentSettings,
    pub webhooks: webhooks::WebhookSettings,
    pub analytics: analytics::AnalyticsSettings,
}

impl ServerArgs {
    /// Merges flags and environment (already in `self`, read by clap) over the TOML file
    /// and defaults, then fills in derived values: the data dir, the SQLite path and, in
    /// development only, a generated JWT secret kept in the data dir.
    pub fn resolve(&self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => read_config_file(path)?,
            None => FileSettings::default(),
        };
        let environment = self.environment.or(file.environment).unwrap_or_default();
        let data_dir = match self.data_dir.clone().or(file.data_dir) {
            Some(dir) => dir,
            None => default_data_dir()?,
        };
        let database = match self
            .database_url
            .as_deref()
            .or(file.database_url.as_deref())
        {
            Some(url) => DatabaseSettings::from_url(url)?,
            None => DatabaseSettings::Sqlite {
                path: data_dir.join("edupro.db"),
            },
        };
        let log_level = self
            .log_level
            .clone()
            .or(file.log_level)
            .unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .with_context(|| format!("log_level: `{log_level}` is not a valid tracing filter (e.g. `info`, `edupro_server=debug`)"))?;
        let cors_origins = self
            .cors_origins
            .clone()
            .or(file.cors_origins)
            .unwrap_or_default()
            .into_iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect::<Vec<_>>();
        for origin in &cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                bail!("cors_origins: `{origin}` is not an origin; write it as https://host[:port]");
            }
        }
        let jwt_secret = match self.jwt_secret.clone().or(file.jwt_secret) {
            Some(secret) if secret.len() < MIN_JWT_SECRET_LEN => bail!(
                "EDUPRO_JWT_SECRET is {} bytes long; use at least {MIN_JWT_SECRET_LEN} random bytes (e.g. `openssl rand -hex 32`)",
                secret.len()
            ),
            Some(secret) => SecretString::from(secret),
            None if environment == Environment::Production => bail!(
                "EDUPRO_JWT_SECRET is not set: production requires a JWT signing secret of at least {MIN_JWT_SECRET_LEN} bytes; set EDUPRO_JWT_SECRET (or jwt_secret in the config file)"
            ),
            None => load_or_create_jwt_secret(&data_dir)?,
        };
        Ok(Settings {
            bind: self
                .bind
                .or(file.bind)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5001))),
            database,
            db_max_connections: self
                .db_max_connections
                .or(file.db_max_connections)
                .unwrap_or(10),
            environment,
            jwt_secret,
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            log_level,
            cors_origins,
            body_limit: self
                .body_limit
                .or(file.body_limit)
                .unwrap_or(DEFAULT_BODY_LIMIT),
            import_body_limit: self
                .import_body_limit
                .or(file.import_body_limit)
                .unwrap_or(DEFAULT_IMPORT_BODY_LIMIT),
            shutdown_timeout: Duration::from_secs(
                self.shutdown_timeout
                    .or(file.shutdown_timeout)
                    .unwrap_or(30),
            ),
            body_timeout: Duration::from_secs(
                self.body_timeout
                    .or(file.body_timeout)
                    .unwrap_or(20)
                    .clamp(1, 3600),
            ),
            head_timeout: Duration::from_secs(
                self.head_timeout
                    .or(file.head_timeout)
                    .unwrap_or(5)
                    .clamp(1, 300),
            ),
            import_lease: Duration::from_secs(
                self.import_lease
                    .or(file.import_lease)
                    .unwrap_or(30)
                    .clamp(1, 86_400),
            ),
            leader_interval: match self
                .leader_interval
                .as_deref()
                .or(file.leader_interval.as_deref())
            {
                Some(text) => realtime::parse_duration(text)
                    .map_err(|e| anyhow::anyhow!("leader_interval: {e}"))?,
                None => Duration::from_secs(5),
            },
            catalogue_cache: Duration::from_secs(
                self.catalogue_cache
                    .or(file.catalogue_cache)
                    .unwrap_or(30)
                    .min(3600),
            ),
            connections_per_ip: self
                .connections_per_ip
                .or(file.connections_per_ip)
                .unwrap_or(256),
            workers: self.workers.or(file.workers).map(usize::from),
            smtp_url: self
                .smtp_url
                .clone()
                .or(file.smtp_url)
                .map(SecretString::from),
            mail_from: self
                .mail_from
                .clone()
                .or(file.mail_from)
                .unwrap_or_else(|| "EduPro+ <no-reply@edupro.local>".to_owned()),
            rate_limit_per_ip: self
                .rate_limit_per_ip
                .or(file.rate_limit_per_ip)
                .unwrap_or(30)
                .max(1),
            rate_limit_per_account: self
                .rate_limit_per_account
                .or(file.rate_limit_per_account)
                .unwrap_or(10)
                .max(1),
            realtime: self.realtime.resolve(
                file.ws_queue_size,
                file.ws_queue_bytes,
                file.ws_ping_interval.as_deref(),
                file.ws_pong_timeout.as_deref(),
                file.notification_poll_interval.as_deref(),
                file.notification_batch_rows,
            )?,
            mail: self.mail.resolve(mail::MailFile {
                retry_base: file.mail_retry_base.as_deref(),
                max_attempts: file.mail_max_attempts,
                poll_interval: file.mail_poll_interval.as_deref(),
                lease: file.mail_lease.as_deref(),
            })?,
            payments: self.payments.resolve(
                payments::PaymentFile {
                    razorpay_key_id: file.razorpay_key_id.as_deref(),
                    razorpay_key_secret: file.razorpay_key_secret.as_deref(),
                    razorpay_webhook_secret: file.razorpay_webhook_secret.as_deref(),
                    razorpay_api_url: file.razorpay_api_url.as_deref(),
                    order_ttl: file.order_ttl.as_deref(),
                    refund_window: file.refund_window.as_deref(),
                },
                environment,
            )?,
            webhooks: self.webhooks.resolve(webhooks::WebhookFile {
                retry_base: file.webhook_retry_base.as_deref(),
                retry_window: file.webhook_retry_window.as_deref(),
                disable_after: file.webhook_disable_after,
                poll_interval: file.webhook_poll_interval.as_deref(),
                timeout: file.webhook_timeout.as_deref(),
            })?,
            analytics: self.analytics.resolve(analytics::AnalyticsFile {
                retention_days: file.activity_retention_days,
                rollup_interval: file.rollup_interval.as_deref(),
                inactive_days: file.at_risk_inactive_days,
            })?,
            data_dir,
        })
    }
}

fn read_config_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("config: cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config: {} is not valid", path.display()))
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "edupro")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("data_dir: no home directory to derive a data dir from; pass --data-dir or set EDUPRO_DATA_DIR")
}

/// Reads `DATA_DIR/jwt-secret`, creating it (mode 0600) with 64 random hex bytes when missing.
fn load_or_create_jwt_secret(data_dir: &Path) -> anyhow::Result<SecretString> {
    use rand::RngCore;
    use std::io::Write;

    let path = data_dir.join(JWT_SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= MIN_JWT_SECRET_LEN => {
            return Ok(SecretString::from(secret.trim().to_owned()));
        }
        Ok(_) => bail!(
            "{} is shorter than {MIN_JWT_SECRET_LEN} bytes; delete it to have a new one generated",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    create_dir_private(data_dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(SecretString::from(secret))
}

/// Creates the data dir (and parents); a new one is readable by its owner only.
pub fn create_dir_private(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("data_dir: cannot create {}", dir.display()))
}

/// Masks the password of a URL: `postgres://app:***@db/edupro`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// Parses `2MiB`, `512KiB`, `1MB`, `1024` into bytes.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 2MiB, 512KiB or 1048576"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; use B, KiB, MiB or GiB"
            ));
        }
    };
    match n.checked_mul(factor) {
        Some(0) | None => Err(format!("`{text}` is not a usable size")),
        Some(bytes) => Ok(bytes),
    }
}

fn deserialize_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(usize),
        Text(String),
    }
    match Option::<Size>::deserialize(d)? {
        None => Ok(None),
        Some(Size::Bytes(n)) => Ok(Some(n)),
        Some(Size::Text(t)) => parse_size(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_in(dir: &Path) -> ServerArgs {
        ServerArgs {
            data_dir: Some(dir.to_path_buf()),
            ..ServerArgs::default()
        }
    }

    #[test]
    fn defaults_give_sqlite_in_the_data_dir_on_port_5001() {
        let dir = tempfile::tempdir().unwrap();
        let s = args_in(dir.path()).resolve().unwrap();
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        match &s.database {
            DatabaseSettings::Sqlite { path } => assert_eq!(path, &dir.path().join("edupro.db")),
            other => panic!("expected sqlite, got {other:?}"),
        }
    }

    #[test]
    fn a_generated_jwt_secret_is_kept_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = args_in(dir.path()).resolve().unwrap();
        let second = args_in(dir.path()).resolve().unwrap();
        assert_eq!(
            first.jwt_secret.expose_secret(),
            second.jwt_secret.expose_secret()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(JWT_SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn production_without_a_jwt_secret_refuses_and_names_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let args = ServerArgs {
            environment: Some(Environment::Production),
            ..args_in(dir.path())
        };
        let err = format!("{:#}", args.resolve().unwrap_err());
        assert!(err.contains("EDUPRO_JWT_SECRET"), "{err}");
        assert!(!dir.path().join(JWT_SECRET_FILE).exists());
    }

    #[test]
    fn flags_win_over_the_config_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("edupro.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:7000\"\nlog_format = \"json\"\nbody_limit = \"1MiB\"\n",
        )
        .unwrap();
        let args = ServerArgs {
            config: Some(file),
            bind: Some("127.0.0.1:7001".parse().unwrap()),
            ..args_in(dir.path())
        };
        let s = args.resolve().unwrap();
        assert_eq!(s.bind.port(), 7001);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.body_limit, 1024 * 1024);
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("edupro.toml");
        std::fs::write(&file, "bnid = \"127.0.0.1:7000\"\n").unwrap();
        let args = ServerArgs {
            config: Some(file),
            ..args_in(dir.path())
        };
        let err = format!("{:#}", args.resolve().unwrap_err());
        assert!(err.contains("bnid"), "{err}");
    }

    #[test]
    fn database_passwords_never_show_in_debug_output() {
        let db = DatabaseSettings::from_url("postgres://app:hunter2@db.internal/edupro").unwrap();
        let shown = format!("{db:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app:***@db.internal"), "{shown}");
        let dir = tempfile::tempdir().unwrap();
        let settings = ServerArgs {
            jwt_secret: Some("x".repeat(40)),
            database_url: Some("postgres://app:hunter2@db/edupro".into()),
            ..args_in(dir.path())
        }
        .resolve()
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains(&"x".repeat(40)),
            "{shown}"
        );
    }

    #[test]
    fn unsupported_database_schemes_are_rejected_with_the_accepted_ones() {
        let err = DatabaseSettings::from_url("mysql://root:pw@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("postgres://") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("512 KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("5XB").unwrap_err().contains("XB"));
    }
}
