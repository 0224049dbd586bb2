//! Payment settings: the Razorpay keys (secrets, never logged), how long an order stays
//! open and how long a course owner may refund.

use std::fmt;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use secrecy::SecretString;

use super::Environment;
use super::realtime::parse_duration;

/// The payment flags (each also reads its `EDUPRO_*` variable, and the TOML key of the
/// same name in snake_case).
#[derive(Args, Clone, Default)]
pub struct PaymentArgs {
    /// Razorpay key id (`rzp_live_…` or `rzp_test_…`). Without it, development servers
    /// take payments through the built-in test gateway and production servers take none.
    #[arg(long, env = "EDUPRO_RAZORPAY_KEY_ID", value_name = "KEY_ID")]
    pub razorpay_key_id: Option<String>,

    /// Razorpay key secret: signs checkouts, authenticates API calls. Prefer the
    /// environment variable.
    #[arg(
        long,
        env = "EDUPRO_RAZORPAY_KEY_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub razorpay_key_secret: Option<String>,

    /// The secret Razorpay signs webhooks with (`X-Razorpay-Signature`).
    #[arg(
        long,
        env = "EDUPRO_RAZORPAY_WEBHOOK_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub razorpay_webhook_secret: Option<String>,

    /// Razorpay's API base URL [default: https://api.razorpay.com].
    #[arg(long, env = "EDUPRO_RAZORPAY_API_URL", value_name = "URL")]
    pub razorpay_api_url: Option<String>,

    /// How long an order waits for its payment before it expires and gives its coupon
    /// use back, e.g. `30m` [default: 30m].
    #[arg(long, env = "EDUPRO_ORDER_TTL", value_name = "DURATION")]
    pub order_ttl: Option<String>,

    /// How long after a payment the course's owner may still refund it (admins always
    /// may), e.g. `168h` [default: 168h, a week].
    #[arg(long, env = "EDUPRO_REFUND_WINDOW", value_name = "DURATION")]
    pub refund_window: Option<String>,
}

impl fmt::Debug for PaymentArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentArgs")
            .field("razorpay_key_id", &self.razorpay_key_id)
            .field(
                "razorpay_key_secret",
                &self.razorpay_key_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "razorpay_webhook_secret",
                &self.razorpay_webhook_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("razorpay_api_url", &self.razorpay_api_url)
            .field("order_ttl", &self.order_ttl)
            .field("refund_window", &self.refund_window)
            .finish()
    }
}

/// Razorpay's keys.
#[derive(Clone)]
pub struct RazorpaySettings {
    pub key_id: String,
    pub key_secret: SecretString,
    pub webhook_secret: SecretString,
    pub api_url: String,
}

impl fmt::Debug for RazorpaySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RazorpaySettings")
            .field("key_id", &self.key_id)
            .field("key_secret", &"[REDACTED]")
            .field("webhook_secret", &"[REDACTED]")
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// Which gateway takes payments.
#[derive(Clone, Debug)]
pub enum GatewaySettings {
    Razorpay(RazorpaySettings),
    /// The built-in test gateway (development only).
    Test,
    /// Production without Razorpay keys: paid courses cannot be bought.
    None,
}

/// Resolved payment settings.
#[derive(Clone, Debug)]
pub struct PaymentSettings {
    pub gateway: GatewaySettings,
    pub order_ttl: Duration,
    pub refund_window: Duration,
}

/// The payment settings as they may appear in the TOML file.
#[derive(Debug, Default)]
pub struct PaymentFile<'a> {
    pub razorpay_key_id: Option<&'a str>,
    pub razorpay_key_secret: Option<&'a str>,
    pub razorpay_webhook_secret: Option<&'a str>,
    pub razorpay_api_url: Option<&'a str>,
    pub order_ttl: Option<&'a str>,
    pub refund_window: Option<&'a str>,
}

impl PaymentArgs {
    /// Flags and variables over the TOML file's values over defaults.
    pub fn resolve(
        &self,
        file: PaymentFile<'_>,
        environment: Environment,
    ) -> anyhow::Result<PaymentSettings> {
        let pick = |flag: &Option<String>, file: Option<&str>| {
            flag.as_deref()
                .or(file)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let key_id = pick(&self.razorpay_key_id, file.razorpay_key_id);
        let key_secret = pick(&self.razorpay_key_secret, file.razorpay_key_secret);
        let webhook_secret = pick(&self.razorpay_webhook_secret, file.razorpay_webhook_secret);
        let api_url = pick(&self.razorpay_api_url, file.razorpay_api_url)
            .unwrap_or_else(|| "https://api.razorpay.com".to_owned());
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            bail!("razorpay_api_url: `{api_url}` is not an http(s) URL");
        }
        let gateway = match (key_id, key_secret, webhook_secret) {
            (Some(key_id), Some(key_secret), Some(webhook_secret)) => {
                GatewaySettings::Razorpay(RazorpaySettings {
                    key_id,
                    key_secret: SecretString::from(key_secret),
                    webhook_secret: SecretString::from(webhook_secret),
                    api_url: api_url.trim_end_matches('/').to_owned(),
                })
            }
            (None, None, None) if environment == Environment::Production => GatewaySettings::None,
            (None, None, None) => GatewaySettings::Test,
            _ => bail!(
                "razorpay: set all three of EDUPRO_RAZORPAY_KEY_ID, EDUPRO_RAZORPAY_KEY_SECRET and EDUPRO_RAZORPAY_WEBHOOK_SECRET, or none"
            ),
        };
        let duration = |name: &str, flag: &Option<String>, file: Option<&str>, default| match flag
            .as_deref()
            .or(file)
        {
            Some(text) => parse_duration(text).map_err(|e| anyhow::anyhow!("{name}: {e}")),
            None => Ok(default),
        };
        Ok(PaymentSettings {
            gateway,
            order_ttl: duration(
                "order_ttl",
                &self.order_ttl,
                file.order_ttl,
                Duration::from_secs(30 * 60),
            )?,
            refund_window: duration(
                "refund_window",
                &self.refund_window,
                file.refund_window,
                Duration::from_secs(7 * 24 * 3600),
            )?,
        })
    }
}
