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
    // The API scope's own 404 for a path it has under another method.
    if status == StatusCode::NOT_FOUND
        && let Some(response) = method_not_allowed(&req)
    {
        return Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, response).map_into_right_body::<B>(),
        ));
    }
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

/// The methods of each documented path, from the OpenAPI document: what the default
/// service tells a request whose path exists but whose method does not.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Each path template's segments and its methods, upper case.
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// A parameter; what the document says of its values, where that tells templates
    /// of one shape apart (`/imports/{kind}`, a name, and `/imports/{id}`, a UUID).
    Param {
        values: Option<Vec<String>>,
        uuid: bool,
    },
}

impl Segment {
    fn matches(&self, segment: &str, strict: bool) -> bool {
        match self {
            Self::Literal(literal) => literal == segment,
            Self::Param { .. } if segment.is_empty() => false,
            Self::Param { .. } if !strict => true,
            Self::Param { values, uuid } => {
                values
                    .as_ref()
                    .is_none_or(|values| values.iter().any(|v| v == segment))
                    && (!uuid || uuid::Uuid::parse_str(segment).is_ok())
            }
        }
    }
}

impl RouteTable {
    /// The table of `(path template, methods)` pairs; `param` describes a template's
    /// parameter by name.
    pub fn new<'a>(
        routes: impl IntoIterator<Item = (&'a str, Vec<String>)>,
        param: impl Fn(&str, &str) -> Segment,
    ) -> Self {
        let routes = routes
            .into_iter()
            .map(|(path, methods)| {
                let segments = path
                    .split('/')
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => param(path, name),
                            None => Segment::Literal(s.to_owned()),
                        },
                    )
                    .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods of the documented paths `path` matches most specifically: a literal
    /// segment beats a parameter (`/live-classes/calendar-token` is not
    /// `/live-classes/{id}`); equally specific templates pool their methods. Templates
    /// whose parameters' values fit are preferred to those that only have the shape.
    fn methods(&self, path: &str) -> Vec<&str> {
        let strict = self.matching(path, true);
        if strict.is_empty() {
            self.matching(path, false)
        } else {
            strict
        }
    }

    fn matching(&self, path: &str, strict: bool) -> Vec<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<Vec<bool>> = None;
        let mut methods: Vec<&str> = Vec::new();
        for (template, listed) in &self.routes {
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.matches(s, strict));
            if !matches {
                continue;
            }
            let shape: Vec<bool> = template
                .iter()
                .map(|t| matches!(t, Segment::Param { .. }))
                .collect();
            match &best {
                Some(b) if *b < shape => continue,
                Some(b) if *b == shape => {}
                _ => {
                    best = Some(shape);
                    methods.clear();
                }
            }
            methods.extend(listed.iter().map(String::as_str));
        }
        methods
    }

    /// Whether a route may answer `method` on `path`: a documented one, or a path the
    /// document does not know (the viewer, the WebSocket), which routing decides.
    pub fn may_route(&self, method: &str, path: &str) -> bool {
        let methods = self.methods(path);
        methods.is_empty() || methods.contains(&method)
    }

    /// The methods of the documented path `path` matches, if one does.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let mut methods = self.methods(path);
        if methods.is_empty() {
            return None;
        }
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
    }
}

/// Answers 405 with `Allow`, before routing, a request whose path the document lists
/// under other methods: otherwise a route of a less specific path could take it (PATCH
/// `/live-classes/calendar-token` reaching `/live-classes/{id}`'s, a 400), or it would
/// fall through to a 404.
pub async fn method_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refused = req
        .app_data::<actix_web::web::Data<RouteTable>>()
        .is_some_and(|table| !table.may_route(req.method().as_str(), req.path()));
    if refused && let Some(response) = method_not_allowed(req.request()) {
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// 405 with `Allow` for a request whose path is documented under other methods.
fn method_not_allowed(req: &actix_web::HttpRequest) -> Option<HttpResponse> {
    let allowed = req
        .app_data::<actix_web::web::Data<RouteTable>>()
        .and_then(|table| table.allowed(req.path()))?;
    let mut response = ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}; it allows {allowed}",
        req.method(),
        req.path()
    ))
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Some(response)
}

/// Unknown routes: 404 in the envelope; a documented path with a method it does not
/// have, 405 with `Allow`.
pub async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    if let Some(response) = method_not_allowed(&req) {
        return response;
    }
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
