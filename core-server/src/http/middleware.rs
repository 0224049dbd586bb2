//! Cross-cutting HTTP layers: the request context (id, span, access log, metrics) and
//! the JSON envelope for errors that actix answers on its own (405, unmatched routes).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use tracing::Instrument;

use crate::api::{ErrorBody, ErrorCode};
use crate::error::ApiError;
use crate::service::auth::rate_limit::Quota;

/// The header carrying the request id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const RATE_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const RATE_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RATE_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Gives every request an id (the client's `x-request-id` when it is sane), runs it in a
/// span carrying that id, logs its outcome, records metrics and echoes the id back; on
/// rate-limited endpoints it adds the `X-RateLimit-*` headers of the tightest limit met.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane_request_id(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();

    // Routing needs sole ownership of the request, so it is not cloned to keep around.
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    crate::platform::metrics::record_request(&method, &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        // 503 means a dependency is down; it is logged (as a warning) where it is
        // detected, and a long outage must not flood the log with errors.
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(status = status.as_u16(), latency_ms, "request finished");
        } else if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), latency_ms, "request finished");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request finished");
        }
    });
    // An `Err` (a middleware refusing early, e.g. CORS) is turned into a response by
    // actix after this layer, so only `Ok` answers can carry the id header.
    let mut response = result?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let quota = response.request().extensions().get::<Quota>().copied();
    if let Some(quota) = quota {
        let headers = response.headers_mut();
        headers.insert(RATE_LIMIT, HeaderValue::from(quota.limit));
        headers.insert(RATE_REMAINING, HeaderValue::from(quota.remaining));
        headers.insert(RATE_RESET, HeaderValue::from(quota.reset));
    }
    Ok(response)
}

/// Accepts ids of up to 128 characters of `[A-Za-z0-9._:-]`; anything else could forge
/// log lines, so a fresh id replaces it.
fn is_sane_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Rewrites error answers that are not JSON yet (actix's own 405, 413 or 404) into the
/// envelope, so every failure a client sees has the same shape.
pub fn json_error_envelope<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, _) = res.into_parts();
    let body = envelope_for_status(status, req.method().as_str(), req.path());
    let response = HttpResponse::build(status).json(body);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body::<B>(),
    ))
}

fn envelope_for_status(status: StatusCode, method: &str, path: &str) -> ErrorBody {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            ErrorCode::NotFound,
            format!("No route for {method} {path}; see /api/v1/docs for the API"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on {path}"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "Request body is too large".into(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "Unsupported Content-Type".into(),
        ),
        s if s.is_server_error() => (ErrorCode::Internal, "Internal server error".into()),
        s => (
            ErrorCode::BadRequest,
            s.canonical_reason().unwrap_or("Bad request").to_owned(),
        ),
    };
    ErrorBody {
        success: false,
        message,
        code,
        errors: None,
        retry_after: None,
        required_scope: None,
    }
}

/// Unknown routes: 404 in the envelope.
pub async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    ApiError::NotFound(format!(
        "No route for {} {}; see /api/v1/docs for the API",
        req.method(),
        req.path()
    ))
    .error_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_that_could_forge_log_lines_are_refused() {
        assert!(is_sane_request_id("abc-123_DEF.4:5"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("a\nb"));
        assert!(!is_sane_request_id("a b"));
        assert!(!is_sane_request_id(&"a".repeat(129)));
    }
}
