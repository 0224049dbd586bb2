//! `/api/v1/courses/{id}/sections` and `/api/v1/sections/{id}`: a course's sections,
//! kept at positions 1..n through every insert, move, reorder and delete. Each change
//! runs in one transaction that first takes the course's lock (`catalogue::lock_course`).

use actix_web::{HttpResponse, delete, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, NewSection, ReorderSections, Section, UpdateSection};
use crate::domain::{Fields, Title};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::sections;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_section)
        .service(reorder_sections)
        .service(update_section)
        .service(delete_section);
}

/// Adds a section to a course (its staff and admins): appended, or inserted at
/// `position`, moving later sections down.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = NewSection,
    responses(
        (status = 201, description = "Created", body = ApiResponse<Section>),
        (status = 400, description = "Invalid title or position", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/sections")]
pub async fn create_section(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<NewSection>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let title = fields.take("title", Title::parse(&body.title));
    fields.finish()?;
    let Some(title) = title else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let section = sections::create_section(&state, &auth, &id, title, body.position).await?;
    Ok(created(section))
}

/// Renames a section or moves it to `position` (its course's staff and admins).
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Section id")),
    request_body = UpdateSection,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Section>),
        (status = 400, description = "Invalid title or position", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such section", body = crate::api::ErrorBody),
    )
)]
#[patch("/sections/{id}")]
pub async fn update_section(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateSection>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let title = match &body.title {
        Some(t) => fields.take("title", Title::parse(t)),
        None => None,
    };
    fields.finish()?;
    let section = sections::update_section(&state, &auth, *id, title, body.position).await?;
    Ok(ok(section))
}

/// Deletes a section and its lessons (its course's staff and admins); later sections
/// move up.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Section id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such section", body = crate::api::ErrorBody),
    )
)]
#[delete("/sections/{id}")]
pub async fn delete_section(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = sections::delete_section(&state, &auth, *id).await?;
    Ok(ok_with("Section deleted", json!({ "id": id })))
}

/// Puts a course's sections in the given order (its staff and admins); the list must
/// hold each of the course's sections exactly once.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body = ReorderSections,
    responses(
        (status = 200, description = "The sections in their new order", body = ApiResponse<Vec<Section>>),
        (status = 400, description = "Not exactly the course's sections", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/sections/reorder")]
pub async fn reorder_sections(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<ReorderSections>,
) -> Result<HttpResponse, ApiError> {
    let outline = sections::reorder_sections(&state, &auth, &id, &body.section_ids).await?;
    Ok(ok(outline))
}
