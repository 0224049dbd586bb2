//! `/health` and `/ready` answers, in the original contract's shape.

use serde::{Deserialize, Serialize};

/// Overall state reported by `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthStatus {
    Ok,
    Error,
}

/// `GET /health`: liveness and dependency state (200 when OK, 503 when not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: HealthStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Server clock, ISO 8601 UTC.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// Seconds since the server started.
    pub uptime: f64,
    pub version: String,
    /// `development` or `production`.
    pub environment: String,
    pub services: HealthServices,
}

/// State of each dependency: `connected` or `disconnected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HealthServices {
    pub database: String,
    /// `sqlite` or `postgres`.
    pub database_backend: String,
    /// `leader` when this instance runs the scheduled jobs (class reminders, activity
    /// roll-ups, deadline and order sweeps), `standby` while another instance on the
    /// same PostgreSQL database does. Older servers leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_jobs: Option<String>,
}

/// `GET /ready`: whether this instance should receive traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
