//! Lesson progress: an enrolled student's report on one lesson, the course progress it
//! adds up to (COMPLETED at 100 %), and the XP a lesson's first completion earns.

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::api::{EnrollmentStatus, LessonProgress, ProgressUpdate};
use crate::domain::events::{DomainEvent, EnrollmentChange};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::events;
use crate::service::gamification::{self, Award, Rule};
use crate::store::entity::{enrollment, lesson, lesson_progress};

/// XP for a lesson's first completion (the rules table's, kept on the lesson's row too).
pub const XP_PER_LESSON: i64 = Rule::LessonCompleted.points() as i64;

/// The longest single `timeSpent` report, in seconds (a day).
pub const MAX_TIME_SPENT: i64 = 24 * 60 * 60;

/// Records the calling student's progress on one published lesson of their enrollment's
/// course (`time_spent` already checked against [`MAX_TIME_SPENT`]), recomputes the
/// course progress, and adds [`XP_PER_LESSON`] on a first completion, in one transaction.
pub async fn record(
    state: &AppState,
    auth: &AuthUser,
    enrollment_id: Uuid,
    lesson_id: Uuid,
    completed: bool,
    time_spent: i64,
) -> Result<ProgressUpdate, ApiError> {
    let not_found = || ApiError::NotFound("Enrollment not found".into());
    let found = enrollment::Entity::find_by_id(enrollment_id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    if found.student_id != auth.id() {
        return Err(ApiError::Forbidden(
            "Only the enrolled student records their progress".into(),
        ));
    }
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    // Writing first locks the enrollment: one student's reports queue, never interleave.
    enrollment::Entity::update_many()
        .col_expr(enrollment::Column::LastAccessedAt, Expr::value(now))
        .col_expr(enrollment::Column::UpdatedAt, Expr::value(now))
        .filter(enrollment::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    let current = enrollment::Entity::find_by_id(found.id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let status = current.status;
    if !status.grants_access() {
        return Err(ApiError::Unprocessable(format!(
            "This enrollment is {status}; enroll again to record progress"
        )));
    }
    let lesson_ok = lesson::Entity::find_by_id(lesson_id)
        .filter(lesson::Column::CourseId.eq(current.course_id))
        .filter(lesson::Column::IsPublished.eq(true))
        .one(&txn)
        .await?
        .is_some();
    if !lesson_ok {
        return Err(ApiError::field(
            "lessonId",
            "is not a published lesson of this enrollment's course",
        ));
    }
    let existing = lesson_progress::Entity::find()
        .filter(lesson_progress::Column::EnrollmentId.eq(current.id))
        .filter(lesson_progress::Column::LessonId.eq(lesson_id))
        .one(&txn)
        .await?;
    let first_completion = completed && existing.as_ref().is_none_or(|p| p.xp_earned == 0);
    let xp = if first_completion { XP_PER_LESSON } else { 0 };
    let progress = match existing {
        Some(p) => {
            let completed_at = match (completed, p.completed_at) {
                (true, Some(at)) => Some(at),
                (true, None) => Some(now),
                (false, _) => None,
            };
            lesson_progress::ActiveModel {
                id: Set(p.id),
                completed: Set(completed),
                completed_at: Set(completed_at),
                time_spent_seconds: Set(p.time_spent_seconds + time_spent),
                xp_earned: Set(p.xp_earned + xp as i32),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?
        }
        None => {
            lesson_progress::ActiveModel {
                id: Set(Uuid::now_v7()),
                enrollment_id: Set(current.id),
                lesson_id: Set(lesson_id),
                completed: Set(completed),
                completed_at: Set(completed.then_some(now)),
                time_spent_seconds: Set(time_spent),
                xp_earned: Set(xp as i32),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    record_activity(&txn, &current, lesson_id, completed, time_spent, now).await?;
    let percent = course_progress(&txn, current.id, current.course_id).await?;
    let mut update = enrollment::ActiveModel {
        id: Set(current.id),
        progress_percent: Set(percent),
        ..Default::default()
    };
    let mut announced = Vec::new();
    let mut new_status = status;
    if percent == 100 && status == EnrollmentStatus::Active {
        new_status = EnrollmentStatus::Completed;
        update.status = Set(new_status);
        update.completed_at = Set(Some(now));
        announced.push(
            events::publish(
                &txn,
                DomainEvent::EnrollmentCompleted(EnrollmentChange {
                    enrollment_id: current.id,
                    course_id: current.course_id,
                    student_id: current.student_id,
                    actor_id: auth.id(),
                }),
            )
            .await?,
        );
    }
    update.update(&txn).await?;
    // Any report is a day's learning activity (the streak); completions earn XP once.
    let mut awards = Vec::new();
    if completed {
        let cause = format!("lesson:{lesson_id}");
        awards.push(Award::new(
            Rule::LessonCompleted,
            cause,
            Some(current.course_id),
        ));
    }
    if new_status == EnrollmentStatus::Completed {
        let cause = format!("course:{}", current.course_id);
        awards.push(Award::new(
            Rule::CourseCompleted,
            cause,
            Some(current.course_id),
        ));
    }
    let earned = gamification::award(&txn, current.student_id, &awards).await?;
    txn.commit().await?;
    let xp = earned.xp;
    // In commit (seq) order: the completion was published before the awards' events.
    state.events.announce(announced);
    earned.announce(state).await;
    Ok(ProgressUpdate {
        lesson_progress: LessonProgress {
            lesson_id: progress.lesson_id,
            completed: progress.completed,
            completed_at: progress.completed_at,
            time_spent: progress.time_spent_seconds,
        },
        course_progress: percent,
        xp_earned: xp,
        status: new_status,
    })
}

/// Completed published lessons over the course's published lessons, as a whole
/// percentage rounded down (so 100 means every one); 0 for a course without any.
async fn course_progress(
    db: &impl ConnectionTrait,
    enrollment_id: Uuid,
    course_id: Uuid,
) -> Result<i32, ApiError> {
    let published = || {
        Query::select()
            .column(lesson::Column::Id)
            .from(lesson::Entity)
            .and_where(lesson::Column::CourseId.eq(course_id))
            .and_where(lesson::Column::IsPublished.eq(true))
            .to_owned()
    };
    let total = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course_id))
        .filter(lesson::Column::IsPublished.eq(true))
        .count(db)
        .await?;
    if total == 0 {
        return Ok(0);
    }
    let done = lesson_progress::Entity::find()
        .filter(lesson_progress::Column::EnrollmentId.eq(enrollment_id))
        .filter(lesson_progress::Column::Completed.eq(true))
        .filter(lesson_progress::Column::LessonId.in_subquery(published()))
        .count(db)
        .await?;
    Ok((done * 100 / total) as i32)
}

/// The report in the activity log: the lesson opened (once a day), the time spent, and
/// its completion (once).
async fn record_activity(
    txn: &impl sea_orm::ConnectionTrait,
    enrollment: &enrollment::Model,
    lesson_id: Uuid,
    completed: bool,
    time_spent: i64,
    now: chrono::DateTime<Utc>,
) -> Result<(), ApiError> {
    use crate::api::ActivityKind;
    use crate::service::analytics::activity::{NewActivity, derived_key, record};
    let row = |key: Uuid, kind: ActivityKind| NewActivity {
        course_id: Some(enrollment.course_id),
        lesson_id: Some(lesson_id),
        ..NewActivity::new(enrollment.student_id, key, kind, now)
    };
    let mut rows = vec![row(
        derived_key(&format!("opened:{lesson_id}:{}", now.date_naive())),
        ActivityKind::LessonOpened,
    )];
    if time_spent > 0 {
        rows.push(NewActivity {
            seconds: time_spent.min(86_400) as i32,
            ..row(Uuid::now_v7(), ActivityKind::LessonTime)
        });
    }
    if completed {
        rows.push(row(
            derived_key(&format!("completed:{lesson_id}:{}", enrollment.id)),
            ActivityKind::LessonCompleted,
        ));
    }
    record(txn, &rows).await?;
    Ok(())
}
