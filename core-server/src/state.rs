//! What every handler can reach: the database, the settings, the start time.

use std::sync::Arc;
use std::time::Instant;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::Keys;
use crate::auth::rate_limit::RateLimiter;
use crate::config::Settings;
use crate::events::EventBus;
use crate::mail::Mailer;

/// Shared application state, cloned cheaply into each worker.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub started: Instant,
    pub keys: Arc<Keys>,
    pub limiter: Arc<RateLimiter>,
    pub mailer: Mailer,
    /// Committed domain events, announced in process (see [`crate::events`]).
    pub events: EventBus,
    /// The WebSocket hub and notification fan-out (see [`crate::realtime`]).
    pub realtime: crate::realtime::Realtime,
    /// The server's long-lived loops, stopped before the pool closes.
    pub background: Background,
}

/// The tasks that run for as long as the server does (the hub, the notification
/// consumer, the PostgreSQL listener, reminders, the deadline sweep). They never end
/// by themselves and some hold a database connection (LISTEN), so shutdown stops them
/// before it closes the pool, which waits for every connection to come back.
#[derive(Clone, Default)]
pub struct Background(Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>);

impl Background {
    /// Runs `task` until [`Background::stop`].
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task).abort_handle();
        if let Ok(mut tasks) = self.0.lock() {
            tasks.push(handle);
        }
    }

    /// Stops every task spawned so far (at its next await point).
    pub fn stop(&self) {
        if let Ok(mut tasks) = self.0.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }
}

impl AppState {
    /// State for a connected database and resolved settings.
    pub fn new(db: DatabaseConnection, settings: Settings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let mailer = Mailer::new(
            settings.smtp_url.as_ref().map(|u| u.expose_secret()),
            &settings.mail_from,
            db.clone(),
        )?;
        Ok(Self {
            keys: Arc::new(Keys::new(&settings.jwt_secret)),
            limiter: Arc::new(RateLimiter::new(
                settings.rate_limit_per_ip,
                settings.rate_limit_per_account,
            )),
            mailer,
            events: EventBus::new(),
            realtime: crate::realtime::Realtime::new(settings.realtime.clone()),
            background: Background::default(),
            db,
            settings: Arc::new(settings),
            started: Instant::now(),
        })
    }
}
