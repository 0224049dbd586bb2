//! The activity log's writers: `/activity` (a student's heartbeats) and
//! `/activity/import` (admins' history).

use actix_web::{HttpResponse, post, web};

use super::ok;
use crate::api::{
    ActivityImport, ActivityImportReceipt, ApiResponse, HeartbeatBatch, HeartbeatReceipt,
};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::analytics::activity;
use crate::service::auth::AuthUser;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(heartbeats).service(import);
}

/// A student's heartbeats: time on a lesson's page or its video, 1–100 per request,
/// all stored or none. A heartbeat sent again is counted once; time already counted,
/// a time in the future or over a week old, and a lesson outside the student's courses
/// are refused, each naming its field (`heartbeats[3].at`). At most 30 requests a minute.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    request_body = HeartbeatBatch,
    responses(
        (status = 200, description = "Stored", body = ApiResponse<HeartbeatReceipt>),
        (status = 403, description = "Not a student", body = crate::api::ErrorBody),
        (status = 429, description = "More than 30 requests in a minute", body = crate::api::ErrorBody),
    )
)]
#[post("/activity")]
pub async fn heartbeats(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<HeartbeatBatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(activity::heartbeats(&state, &auth, body).await?))
}

/// Imports activity history (admins): 1–1000 rows, all stored or none, each naming an
/// existing user (and course or lesson) and a time in the past within the retention.
/// Rows are keyed by their `id`: importing again adds nothing. The roll-ups take the
/// rows in at their next run (or `POST /analytics/rollup`).
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    request_body = ActivityImport,
    responses(
        (status = 200, description = "Stored", body = ApiResponse<ActivityImportReceipt>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[post("/activity/import")]
pub async fn import(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<ActivityImport>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(activity::import(&state, &auth, body).await?))
}
