//! `/api/v1/courses/{id}/reviews`: students' ratings of a course. Each write recomputes
//! the course's rating and review count in the same transaction.

use actix_web::{HttpResponse, get, put, web};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

use super::{created, ok};
use crate::api::{ApiResponse, PageQuery, Pagination, Review, ReviewInput, ReviewList};
use crate::auth::AuthUser;
use crate::catalogue::{self, Viewer, course_not_found, find_course};
use crate::domain::{Fields, Rating};
use crate::entity::{review, user};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_reviews).service(put_my_review);
}

const COMMENT_MAX: usize = 5_000;

fn review_to_wire(r: &review::Model, student: &user::Model) -> Review {
    Review {
        id: r.id,
        rating: r.rating,
        comment: r.comment.clone(),
        student: catalogue::person(student),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A course's reviews, newest first, to anyone who can see the course.
#[utoipa::path(
    tag = "courses",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug"), PageQuery),
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
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let course = find_course(&state.db, &id).await?;
    let caller = viewer.0.as_ref();
    let access = catalogue::access(&state.db, caller, course.id).await?;
    if !catalogue::can_view(&state.db, &course, access, caller).await? {
        return Err(course_not_found());
    }
    let query = review::Entity::find().filter(review::Column::CourseId.eq(course.id));
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(review::Column::UpdatedAt)
        .order_by_desc(review::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    let students: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|r| r.student_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(ok(ReviewList {
        reviews: rows
            .iter()
            .filter_map(|r| Some(review_to_wire(r, students.get(&r.student_id)?)))
            .collect(),
        rating: course.rating_avg,
        total_reviews: i64::from(course.rating_count),
        pagination: Pagination::new(page.into_inner(), total),
    }))
}

/// Writes the caller's review of a course (1–5 stars and a comment): created the first
/// time (201), replaced after (200). Only students enrolled in the course may review it.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug")),
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
    let course = find_course(&state.db, &id).await?;
    let access = catalogue::access(&state.db, Some(&auth), course.id).await?;
    if !catalogue::can_view(&state.db, &course, access, Some(&auth)).await? {
        return Err(course_not_found());
    }
    if !catalogue::is_enrolled(&state.db, course.id, auth.id()).await? {
        return Err(ApiError::Forbidden(
            "Only students enrolled in this course can review it".into(),
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let now = Utc::now();
    let existing = review::Entity::find()
        .filter(review::Column::CourseId.eq(course.id))
        .filter(review::Column::StudentId.eq(auth.id()))
        .one(&txn)
        .await?;
    let is_new = existing.is_none();
    let row = match existing {
        Some(r) => {
            review::ActiveModel {
                id: Set(r.id),
                rating: Set(rating.stars()),
                comment: Set(comment.map(str::to_owned)),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?
        }
        None => review::ActiveModel {
            id: Set(Uuid::now_v7()),
            course_id: Set(course.id),
            student_id: Set(auth.id()),
            rating: Set(rating.stars()),
            comment: Set(comment.map(str::to_owned)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|err| {
            catalogue::conflict(err, "review", "You have already reviewed this course")
        })?,
    };
    catalogue::recompute_rating(&txn, course.id).await?;
    txn.commit().await?;
    let wire = review_to_wire(&row, &auth.user);
    Ok(if is_new { created(wire) } else { ok(wire) })
}
