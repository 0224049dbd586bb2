//! Applying a batch's plans: every enrollment and staff write, the courses' student
//! counts, the before-images and the domain events, in one transaction that starts with
//! the locks of the courses it touches.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Write;
use crate::api::{EnrollmentStatus, StaffRole};
use crate::domain::events::{DomainEvent, EnrollmentChange};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::catalogue;
use crate::service::events;
use crate::service::imports::{self, Run};
use crate::store::constraints;
use crate::store::entity::{course_staff, enrollment};

/// A pair of the batch written by someone else since the plan: the run can be re-run.
fn clash(err: sea_orm::DbErr) -> ApiError {
    if constraints::violates(&err, &constraints::ENROLLMENTS_PAIR)
        || constraints::violates(&err, &constraints::COURSE_STAFF_PAIR)
    {
        changed_elsewhere()
    } else {
        err.into()
    }
}

/// An enrollment of the batch was made or changed by someone else between the plan of
/// the batch and its write.
fn changed_elsewhere() -> ApiError {
    ApiError::Conflict {
        field: Some("user_id".into()),
        message:
            "An enrollment of this batch was made or changed elsewhere while it was being written; run the import again"
                .into(),
    }
}

fn enrollment_image(e: &enrollment::Model) -> Value {
    json!({
        "type": "enrollment",
        "status": e.status,
        "completedAt": e.completed_at,
        "expiresAt": e.expires_at,
        "batchId": e.batch_id,
    })
}

fn staff_image(s: &course_staff::Model) -> Value {
    json!({
        "type": "staff",
        "courseId": s.course_id,
        "userId": s.user_id,
        "role": s.role,
        "createdAt": s.created_at,
    })
}

/// Writes a batch's planned rows in one transaction under its courses' locks, with
/// their before-images and events; announces the events after the commit.
pub(super) async fn apply(
    state: &AppState,
    run: &Run,
    writes: Vec<(String, Write)>,
) -> Result<(), ApiError> {
    if writes.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    // The locks of every course the batch touches, in one order, so a batch and a
    // concurrent enrollment (or another import) never deadlock.
    let courses: BTreeSet<Uuid> = writes
        .iter()
        .map(|(_, w)| match w {
            Write::Student { course_id, .. } | Write::Staff { course_id, .. } => *course_id,
        })
        .collect();
    // Each course's change in counted students (ACTIVE or COMPLETED), added to its
    // stored count by the statement that takes the locks: recounting every course of a
    // batch would read all of their enrollments again for each batch.
    let mut added: HashMap<Uuid, i32> = HashMap::new();
    for (_, write) in &writes {
        if let Write::Student {
            course_id,
            before,
            status,
            ..
        } = write
        {
            let counted = |s: Option<EnrollmentStatus>| {
                i32::from(s.is_some_and(EnrollmentStatus::grants_access))
            };
            let was = before.as_deref().map(|m| m.status);
            *added.entry(*course_id).or_default() += counted(Some(*status)) - counted(was);
        }
    }
    catalogue::lock_courses_adding_students(&txn, &courses, &added).await?;
    let mut inserts = Vec::new();
    let mut staff_inserts = Vec::new();
    let mut changes = Vec::new();
    let mut to_publish: Vec<DomainEvent> = Vec::new();
    // Moved out of a batch or off a course's staff (cancellations announce themselves
    // through their event): their sockets check their rooms after the commit.
    let mut lost_access = Vec::new();
    for (key, write) in writes {
        match write {
            Write::Student {
                line,
                course_id,
                student_id,
                before,
                status,
                completed_at,
                batch_id,
            } => {
                let was = before.as_deref().map(|m| m.status);
                let id = match &before {
                    None => {
                        let id = Uuid::now_v7();
                        inserts.push(enrollment::ActiveModel {
                            id: Set(id),
                            course_id: Set(course_id),
                            student_id: Set(student_id),
                            status: Set(status),
                            enrolled_at: Set(now),
                            completed_at: Set(completed_at),
                            expires_at: Set(None),
                            progress_percent: Set(0),
                            last_accessed_at: Set(None),
                            batch_id: Set(batch_id),
                            created_at: Set(now),
                            updated_at: Set(now),
                        });
                        changes.push(imports::change(run, line, &key, id, None));
                        id
                    }
                    Some(e) => {
                        if e.batch_id.is_some() && e.batch_id != batch_id {
                            lost_access.push(student_id);
                        }
                        let reopened = status.grants_access()
                            && !was.is_some_and(EnrollmentStatus::grants_access);
                        let mut update = enrollment::Entity::update_many()
                            .col_expr(enrollment::Column::Status, Expr::value(status.as_str()))
                            .col_expr(enrollment::Column::CompletedAt, Expr::value(completed_at))
                            .col_expr(enrollment::Column::BatchId, Expr::value(batch_id))
                            .col_expr(enrollment::Column::UpdatedAt, Expr::value(now));
                        if reopened {
                            update = update
                                .col_expr(enrollment::Column::EnrolledAt, Expr::value(now))
                                .col_expr(
                                    enrollment::Column::ExpiresAt,
                                    Expr::value(Option::<DateTime<Utc>>::None),
                                );
                        }
                        // Only from the status this batch was planned on: the counts
                        // above (and the events) assume it.
                        let updated = update
                            .filter(enrollment::Column::Id.eq(e.id))
                            .filter(enrollment::Column::Status.eq(e.status.as_str()))
                            .exec(&txn)
                            .await?;
                        if updated.rows_affected == 0 {
                            return Err(changed_elsewhere());
                        }
                        changes.push(imports::change(
                            run,
                            line,
                            &key,
                            e.id,
                            Some(enrollment_image(e)),
                        ));
                        e.id
                    }
                };
                let kind: Option<fn(EnrollmentChange) -> DomainEvent> = match (was, status) {
                    (w, s)
                        if s.grants_access() && !w.is_some_and(EnrollmentStatus::grants_access) =>
                    {
                        Some(DomainEvent::CourseEnrolled)
                    }
                    (Some(w), EnrollmentStatus::Completed) if w != EnrollmentStatus::Completed => {
                        Some(DomainEvent::EnrollmentCompleted)
                    }
                    (Some(w), s) if w.grants_access() && !s.grants_access() => {
                        Some(DomainEvent::EnrollmentCancelled)
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    to_publish.push(kind(EnrollmentChange {
                        enrollment_id: id,
                        course_id,
                        student_id,
                        actor_id: run.actor,
                    }));
                }
            }
            Write::Staff {
                line,
                course_id,
                user_id,
                before,
                role,
            } => match (&before, role) {
                (None, Some(role)) => {
                    let id = Uuid::now_v7();
                    staff_inserts.push(course_staff::ActiveModel {
                        id: Set(id),
                        course_id: Set(course_id),
                        user_id: Set(user_id),
                        role: Set(role),
                        created_at: Set(now),
                        updated_at: Set(now),
                    });
                    changes.push(imports::change(run, line, &key, id, None));
                }
                (Some(s), Some(role)) => {
                    course_staff::ActiveModel {
                        id: Set(s.id),
                        role: Set(role),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .update(&txn)
                    .await?;
                    changes.push(imports::change(run, line, &key, s.id, Some(staff_image(s))));
                }
                (Some(s), None) => {
                    lost_access.push(user_id);
                    course_staff::Entity::delete_many()
                        .filter(course_staff::Column::Id.eq(s.id))
                        .filter(course_staff::Column::Role.ne(StaffRole::Owner.as_str()))
                        .exec(&txn)
                        .await?;
                    changes.push(imports::change(run, line, &key, s.id, Some(staff_image(s))));
                }
                (None, None) => {}
            },
        }
    }
    for chunk in inserts.chunks(500) {
        enrollment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(clash)?;
    }
    for chunk in staff_inserts.chunks(1000) {
        course_staff::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(clash)?;
    }
    imports::record_changes(&txn, changes).await?;
    let published = events::publish_all(&txn, to_publish).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    state.events.announce(published);
    for user_id in lost_access {
        state
            .realtime
            .course_access_changed(&state.db, user_id)
            .await;
    }
    Ok(())
}
