//! Authentication: password hashing, JWT access tokens, opaque refresh and personal
//! access tokens, TOTP, rate limits, and the `AuthUser` caller every protected route
//! acts as.

pub mod caller;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod totp;

pub use caller::AuthUser;
