//! Wire types of the EduPro+ REST API, shared by the server and the `edupro` client.
//!
//! This module depends on serde alone (plus utoipa schemas when the `server` feature is
//! on), so the client can use it without pulling in actix-web or the database layer.

/// A string enum of the wire: its SCREAMING_SNAKE_CASE spelling is also what is stored.
///
/// Each spelling is taken as a `tt`, not a `literal`: a `literal` fragment reaches the
/// derives wrapped in an invisible group, which serde unwraps but utoipa does not, so the
/// OpenAPI document listed the Rust variant names (`Beginner`) instead of the wire's
/// (`BEGINNER`).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The stored and wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!("`{s}` is not one of {}", names.join(", "))
                    })
            }
        }
    };
}

mod analytics;
mod assessments;
mod auth;
mod courses;
mod doubts;
mod enrollments;
mod envelope;
mod gamification;
mod health;
mod imports;
mod live_classes;
mod notifications;
mod pagination;
mod payments;
mod realtime;
mod users;
mod webhooks;

pub use analytics::*;
pub use assessments::*;
pub use auth::*;
pub use courses::*;
pub use doubts::*;
pub use enrollments::*;
pub use envelope::{ApiResponse, Deleted, Empty, ErrorBody, ErrorCode, FieldError};
pub use gamification::*;
pub use health::{Health, HealthServices, HealthStatus, Readiness};
pub use imports::*;
pub use live_classes::*;
pub use notifications::*;
pub use pagination::{PageQuery, Pagination};
pub use payments::*;
pub use realtime::*;
pub use users::*;
pub use webhooks::*;

/// Prefix of every versioned REST route.
pub const API_PREFIX: &str = "/api/v1";
