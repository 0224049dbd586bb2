//! Outbound HTTP (the payment gateway, webhooks): one way to build a client, with
//! rustls on the ring provider and a whole-request timeout.

use std::time::Duration;

/// A client whose requests give up after `timeout`.
pub fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    // Another part of the process may have installed it first; either way it is ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("edupro-server/", env!("CARGO_PKG_VERSION")))
        .build()?)
}
