//! Outgoing webhooks (`docs/ARCHITECTURE.md` "Webhooks out").
//!
//! - **Endpoints** are registered by admins with the event types they want
//!   ([`crate::domain::WebhookEvents`]) and get a signing secret, shown once.
//! - **The outbox**: [`consumer`] turns each committed domain event into one
//!   `webhook_deliveries` row per active endpoint subscribed to its kind, in the
//!   transaction that advances its cursor (`notification_cursor` row `webhooks`), so
//!   no event makes its deliveries twice or never, whatever restarts.
//! - **Delivery**: [`drainer`] claims due rows with a conditional UPDATE and a lease (of
//!   several instances exactly one sends each attempt), POSTs the stored body signed as
//!   Standard Webhooks are ([`sign`]), logs every attempt, retries with exponential
//!   backoff for the retry window, and disables an endpoint that keeps failing (admins
//!   are notified through the `webhook.disabled` event).

pub mod consumer;
pub mod drainer;
pub mod handle;

pub use handle::Webhooks;

use chrono::{DateTime, SecondsFormat, Utc};
use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::api::{
    Deleted, PageQuery, Pagination, WEBHOOK_TEST_EVENT, WebhookAttempt, WebhookDelivery,
    WebhookDeliveryDetail, WebhookDeliveryFilter, WebhookDeliveryList, WebhookDeliveryStatus,
    WebhookEndpoint, WebhookEndpointList,
};
use crate::domain::{WebUrl, WebhookEvents};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

/// A new endpoint, parsed.
#[derive(Debug)]
pub struct NewEndpoint {
    pub url: WebUrl,
    pub events: WebhookEvents,
    pub description: Option<String>,
}

/// Changes to an endpoint, parsed; `description: Some(None)` clears it.
#[derive(Debug, Default)]
pub struct EndpointChanges {
    pub url: Option<WebUrl>,
    pub events: Option<WebhookEvents>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

/// `whsec_` and the base64 of 32 random bytes.
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", BASE64.encode(&bytes))
}

/// The `webhook-signature` value of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}`, keyed with the secret's bytes (the base64 after `whsec_`),
/// as the Standard Webhooks libraries verify it.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|encoded| BASE64.decode(encoded.as_bytes()).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        // HMAC takes a key of any length.
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", BASE64.encode(&mac.finalize().into_bytes()))
}

/// The body every attempt of a delivery sends: `{id, type, createdAt, data}`.
pub fn body(id: Uuid, kind: &str, created_at: DateTime<Utc>, data: &Value) -> String {
    json!({
        "id": id,
        "type": kind,
        "createdAt": created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

fn endpoint_view(row: webhook_endpoint::Model, secret: bool) -> WebhookEndpoint {
    WebhookEndpoint {
        id: row.id,
        url: row.url,
        description: row.description,
        events: subscribed(&row.events),
        active: row.active,
        disabled_at: row.disabled_at,
        disabled_reason: row.disabled_reason,
        consecutive_failures: row.consecutive_failures,
        created_at: row.created_at,
        updated_at: row.updated_at,
        secret: secret.then_some(row.secret),
    }
}

/// The event types a stored endpoint subscribes to.
pub(crate) fn subscribed(events: &Value) -> Vec<String> {
    events
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn delivery_view(row: webhook_delivery::Model) -> WebhookDelivery {
    WebhookDelivery {
        id: row.id,
        webhook_id: row.endpoint_id,
        event_type: row.event_type,
        event_id: row.event_id,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_status_code: row.last_status_code,
        last_error: row.last_error,
        delivered_at: row.delivered_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("Webhook not found".into())
}

async fn find(state: &AppState, id: Uuid) -> Result<webhook_endpoint::Model, ApiError> {
    webhook_endpoint::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)
}

/// Registers an endpoint; the answer carries its secret, the only time it is shown.
pub async fn create(
    state: &AppState,
    actor: Uuid,
    input: NewEndpoint,
) -> Result<WebhookEndpoint, ApiError> {
    let now = Utc::now();
    let row = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(input.url.as_ref().to_owned()),
        description: Set(input.description),
        secret: Set(new_secret()),
        events: Set(json!(input.events.into_inner())),
        active: Set(true),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        consecutive_failures: Set(0),
        failing_since: Set(None),
        created_by: Set(Some(actor)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    tracing::info!(webhook = %row.id, "webhook endpoint registered");
    Ok(endpoint_view(row, true))
}

/// A page of endpoints, newest first.
pub async fn list(state: &AppState, page: PageQuery) -> Result<WebhookEndpointList, ApiError> {
    let query = webhook_endpoint::Entity::find();
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(webhook_endpoint::Column::CreatedAt)
        .order_by_desc(webhook_endpoint::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(WebhookEndpointList {
        webhooks: rows.into_iter().map(|r| endpoint_view(r, false)).collect(),
        pagination: Pagination::new(page, total),
    })
}

/// One endpoint (without its secret).
pub async fn get(state: &AppState, id: Uuid) -> Result<WebhookEndpoint, ApiError> {
    Ok(endpoint_view(find(state, id).await?, false))
}

/// Changes an endpoint. Enabling it forgets its failures and makes its waiting
/// deliveries due now, with a fresh retry window.
pub async fn update(
    state: &AppState,
    id: Uuid,
    changes: EndpointChanges,
) -> Result<WebhookEndpoint, ApiError> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    let row = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let now = Utc::now();
    let enabling = changes.active == Some(true) && !row.active;
    let mut active: webhook_endpoint::ActiveModel = row.into();
    if let Some(url) = changes.url {
        active.url = Set(url.as_ref().to_owned());
    }
    if let Some(events) = changes.events {
        active.events = Set(json!(events.into_inner()));
    }
    if let Some(description) = changes.description {
        active.description = Set(description);
    }
    if let Some(on) = changes.active {
        active.active = Set(on);
        if on {
            active.disabled_at = Set(None);
            active.disabled_reason = Set(None);
            active.consecutive_failures = Set(0);
            active.failing_since = Set(None);
        }
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    if enabling {
        let window = chrono::Duration::from_std(state.settings.webhooks.retry_window)
            .unwrap_or(chrono::Duration::hours(24));
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(
                webhook_delivery::Column::GiveUpAt,
                Expr::value(now + window),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::EndpointId.eq(id))
            .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    if enabling {
        tracing::info!(webhook = %id, "webhook endpoint enabled");
        state.webhooks.wake();
    }
    Ok(endpoint_view(row, false))
}

/// Deletes an endpoint with its deliveries and their attempts.
pub async fn delete(state: &AppState, id: Uuid) -> Result<Deleted, ApiError> {
    let done = webhook_endpoint::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    if done.rows_affected == 0 {
        return Err(not_found());
    }
    tracing::info!(webhook = %id, "webhook endpoint deleted");
    Ok(Deleted { id })
}

/// A page of an endpoint's deliveries, newest first, of one status if asked.
pub async fn deliveries(
    state: &AppState,
    id: Uuid,
    filter: WebhookDeliveryFilter,
) -> Result<WebhookDeliveryList, ApiError> {
    find(state, id).await?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::EndpointId.eq(id));
    if let Some(status) = filter.status {
        query = query.filter(webhook_delivery::Column::Status.eq(status));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(WebhookDeliveryList {
        deliveries: rows.into_iter().map(delivery_view).collect(),
        pagination: Pagination::new(page, total),
    })
}

fn delivery_not_found() -> ApiError {
    ApiError::NotFound("Webhook delivery not found".into())
}

/// A delivery with the body it sends and every attempt, oldest first.
pub async fn delivery(state: &AppState, id: Uuid) -> Result<WebhookDeliveryDetail, ApiError> {
    let row = webhook_delivery::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(delivery_not_found)?;
    let attempts = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(id))
        .order_by_asc(webhook_attempt::Column::Attempt)
        .order_by_asc(webhook_attempt::Column::At)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| WebhookAttempt {
            attempt: a.attempt,
            status_code: a.status_code,
            error: a.error,
            latency_ms: a.latency_ms,
            at: a.at,
        })
        .collect();
    let body = serde_json::from_str(&row.body).unwrap_or(Value::Null);
    Ok(WebhookDeliveryDetail {
        delivery: delivery_view(row),
        body,
        attempts,
    })
}

/// The retry window from `now`.
fn give_up_at(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(state.settings.webhooks.retry_window)
        .unwrap_or(chrono::Duration::hours(24))
}

fn disabled(endpoint: &webhook_endpoint::Model) -> ApiError {
    ApiError::Unprocessable(format!(
        "The webhook is disabled{}; enable it first (PATCH /webhooks/{} {{\"active\": true}})",
        endpoint
            .disabled_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        endpoint.id
    ))
}

/// Sends a delivery again: the same id and body, PENDING and due now, with a fresh
/// retry window (an endpoint that is disabled must be enabled first).
pub async fn resend(state: &AppState, id: Uuid) -> Result<WebhookDelivery, ApiError> {
    let row = webhook_delivery::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(delivery_not_found)?;
    let endpoint = find(state, row.endpoint_id).await?;
    if !endpoint.active {
        return Err(disabled(&endpoint));
    }
    let now = Utc::now();
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(WebhookDeliveryStatus::Pending),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::GiveUpAt,
            Expr::value(give_up_at(state, now)),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    state.webhooks.wake();
    let row = webhook_delivery::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(delivery_not_found)?;
    Ok(delivery_view(row))
}

/// Queues a `webhook.test` ping to an (active) endpoint.
pub async fn test(state: &AppState, id: Uuid) -> Result<WebhookDelivery, ApiError> {
    let endpoint = find(state, id).await?;
    if !endpoint.active {
        return Err(disabled(&endpoint));
    }
    let now = Utc::now();
    let delivery_id = Uuid::now_v7();
    let row = webhook_delivery::ActiveModel {
        id: Set(delivery_id),
        endpoint_id: Set(id),
        event_seq: Set(None),
        event_id: Set(None),
        event_type: Set(WEBHOOK_TEST_EVENT.to_owned()),
        body: Set(body(
            delivery_id,
            WEBHOOK_TEST_EVENT,
            now,
            &json!({ "webhookId": id, "message": "A test delivery from EduPro+" }),
        )),
        status: Set(WebhookDeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        give_up_at: Set(give_up_at(state, now)),
        claimed_by: Set(None),
        claim_token: Set(None),
        lease_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    state.webhooks.wake();
    Ok(delivery_view(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_32_random_bytes_behind_a_prefix() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let bytes = BASE64
            .decode(a.strip_prefix("whsec_").expect("prefix").as_bytes())
            .expect("base64");
        assert_eq!(bytes.len(), 32);
    }
}
