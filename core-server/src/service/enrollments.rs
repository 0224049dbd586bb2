//! Enrollments: students enrolling in free courses, staff enrolling and removing
//! students, finding and counting a course's students, a student's status, and the
//! batches (cohorts) students are seated in.
//!
//! Every change runs in one transaction that starts with the course's lock (or the
//! enrollment's row, for progress), keeps `courses.total_students` current and writes
//! its domain event; the event is announced after the commit. Lesson progress and XP
//! are [`progress`], rosters and the caller's courses [`roster`], batches [`batches`].

pub mod batches;
pub mod progress;
pub mod roster;

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::api::{
    CourseEnrollment, CourseStatus, CreatedEnrollment, EnrollmentStatus, NewEnrollment, Role,
    StaffEnrollment, StudentRef,
};
use crate::domain::events::{DomainEvent, EnrollmentChange};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::find_user;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, course_not_found, find_course, status_of};
use crate::service::events::{self, StoredEvent};
use crate::store::constraints;
use crate::store::entity::{batch, course, enrollment, user};

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

/// The number of enrollments seated in the batch, whatever their status.
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
    if !current.status.grants_access() {
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

/// The answer when a student to seat in a batch is not enrolled in its course.
pub fn not_enrolled() -> ApiError {
    ApiError::Unprocessable(
        "Only students enrolled in the batch's course can join it; enroll them first".into(),
    )
}

/// Enrolls `student_id` in `course_id` inside `txn`, which holds the course lock: a new
/// enrollment, or a CANCELLED or EXPIRED one made current again (its progress kept).
/// An enrollment that already opens the course is a 409 naming `field`.
async fn enroll(
    txn: &impl ConnectionTrait,
    course_id: Uuid,
    student_id: Uuid,
    actor_id: Uuid,
    field: &str,
) -> Result<(enrollment::Model, StoredEvent), ApiError> {
    let now = Utc::now();
    let row = match find_enrollment(txn, course_id, student_id).await? {
        Some(existing) if existing.status.grants_access() => {
            return Err(already_enrolled(field, actor_id == student_id));
        }
        Some(existing) => {
            let status = if existing.completed_at.is_some() {
                EnrollmentStatus::Completed
            } else {
                EnrollmentStatus::Active
            };
            enrollment::ActiveModel {
                id: Set(existing.id),
                status: Set(status),
                enrolled_at: Set(now),
                expires_at: Set(None),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(txn)
            .await?
        }
        None => enrollment::ActiveModel {
            id: Set(Uuid::now_v7()),
            course_id: Set(course_id),
            student_id: Set(student_id),
            status: Set(EnrollmentStatus::Active),
            enrolled_at: Set(now),
            completed_at: Set(None),
            expires_at: Set(None),
            progress_percent: Set(0),
            last_accessed_at: Set(None),
            batch_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await
        .map_err(|err| {
            if constraints::violates(&err, &constraints::ENROLLMENTS_PAIR) {
                already_enrolled(field, actor_id == student_id)
            } else {
                err.into()
            }
        })?,
    };
    recount_students(txn, course_id).await?;
    let event = events::publish(
        txn,
        DomainEvent::CourseEnrolled(EnrollmentChange {
            enrollment_id: row.id,
            course_id,
            student_id,
            actor_id,
        }),
    )
    .await?;
    Ok((row, event))
}

fn already_enrolled(field: &str, self_enrolled: bool) -> ApiError {
    ApiError::Conflict {
        field: Some(field.into()),
        message: if self_enrolled {
            "You are already enrolled in this course".into()
        } else {
            "This student is already enrolled in this course".into()
        },
    }
}

fn created_enrollment(e: &enrollment::Model) -> CreatedEnrollment {
    CreatedEnrollment {
        enrollment_id: e.id,
        course_id: e.course_id,
        student_id: e.student_id,
        enrolled_at: e.enrolled_at,
        progress: e.progress_percent,
        status: e.status,
        batch_id: e.batch_id,
    }
}

/// An enrollment as a course's roster shows it, with its student.
pub fn roster_row(e: &enrollment::Model, student: &user::Model) -> CourseEnrollment {
    CourseEnrollment {
        id: e.id,
        course_id: e.course_id,
        student: student_ref(student),
        status: e.status,
        progress: e.progress_percent,
        enrolled_at: e.enrolled_at,
        completed_at: e.completed_at,
        last_accessed_at: e.last_accessed_at,
        batch_id: e.batch_id,
    }
}

/// "₹499.00"-style text of a price in minor units, for messages.
fn price_text(c: &course::Model) -> String {
    format!(
        "{} {}.{:02}",
        c.currency,
        c.effective_price / 100,
        c.effective_price % 100
    )
}

/// The calling student enrolls in a published course they can see. Free courses only: a
/// paid course is a 402 pointing at the payments; enrolled already, a 409 on `courseId`.
pub async fn enroll_self(
    state: &AppState,
    auth: &AuthUser,
    body: &NewEnrollment,
) -> Result<CreatedEnrollment, ApiError> {
    let course = find_course(&state.db, &body.course_id.to_string()).await?;
    let access = catalogue::access(&state.db, Some(auth), course.id).await?;
    if !catalogue::can_view(&state.db, &course, access, Some(auth)).await? {
        return Err(course_not_found());
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    // Re-read under the lock: the course may have been archived or repriced meanwhile.
    let course = course::Entity::find_by_id(course.id)
        .one(&txn)
        .await?
        .ok_or_else(course_not_found)?;
    if let Some(existing) = find_enrollment(&txn, course.id, auth.id()).await?
        && existing.status.grants_access()
    {
        return Err(already_enrolled("courseId", true));
    }
    match status_of(&course) {
        CourseStatus::Published => {}
        CourseStatus::Archived => {
            return Err(ApiError::Unprocessable(
                "This course is archived and takes no new enrollments".into(),
            ));
        }
        CourseStatus::Draft => return Err(course_not_found()),
    }
    if !course.is_free && course.effective_price > 0 {
        return Err(ApiError::PaymentRequired(format!(
            "This course costs {}; buy it with POST /api/v1/payments/create-order (edupro enroll asks and pays)",
            price_text(&course)
        )));
    }
    let (row, event) = enroll(&txn, course.id, auth.id(), auth.id(), "courseId").await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce([event]);
    Ok(created_enrollment(&row))
}

/// A verified payment's enrollment, in the payment's transaction (the course is locked
/// by the caller): a new or re-activated enrollment and its event, or the enrollment
/// the student already has (enrolled meanwhile by staff: the payment still stands).
pub(crate) async fn enroll_paid(
    txn: &impl ConnectionTrait,
    course_id: Uuid,
    student_id: Uuid,
) -> Result<(enrollment::Model, Option<StoredEvent>), ApiError> {
    if let Some(existing) = find_enrollment(txn, course_id, student_id).await?
        && existing.status.grants_access()
    {
        return Ok((existing, None));
    }
    let (row, event) = enroll(txn, course_id, student_id, student_id, "courseId").await?;
    Ok((row, Some(event)))
}

/// A full refund's cancellation, in the refund's transaction: the enrollment becomes
/// CANCELLED (progress kept) and leaves its batch; nothing if it is not active.
pub(crate) async fn cancel_paid(
    txn: &impl ConnectionTrait,
    course_id: Uuid,
    student_id: Uuid,
    actor_id: Uuid,
) -> Result<Option<StoredEvent>, ApiError> {
    let Some(existing) = find_enrollment(txn, course_id, student_id).await? else {
        return Ok(None);
    };
    if !existing.status.grants_access() {
        return Ok(None);
    }
    enrollment::ActiveModel {
        id: Set(existing.id),
        status: Set(EnrollmentStatus::Cancelled),
        batch_id: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(txn)
    .await?;
    recount_students(txn, course_id).await?;
    let event = events::publish(
        txn,
        DomainEvent::EnrollmentCancelled(EnrollmentChange {
            enrollment_id: existing.id,
            course_id,
            student_id,
            actor_id,
        }),
    )
    .await?;
    Ok(Some(event))
}

/// The course's staff or an admin enrolls a STUDENT, optionally into one of its
/// batches; a full batch fails the whole enrollment.
pub async fn enroll_student(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    body: &StaffEnrollment,
) -> Result<CreatedEnrollment, ApiError> {
    let course = find_course(&state.db, course_key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let student = find_user(&state.db, body.student_id).await?;
    if student.role != Role::Student {
        return Err(ApiError::Unprocessable(format!(
            "Only STUDENTs enroll in courses; this user is a {}",
            student.role
        )));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let course = course::Entity::find_by_id(course.id)
        .one(&txn)
        .await?
        .ok_or_else(course_not_found)?;
    if status_of(&course) == CourseStatus::Archived {
        return Err(ApiError::Unprocessable(
            "This course is archived and takes no new enrollments".into(),
        ));
    }
    let (mut row, event) = enroll(&txn, course.id, student.id, auth.id(), "studentId").await?;
    if let Some(batch_id) = body.batch_id {
        let batch = batch::Entity::find_by_id(batch_id)
            .one(&txn)
            .await?
            .filter(|b| b.course_id == course.id)
            .ok_or_else(|| ApiError::field("batchId", "no such batch in this course"))?;
        // A full batch fails the whole enrollment: nothing of it is kept.
        row = seat(&txn, &batch, &row).await?;
    }
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce([event]);
    Ok(created_enrollment(&row))
}

/// What removing a student did.
pub enum Removal {
    /// The enrollment is CANCELLED now.
    Removed(CourseEnrollment),
    /// It was CANCELLED already; nothing changed.
    AlreadyRemoved(CourseEnrollment),
}

/// The course's staff or an admin removes a student: the enrollment becomes CANCELLED,
/// keeping its progress, and leaves its batch.
pub async fn remove_student(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    student_id: Uuid,
) -> Result<Removal, ApiError> {
    let course = find_course(&state.db, course_key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let student = find_user(&state.db, student_id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let existing = find_enrollment(&txn, course.id, student_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("This student is not enrolled in this course".into()))?;
    if existing.status == EnrollmentStatus::Cancelled {
        return Ok(Removal::AlreadyRemoved(roster_row(&existing, &student)));
    }
    let row = enrollment::ActiveModel {
        id: Set(existing.id),
        status: Set(EnrollmentStatus::Cancelled),
        batch_id: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    recount_students(&txn, course.id).await?;
    let event = events::publish(
        &txn,
        DomainEvent::EnrollmentCancelled(EnrollmentChange {
            enrollment_id: row.id,
            course_id: course.id,
            student_id,
            actor_id: auth.id(),
        }),
    )
    .await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce([event]);
    Ok(Removal::Removed(roster_row(&row, &student)))
}
