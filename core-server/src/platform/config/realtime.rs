//! Settings of the WebSocket hub and the notification consumer.

use std::time::Duration;

use anyhow::bail;
use clap::Args;

/// The hub's flags (each also reads its `EDUPRO_*` variable, and the TOML key of the
/// same name in snake_case).
#[derive(Args, Clone, Debug, Default)]
pub struct RealtimeArgs {
    /// Messages a WebSocket connection may have waiting before it is closed with 1013
    /// (the client reconnects with `since`) [default: 256].
    #[arg(long, env = "EDUPRO_WS_QUEUE_SIZE", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub ws_queue_size: Option<u64>,

    /// Bytes of messages a WebSocket connection may have waiting before it is closed
    /// with 1013, e.g. `1MiB` (one message larger than this still goes through an empty
    /// queue) [default: 1MiB].
    #[arg(long, env = "EDUPRO_WS_QUEUE_BYTES", value_name = "SIZE",
          value_parser = super::parse_size)]
    pub ws_queue_bytes: Option<usize>,

    /// How often the server pings each WebSocket, e.g. `20s` or `500ms` [default: 20s].
    #[arg(long, env = "EDUPRO_WS_PING_INTERVAL", value_name = "DURATION")]
    pub ws_ping_interval: Option<String>,

    /// A WebSocket silent this long (no pong, no message) is closed as dead; also how
    /// long a browser has to send its `auth` message [default: 60s].
    #[arg(long, env = "EDUPRO_WS_PONG_TIMEOUT", value_name = "DURATION")]
    pub ws_pong_timeout: Option<String>,

    /// How often the notification consumer and the fan-out look for work another
    /// instance (or a missed wake-up) left, e.g. `5s` [default: 5s].
    #[arg(
        long,
        env = "EDUPRO_NOTIFICATION_POLL_INTERVAL",
        value_name = "DURATION"
    )]
    pub notification_poll_interval: Option<String>,

    /// Notifications the consumer makes per transaction, roughly: a batch of events ends
    /// before the event that would take it past this (one event's recipients are never
    /// split) [default: 20000].
    #[arg(long, env = "EDUPRO_NOTIFICATION_BATCH_ROWS", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub notification_batch_rows: Option<u64>,
}

/// Resolved hub settings.
#[derive(Clone, Debug)]
pub struct RealtimeSettings {
    pub queue_size: usize,
    pub queue_bytes: usize,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub poll_interval: Duration,
    pub batch_rows: usize,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            queue_size: 256,
            queue_bytes: 1 << 20,
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            batch_rows: 20_000,
        }
    }
}

impl RealtimeArgs {
    /// Flags and variables over the TOML file's values over defaults.
    pub fn resolve(
        &self,
        file_queue_size: Option<usize>,
        file_queue_bytes: Option<usize>,
        file_ping_interval: Option<&str>,
        file_pong_timeout: Option<&str>,
        file_poll_interval: Option<&str>,
        file_batch_rows: Option<usize>,
    ) -> anyhow::Result<RealtimeSettings> {
        let defaults = RealtimeSettings::default();
        let duration = |name: &str, flag: &Option<String>, file: Option<&str>, default| match flag
            .as_deref()
            .or(file)
        {
            Some(text) => parse_duration(text).map_err(|e| anyhow::anyhow!("{name}: {e}")),
            None => Ok(default),
        };
        let queue_size = match self.ws_queue_size.map(|n| n as usize).or(file_queue_size) {
            Some(0) => bail!("ws_queue_size: must be at least 1"),
            Some(n) => n,
            None => defaults.queue_size,
        };
        let queue_bytes = match self.ws_queue_bytes.or(file_queue_bytes) {
            Some(0) => bail!("ws_queue_bytes: must be at least 1"),
            Some(n) => n,
            None => defaults.queue_bytes,
        };
        let batch_rows = match self
            .notification_batch_rows
            .map(|n| n as usize)
            .or(file_batch_rows)
        {
            Some(0) => bail!("notification_batch_rows: must be at least 1"),
            Some(n) => n,
            None => defaults.batch_rows,
        };
        let settings = RealtimeSettings {
            queue_size,
            queue_bytes,
            batch_rows,
            ping_interval: duration(
                "ws_ping_interval",
                &self.ws_ping_interval,
                file_ping_interval,
                defaults.ping_interval,
            )?,
            pong_timeout: duration(
                "ws_pong_timeout",
                &self.ws_pong_timeout,
                file_pong_timeout,
                defaults.pong_timeout,
            )?,
            poll_interval: duration(
                "notification_poll_interval",
                &self.notification_poll_interval,
                file_poll_interval,
                defaults.poll_interval,
            )?,
        };
        if settings.pong_timeout <= settings.ping_interval {
            bail!(
                "ws_pong_timeout ({:?}) must be longer than ws_ping_interval ({:?}), or live peers would be closed",
                settings.pong_timeout,
                settings.ping_interval
            );
        }
        Ok(settings)
    }
}

/// Parses `250ms`, `20s`, `5m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 20s, 500ms or 5m"))?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; use ms, s, m or h"
            ));
        }
    };
    if duration.is_zero() {
        return Err(format!("`{text}` must be more than zero"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 days").unwrap_err().contains("days"));
    }

    #[test]
    fn a_pong_timeout_shorter_than_the_ping_interval_is_refused() {
        let args = RealtimeArgs {
            ws_ping_interval: Some("30s".into()),
            ws_pong_timeout: Some("10s".into()),
            ..RealtimeArgs::default()
        };
        let err = args
            .resolve(None, None, None, None, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ws_pong_timeout"), "{err}");
    }
}
