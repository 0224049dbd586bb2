//! Settings of the activity log and its roll-ups: how long raw activity is kept, how
//! often the roll-ups run, and when a student counts as inactive.

use std::time::Duration;

use clap::Args;

use super::realtime::parse_duration;

/// The analytics flags (each also reads its `EDUPRO_*` variable, and the TOML key of the
/// same name in snake_case).
#[derive(Args, Clone, Debug, Default)]
pub struct AnalyticsArgs {
    /// Days of raw activity kept; older rows are pruned once rolled up (the daily
    /// figures stay). At least 7 [default: 400].
    #[arg(long, env = "EDUPRO_ACTIVITY_RETENTION_DAYS", value_name = "DAYS",
          value_parser = clap::value_parser!(u32).range(7..=36_500))]
    pub activity_retention_days: Option<u32>,

    /// How often the daily roll-ups are brought up to date, e.g. `5m` [default: 5m].
    #[arg(long, env = "EDUPRO_ROLLUP_INTERVAL", value_name = "DURATION")]
    pub rollup_interval: Option<String>,

    /// Days without activity after which a student is listed at risk [default: 7].
    #[arg(long, env = "EDUPRO_AT_RISK_INACTIVE_DAYS", value_name = "DAYS",
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub at_risk_inactive_days: Option<u32>,
}

/// Resolved analytics settings.
#[derive(Clone, Debug)]
pub struct AnalyticsSettings {
    pub retention_days: u32,
    pub rollup_interval: Duration,
    pub inactive_days: u32,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self {
            retention_days: 400,
            rollup_interval: Duration::from_secs(300),
            inactive_days: 7,
        }
    }
}

/// The analytics settings as they may appear in the TOML file.
#[derive(Debug, Default)]
pub struct AnalyticsFile<'a> {
    pub retention_days: Option<u32>,
    pub rollup_interval: Option<&'a str>,
    pub inactive_days: Option<u32>,
}

impl AnalyticsArgs {
    /// Flags and variables over the TOML file's values over defaults.
    pub fn resolve(&self, file: AnalyticsFile<'_>) -> anyhow::Result<AnalyticsSettings> {
        let defaults = AnalyticsSettings::default();
        let retention_days = self
            .activity_retention_days
            .or(file.retention_days)
            .unwrap_or(defaults.retention_days);
        if !(7..=36_500).contains(&retention_days) {
            anyhow::bail!("activity_retention_days: must be between 7 and 36500");
        }
        let inactive_days = self
            .at_risk_inactive_days
            .or(file.inactive_days)
            .unwrap_or(defaults.inactive_days);
        if !(1..=365).contains(&inactive_days) {
            anyhow::bail!("at_risk_inactive_days: must be between 1 and 365");
        }
        let rollup_interval = match self.rollup_interval.as_deref().or(file.rollup_interval) {
            Some(text) => {
                parse_duration(text).map_err(|e| anyhow::anyhow!("rollup_interval: {e}"))?
            }
            None => defaults.rollup_interval,
        };
        Ok(AnalyticsSettings {
            retention_days,
            rollup_interval,
            inactive_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_flags_then_the_file_then_defaults() {
        let args = AnalyticsArgs {
            rollup_interval: Some("30s".into()),
            ..AnalyticsArgs::default()
        };
        let settings = args
            .resolve(AnalyticsFile {
                rollup_interval: Some("1h"),
                retention_days: Some(30),
                ..AnalyticsFile::default()
            })
            .expect("resolves");
        assert_eq!(settings.rollup_interval, Duration::from_secs(30));
        assert_eq!(settings.retention_days, 30);
        assert_eq!(settings.inactive_days, 7);
        let short = AnalyticsArgs::default().resolve(AnalyticsFile {
            retention_days: Some(2),
            ..AnalyticsFile::default()
        });
        let err = short.expect_err("refused");
        assert!(err.to_string().contains("activity_retention_days"), "{err}");
    }
}
