//! Connections per client address. Each accepted TCP connection takes a slot of its
//! peer's IP address (`on_connect`) and gives it back when it closes; a request on a
//! connection beyond `EDUPRO_CONNECTIONS_PER_IP` is answered 429 in the envelope and
//! its connection closed, before its body is read. A client holding hundreds of slow
//! connections therefore holds at most that many descriptors and workers' attention;
//! connections that never send a request head end at the head timeout.
//!
//! Behind a load balancer or reverse proxy every connection comes from the proxy's
//! address: raise the bound there, or set 0 to turn it off.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{Error, HttpResponse};

use crate::api::{ErrorBody, ErrorCode};

/// Open connections per address, shared by every worker.
#[derive(Clone, Default)]
pub struct ConnectionCounts {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// The slot a connection holds while it is open.
struct Slot {
    ip: IpAddr,
    counts: ConnectionCounts,
    /// Whether the address had its bound's worth of connections already.
    over: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.counts.open.lock()
            && let Some(n) = open.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl ConnectionCounts {
    /// When a connection opens: counts it against its `peer` address (`limit` 0: no
    /// bound; only the count is kept).
    pub fn on_connect(&self, peer: Option<SocketAddr>, data: &mut Extensions, limit: u32) {
        let Some(ip) = peer.map(|a| a.ip()) else {
            return;
        };
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        let n = open.entry(ip).or_insert(0);
        *n += 1;
        let over = limit > 0 && *n > limit;
        drop(open);
        data.insert(Slot {
            ip,
            counts: self.clone(),
            over,
        });
    }
}

/// Answers requests on connections beyond the bound with 429 and closes them.
pub async fn connection_limit(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let over = req.conn_data::<Slot>().is_some_and(|s| s.over);
    if !over {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let response = HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, "1"))
        .force_close()
        .json(ErrorBody {
            success: false,
            message: "Too many connections from your address; close some and retry".into(),
            code: ErrorCode::RateLimited,
            errors: None,
            retry_after: Some(1),
            required_scope: None,
        });
    Ok(req.into_response(response).map_into_right_body())
}
