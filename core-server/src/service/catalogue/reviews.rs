//! Students' reviews of a course (one each, 1–5 stars) and the rating they add up to;
//! each write recomputes the course's rating and review count in its transaction.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{course_not_found, find_course};
use crate::api::{PageQuery, Pagination, Review, ReviewList};
use crate::domain::events::{CourseReviewed, DomainEvent};
use crate::domain::{Rating, rating};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::{catalogue, events};
use crate::store::entity::{course, review, user};

/// Recomputes the course's rating and review count from its reviews. Call it in the
/// transaction that wrote a review, after [`lock_course`].
pub async fn recompute_rating(db: &impl ConnectionTrait, course_id: Uuid) -> Result<(), ApiError> {
    let (count, total): (i64, Option<i64>) = review::Entity::find()
        .select_only()
        .column_as(review::Column::Id.count(), "count")
        .column_as(review::Column::Rating.sum(), "total")
        .filter(review::Column::CourseId.eq(course_id))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    course::Entity::update_many()
        .col_expr(
            course::Column::RatingAvg,
            Expr::value(rating::average(total.unwrap_or(0), count)),
        )
        .col_expr(course::Column::RatingCount, Expr::value(count as i32))
        .filter(course::Column::Id.eq(course_id))
        .exec(db)
        .await?;
    Ok(())
}

fn review_to_wire(r: &review::Model, student: &user::Model) -> Review {
    Review {
        id: r.id,
        rating: r.rating,
        comment: r.comment.clone(),
        student: super::person(student),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A page of the course's reviews, newest first, to anyone who can see the course.
pub async fn list_reviews(
    state: &AppState,
    caller: Option<&AuthUser>,
    key: &str,
    page: PageQuery,
) -> Result<ReviewList, ApiError> {
    let course = find_course(&state.db, key).await?;
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
    Ok(ReviewList {
        reviews: rows
            .iter()
            .filter_map(|r| Some(review_to_wire(r, students.get(&r.student_id)?)))
            .collect(),
        rating: course.rating_avg,
        total_reviews: i64::from(course.rating_count),
        pagination: Pagination::new(page, total),
    })
}

/// Writes the caller's review of the course (only enrolled students may) and recomputes
/// its rating. Answers the review and whether it is new (created, not replaced).
pub async fn put_my_review(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    rating: Rating,
    comment: Option<&str>,
) -> Result<(Review, bool), ApiError> {
    let course = find_course(&state.db, key).await?;
    let access = catalogue::access(&state.db, Some(auth), course.id).await?;
    if !catalogue::can_view(&state.db, &course, access, Some(auth)).await? {
        return Err(course_not_found());
    }
    if !catalogue::is_enrolled(&state.db, course.id, auth.id()).await? {
        return Err(ApiError::Forbidden(
            "Only students enrolled in this course can review it".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
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
        None => {
            review::ActiveModel {
                id: Set(Uuid::now_v7()),
                course_id: Set(course.id),
                student_id: Set(auth.id()),
                rating: Set(rating.stars()),
                comment: Set(comment.map(str::to_owned)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    catalogue::recompute_rating(&txn, course.id).await?;
    let event = events::publish(
        &txn,
        DomainEvent::CourseReviewed(CourseReviewed {
            review_id: row.id,
            course_id: course.id,
            title: course.title.clone(),
            rating: row.rating,
            actor_id: auth.id(),
        }),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([event]);
    crate::service::catalogue::catalogue_changed(state).await;
    Ok((review_to_wire(&row, &auth.user), is_new))
}
