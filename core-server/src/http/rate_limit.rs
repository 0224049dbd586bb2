//! The rate limits of [`crate::service::auth::rate_limit`] applied to a request: the
//! client's network or account counted, the tightest quota kept for the
//! `X-RateLimit-*` headers the middleware adds.

use actix_web::{HttpMessage, HttpRequest, web};

use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::rate_limit::{Bucket, Quota, RateLimiter, network_of};

/// Counts a hit on `bucket` from the request's IP, records the quota for the response
/// headers, and answers 429 when over the limit.
pub fn limit_ip(req: &HttpRequest, bucket: Bucket) -> Result<(), ApiError> {
    let ip = network_of(&crate::http::auth::client_ip(req));
    with_limiter(req, |limiter| limiter.check_ip(bucket, &ip))
}

/// Counts a hit on `bucket` for `account` (an email or user id), like [`limit_ip`].
pub fn limit_account(req: &HttpRequest, bucket: Bucket, account: &str) -> Result<(), ApiError> {
    with_limiter(req, |limiter| limiter.check_account(bucket, account))
}

fn with_limiter(
    req: &HttpRequest,
    check: impl FnOnce(&RateLimiter) -> Result<Quota, (Quota, ApiError)>,
) -> Result<(), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| anyhow::anyhow!("AppState missing"))?;
    let (quota, outcome) = match check(&state.limiter) {
        Ok(quota) => (quota, Ok(())),
        Err((quota, err)) => (quota, Err(err)),
    };
    let mut extensions = req.extensions_mut();
    let tightest = match extensions.get::<Quota>() {
        Some(seen) if seen.remaining <= quota.remaining => *seen,
        _ => quota,
    };
    extensions.insert(tightest);
    outcome
}
