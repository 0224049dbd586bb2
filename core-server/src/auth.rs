//! Authentication: password hashing, JWT access tokens, opaque refresh and personal
//! access tokens, TOTP, rate limits, and the `AuthUser` extractor every protected
//! route takes.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod totp;

pub use extract::AuthUser;
