//! Outgoing webhooks (admins only): `/webhooks…` (endpoints, their deliveries, a test
//! ping) and `/webhook-deliveries/…` (one delivery with its attempts; resend). Handlers
//! parse the fields and call [`crate::service::webhooks`].

use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, Deleted, NewWebhookEndpoint, PageQuery, UpdateWebhookEndpoint, WebhookDelivery,
    WebhookDeliveryDetail, WebhookDeliveryFilter, WebhookDeliveryList, WebhookEndpoint,
    WebhookEndpointList,
};
use crate::domain::{Fields, Title, WebUrl, WebhookEvents};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::webhooks::{self, EndpointChanges, NewEndpoint};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove)
        .service(deliveries)
        .service(test)
        .service(delivery)
        .service(resend);
}

/// An optional description: blank clears it, else a title's rules (≤ 200 characters,
/// no control characters).
fn description(fields: &mut Fields, raw: &str) -> Option<Option<String>> {
    if raw.trim().is_empty() {
        return Some(None);
    }
    fields
        .take("description", Title::parse(raw))
        .map(|t| Some(t.as_ref().to_owned()))
}

/// Registers an endpoint for the event types it names; the answer carries its signing
/// secret, the only time it is shown.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = NewWebhookEndpoint,
    responses(
        (status = 201, description = "Registered; `secret` is shown this once", body = ApiResponse<WebhookEndpoint>),
        (status = 400, description = "`url` is not http(s), or `events` names an unknown type", body = crate::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(input): Json<NewWebhookEndpoint>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let mut fields = Fields::default();
    let url = fields.take("url", WebUrl::parse(&input.url));
    let events = fields.take("events", WebhookEvents::parse(&input.events));
    let description = input
        .description
        .as_deref()
        .and_then(|d| description(&mut fields, d))
        .flatten();
    fields.finish()?;
    let (Some(url), Some(events)) = (url, events) else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let input = NewEndpoint {
        url,
        events,
        description,
    };
    Ok(created(webhooks::create(&state, auth.id(), input).await?))
}

/// The registered endpoints, newest first (without their secrets).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of endpoints", body = ApiResponse<WebhookEndpointList>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(webhooks::list(&state, page.into_inner()).await?))
}

/// One endpoint: its types, whether it is active, why it was disabled.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint", body = ApiResponse<WebhookEndpoint>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such webhook", body = crate::api::ErrorBody),
    )
)]
#[get("/webhooks/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(webhooks::get(&state, *id).await?))
}

/// Changes an endpoint's URL, types or description, or turns it off and on. Turning a
/// disabled endpoint on forgets its failures and sends what waits for it at once.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    request_body = UpdateWebhookEndpoint,
    responses(
        (status = 200, description = "Changed", body = ApiResponse<WebhookEndpoint>),
        (status = 400, description = "`url` is not http(s), or `events` names an unknown type", body = crate::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such webhook", body = crate::api::ErrorBody),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(input): Json<UpdateWebhookEndpoint>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let mut fields = Fields::default();
    let changes = EndpointChanges {
        url: input
            .url
            .as_deref()
            .and_then(|u| fields.take("url", WebUrl::parse(u))),
        events: input
            .events
            .as_deref()
            .and_then(|e| fields.take("events", WebhookEvents::parse(e))),
        description: input
            .description
            .as_deref()
            .and_then(|d| description(&mut fields, d)),
        active: input.active,
    };
    fields.finish()?;
    Ok(ok(webhooks::update(&state, *id, changes).await?))
}

/// Deletes an endpoint with its deliveries and their attempts.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<Deleted>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such webhook", body = crate::api::ErrorBody),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok_with(
        "Webhook deleted",
        webhooks::delete(&state, *id).await?,
    ))
}

/// An endpoint's deliveries, newest first, of one status if asked.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id"), WebhookDeliveryFilter),
    responses(
        (status = 200, description = "A page of deliveries", body = ApiResponse<WebhookDeliveryList>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such webhook", body = crate::api::ErrorBody),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    filter: Query<WebhookDeliveryFilter>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(
        webhooks::deliveries(&state, *id, filter.into_inner()).await?
    ))
}

/// Queues a `webhook.test` ping to the endpoint.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 201, description = "The ping's delivery, PENDING", body = ApiResponse<WebhookDelivery>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such webhook", body = crate::api::ErrorBody),
        (status = 422, description = "The webhook is disabled", body = crate::api::ErrorBody),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(created(webhooks::test(&state, *id).await?))
}

/// A delivery: the body it sends and every attempt (status, error, latency).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Delivery id (its `webhook-id` header)")),
    responses(
        (status = 200, description = "The delivery", body = ApiResponse<WebhookDeliveryDetail>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such delivery", body = crate::api::ErrorBody),
    )
)]
#[get("/webhook-deliveries/{id}")]
pub async fn delivery(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok(webhooks::delivery(&state, *id).await?))
}

/// Sends a delivery again (same id and body), due now with a fresh retry window.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "PENDING again", body = ApiResponse<WebhookDelivery>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "No such delivery", body = crate::api::ErrorBody),
        (status = 422, description = "Its webhook is disabled", body = crate::api::ErrorBody),
    )
)]
#[post("/webhook-deliveries/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    Ok(ok_with(
        "Queued again",
        webhooks::resend(&state, *id).await?,
    ))
}
