//! `/metrics`: Prometheus text exposition.

use actix_web::{HttpResponse, get, web};

use crate::platform::state::AppState;

/// Request counters, latency histograms and database pool gauges, for Prometheus.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let handle = crate::platform::metrics::handle();
    let (in_use, idle) = crate::store::db::pool_usage(&state.db);
    crate::platform::metrics::record_pool(in_use, idle);
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
