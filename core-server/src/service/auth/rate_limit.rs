//! Fixed-window rate limits, per client IP and per account, for the endpoints that
//! guess secrets (login, refresh, OTP, 2FA). Keys are namespaced by bucket, so one
//! account's failures never count against another's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// The tightest limit a request met, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset: u64,
}

/// The unit an address is limited by: the address for IPv4, its /64 for IPv6 (one
/// subscriber usually holds a whole /64, and could rotate through it).
pub fn network_of(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    }
}

/// Which endpoint family a hit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Login,
    Refresh,
    Otp,
    Mfa,
    /// Sign-ups (`POST /auth/register`) by anyone but an admin.
    Register,
    /// Failed WebSocket authentications (upgrades and `auth` messages).
    WebSocket,
    /// Activity heartbeats (`POST /activity`), per user.
    Activity,
}

/// Per-IP and per-account limits shared by all workers.
pub struct RateLimiter {
    per_ip: u32,
    ip_window: Duration,
    per_account: u32,
    account_window: Duration,
    windows: Mutex<HashMap<(Bucket, String), (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_ip` hits per minute from one IP; `per_account` hits per 15 minutes on one account.
    pub fn new(per_ip: u32, per_account: u32) -> Self {
        Self {
            per_ip,
            ip_window: Duration::from_secs(60),
            per_account,
            account_window: Duration::from_secs(15 * 60),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit from `ip`; 429 with the seconds to wait when over the limit.
    pub fn check_ip(&self, bucket: Bucket, ip: &str) -> Result<Quota, (Quota, ApiError)> {
        self.hit(bucket, format!("ip:{ip}"), self.per_ip, self.ip_window)
    }

    /// The seconds to wait when `ip` is already over `bucket`'s limit, counting nothing
    /// (the WebSocket hub counts failed authentications only, so a school behind one
    /// address can reconnect all its students after a restart).
    pub fn blocked_ip(&self, bucket: Bucket, ip: &str) -> Option<u64> {
        let now = Instant::now();
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, hits) = windows.get(&(bucket, format!("ip:{ip}")))?;
        let elapsed = now.duration_since(*start);
        (elapsed < self.ip_window && *hits >= self.per_ip)
            .then(|| self.ip_window.saturating_sub(elapsed).as_secs().max(1))
    }

    /// Counts a hit on `account` (an email or user id); 429 when over the limit.
    pub fn check_account(&self, bucket: Bucket, account: &str) -> Result<Quota, (Quota, ApiError)> {
        self.hit(
            bucket,
            format!("account:{account}"),
            self.per_account,
            self.account_window,
        )
    }

    /// Counts a hit on `key` with a limit of its own: `limit` hits per `window`.
    pub fn check_with(
        &self,
        bucket: Bucket,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Quota, (Quota, ApiError)> {
        self.hit(bucket, format!("key:{key}"), limit, window)
    }

    fn hit(
        &self,
        bucket: Bucket,
        key: String,
        limit: u32,
        window: Duration,
    ) -> Result<Quota, (Quota, ApiError)> {
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows
                .retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(15 * 60));
        }
        let entry = windows.entry((bucket, key)).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        let reset = window
            .saturating_sub(now.duration_since(entry.0))
            .as_secs()
            .max(1);
        if entry.1 >= limit {
            let quota = Quota {
                limit,
                remaining: 0,
                reset,
            };
            return Err((quota, ApiError::RateLimited { retry_after: reset }));
        }
        entry.1 += 1;
        Ok(Quota {
            limit,
            remaining: limit - entry.1,
            reset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_over_the_limit_are_refused_with_a_retry_delay() {
        let limiter = RateLimiter::new(2, 100);
        limiter.check_ip(Bucket::Login, "1.2.3.4").unwrap();
        limiter.check_ip(Bucket::Login, "1.2.3.4").unwrap();
        match limiter.check_ip(Bucket::Login, "1.2.3.4") {
            Err((quota, ApiError::RateLimited { retry_after })) => {
                assert!((1..=60).contains(&retry_after));
                assert_eq!((quota.limit, quota.remaining), (2, 0));
            }
            other => panic!("expected 429, got {other:?}"),
        }
        limiter.check_ip(Bucket::Login, "5.6.7.8").unwrap();
        limiter.check_ip(Bucket::Refresh, "1.2.3.4").unwrap();
    }

    #[test]
    fn ipv6_addresses_are_limited_per_64_and_ipv4_per_address() {
        assert_eq!(
            network_of("2001:db8:1:2:aaaa::1"),
            network_of("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(network_of("2001:db8:1:2::1"), network_of("2001:db8:1:3::1"));
        assert_eq!(network_of("10.0.0.7"), "10.0.0.7");
    }

    #[test]
    fn one_accounts_attempts_never_limit_another() {
        let limiter = RateLimiter::new(100, 1);
        limiter.check_account(Bucket::Login, "a@x.io").unwrap();
        assert!(limiter.check_account(Bucket::Login, "a@x.io").is_err());
        limiter.check_account(Bucket::Login, "b@x.io").unwrap();
    }
}
