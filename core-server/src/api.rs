//! Wire types of the EduPro+ REST API, shared by the server and the `edupro` client.
//!
//! This module depends on serde alone (plus utoipa schemas when the `server` feature is
//! on), so the client can use it without pulling in actix-web or the database layer.

mod assessments;
mod auth;
mod courses;
mod enrollments;
mod envelope;
mod health;
mod imports;
mod live_classes;
mod notifications;
mod pagination;
mod realtime;
mod users;

pub use assessments::*;
pub use auth::*;
pub use courses::*;
pub use enrollments::*;
pub use envelope::{ApiResponse, ErrorBody, ErrorCode, FieldError};
pub use health::{Health, HealthServices, HealthStatus, Readiness};
pub use imports::*;
pub use live_classes::*;
pub use notifications::*;
pub use pagination::{PageQuery, Pagination};
pub use realtime::*;
pub use users::*;

/// Prefix of every versioned REST route.
pub const API_PREFIX: &str = "/api/v1";
