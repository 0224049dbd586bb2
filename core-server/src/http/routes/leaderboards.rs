//! Leaderboards: `/leaderboard` (the school), `/courses/{id}/leaderboard`, and whether
//! the caller appears on them.

use actix_web::{HttpResponse, get, put, web};

use super::ok;
use crate::api::{
    ApiResponse, Leaderboard, LeaderboardQuery, LeaderboardVisibility, SchoolLeaderboardQuery,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::gamification;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(school).service(course).service(visibility);
}

/// The school's leaderboard: every student's XP, this week or all time, highest first,
/// equal XP sharing a rank; students who hide are left out.
#[utoipa::path(
    tag = "leaderboards",
    security(("bearer" = [])),
    params(SchoolLeaderboardQuery),
    responses(
        (status = 200, description = "The leaderboard", body = ApiResponse<Leaderboard>),
    )
)]
#[get("/leaderboard")]
pub async fn school(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: Query<SchoolLeaderboardQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner().into();
    Ok(ok(
        gamification::leaderboard(&state, &auth, None, query).await?
    ))
}

/// A course's leaderboard (or one batch's): the XP earned in the course, for its
/// enrolled students and staff.
#[utoipa::path(
    tag = "leaderboards",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)"), LeaderboardQuery),
    responses(
        (status = 200, description = "The leaderboard", body = ApiResponse<Leaderboard>),
        (status = 403, description = "Neither enrolled in nor teaching the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/leaderboard")]
pub async fn course(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    query: Query<LeaderboardQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(gamification::leaderboard(
        &state,
        &auth,
        Some(&id),
        query.into_inner(),
    )
    .await?))
}

/// Hides the caller from every leaderboard, or shows them again.
#[utoipa::path(
    tag = "leaderboards",
    security(("bearer" = [])),
    request_body = LeaderboardVisibility,
    responses(
        (status = 200, description = "Saved", body = ApiResponse<LeaderboardVisibility>),
    )
)]
#[put("/leaderboard/visibility")]
pub async fn visibility(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<LeaderboardVisibility>,
) -> Result<HttpResponse, ApiError> {
    gamification::set_hidden(&state, &auth, body.hidden).await?;
    Ok(ok(body))
}
