//! Slow bodies. actix times out a slow request head (`client_request_timeout`) but not
//! a slow body: a request announcing `Content-Length: 100` and sending 9 bytes held its
//! connection (and a worker's attention) for minutes. Every request body is read through
//! a deadline: an ordinary body must arrive whole within `EDUPRO_BODY_TIMEOUT`; a
//! streamed import upload may take as long as it needs but may not stall for longer
//! than that between two chunks. A body that misses its deadline ends in a read error
//! that the extractors answer with 408 and a closed connection.

use std::io;
use std::time::Duration;

use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

/// The request body deadline, in the app's data.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// What a body that missed its deadline reads as.
pub const TIMED_OUT: &str = "the request body did not arrive in time";

/// Whether `err` is a body that missed its deadline.
pub fn is_timeout(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// Puts the request's body behind its deadline.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let timeout = req
        .app_data::<BodyTimeout>()
        .map_or(Duration::from_secs(20), |t| t.0);
    if has_body(&req) {
        // Import uploads stream for as long as the file is; other bodies are small.
        let streamed = req.method() == Method::POST && req.path().starts_with("/api/v1/imports/");
        let whole_by = (!streamed).then(|| Instant::now() + timeout);
        let payload = req.take_payload();
        let guarded = futures_util::stream::unfold(
            (payload, false),
            move |(mut payload, ended)| async move {
                if ended {
                    return None;
                }
                let wait = match whole_by {
                    Some(at) => at.saturating_duration_since(Instant::now()).min(timeout),
                    None => timeout,
                };
                match tokio::time::timeout(wait, payload.next()).await {
                    Ok(Some(chunk)) => Some((chunk, (payload, false))),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err::<Bytes, _>(PayloadError::Io(io::Error::new(
                            io::ErrorKind::TimedOut,
                            TIMED_OUT,
                        ))),
                        (payload, true),
                    )),
                }
            },
        );
        let guarded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(guarded);
        req.set_payload(Payload::from(guarded));
    }
    next.call(req).await
}
