//! `/api/v1/ws`: the WebSocket upgrade. Authenticated by `Authorization: Bearer` (an
//! access token or a personal access token) before upgrading — a bad token is a 401
//! answer, not a socket — or, without the header, by an `auth` message first. Tokens in
//! the URL are refused. Failed authentications count against the client's address in
//! the rate limiter; an address over the limit gets 429. The protocol is
//! [`crate::api::ClientMessage`] / [`crate::api::ServerMessage`].

pub mod connection;
mod rooms;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::auth::{bearer, client_ip};
use crate::http::extract::Query;
use crate::platform::state::AppState;
use crate::service::auth::rate_limit::{Bucket, network_of};
use connection::Peer;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(connect);
}

/// Query of the upgrade.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct WsQuery {
    /// The last notification id the client has: every later one is sent first.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub since: Option<i64>,
}

/// Opens the real-time WebSocket: notifications (replayed after `since`, then live),
/// rooms and heartbeats. Messages are JSON text frames tagged by `type`; see
/// `docs/ARCHITECTURE.md` "Real time" for the protocol.
#[utoipa::path(
    tag = "realtime",
    security(("bearer" = [])),
    params(WsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "A token in the URL, a bad `since`, or not a WebSocket upgrade", body = crate::api::ErrorBody),
        (status = 401, description = "Invalid or expired token", body = crate::api::ErrorBody),
        (status = 429, description = "Too many failed authentications from this address", body = crate::api::ErrorBody),
    )
)]
#[get("/ws")]
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: Query<WsQuery>,
) -> Result<HttpResponse, ApiError> {
    if connection::token_in_url(req.query_string()) {
        return Err(ApiError::BadRequest(
            "Tokens never go in URLs (they end up in logs): send `Authorization: Bearer <token>` on the upgrade, or an auth message first".into(),
        ));
    }
    if let Some(since) = query.since
        && since < 0
    {
        return Err(ApiError::field(
            "since",
            "must be a notification id (0 or more)",
        ));
    }
    let ip = client_ip(&req);
    let network = network_of(&ip);
    if let Some(retry_after) = state.limiter.blocked_ip(Bucket::WebSocket, &network) {
        return Err(ApiError::RateLimited { retry_after });
    }
    let peer = match bearer(&req) {
        Some(token) => match crate::service::auth::caller::authenticate(&state, &token, true).await
        {
            Ok(auth) => Some(Peer::new(auth, &token)),
            Err(err @ ApiError::Unauthorized(_)) => {
                if let Err((_, limited)) = state.limiter.check_ip(Bucket::WebSocket, &network) {
                    return Err(limited);
                }
                return Err(err);
            }
            Err(err) => return Err(err),
        },
        None => None,
    };
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::BadRequest(format!("not a WebSocket upgrade: {e}")))?;
    let state = state.get_ref().clone();
    actix_web::rt::spawn(connection::run(
        state,
        session,
        stream,
        peer,
        query.since,
        ip,
    ));
    Ok(response)
}
