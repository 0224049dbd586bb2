//! `/api/v1/enrollments` and `/api/v1/courses/{id}/enrollments`: students enrolling in
//! free courses, staff enrolling and removing students, rosters, the caller's courses,
//! and lesson progress with course completion and XP.
//!
//! Each handler checks what it can without the database, then calls one function of
//! [`crate::service::enrollments`], which owns the transactions and the events.

use actix_web::{HttpResponse, delete, get, post, web};
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, CourseEnrollment, CourseEnrollmentList, CreatedEnrollment, EnrollmentFilter,
    MyCourses, MyCoursesFilter, NewEnrollment, ProgressInput, ProgressUpdate, Role,
    StaffEnrollment,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::enrollments::progress::{self, MAX_TIME_SPENT};
use crate::service::enrollments::{self, Removal, roster};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_enrollment)
        .service(my_courses)
        .service(record_progress)
        .service(list_course_enrollments)
        .service(enroll_student)
        .service(remove_student);
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
    let enrolled = enrollments::enroll_self(&state, &auth, &body).await?;
    Ok(created(enrolled))
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
    filter: Query<MyCoursesFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(roster::my_courses(&state, &auth, &filter).await?))
}

/// Records the enrolled student's progress on one published lesson of the course:
/// completed or not, plus time spent (seconds, summed). Recomputes the course's
/// progress over its published lessons and marks the enrollment COMPLETED at 100 %.
/// A lesson's first completion earns [`progress::XP_PER_LESSON`] XP, added to the student's
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
    let update = progress::record(
        &state,
        &auth,
        *id,
        body.lesson_id,
        body.completed,
        time_spent,
    )
    .await?;
    Ok(ok(update))
}

/// The course's roster (its staff and admins): paged, oldest enrollment first, filtered
/// by status and batch, with each student's progress.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)"), EnrollmentFilter),
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
    filter: Query<EnrollmentFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(roster::course_roster(&state, &auth, &id, &filter).await?))
}

/// Enrolls a STUDENT in the course (its staff and admins), optionally into one of its
/// batches. Staff may enroll into draft and paid courses (a manual enrollment); an
/// archived course takes no one. A cancelled enrollment is re-activated.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
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
    let enrolled = enrollments::enroll_student(&state, &auth, &id, &body).await?;
    Ok(created(enrolled))
}

/// Removes a student from the course (its staff and admins): the enrollment becomes
/// CANCELLED, keeping its progress, and leaves its batch. Removing a removed student
/// changes nothing.
#[utoipa::path(
    tag = "enrollments",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Course id, slug or SIS id (externalId)"),
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
    Ok(
        match enrollments::remove_student(&state, &auth, &key, student_id).await? {
            Removal::AlreadyRemoved(row) => ok_with("Already removed", row),
            Removal::Removed(row) => ok_with("Student removed", row),
        },
    )
}
