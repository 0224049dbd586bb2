//! Sends the webhook outbox: claims due deliveries, POSTs them signed, records every
//! attempt, schedules retries, gives up at the end of the retry window, and disables an
//! endpoint that keeps failing.
//!
//! - **Claims** are one conditional UPDATE per batch (PENDING, due, its endpoint active,
//!   and not leased by a live claim) that stamps the rows with this claim's token: of
//!   several instances on one database exactly one takes each row, counts the attempt
//!   and holds it for the lease (the attempt's timeout and a minute). A claim whose
//!   instance died runs out and the delivery is tried again: delivery is at least once
//!   (receivers de-duplicate by `webhook-id`), never lost.
//! - **Attempts** of a batch run concurrently (at most [`IN_FLIGHT`]); the batch's
//!   outcomes are written in one transaction: each attempt's row, the delivery's new
//!   state, the endpoint's failure count, and — when the endpoint is disabled — the
//!   `webhook.disabled` event that notifies admins.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::WebhookDeliveryStatus;
use crate::domain::events::{DomainEvent, WebhookDisabled};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::events::{self, StoredEvent};
use crate::store::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

/// Attempts in flight at once per instance.
pub const IN_FLIGHT: usize = 16;
/// Deliveries claimed per UPDATE.
const CLAIM_BATCH: u64 = 64;
/// How much of an answer's body is read (and dropped) so its connection can be reused.
const BODY_READ_LIMIT: usize = 64 * 1024;

/// Starts this instance's drainer: it drains at once, then whenever woken (deliveries
/// committed, a resend, an endpoint enabled), when the earliest retry is due, and every
/// poll interval (what another instance or a stopped server left).
pub fn start(state: &AppState) {
    let state = state.clone();
    state.background.clone().spawn(async move {
        let poll = state.settings.webhooks.poll_interval;
        loop {
            if let Err(error) = drain(&state).await {
                tracing::warn!(%error, "the webhook drainer could not read or update its outbox");
            }
            let wait = match next_retry(&state).await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .clamp(std::time::Duration::from_millis(5), poll),
                _ => poll,
            };
            tokio::select! {
                () = state.webhooks.woken() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// When the earliest PENDING delivery waiting for a retry is due (after now).
async fn next_retry(state: &AppState) -> Result<Option<DateTime<Utc>>, ApiError> {
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::NextAttemptAt)
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.gt(Utc::now()))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(1)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(&state.db)
        .await?
        .flatten())
}

/// PENDING, due at `now`, its endpoint active, and not held by a live lease.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .add(webhook_delivery::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(webhook_delivery::Column::LeaseUntil.is_null())
                .add(webhook_delivery::Column::LeaseUntil.lt(now)),
        )
        .add(
            webhook_delivery::Column::EndpointId.in_subquery(
                Query::select()
                    .column(webhook_endpoint::Column::Id)
                    .from(webhook_endpoint::Entity)
                    .and_where(webhook_endpoint::Column::Active.eq(true))
                    .to_owned(),
            ),
        )
}

/// What one [`drain`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Sends every due delivery, a claimed batch at a time, until none is left.
pub async fn drain(state: &AppState) -> Result<Drained, ApiError> {
    let mut drained = Drained::default();
    loop {
        let now = Utc::now();
        let due: Vec<Uuid> = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(claimable(now))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(CLAIM_BATCH)
            .into_tuple()
            .all(&state.db)
            .await?;
        if due.is_empty() {
            return Ok(drained);
        }
        let token = Uuid::now_v7();
        let lease = chrono::Duration::from_std(state.settings.webhooks.lease()).unwrap_or_default();
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::ClaimedBy,
                Expr::value(state.realtime.instance),
            )
            .col_expr(webhook_delivery::Column::ClaimToken, Expr::value(token))
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(now + lease),
            )
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::col(webhook_delivery::Column::Attempts).add(1),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.is_in(due))
            .filter(claimable(now))
            .exec(&state.db)
            .await?;
        let claimed = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::ClaimToken.eq(token))
            .all(&state.db)
            .await?;
        if claimed.is_empty() {
            // Another instance took them all; look again.
            continue;
        }
        let endpoint_ids: Vec<Uuid> = claimed.iter().map(|d| d.endpoint_id).collect();
        let endpoints: HashMap<Uuid, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let sent: Vec<Sent> =
            futures_util::stream::iter(claimed.into_iter().filter_map(|delivery| {
                let endpoint = endpoints.get(&delivery.endpoint_id)?.clone();
                Some(async move {
                    let outcome = send(state, &delivery, &endpoint).await;
                    Sent {
                        delivery,
                        endpoint,
                        outcome,
                    }
                })
            }))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for status in record_all(state, &sent).await? {
            match status {
                Some(WebhookDeliveryStatus::Delivered) => drained.delivered += 1,
                Some(WebhookDeliveryStatus::Failed) => drained.failed += 1,
                Some(WebhookDeliveryStatus::Pending) => drained.retrying += 1,
                None => {}
            }
        }
    }
}

/// A claimed delivery, its endpoint, and what its attempt came to.
struct Sent {
    delivery: webhook_delivery::Model,
    endpoint: webhook_endpoint::Model,
    outcome: Outcome,
}

/// What one HTTP attempt came to.
struct Outcome {
    status_code: Option<u16>,
    error: Option<String>,
    latency_ms: i64,
}

/// POSTs the delivery's body to its endpoint, signed.
async fn send(
    state: &AppState,
    delivery: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
) -> Outcome {
    let id = delivery.id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = super::sign(&endpoint.secret, &id, timestamp, &delivery.body);
    let started = Instant::now();
    let sent = state
        .webhooks
        .http
        .post(&endpoint.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await;
    let (status_code, error) = match sent {
        Ok(mut response) => {
            let status = response.status();
            // Read (a little of) the answer so the connection can serve the next one.
            let mut read = 0;
            while read < BODY_READ_LIMIT {
                match response.chunk().await {
                    Ok(Some(chunk)) => read += chunk.len(),
                    _ => break,
                }
            }
            if status.is_success() {
                (Some(status.as_u16()), None)
            } else {
                (
                    Some(status.as_u16()),
                    Some(format!("the receiver answered {status}")),
                )
            }
        }
        Err(err) => (None, Some(describe(err))),
    };
    Outcome {
        status_code,
        error,
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    }
}

/// A failed request in words, without its URL (it may carry a token).
fn describe(err: reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut text = what.to_owned();
    let err = err.without_url();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

/// Records a batch's attempts in one transaction (on SQLite one write lock per batch,
/// not per delivery), then announces what it published; each delivery's new status
/// (`None` when its claim was lost meanwhile: deleted, or taken over after its lease).
async fn record_all(
    state: &AppState,
    sent: &[Sent],
) -> Result<Vec<Option<WebhookDeliveryStatus>>, ApiError> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    let mut statuses = Vec::with_capacity(sent.len());
    let mut announce = Vec::new();
    for s in sent {
        let (status, events) = record(state, &txn, &s.delivery, &s.endpoint, &s.outcome).await?;
        statuses.push(status);
        announce.extend(events);
    }
    txn.commit().await?;
    if !announce.is_empty() {
        state.events.announce(announce);
    }
    for (s, status) in sent.iter().zip(&statuses) {
        let Some(status) = status else { continue };
        let (delivery, webhook, attempts) = (s.delivery.id, s.endpoint.id, s.delivery.attempts);
        match (&s.outcome.error, status) {
            (None, _) => tracing::debug!(
                %delivery, %webhook, attempts,
                latency_ms = s.outcome.latency_ms, "webhook delivered"
            ),
            (Some(error), WebhookDeliveryStatus::Failed) => tracing::warn!(
                %delivery, %webhook, attempts, %error,
                "webhook delivery failed for good; it is FAILED (re-sendable)"
            ),
            (Some(error), _) => tracing::info!(
                %delivery, %webhook, attempts, %error,
                "webhook attempt failed; it will be tried again"
            ),
        }
    }
    Ok(statuses)
}

/// Writes an attempt's outcome in `txn`; the delivery's new status and the events to
/// announce after the commit.
async fn record(
    state: &AppState,
    txn: &DatabaseTransaction,
    delivery: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
    outcome: &Outcome,
) -> Result<(Option<WebhookDeliveryStatus>, Vec<StoredEvent>), ApiError> {
    let settings = &state.settings.webhooks;
    let now = Utc::now();
    let attempts = u32::try_from(delivery.attempts).unwrap_or(0);
    let status_code = outcome.status_code.map(i32::from);
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::ClaimedBy,
            Expr::value(None::<Uuid>),
        )
        .col_expr(
            webhook_delivery::Column::ClaimToken,
            Expr::value(None::<Uuid>),
        )
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(status_code),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(outcome.error.clone()),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now));
    let status = if outcome.error.is_none() {
        update = update
            .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now))
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(None::<DateTime<Utc>>),
            );
        WebhookDeliveryStatus::Delivered
    } else {
        let next = now + chrono::Duration::from_std(settings.backoff(attempts)).unwrap_or_default();
        if next > delivery.give_up_at {
            update = update.col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(None::<DateTime<Utc>>),
            );
            WebhookDeliveryStatus::Failed
        } else {
            update = update.col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next));
            WebhookDeliveryStatus::Pending
        }
    };
    let updated = update
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::ClaimToken.eq(delivery.claim_token))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok((None, Vec::new()));
    }
    webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.id),
        attempt: Set(delivery.attempts),
        status_code: Set(status_code),
        error: Set(outcome.error.clone()),
        latency_ms: Set(outcome.latency_ms),
        at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    if outcome.error.is_none() {
        // A success ends the endpoint's failing streak (a no-op when it had none).
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::ConsecutiveFailures,
                Expr::value(0),
            )
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
            .filter(
                Condition::any()
                    .add(webhook_endpoint::Column::ConsecutiveFailures.ne(0))
                    .add(webhook_endpoint::Column::FailingSince.is_not_null()),
            )
            .exec(txn)
            .await?;
        return Ok((Some(status), Vec::new()));
    }
    webhook_endpoint::Entity::update_many()
        .col_expr(
            webhook_endpoint::Column::ConsecutiveFailures,
            Expr::col(webhook_endpoint::Column::ConsecutiveFailures).add(1),
        )
        .col_expr(
            webhook_endpoint::Column::FailingSince,
            Expr::expr(Func::coalesce([
                Expr::col(webhook_endpoint::Column::FailingSince),
                Expr::val(now),
            ])),
        )
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(txn)
        .await?;
    let Some(current) = webhook_endpoint::Entity::find_by_id(endpoint.id)
        .one(txn)
        .await?
    else {
        return Ok((Some(status), Vec::new()));
    };
    let window = chrono::Duration::from_std(settings.retry_window).unwrap_or_default();
    let too_many =
        u32::try_from(current.consecutive_failures).unwrap_or(0) >= settings.disable_after;
    let too_long = current
        .failing_since
        .is_some_and(|since| since + window <= now);
    if !current.active || !(too_many || too_long) {
        return Ok((Some(status), Vec::new()));
    }
    let last = outcome.error.as_deref().unwrap_or("no answer");
    let reason = if too_many {
        format!(
            "{} failed attempts in a row; the last: {last}",
            current.consecutive_failures
        )
    } else {
        format!(
            "no successful delivery for {}; the last attempt: {last}",
            humantime(settings.retry_window)
        )
    };
    let disabled = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledAt, Expr::value(now))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason.clone()),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .filter(webhook_endpoint::Column::Active.eq(true))
        .exec(txn)
        .await?;
    if disabled.rows_affected != 1 {
        return Ok((Some(status), Vec::new()));
    }
    tracing::warn!(webhook = %endpoint.id, %reason, "webhook endpoint disabled");
    let event = events::publish(
        txn,
        DomainEvent::WebhookDisabled(WebhookDisabled {
            webhook_id: endpoint.id,
            url: current.url.clone(),
            reason,
            consecutive_failures: current.consecutive_failures,
        }),
    )
    .await?;
    Ok((Some(status), vec![event]))
}

/// `24h`, `90m`, `45s`: a duration as the settings write it.
fn humantime(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs > 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Gives back the deliveries this instance holds (at a graceful stop, whose abort may
/// have cut an attempt short), so the next start or another instance need not wait for
/// the lease to run out. The attempt was counted; it is made again.
pub async fn release(state: &AppState) -> Result<u64, ApiError> {
    let released = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::ClaimedBy,
            Expr::value(None::<Uuid>),
        )
        .col_expr(
            webhook_delivery::Column::ClaimToken,
            Expr::value(None::<Uuid>),
        )
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(webhook_delivery::Column::ClaimedBy.eq(state.realtime.instance))
        .exec(&state.db)
        .await?;
    Ok(released.rows_affected)
}
