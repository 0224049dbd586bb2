//! `/health` (liveness and dependencies, in the original contract's shape) and `/ready`.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};

use crate::api::{Health, HealthServices, HealthStatus, Readiness};
use crate::platform::state::AppState;

/// How long a health probe waits for the database before calling it down: under the
/// 1 s a load balancer's probe typically allows, so it sees our 503 and not a timeout.
const PING_TIMEOUT: Duration = Duration::from_millis(800);

async fn database_reachable(state: &AppState) -> Result<(), String> {
    match tokio::time::timeout(PING_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            Err("database unreachable".to_owned())
        }
        Err(_) => Err(format!(
            "database unreachable: no connection within {} ms",
            PING_TIMEOUT.as_millis()
        )),
    }
}

/// Liveness and dependency state: 200 when the database answers, 503 when it does not.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Server and database are up", body = Health),
        (status = 503, description = "The database is unreachable", body = Health),
    )
)]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let reachable = database_reachable(&state).await;
    let health = Health {
        status: if reachable.is_ok() {
            HealthStatus::Ok
        } else {
            HealthStatus::Error
        },
        message: reachable.as_ref().err().cloned(),
        timestamp: chrono::Utc::now(),
        uptime: state.started.elapsed().as_secs_f64(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        environment: state.settings.environment.as_str().to_owned(),
        services: HealthServices {
            database: if reachable.is_ok() {
                "connected"
            } else {
                "disconnected"
            }
            .to_owned(),
            database_backend: state.settings.database.backend().to_owned(),
            scheduled_jobs: Some(
                if state.leadership.leads() {
                    "leader"
                } else {
                    "standby"
                }
                .to_owned(),
            ),
        },
    };
    let mut response = if reachable.is_ok() {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("cache-control", "no-store"))
        .json(health)
}

/// Readiness for load balancers: 200 when this instance can serve requests.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Readiness),
        (status = 503, description = "Not ready; `reason` says why", body = Readiness),
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match database_reachable(&state).await {
        Ok(()) => HttpResponse::Ok().json(Readiness {
            ready: true,
            reason: None,
        }),
        Err(reason) => HttpResponse::ServiceUnavailable().json(Readiness {
            ready: false,
            reason: Some(reason),
        }),
    }
}
