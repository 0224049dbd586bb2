//! `Idempotency-Key` on writes: the first answer to a key is stored, and a retry with
//! the same key and the same request gets that answer again — nothing is created twice.
//!
//! - Keys are scoped to the caller (the user behind a session or personal access token),
//!   so two users can't collide or read each other's answers. A request without such
//!   credentials is not handled here: its route answers 401.
//! - Only a method a route has on the path: another (QUERY, or PUT where the path has
//!   none) gets its 405, not an idempotency verdict.
//! - The same key with a different request (method, path, query or body) is refused
//!   with 422; a retry while the first request still runs gets 409.
//! - Answers that a retry should not see again are not kept, and free the key: server
//!   errors, 401, 403, 409 and 429 (the retry may well succeed). A key whose request
//!   died (client gone, crash) is freed at once, or treated as free after 5 minutes.
//! - Not under `/api/v1/auth/` (answers hold tokens and 2FA secrets that must never be
//!   stored in clear) nor `/api/v1/imports` (streamed bodies and answers; imports are
//!   idempotent by their own row keys). Keys are kept for 24 hours.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::extract::BodyLimit;
use crate::platform::state::AppState;
use crate::service::auth::{jwt, secrets};
use crate::service::idempotency::{self, Claim, StoredAnswer};

/// The request header naming the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Paths whose writes are never stored (see the module doc).
pub(crate) const EXCLUDED_PREFIXES: [&str; 2] = ["/api/v1/auth/", "/api/v1/imports"];

/// The middleware: a no-op for reads and for writes without the header.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req
        .headers()
        .get(&IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .map(str::to_owned);
    let excluded = EXCLUDED_PREFIXES.iter().any(|p| req.path().starts_with(p));
    // Only the writes a route has; another method (QUERY, TRACE, or PUT where the path
    // has none) answers 405 rather than an idempotency verdict.
    let write = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && req
        .app_data::<web::Data<crate::http::middleware::RouteTable>>()
        .is_none_or(|table| table.may_route(req.method().as_str(), req.path()));
    let (Some(key), true, false) = (key, write, excluded) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if key.is_empty() || key.len() > 255 {
        let err = ApiError::field("Idempotency-Key", "must be 1 to 255 characters");
        return Ok(req.into_response(err.error_response()));
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Without credentials the route answers 401 before anything could be repeated; a
    // scope shared by every anonymous caller would let one replay another's answer.
    let Some(scope) = scope_of(&state, &req).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let limit = req
        .app_data::<BodyLimit>()
        .map_or(crate::platform::config::DEFAULT_BODY_LIMIT, |l| l.0);

    // Read the body to fingerprint the request, then hand it on unchanged.
    let mut body = web::BytesMut::new();
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                let err = crate::http::extract::body_error(err);
                return Ok(req.into_response(err.error_response()));
            }
        };
        if body.len() + chunk.len() > limit {
            let err =
                ApiError::PayloadTooLarge(format!("Request body is larger than {limit} bytes"));
            return Ok(req.into_response(err.error_response()));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let fingerprint = {
        let mut hash = Sha256::new();
        hash.update(req.method().as_str());
        hash.update(b" ");
        hash.update(req.uri().to_string());
        hash.update(b"\n");
        hash.update(&body);
        data_encoding::HEXLOWER.encode(&hash.finalize())
    };
    req.set_payload(Payload::from(body));

    match idempotency::claim(&state, &scope, &key, &fingerprint).await {
        Ok(Claim::Mine(id)) => {
            let mut claim = ClaimGuard {
                state: state.clone(),
                id: Some(id),
            };
            let response = next.call(req).await?.map_into_boxed_body();
            let stored = store(&state, id, response).await;
            if stored.is_ok() {
                claim.id = None;
            }
            stored
        }
        Ok(Claim::Replay(stored)) => Ok(req.into_response(replay(&stored))),
        Err(err) => Ok(req.into_response(err.error_response())),
    }
}

/// Whose key this is: the user for a valid access token, the token for a personal
/// access token; `None` without either.
async fn scope_of(state: &AppState, req: &ServiceRequest) -> Option<String> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let token = token?;
    if token.starts_with(secrets::PAT_PREFIX) {
        return Some(format!("pat:{}", &secrets::token_hash(&token)[..32]));
    }
    state
        .keys
        .verify(&token, jwt::ACCESS_AUDIENCE)
        .map(|claims| format!("user:{}", claims.sub))
}

/// Frees a claimed key if its request never finishes (the client went away, or an
/// error unwound past the middleware), so the retry is not told "still running".
struct ClaimGuard {
    state: web::Data<AppState>,
    id: Option<Uuid>,
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let state = self.state.clone();
            actix_web::rt::spawn(async move {
                if let Err(err) = idempotency::free(&state, id).await {
                    tracing::warn!(error = ?err, "could not free an abandoned Idempotency-Key");
                }
            });
        }
    }
}

/// Keeps the answer (below 500) under the claimed key, or frees the key.
async fn store(
    state: &AppState,
    id: Uuid,
    response: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, res) = response.into_parts();
    let (head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the answer to store it: {e}")))?;
    let text = std::str::from_utf8(&bytes).ok();
    let keep = !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::CONFLICT
                | StatusCode::TOO_MANY_REQUESTS
        ));
    let outcome = match (keep, text) {
        (true, Some(text)) => {
            idempotency::keep_answer(state, id, status.as_u16(), text, content_type).await
        }
        _ => idempotency::free(state, id).await,
    };
    if let Err(err) = outcome {
        tracing::error!(error = ?err, "could not record the answer for an Idempotency-Key");
    }
    let res = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(req, res))
}

fn replay(stored: &StoredAnswer) -> HttpResponse {
    let status = stored
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(content_type) = &stored.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type.as_str()));
    }
    response.insert_header((REPLAYED, HeaderValue::from_static("true")));
    response.body(stored.body.clone().unwrap_or_default())
}
