//! `/api/v1/courses/{id}/sections` and `/api/v1/sections/{id}`: a course's sections,
//! kept at positions 1..n through every insert, move, reorder and delete. Each change
//! runs in one transaction that first takes the course's lock (`catalogue::lock_course`).

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, patch, post, web};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, NewSection, ReorderSections, Section, UpdateSection};
use crate::auth::AuthUser;
use crate::catalogue::{self, find_course, find_section};
use crate::domain::{Fields, Title};
use crate::entity::section;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_section)
        .service(reorder_sections)
        .service(update_section)
        .service(delete_section);
}

fn positions(sections: &[section::Model]) -> HashMap<Uuid, i32> {
    sections.iter().map(|s| (s.id, s.position)).collect()
}

/// Adds a section to a course (its staff and admins): appended, or inserted at
/// `position`, moving later sections down.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug")),
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
    let course = find_course(&state.db, &id).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let existing = catalogue::sections_of(&txn, course.id).await?;
    let index = catalogue::insert_index(body.position, existing.len())?;
    let now = Utc::now();
    let new_id = Uuid::now_v7();
    let mut order: Vec<Uuid> = existing.iter().map(|s| s.id).collect();
    order.insert(index, new_id);
    // Make room first, then insert at the freed position.
    let mut old = positions(&existing);
    old.insert(new_id, index as i32 + 1);
    catalogue::renumber_sections(&txn, &old, &order).await?;
    let row = section::ActiveModel {
        id: Set(new_id),
        course_id: Set(course.id),
        title: Set(title.as_ref().to_owned()),
        position: Set(index as i32 + 1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created(Section {
        id: row.id,
        title: row.title,
        order: row.position,
        lessons: Vec::new(),
    }))
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
    let found = find_section(&state.db, *id).await?;
    catalogue::access(&state.db, Some(&auth), found.course_id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let existing = catalogue::sections_of(&txn, found.course_id).await?;
    let Some(from) = existing.iter().position(|s| s.id == found.id) else {
        return Err(ApiError::NotFound("Section not found".into()));
    };
    if let Some(position) = body.position {
        let to = catalogue::move_index(position, existing.len())?;
        let mut order: Vec<Uuid> = existing.iter().map(|s| s.id).collect();
        let moved = order.remove(from);
        order.insert(to, moved);
        catalogue::renumber_sections(&txn, &positions(&existing), &order).await?;
    }
    if let Some(title) = title {
        section::ActiveModel {
            id: Set(found.id),
            title: Set(title.as_ref().to_owned()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    let row = find_section(&txn, found.id).await?;
    let wire = catalogue::section_to_wire(&txn, &row, true).await?;
    txn.commit().await?;
    Ok(ok(wire))
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
    let found = find_section(&state.db, *id).await?;
    catalogue::access(&state.db, Some(&auth), found.course_id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let deleted = section::Entity::delete_by_id(found.id).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound("Section not found".into()));
    }
    let rest = catalogue::sections_of(&txn, found.course_id).await?;
    let order: Vec<Uuid> = rest.iter().map(|s| s.id).collect();
    catalogue::renumber_sections(&txn, &positions(&rest), &order).await?;
    txn.commit().await?;
    Ok(ok_with("Section deleted", json!({ "id": found.id })))
}

/// Puts a course's sections in the given order (its staff and admins); the list must
/// hold each of the course's sections exactly once.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug")),
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
    let course = find_course(&state.db, &id).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let existing = catalogue::sections_of(&txn, course.id).await?;
    let current: Vec<Uuid> = existing.iter().map(|s| s.id).collect();
    catalogue::check_permutation("sectionIds", &body.section_ids, &current, "sections")?;
    catalogue::renumber_sections(&txn, &positions(&existing), &body.section_ids).await?;
    let outline = catalogue::outline(&txn, course.id, true).await?;
    txn.commit().await?;
    Ok(ok(outline))
}
