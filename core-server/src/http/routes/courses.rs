//! `/api/v1/courses`: the catalogue's listing and search, one course with its outline,
//! creating and editing courses, their status (publish, archive) and their staff.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, Course, CourseFilter, CourseList, CourseStatus, CreatedCourse, NewCourse,
    NewStaffMember, Role, StaffMember, StaffRole, UpdateCourse,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{Viewer, courses, staff};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_courses)
        .service(create_course)
        .service(get_course)
        .service(update_course)
        .service(delete_course)
        .service(publish_course)
        .service(archive_course)
        .service(list_staff)
        .service(add_staff)
        .service(remove_staff);
}

/// Courses the caller may see, filtered, searched, sorted and paged. Anonymous callers
/// and students see published courses; teachers also the courses they staff; admins all.
#[utoipa::path(
    tag = "courses",
    security((), ("bearer" = [])),
    params(CourseFilter),
    responses(
        (status = 200, description = "A page of courses", body = ApiResponse<CourseList>),
        (status = 400, description = "A filter is malformed", body = crate::api::ErrorBody),
    )
)]
#[get("/courses")]
pub async fn list_courses(
    state: web::Data<AppState>,
    viewer: Viewer,
    filter: Query<CourseFilter>,
) -> Result<HttpResponse, ApiError> {
    let list = courses::list_courses(&state, viewer.0.as_ref(), filter.into_inner()).await?;
    Ok(ok(&*list))
}

/// One course by id or slug, with its sections and the lessons the caller may see
/// (unpublished lessons only to staff and admins). Drafts are 404 to everyone else.
#[utoipa::path(
    tag = "courses",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    responses(
        (status = 200, description = "The course", body = ApiResponse<Course>),
        (status = 404, description = "No such course, or not visible to the caller", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}")]
pub async fn get_course(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let course = courses::get_course(&state, viewer.0.as_ref(), &id).await?;
    Ok(ok(course))
}

/// Creates a DRAFT course (teachers and admins); the creator becomes its OWNER. The slug
/// comes from the title, numbered when taken (`intro-to-rust-2`), unless one is given.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = NewCourse,
    responses(
        (status = 201, description = "Created", body = ApiResponse<CreatedCourse>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not a teacher or admin", body = crate::api::ErrorBody),
        (status = 409, description = "The given slug is taken", body = crate::api::ErrorBody),
    )
)]
#[post("/courses")]
pub async fn create_course(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewCourse>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Teacher, Role::Admin])?;
    let course = courses::create_course(&state, &auth, body).await?;
    Ok(created(course))
}

/// Changes any field of a course (its staff and admins), `status` included.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = UpdateCourse,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Course>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 409, description = "Slug taken", body = crate::api::ErrorBody),
        (status = 422, description = "Illegal status change, or publishing without a published lesson", body = crate::api::ErrorBody),
    )
)]
#[patch("/courses/{id}")]
pub async fn update_course(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<UpdateCourse>,
) -> Result<HttpResponse, ApiError> {
    let course = courses::update_course(&state, &auth, &id, body).await?;
    Ok(ok(course))
}

/// Publishes a course (its staff and admins): it needs at least one published lesson.
/// `publishedAt` is set the first time.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    responses(
        (status = 200, description = "Published", body = ApiResponse<Course>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 422, description = "No published lesson, or not from DRAFT or ARCHIVED", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/publish")]
pub async fn publish_course(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let course = courses::change_status(&state, &auth, &id, CourseStatus::Published).await?;
    Ok(ok_with("Course published", course))
}

/// Archives a published course (its staff and admins): it leaves the catalogue.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    responses(
        (status = 200, description = "Archived", body = ApiResponse<Course>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 422, description = "Not published", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/archive")]
pub async fn archive_course(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let course = courses::change_status(&state, &auth, &id, CourseStatus::Archived).await?;
    Ok(ok_with("Course archived", course))
}

/// Deletes a course with its sections, lessons, staff and reviews (its owner and admins).
/// A course with enrollments (of any status) is a 409: archive it instead.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 403, description = "Not the owner", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
        (status = 409, description = "The course has enrollments", body = crate::api::ErrorBody),
    )
)]
#[delete("/courses/{id}")]
pub async fn delete_course(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = courses::delete_course(&state, &auth, &id).await?;
    Ok(ok_with("Course deleted", json!({ "id": id })))
}

/// The course's staff, owner first (to its staff and admins).
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    responses(
        (status = 200, description = "The staff", body = ApiResponse<Vec<StaffMember>>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = staff::list_staff(&state, &auth, &id).await?;
    Ok(ok(staff))
}

/// Adds a TEACHER to the course's staff as CO_TEACHER or TA (its owner and admins).
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = NewStaffMember,
    responses(
        (status = 201, description = "Added", body = ApiResponse<StaffMember>),
        (status = 400, description = "Role is not CO_TEACHER or TA", body = crate::api::ErrorBody),
        (status = 403, description = "Not the owner", body = crate::api::ErrorBody),
        (status = 404, description = "No such course or user", body = crate::api::ErrorBody),
        (status = 409, description = "Already on the staff", body = crate::api::ErrorBody),
        (status = 422, description = "The user is not a teacher", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/staff")]
pub async fn add_staff(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<NewStaffMember>,
) -> Result<HttpResponse, ApiError> {
    if body.role == StaffRole::Owner {
        return Err(ApiError::field(
            "role",
            "must be CO_TEACHER or TA; a course has one OWNER, its creator",
        ));
    }
    let member = staff::add_staff(&state, &auth, &id, body.user_id, body.role).await?;
    Ok(created(member))
}

/// Removes someone from the course's staff: its owner and admins remove anyone but the
/// owner; a co-teacher or TA may remove themselves.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Course id, slug or SIS id (externalId)"),
        ("user_id" = Uuid, Path, description = "The staff member's user id"),
    ),
    responses(
        (status = 200, description = "Removed", body = ApiResponse<crate::api::StaffRemoved>),
        (status = 403, description = "Not the owner", body = crate::api::ErrorBody),
        (status = 404, description = "Not on the staff", body = crate::api::ErrorBody),
        (status = 422, description = "The owner can't be removed", body = crate::api::ErrorBody),
    )
)]
#[delete("/courses/{id}/staff/{user_id}")]
pub async fn remove_staff(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (key, user_id) = path.into_inner();
    staff::remove_staff(&state, &auth, &key, user_id).await?;
    Ok(ok_with(
        "Removed from the staff",
        json!({ "userId": user_id }),
    ))
}
