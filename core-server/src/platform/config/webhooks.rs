//! Settings of outgoing webhooks: retries, the retry window, when an endpoint is disabled,
//! how often the drainer looks, and how long one attempt may take.

use std::time::Duration;

use clap::Args;

use super::realtime::parse_duration;

/// The webhook flags (each also reads its `EDUPRO_*` variable, and the TOML key of the
/// same name in snake_case).
#[derive(Args, Clone, Debug, Default)]
pub struct WebhookArgs {
    /// Wait before the first retry of a webhook delivery, e.g. `30s`; each further retry
    /// waits twice as long, up to an hour [default: 30s].
    #[arg(long, env = "EDUPRO_WEBHOOK_RETRY_BASE", value_name = "DURATION")]
    pub webhook_retry_base: Option<String>,

    /// How long a delivery is retried before it is FAILED, e.g. `24h`; an endpoint that
    /// answered nothing but failures for this long is disabled [default: 24h].
    #[arg(long, env = "EDUPRO_WEBHOOK_RETRY_WINDOW", value_name = "DURATION")]
    pub webhook_retry_window: Option<String>,

    /// Failed attempts in a row (no 2xx between them) after which an endpoint is
    /// disabled and admins are notified [default: 100].
    #[arg(long, env = "EDUPRO_WEBHOOK_DISABLE_AFTER", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub webhook_disable_after: Option<u32>,

    /// How often the webhook drainer looks for due deliveries besides being woken by
    /// new ones (what a stopped server or another instance left), e.g. `5s` [default: 5s].
    #[arg(long, env = "EDUPRO_WEBHOOK_POLL_INTERVAL", value_name = "DURATION")]
    pub webhook_poll_interval: Option<String>,

    /// How long one attempt may take before it counts as failed, e.g. `10s` [default: 10s].
    #[arg(long, env = "EDUPRO_WEBHOOK_TIMEOUT", value_name = "DURATION")]
    pub webhook_timeout: Option<String>,
}

/// Resolved webhook settings.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub retry_base: Duration,
    pub retry_window: Duration,
    pub disable_after: u32,
    pub poll_interval: Duration,
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(30),
            retry_window: Duration::from_secs(24 * 3600),
            disable_after: 100,
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The webhook settings as they may appear in the TOML file.
#[derive(Debug, Default)]
pub struct WebhookFile<'a> {
    pub retry_base: Option<&'a str>,
    pub retry_window: Option<&'a str>,
    pub disable_after: Option<u32>,
    pub poll_interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
}

impl WebhookArgs {
    /// Flags and variables over the TOML file's values over defaults.
    pub fn resolve(&self, file: WebhookFile<'_>) -> anyhow::Result<WebhookSettings> {
        let defaults = WebhookSettings::default();
        let duration = |name: &str, flag: &Option<String>, file: Option<&str>, default| match flag
            .as_deref()
            .or(file)
        {
            Some(text) => parse_duration(text).map_err(|e| anyhow::anyhow!("{name}: {e}")),
            None => Ok(default),
        };
        let disable_after = match self.webhook_disable_after.or(file.disable_after) {
            Some(0) => anyhow::bail!("webhook_disable_after: must be at least 1"),
            Some(n) => n,
            None => defaults.disable_after,
        };
        Ok(WebhookSettings {
            retry_base: duration(
                "webhook_retry_base",
                &self.webhook_retry_base,
                file.retry_base,
                defaults.retry_base,
            )?,
            retry_window: duration(
                "webhook_retry_window",
                &self.webhook_retry_window,
                file.retry_window,
                defaults.retry_window,
            )?,
            disable_after,
            poll_interval: duration(
                "webhook_poll_interval",
                &self.webhook_poll_interval,
                file.poll_interval,
                defaults.poll_interval,
            )?,
            timeout: duration(
                "webhook_timeout",
                &self.webhook_timeout,
                file.timeout,
                defaults.timeout,
            )?,
        })
    }
}

impl WebhookSettings {
    /// The wait after the `attempts`-th failed attempt: the base doubled per attempt
    /// after the first, never over an hour.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.retry_base
            .saturating_mul(1 << doublings)
            .min(Duration::from_secs(3600))
    }

    /// How long a drainer holds a delivery it is sending: the attempt's timeout and a
    /// minute to record it.
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let settings = WebhookSettings::default();
        assert_eq!(settings.backoff(1), Duration::from_secs(30));
        assert_eq!(settings.backoff(3), Duration::from_secs(120));
        assert_eq!(settings.backoff(30), Duration::from_secs(3600));
    }

    #[test]
    fn settings_come_from_flags_then_the_file_then_defaults() {
        let args = WebhookArgs {
            webhook_retry_base: Some("50ms".into()),
            ..WebhookArgs::default()
        };
        let settings = args
            .resolve(WebhookFile {
                retry_base: Some("1h"),
                disable_after: Some(3),
                ..WebhookFile::default()
            })
            .expect("resolves");
        assert_eq!(settings.retry_base, Duration::from_millis(50));
        assert_eq!(settings.disable_after, 3);
        assert_eq!(settings.retry_window, Duration::from_secs(86_400));
        let bad = WebhookArgs {
            webhook_timeout: Some("never".into()),
            ..WebhookArgs::default()
        };
        let err = bad.resolve(WebhookFile::default()).expect_err("refused");
        assert!(err.to_string().contains("webhook_timeout"), "{err}");
    }
}
