//! `/api/v1/courses/{id}/reviews`: students' ratings of a course. Each write recomputes
//! the course's rating and review count in the same transaction.

use actix_web::{HttpResponse, get, put, web};

use super::{created, ok};
use crate::api::{ApiResponse, PageQuery, Review, ReviewInput, ReviewList};
use crate::domain::{Fields, Rating};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{Viewer, reviews};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_reviews).service(put_my_review);
}

const COMMENT_MAX: usize = 5_000;

/// A course's reviews, newest first, to anyone who can see the course.
#[utoipa::path(
    tag = "courses",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)"), PageQuery),
    responses(
        (status = 200, description = "A page of reviews", body = ApiResponse<ReviewList>),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = reviews::list_reviews(&state, viewer.0.as_ref(), &id, page.into_inner()).await?;
    Ok(ok(list))
}

/// Writes the caller's review of a course (1–5 stars and a comment): created the first
/// time (201), replaced after (200). Only students enrolled in the course may review it.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = ReviewInput,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Review>),
        (status = 201, description = "Created", body = ApiResponse<Review>),
        (status = 400, description = "Rating not 1–5, or comment too long", body = crate::api::ErrorBody),
        (status = 403, description = "Not enrolled in the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
    )
)]
#[put("/courses/{id}/reviews/mine")]
pub async fn put_my_review(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let rating = fields.take("rating", Rating::parse(body.rating));
    let comment = body
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > COMMENT_MAX) {
        fields.push(
            "comment",
            format!("must be at most {COMMENT_MAX} characters"),
        );
    }
    fields.finish()?;
    let Some(rating) = rating else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let (review, is_new) = reviews::put_my_review(&state, &auth, &id, rating, comment).await?;
    Ok(if is_new { created(review) } else { ok(review) })
}
