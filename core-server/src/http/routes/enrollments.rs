//! `/api/v1/enrollments` and `/api/v1/courses/{id}/enrollments`: students enrolling in
//! free courses, staff enrolling and removing students, rosters, the caller's courses,
//! and lesson progress with course completion and XP.
//!
//! Every change runs in one transaction that starts with the course's lock (or the
//! enrollment's row, for progress), keeps `courses.total_students` current and writes
//! its domain event; the event is announced after the commit.

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, CourseEnrollment, CourseEnrollmentList, CourseStatus, CreatedEnrollment,
    EnrollmentFilter, EnrollmentStatus, LessonProgress, MyCourseRef, MyCourses, MyCoursesFilter,
    MyEnrollment, NewEnrollment, PageQuery, Pagination, ProgressInput, ProgressUpdate, Role,
    StaffEnrollment, StudentProfile,
};
use crate::error::ApiError;
use crate::http::extract::Json;

use crate::platform::state::AppState;
use crate::service::accounts::{find_user, role_of};
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, course_not_found, find_course, status_of};
use crate::service::enrollments::{
    enrollment_status, find_enrollment, recount_students, student_ref, users_by_id,
};
use crate::service::events::{self, Event, EventKind, StoredEvent};
use crate::store::entity::{course, enrollment, lesson, lesson_progress, user};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_enrollment)
        .service(my_courses)
        .service(record_progress)
        .service(list_course_enrollments)
        .service(enroll_student)
        .service(remove_student);
}

/// XP for a lesson's first completion.
pub const XP_PER_LESSON: i64 = 10;

/// The longest single `timeSpent` report, in seconds (a day).
const MAX_TIME_SPENT: i64 = 24 * 60 * 60;

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
        Some(existing) if enrollment_status(&existing).grants_access() => {
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
                status: Set(status.as_str().to_owned()),
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
            status: Set(EnrollmentStatus::Active.as_str().to_owned()),
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
        .map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                already_enrolled(field, actor_id == student_id)
            }
            _ => err.into(),
        })?,
    };
    recount_students(txn, course_id).await?;
    let event = events::publish(
        txn,
        Event::enrollment(
            EventKind::CourseEnrolled,
            row.id,
            course_id,
            student_id,
            actor_id,
        ),
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
        status: enrollment_status(e),
        batch_id: e.batch_id,
    }
}

fn roster_row(e: &enrollment::Model, student: &user::Model) -> CourseEnrollment {
    CourseEnrollment {
        id: e.id,
        course_id: e.course_id,
        student: student_ref(student),
        status: enrollment_status(e),
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

/// A student enrolls in a published course. Free courses only until payments exist: a
/// paid course answers 402. Enrolling again after a cancellation re-activates the
/// enrollment with its progress; enrolling while enrolled is a 409 naming `courseId`.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    request_body = NewEnrollment,
    responses(
        (status = 201, description = "Enrolled", body = ApiResponse<CreatedEnrollment>),
        (status = 402, description = "A paid course", body = crate::api::ErrorBody),
        (status = 403, description = "Not a student", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or not visible", body = crate::api::ErrorBody),
        (status = 409, description = "Already enrolled", body = crate::api::ErrorBody),
        (status = 422, description = "The course takes no new enrollments (archived)", body = crate::api::ErrorBody),
    )
)]
#[post("/enrollments")]
pub async fn create_enrollment(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewEnrollment>,
) -> Result<HttpResponse, ApiError> {
    if auth.role() != Role::Student {
        return Err(ApiError::Forbidden(
            "Only students enroll themselves; staff enroll students through POST /courses/{id}/enrollments".into(),
        ));
    }
    let course = find_course(&state.db, &body.course_id.to_string()).await?;
    let access = catalogue::access(&state.db, Some(&auth), course.id).await?;
    if !catalogue::can_view(&state.db, &course, access, Some(&auth)).await? {
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
        && enrollment_status(&existing).grants_access()
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
            "This course costs {}; paid enrollment needs a completed payment, and this server does not take payments yet",
            price_text(&course)
        )));
    }
    let (row, event) = enroll(&txn, course.id, auth.id(), auth.id(), "courseId").await?;
    txn.commit().await?;
    state.events.announce([event]);
    Ok(created(created_enrollment(&row)))
}

/// The caller's enrollments, most recent first, with each course's title and thumbnail.
/// CANCELLED ones only when asked for with `status=CANCELLED`.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(MyCoursesFilter),
    responses(
        (status = 200, description = "The caller's enrollments", body = ApiResponse<MyCourses>),
    )
)]
#[get("/enrollments/my-courses")]
pub async fn my_courses(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: web::Query<MyCoursesFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = enrollment::Entity::find().filter(enrollment::Column::StudentId.eq(auth.id()));
    query = match filter.status {
        Some(status) => query.filter(enrollment::Column::Status.eq(status.as_str())),
        None => query.filter(enrollment::Column::Status.ne(EnrollmentStatus::Cancelled.as_str())),
    };
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(enrollment::Column::EnrolledAt)
        .order_by_desc(enrollment::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    let courses: HashMap<Uuid, course::Model> = course::Entity::find()
        .filter(course::Column::Id.is_in(rows.iter().map(|e| e.course_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let enrollments = rows
        .iter()
        .filter_map(|e| {
            let c = courses.get(&e.course_id)?;
            Some(MyEnrollment {
                id: e.id,
                course_id: e.course_id,
                status: enrollment_status(e),
                progress: e.progress_percent,
                enrolled_at: e.enrolled_at,
                completed_at: e.completed_at,
                last_accessed_at: e.last_accessed_at,
                batch_id: e.batch_id,
                course: MyCourseRef {
                    title: c.title.clone(),
                    slug: c.slug.clone(),
                    thumbnail: c.thumbnail_url.clone(),
                    status: status_of(c),
                },
            })
        })
        .collect();
    Ok(ok(MyCourses {
        enrollments,
        pagination: Pagination::new(page, total),
    }))
}

/// Records the enrolled student's progress on one published lesson of the course:
/// completed or not, plus time spent (seconds, summed). Recomputes the course's
/// progress over its published lessons and marks the enrollment COMPLETED at 100 %.
/// A lesson's first completion earns [`XP_PER_LESSON`] XP, added to the student's
/// profile in the same transaction.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Enrollment id")),
    request_body = ProgressInput,
    responses(
        (status = 200, description = "Recorded", body = ApiResponse<ProgressUpdate>),
        (status = 400, description = "timeSpent out of range, or not a published lesson of the course", body = crate::api::ErrorBody),
        (status = 403, description = "Not the enrolled student", body = crate::api::ErrorBody),
        (status = 404, description = "No such enrollment", body = crate::api::ErrorBody),
        (status = 422, description = "The enrollment is cancelled or expired", body = crate::api::ErrorBody),
    )
)]
#[post("/enrollments/{id}/progress")]
pub async fn record_progress(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<ProgressInput>,
) -> Result<HttpResponse, ApiError> {
    let time_spent = body.time_spent.unwrap_or(0);
    if !(0..=MAX_TIME_SPENT).contains(&time_spent) {
        return Err(ApiError::field(
            "timeSpent",
            format!("must be between 0 and {MAX_TIME_SPENT} seconds"),
        ));
    }
    let not_found = || ApiError::NotFound("Enrollment not found".into());
    let found = enrollment::Entity::find_by_id(*id)
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
    let status = enrollment_status(&current);
    if !status.grants_access() {
        return Err(ApiError::Unprocessable(format!(
            "This enrollment is {status}; enroll again to record progress"
        )));
    }
    let lesson_ok = lesson::Entity::find_by_id(body.lesson_id)
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
        .filter(lesson_progress::Column::LessonId.eq(body.lesson_id))
        .one(&txn)
        .await?;
    let first_completion = body.completed && existing.as_ref().is_none_or(|p| p.xp_earned == 0);
    let xp = if first_completion { XP_PER_LESSON } else { 0 };
    let progress = match existing {
        Some(p) => {
            let completed_at = match (body.completed, p.completed_at) {
                (true, Some(at)) => Some(at),
                (true, None) => Some(now),
                (false, _) => None,
            };
            lesson_progress::ActiveModel {
                id: Set(p.id),
                completed: Set(body.completed),
                completed_at: Set(completed_at),
                time_spent_seconds: Set(p.time_spent_seconds + time_spent),
                xp_earned: Set(p.xp_earned + xp as i32),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?
        }
        None => lesson_progress::ActiveModel {
            id: Set(Uuid::now_v7()),
            enrollment_id: Set(current.id),
            lesson_id: Set(body.lesson_id),
            completed: Set(body.completed),
            completed_at: Set(body.completed.then_some(now)),
            time_spent_seconds: Set(time_spent),
            xp_earned: Set(xp as i32),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|err| {
            catalogue::conflict(
                err,
                "lessonId",
                "Progress for this lesson was recorded concurrently; retry",
            )
        })?,
    };
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
        update.status = Set(new_status.as_str().to_owned());
        update.completed_at = Set(Some(now));
        announced.push(
            events::publish(
                &txn,
                Event::enrollment(
                    EventKind::EnrollmentCompleted,
                    current.id,
                    current.course_id,
                    current.student_id,
                    auth.id(),
                ),
            )
            .await?,
        );
    }
    update.update(&txn).await?;
    if xp > 0 {
        add_xp(&txn, auth.id(), xp).await?;
    }
    txn.commit().await?;
    state.events.announce(announced);
    Ok(ok(ProgressUpdate {
        lesson_progress: LessonProgress {
            lesson_id: progress.lesson_id,
            completed: progress.completed,
            completed_at: progress.completed_at,
            time_spent: progress.time_spent_seconds,
        },
        course_progress: percent,
        xp_earned: xp,
        status: new_status,
    }))
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

/// Adds `xp` to a student's `totalXp`, under the user row's lock (written first), so
/// concurrent reports add up instead of overwriting each other.
async fn add_xp(db: &impl ConnectionTrait, student_id: Uuid, xp: i64) -> Result<(), ApiError> {
    let now = Utc::now();
    user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(student_id))
        .exec(db)
        .await?;
    let student = find_user(db, student_id).await?;
    if role_of(&student) != Role::Student {
        return Ok(());
    }
    let mut profile: StudentProfile = student
        .profile
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    profile.total_xp += xp;
    let profile = serde_json::to_value(profile).map_err(anyhow::Error::from)?;
    user::Entity::update_many()
        .col_expr(user::Column::Profile, Expr::value(profile))
        .filter(user::Column::Id.eq(student_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The course's roster (its staff and admins): paged, oldest enrollment first, filtered
/// by status and batch, with each student's progress.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug"), EnrollmentFilter),
    responses(
        (status = 200, description = "A page of the roster", body = ApiResponse<CourseEnrollmentList>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/enrollments")]
pub async fn list_course_enrollments(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    filter: web::Query<EnrollmentFilter>,
) -> Result<HttpResponse, ApiError> {
    let course = find_course(&state.db, &id).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
        .await?
        .require_edit()?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = enrollment::Entity::find().filter(enrollment::Column::CourseId.eq(course.id));
    if let Some(status) = filter.status {
        query = query.filter(enrollment::Column::Status.eq(status.as_str()));
    }
    if let Some(batch) = filter.batch {
        query = query.filter(enrollment::Column::BatchId.eq(batch));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(enrollment::Column::CreatedAt)
        .order_by_asc(enrollment::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    let students = users_by_id(&state.db, rows.iter().map(|e| e.student_id)).await?;
    Ok(ok(CourseEnrollmentList {
        enrollments: rows
            .iter()
            .filter_map(|e| Some(roster_row(e, students.get(&e.student_id)?)))
            .collect(),
        pagination: Pagination::new(page, total),
    }))
}

/// Enrolls a STUDENT in the course (its staff and admins), optionally into one of its
/// batches. Staff may enroll into draft and paid courses (a manual enrollment); an
/// archived course takes no one. A cancelled enrollment is re-activated.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug")),
    request_body = StaffEnrollment,
    responses(
        (status = 201, description = "Enrolled", body = ApiResponse<CreatedEnrollment>),
        (status = 400, description = "No such batch in this course", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course or user", body = crate::api::ErrorBody),
        (status = 409, description = "Already enrolled, or the batch is full", body = crate::api::ErrorBody),
        (status = 422, description = "Not a student, or the course is archived", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/enrollments")]
pub async fn enroll_student(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<StaffEnrollment>,
) -> Result<HttpResponse, ApiError> {
    let course = find_course(&state.db, &id).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
        .await?
        .require_edit()?;
    let student = find_user(&state.db, body.student_id).await?;
    if role_of(&student) != Role::Student {
        return Err(ApiError::Unprocessable(format!(
            "Only STUDENTs enroll in courses; this user is a {}",
            role_of(&student)
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
        let batch = crate::store::entity::batch::Entity::find_by_id(batch_id)
            .one(&txn)
            .await?
            .filter(|b| b.course_id == course.id)
            .ok_or_else(|| ApiError::field("batchId", "no such batch in this course"))?;
        // A full batch fails the whole enrollment: nothing of it is kept.
        row = crate::service::enrollments::seat(&txn, &batch, &row).await?;
    }
    txn.commit().await?;
    state.events.announce([event]);
    Ok(created(created_enrollment(&row)))
}

/// Removes a student from the course (its staff and admins): the enrollment becomes
/// CANCELLED, keeping its progress, and leaves its batch. Removing a removed student
/// changes nothing.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Course id or slug"),
        ("student_id" = Uuid, Path, description = "The student's user id"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = ApiResponse<CourseEnrollment>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course, or the student is not enrolled", body = crate::api::ErrorBody),
    )
)]
#[delete("/courses/{id}/enrollments/{student_id}")]
pub async fn remove_student(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (key, student_id) = path.into_inner();
    let course = find_course(&state.db, &key).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
        .await?
        .require_edit()?;
    let student = find_user(&state.db, student_id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let existing = find_enrollment(&txn, course.id, student_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("This student is not enrolled in this course".into()))?;
    if enrollment_status(&existing) == EnrollmentStatus::Cancelled {
        return Ok(ok_with("Already removed", roster_row(&existing, &student)));
    }
    let row = enrollment::ActiveModel {
        id: Set(existing.id),
        status: Set(EnrollmentStatus::Cancelled.as_str().to_owned()),
        batch_id: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    recount_students(&txn, course.id).await?;
    let event = events::publish(
        &txn,
        Event::enrollment(
            EventKind::EnrollmentCancelled,
            row.id,
            course.id,
            student_id,
            auth.id(),
        ),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([event]);
    Ok(ok_with("Student removed", roster_row(&row, &student)))
}
