//! `/api/v1/courses/{id}/batches` and `/api/v1/batches/{id}`: batches (cohorts) of a
//! course and their members, for its staff and admins. A student sits in at most one
//! batch of a course (`enrollments.batch_id`). Seating a member runs under the batch's
//! lock (its row, written first), so a capacity holds however many join at once.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, Batch, BatchList, BatchMember, BatchMembers, NewBatch, NewBatchMember, UpdateBatch,
};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::enrollments::batches;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_batches)
        .service(create_batch)
        .service(update_batch)
        .service(delete_batch)
        .service(list_members)
        .service(add_member)
        .service(remove_member);
}

/// The course's batches, by name, with their member counts (its staff and admins).
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    responses(
        (status = 200, description = "The batches", body = ApiResponse<BatchList>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/batches")]
pub async fn list_batches(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(batches::list(&state, &auth, &id).await?))
}

/// Creates a batch of the course (its staff and admins). Names are unique per course.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = NewBatch,
    responses(
        (status = 201, description = "Created", body = ApiResponse<Batch>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 409, description = "Name taken in this course", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/batches")]
pub async fn create_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<NewBatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(batches::create(&state, &auth, &id, &body).await?))
}

/// Renames a batch, changes its capacity (not below its members) or dates.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = UpdateBatch,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Batch>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
        (status = 409, description = "Name taken in this course", body = crate::api::ErrorBody),
        (status = 422, description = "Capacity below the current members", body = crate::api::ErrorBody),
    )
)]
#[patch("/batches/{id}")]
pub async fn update_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateBatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(batches::update(&state, &auth, *id, &body).await?))
}

/// Deletes a batch; its members stay enrolled, in no batch.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
    )
)]
#[delete("/batches/{id}")]
pub async fn delete_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = batches::delete(&state, &auth, *id).await?;
    Ok(ok_with("Batch deleted", json!({ "id": id })))
}

/// The batch's members, by name, with their progress.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The members", body = ApiResponse<BatchMembers>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
    )
)]
#[get("/batches/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(batches::members(&state, &auth, *id).await?))
}

/// Seats an enrolled student in the batch (its course's staff and admins). A full batch
/// is a 409 naming `capacity`; a student already in a batch of the course, naming
/// `studentId`.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = NewBatchMember,
    responses(
        (status = 201, description = "Added", body = ApiResponse<BatchMember>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
        (status = 409, description = "Full, or already in a batch of the course", body = crate::api::ErrorBody),
        (status = 422, description = "The student is not enrolled in the course", body = crate::api::ErrorBody),
    )
)]
#[post("/batches/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewBatchMember>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(
        batches::add_member(&state, &auth, *id, &body).await?,
    ))
}

/// Takes a student out of the batch; they stay enrolled in the course.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Batch id"),
        ("student_id" = Uuid, Path, description = "The student's user id"),
    ),
    responses(
        (status = 200, description = "Removed", body = ApiResponse<crate::api::MemberRemoved>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch, or the student is not in it", body = crate::api::ErrorBody),
    )
)]
#[delete("/batches/{id}/members/{student_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (batch_id, student_id) = path.into_inner();
    let batch_id = batches::remove_member(&state, &auth, batch_id, student_id).await?;
    Ok(ok_with(
        "Removed from the batch",
        json!({ "studentId": student_id, "batchId": batch_id }),
    ))
}
