//! What every handler can reach: the database, the settings, the start time.

use std::sync::Arc;
use std::time::Instant;

use sea_orm::DatabaseConnection;

pub use crate::platform::background::Background;
use crate::platform::config::Settings;
use crate::platform::mail::Mailer;
use crate::service::auth::cache::SessionCache;
use crate::service::auth::jwt::Keys;
use crate::service::auth::rate_limit::RateLimiter;
use crate::service::catalogue::cache::CatalogueCache;
use crate::service::events::EventBus;
use crate::service::notifications::delivery::Delivery;

/// Shared application state, cloned cheaply into each worker.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub started: Instant,
    pub keys: Arc<Keys>,
    pub limiter: Arc<RateLimiter>,
    pub mailer: Mailer,
    /// Committed domain events, announced in process (see [`crate::service::events`]).
    pub events: EventBus,
    /// The WebSocket hub and notification fan-out (see [`crate::realtime`]).
    pub realtime: crate::realtime::Realtime,
    /// Hands committed notifications to the hub in id order (see
    /// [`crate::service::notifications::delivery`]).
    pub delivery: Delivery,
    /// The server's long-lived loops, stopped before the pool closes.
    pub background: Background,
    /// Whether this instance runs the scheduled jobs (see [`crate::store::leader`]).
    pub leadership: crate::store::leader::Leadership,
    /// The per-request session check, served from memory (see
    /// [`crate::service::auth::cache`]).
    pub sessions: Arc<SessionCache>,
    /// Pages of the public catalogue (see [`crate::service::catalogue::cache`]).
    pub catalogue: Arc<CatalogueCache>,
    /// Outgoing webhooks: their HTTP client and the drainer's doorbell.
    pub webhooks: crate::service::webhooks::handle::Webhooks,
    /// The payment gateway; `None` when this server takes no payments (production
    /// without Razorpay keys).
    pub gateway: Option<Arc<dyn crate::platform::gateway::PaymentGateway>>,
}

impl AppState {
    /// State for a connected database and resolved settings.
    pub fn new(db: DatabaseConnection, settings: Settings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let mailer = Mailer::new(
            settings.smtp_url.as_ref().map(|u| u.expose_secret()),
            &settings.mail_from,
            settings.mail.lease / 2,
        )?;
        let gateway = crate::platform::gateway::from_settings(
            &settings.payments.gateway,
            &settings.jwt_secret,
        )?;
        let webhooks = crate::service::webhooks::handle::Webhooks::new(settings.webhooks.timeout)?;
        Ok(Self {
            webhooks,
            gateway,
            keys: Arc::new(Keys::new(&settings.jwt_secret)),
            limiter: Arc::new(RateLimiter::new(
                settings.rate_limit_per_ip,
                settings.rate_limit_per_account,
            )),
            mailer,
            events: EventBus::new(),
            realtime: crate::realtime::Realtime::new(settings.realtime.clone()),
            delivery: Delivery::default(),
            background: Background::default(),
            leadership: crate::store::leader::Leadership::for_database(&settings.database),
            sessions: Arc::default(),
            catalogue: Arc::new(CatalogueCache::new(settings.catalogue_cache)),
            db,
            settings: Arc::new(settings),
            started: Instant::now(),
        })
    }
}
