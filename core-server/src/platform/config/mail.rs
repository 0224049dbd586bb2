//! Settings of the mail queue's drainer (delivery over SMTP, retries, leases).

use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::realtime::parse_duration;

/// The mail queue's flags (each also reads its `EDUPRO_*` variable, and the TOML key of
/// the same name in snake_case).
#[derive(Args, Clone, Debug, Default)]
pub struct MailArgs {
    /// Wait before the first retry of a mail the SMTP server did not take, e.g. `30s`;
    /// each further retry waits twice as long, up to an hour [default: 30s].
    #[arg(long, env = "EDUPRO_MAIL_RETRY_BASE", value_name = "DURATION")]
    pub mail_retry_base: Option<String>,

    /// Delivery attempts of a mail before it is given up as FAILED (and logged as an
    /// error) [default: 10].
    #[arg(long, env = "EDUPRO_MAIL_MAX_ATTEMPTS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub mail_max_attempts: Option<u32>,

    /// How often the mail drainer looks for due mail besides being woken by new mail
    /// (mail a stopped server or another instance left), e.g. `5s` [default: 5s].
    #[arg(long, env = "EDUPRO_MAIL_POLL_INTERVAL", value_name = "DURATION")]
    pub mail_poll_interval: Option<String>,

    /// How long an instance holds a mail it is delivering; a mail whose instance died
    /// is retried after this. An SMTP attempt is cut off at half of it [default: 2m].
    #[arg(long, env = "EDUPRO_MAIL_LEASE", value_name = "DURATION")]
    pub mail_lease: Option<String>,
}

/// Resolved mail queue settings.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub retry_base: Duration,
    pub max_attempts: u32,
    pub poll_interval: Duration,
    pub lease: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(30),
            max_attempts: 10,
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(120),
        }
    }
}

/// The mail settings as they may appear in the TOML file.
#[derive(Debug, Default)]
pub struct MailFile<'a> {
    pub retry_base: Option<&'a str>,
    pub max_attempts: Option<u32>,
    pub poll_interval: Option<&'a str>,
    pub lease: Option<&'a str>,
}

impl MailArgs {
    /// Flags and variables over the TOML file's values over defaults.
    pub fn resolve(&self, file: MailFile<'_>) -> anyhow::Result<MailSettings> {
        let defaults = MailSettings::default();
        let duration = |name: &str, flag: &Option<String>, file: Option<&str>, default| match flag
            .as_deref()
            .or(file)
        {
            Some(text) => parse_duration(text).map_err(|e| anyhow::anyhow!("{name}: {e}")),
            None => Ok(default),
        };
        let max_attempts = match self.mail_max_attempts.or(file.max_attempts) {
            Some(0) => bail!("mail_max_attempts: must be at least 1"),
            Some(n) => n,
            None => defaults.max_attempts,
        };
        Ok(MailSettings {
            retry_base: duration(
                "mail_retry_base",
                &self.mail_retry_base,
                file.retry_base,
                defaults.retry_base,
            )?,
            max_attempts,
            poll_interval: duration(
                "mail_poll_interval",
                &self.mail_poll_interval,
                file.poll_interval,
                defaults.poll_interval,
            )?,
            lease: duration("mail_lease", &self.mail_lease, file.lease, defaults.lease)?,
        })
    }
}

impl MailSettings {
    /// The wait after the `attempts`-th failed attempt: the base doubled per attempt
    /// after the first, never over an hour.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.retry_base
            .saturating_mul(1 << doublings)
            .min(Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let settings = MailSettings::default();
        assert_eq!(settings.backoff(1), Duration::from_secs(30));
        assert_eq!(settings.backoff(2), Duration::from_secs(60));
        assert_eq!(settings.backoff(4), Duration::from_secs(240));
        assert_eq!(settings.backoff(9), Duration::from_secs(3600));
        assert_eq!(settings.backoff(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn settings_come_from_flags_then_the_file_then_defaults() {
        let args = MailArgs {
            mail_retry_base: Some("250ms".into()),
            ..MailArgs::default()
        };
        let settings = args
            .resolve(MailFile {
                max_attempts: Some(3),
                retry_base: Some("1h"),
                ..MailFile::default()
            })
            .expect("resolves");
        assert_eq!(settings.retry_base, Duration::from_millis(250));
        assert_eq!(settings.max_attempts, 3);
        assert_eq!(settings.lease, Duration::from_secs(120));
        let bad = MailArgs {
            mail_lease: Some("soon".into()),
            ..MailArgs::default()
        };
        let err = bad.resolve(MailFile::default()).expect_err("refused");
        assert!(err.to_string().contains("mail_lease"), "{err}");
    }
}
