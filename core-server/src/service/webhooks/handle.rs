//! The handle the application state keeps: the HTTP client that sends webhooks and the
//! doorbell that wakes the drainer.

use std::sync::Arc;

use tokio::sync::Notify;

/// This instance's side of webhooks: the HTTP client that sends them and the doorbell
/// that wakes the drainer after deliveries commit.
#[derive(Clone)]
pub struct Webhooks {
    pub(super) http: reqwest::Client,
    wake: Arc<Notify>,
}

impl Webhooks {
    /// A client whose attempts give up after `timeout` and follow no redirect (a 3xx is
    /// a failed attempt, as Stripe and Standard Webhooks have it).
    pub fn new(timeout: std::time::Duration) -> anyhow::Result<Self> {
        // Another part of the process may have installed it first; either way it is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(std::time::Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("edupro-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Wakes the drainer: deliveries are due (call after their commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) async fn woken(&self) {
        self.wake.notified().await;
    }
}
