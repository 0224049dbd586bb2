//! Outgoing webhooks (`/webhooks`, `/webhook-deliveries`): admins register endpoints that
//! receive the domain events they subscribe to, signed as Standard Webhooks are
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), with
//! every delivery and attempt on record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::Pagination;

wire_enum!(
    /// PENDING (waiting for its first or next attempt) → DELIVERED (a 2xx answer) or
    /// FAILED (no 2xx within the retry window; re-sendable).
    WebhookDeliveryStatus { Pending = "PENDING", Delivered = "DELIVERED", Failed = "FAILED" }
);

/// The event type of the ping `POST /webhooks/{id}/test` sends.
pub const WEBHOOK_TEST_EVENT: &str = "webhook.test";

/// A registered endpoint. `secret` is sent once, in the answer that created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives (`course.enrolled`…; `*`: every one).
    pub events: Vec<String>,
    /// Deliveries are made and sent only while it is active.
    pub active: bool,
    /// Set when the server disabled it after repeated failures.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// Failed attempts since its last 2xx answer.
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`): only in the answer of `POST /webhooks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `GET /webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointList {
    pub webhooks: Vec<WebhookEndpoint>,
    pub pagination: Pagination,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewWebhookEndpoint {
    /// An http(s) URL.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 2048))]
    pub url: String,
    /// Event types (`course.enrolled`, `payment.success`, `class.started`…; `*` for all).
    #[cfg_attr(feature = "server", schema(min_items = 1, max_items = 50))]
    pub events: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 200))]
    pub description: Option<String>,
}

/// `PATCH /webhooks/{id}`: what changes. `active: true` re-enables a disabled endpoint
/// (its failures are forgotten and its waiting deliveries are due at once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhookEndpoint {
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 2048))]
    pub url: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(min_items = 1, max_items = 50))]
    pub events: Option<Vec<String>>,
    /// An empty one clears it.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 200))]
    pub description: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// One delivery of one event to one endpoint; its `id` is the `webhook-id` header, the
/// same on every attempt (receivers de-duplicate by it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// `course.enrolled`…, or `webhook.test`.
    pub event_type: String,
    /// The domain event's id (none for a test ping).
    pub event_id: Option<Uuid>,
    pub status: WebhookDeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When a PENDING delivery is next tried.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's HTTP status, if an answer came.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed (no answer, a non-2xx status).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttempt {
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The receiver's HTTP status; none when no answer came.
    pub status_code: Option<i32>,
    /// What went wrong (a timeout, a refused connection, a non-2xx status).
    pub error: Option<String>,
    /// From sending the request to the answer's head (or the failure).
    pub latency_ms: i64,
    pub at: DateTime<Utc>,
}

/// `GET /webhook-deliveries/{id}`: the delivery, the exact body it sends, its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryDetail {
    pub delivery: WebhookDelivery,
    /// `{id, type, createdAt, data}` as sent.
    pub body: Value,
    /// Oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

/// `GET /webhooks/{id}/deliveries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryList {
    pub deliveries: Vec<WebhookDelivery>,
    pub pagination: Pagination,
}

/// Filters of `GET /webhooks/{id}/deliveries`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    pub status: Option<WebhookDeliveryStatus>,
}
