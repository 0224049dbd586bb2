//! Reverting an enrollments run, one recorded change at a time.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use crate::api::{EnrollmentStatus, StaffRole};
use crate::error::ApiError;
use crate::service::catalogue;
use crate::service::enrollments::recount_students;
use crate::service::imports::RevertOutcome;
use crate::store::entity::{course, course_staff, enrollment, import_change, lesson_progress};

/// Undoes one change of an enrollments run: a created enrollment is deleted (cancelled
/// when the student has made progress in it since), a created staff row deleted, an
/// updated enrollment or staff row restored (a removed staff row put back).
pub async fn revert_change(
    txn: &DatabaseTransaction,
    change: &import_change::Model,
    outcome: &mut RevertOutcome,
) -> Result<(), ApiError> {
    let kind = change
        .before
        .as_ref()
        .and_then(|b| b["type"].as_str().map(str::to_owned));
    let enrollment = match kind.as_deref() {
        Some("staff") => None,
        _ => {
            enrollment::Entity::find_by_id(change.entity_id)
                .one(txn)
                .await?
        }
    };
    if let Some(current) = enrollment {
        catalogue::lock_course(txn, current.course_id).await?;
        match &change.before {
            None => {
                let progress = lesson_progress::Entity::find()
                    .filter(lesson_progress::Column::EnrollmentId.eq(current.id))
                    .count(txn)
                    .await?;
                if progress == 0 && current.progress_percent == 0 {
                    enrollment::Entity::delete_by_id(current.id)
                        .exec(txn)
                        .await?;
                    outcome.deleted += 1;
                } else {
                    enrollment::ActiveModel {
                        id: Set(current.id),
                        status: Set(EnrollmentStatus::Cancelled),
                        batch_id: Set(None),
                        updated_at: Set(Utc::now()),
                        ..Default::default()
                    }
                    .update(txn)
                    .await?;
                    outcome.deactivated += 1;
                }
            }
            Some(before) => {
                let status = before["status"]
                    .as_str()
                    .and_then(|s| s.parse::<crate::api::EnrollmentStatus>().ok());
                let Some(status) = status else {
                    return Err(bad_image(change));
                };
                let time = |k: &str| -> Option<DateTime<Utc>> {
                    serde_json::from_value(before[k].clone()).ok().flatten()
                };
                let batch_id: Option<Uuid> =
                    serde_json::from_value(before["batchId"].clone()).unwrap_or(None);
                enrollment::ActiveModel {
                    id: Set(current.id),
                    status: Set(status),
                    completed_at: Set(time("completedAt")),
                    expires_at: Set(time("expiresAt")),
                    batch_id: Set(batch_id),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                outcome.restored += 1;
            }
        }
        recount_students(txn, current.course_id).await?;
        return Ok(());
    }
    let staff = course_staff::Entity::find_by_id(change.entity_id)
        .one(txn)
        .await?;
    match (&change.before, staff) {
        (None, Some(s)) => {
            course_staff::Entity::delete_many()
                .filter(course_staff::Column::Id.eq(s.id))
                .filter(course_staff::Column::Role.ne(StaffRole::Owner.as_str()))
                .exec(txn)
                .await?;
            outcome.deleted += 1;
        }
        (Some(before), current) => {
            let Some(role) = before["role"]
                .as_str()
                .and_then(|s| s.parse::<crate::api::StaffRole>().ok())
            else {
                return Err(bad_image(change));
            };
            match current {
                Some(s) => {
                    course_staff::ActiveModel {
                        id: Set(s.id),
                        role: Set(role),
                        updated_at: Set(Utc::now()),
                        ..Default::default()
                    }
                    .update(txn)
                    .await?;
                }
                None => {
                    let id = |k: &str| -> Option<Uuid> {
                        serde_json::from_value(before[k].clone()).ok()
                    };
                    let (Some(course_id), Some(user_id)) = (id("courseId"), id("userId")) else {
                        return Err(bad_image(change));
                    };
                    // Put back unless the user was added again by hand since.
                    let again = course_staff::Entity::find()
                        .filter(course_staff::Column::CourseId.eq(course_id))
                        .filter(course_staff::Column::UserId.eq(user_id))
                        .count(txn)
                        .await?;
                    let course_exists = course::Entity::find_by_id(course_id).count(txn).await?;
                    if again == 0 && course_exists == 1 {
                        let now = Utc::now();
                        course_staff::ActiveModel {
                            id: Set(change.entity_id),
                            course_id: Set(course_id),
                            user_id: Set(user_id),
                            role: Set(role),
                            created_at: Set(
                                serde_json::from_value(before["createdAt"].clone()).unwrap_or(now)
                            ),
                            updated_at: Set(now),
                        }
                        .insert(txn)
                        .await?;
                    }
                }
            }
            outcome.restored += 1;
        }
        (None, None) => {}
    }
    Ok(())
}

fn bad_image(change: &import_change::Model) -> ApiError {
    anyhow::anyhow!("import change {} has a bad before-image", change.id).into()
}
