//! Enrollments: finding and counting a course's students, a student's status, and the
//! batches (cohorts) students are seated in.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::api::{EnrollmentStatus, StudentRef};
use crate::error::ApiError;
use crate::store::entity::{batch, course, enrollment, user};

/// The stored status of an enrollment.
pub fn enrollment_status(e: &enrollment::Model) -> EnrollmentStatus {
    e.status.parse().unwrap_or(EnrollmentStatus::Cancelled)
}

/// The student's enrollment in the course, whatever its status.
pub async fn find_enrollment(
    db: &impl ConnectionTrait,
    course_id: Uuid,
    student_id: Uuid,
) -> Result<Option<enrollment::Model>, ApiError> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::CourseId.eq(course_id))
        .filter(enrollment::Column::StudentId.eq(student_id))
        .one(db)
        .await?)
}

/// Sets `courses.total_students` to the count of its ACTIVE and COMPLETED enrollments.
/// Call it in the transaction that changed an enrollment, after [`catalogue::lock_course`].
pub async fn recount_students(db: &impl ConnectionTrait, course_id: Uuid) -> Result<(), ApiError> {
    let count = enrollment::Entity::find()
        .filter(enrollment::Column::CourseId.eq(course_id))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]))
        .count(db)
        .await?;
    course::Entity::update_many()
        .col_expr(course::Column::TotalStudents, Expr::value(count as i32))
        .filter(course::Column::Id.eq(course_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A student as rosters show them.
pub fn student_ref(u: &user::Model) -> StudentRef {
    StudentRef {
        id: u.id,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        email: u.email.clone(),
    }
}

/// The users with these ids, by id.
pub async fn users_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// A batch by id, or 404.
pub async fn find_batch(db: &impl ConnectionTrait, id: Uuid) -> Result<batch::Model, ApiError> {
    batch::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Batch not found".into()))
}

/// Takes the batch's lock for the rest of the transaction (an UPDATE of its row, first)
/// and reads it again under the lock. 404 if it is gone.
pub async fn lock_batch(db: &impl ConnectionTrait, id: Uuid) -> Result<batch::Model, ApiError> {
    let touched = batch::Entity::update_many()
        .col_expr(batch::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(batch::Column::Id.eq(id))
        .exec(db)
        .await?;
    if touched.rows_affected == 0 {
        return Err(ApiError::NotFound("Batch not found".into()));
    }
    find_batch(db, id).await
}

pub async fn member_count(db: &impl ConnectionTrait, batch_id: Uuid) -> Result<u64, ApiError> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::BatchId.eq(batch_id))
        .count(db)
        .await?)
}

/// Seats `enrollment` in `batch` inside the caller's transaction: 409 naming `studentId`
/// when already in a batch of the course, naming `capacity` when the batch is full.
pub async fn seat(
    txn: &impl ConnectionTrait,
    batch: &batch::Model,
    enrollment: &enrollment::Model,
) -> Result<enrollment::Model, ApiError> {
    let batch = lock_batch(txn, batch.id).await?;
    let current = enrollment::Entity::find_by_id(enrollment.id)
        .one(txn)
        .await?
        .ok_or_else(not_enrolled)?;
    if !enrollment_status(&current).grants_access() {
        return Err(not_enrolled());
    }
    match current.batch_id {
        Some(id) if id == batch.id => {
            return Err(ApiError::Conflict {
                field: Some("studentId".into()),
                message: "This student is already in this batch".into(),
            });
        }
        Some(_) => {
            return Err(ApiError::Conflict {
                field: Some("studentId".into()),
                message: "This student is already in another batch of this course; remove them from it first".into(),
            });
        }
        None => {}
    }
    if let Some(capacity) = batch.capacity
        && member_count(txn, batch.id).await? >= capacity as u64
    {
        return Err(ApiError::Conflict {
            field: Some("capacity".into()),
            message: format!("Batch \"{}\" is full (capacity {capacity})", batch.name),
        });
    }
    Ok(enrollment::ActiveModel {
        id: Set(current.id),
        batch_id: Set(Some(batch.id)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(txn)
    .await?)
}

pub fn not_enrolled() -> ApiError {
    ApiError::Unprocessable(
        "Only students enrolled in the batch's course can join it; enroll them first".into(),
    )
}
