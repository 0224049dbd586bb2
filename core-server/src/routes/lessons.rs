//! `/api/v1/sections/{id}/lessons` and `/api/v1/lessons/{id}`: a section's lessons,
//! kept at positions 1..n through every insert, move (within a section or to another
//! section of the same course), reorder and delete, each in one transaction under the
//! course's lock.

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, Lesson, LessonSummary, NewLesson, ReorderLessons, UpdateLesson};
use crate::auth::AuthUser;
use crate::catalogue::{self, Viewer, find_course, find_lesson, find_section};
use crate::domain::{Fields, Title, WebUrl};
use crate::entity::lesson;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_lesson)
        .service(reorder_lessons)
        .service(get_lesson)
        .service(update_lesson)
        .service(delete_lesson);
}

/// The longest lesson, in minutes (a week).
const MAX_DURATION: i32 = 7 * 24 * 60;
const MAX_CONTENT: usize = 1_000_000;

fn positions(lessons: &[lesson::Model]) -> HashMap<Uuid, (Uuid, i32)> {
    lessons
        .iter()
        .map(|l| (l.id, (l.section_id, l.position)))
        .collect()
}

fn parse_duration(fields: &mut Fields, minutes: i32) -> Option<i32> {
    if (0..=MAX_DURATION).contains(&minutes) {
        Some(minutes)
    } else {
        fields.push(
            "duration",
            format!("must be between 0 and {MAX_DURATION} minutes"),
        );
        None
    }
}

fn parse_content(fields: &mut Fields, content: &str) -> Option<String> {
    if content.chars().count() > MAX_CONTENT {
        fields.push(
            "content",
            format!("must be at most {MAX_CONTENT} characters"),
        );
        None
    } else {
        Some(content.to_owned())
    }
}

/// Adds a lesson to a section (its course's staff and admins): appended, or inserted at
/// `position`. It starts unpublished unless `isPublished` is true.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Section id")),
    request_body = NewLesson,
    responses(
        (status = 201, description = "Created", body = ApiResponse<Lesson>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such section", body = crate::api::ErrorBody),
    )
)]
#[post("/sections/{id}/lessons")]
pub async fn create_lesson(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewLesson>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let title = fields.take("title", Title::parse(&body.title));
    let url = match body.url.as_deref() {
        Some(u) => fields.take("url", WebUrl::parse(u)).map(Some),
        None => Some(None),
    };
    let content = match body.content.as_deref() {
        Some(c) => parse_content(&mut fields, c).map(Some),
        None => Some(None),
    };
    let duration = parse_duration(&mut fields, body.duration.unwrap_or(0));
    fields.finish()?;
    let (Some(title), Some(url), Some(content), Some(duration)) = (title, url, content, duration)
    else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let section = find_section(&state.db, *id).await?;
    catalogue::access(&state.db, Some(&auth), section.course_id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, section.course_id).await?;
    // The section may have gone while we waited for the lock.
    find_section(&txn, section.id).await?;
    let existing = catalogue::lessons_of(&txn, section.id).await?;
    let index = catalogue::insert_index(body.position, existing.len())?;
    let new_id = Uuid::now_v7();
    let mut order: Vec<Uuid> = existing.iter().map(|l| l.id).collect();
    order.insert(index, new_id);
    let mut old = positions(&existing);
    old.insert(new_id, (section.id, index as i32 + 1));
    catalogue::renumber_lessons(&txn, section.id, &old, &order).await?;
    let now = Utc::now();
    let row = lesson::ActiveModel {
        id: Set(new_id),
        section_id: Set(section.id),
        course_id: Set(section.course_id),
        title: Set(title.as_ref().to_owned()),
        r#type: Set(body.r#type.as_str().to_owned()),
        content: Set(content),
        url: Set(url.map(|u| u.as_ref().to_owned())),
        duration_minutes: Set(duration),
        is_free_preview: Set(body.is_free_preview.unwrap_or(false)),
        is_published: Set(body.is_published.unwrap_or(false)),
        position: Set(index as i32 + 1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created(catalogue::lesson_to_wire(&row)))
}

/// One lesson with its content: to its course's staff and admins always; to others when
/// the lesson is published, in a course they can see, and a free preview or theirs by
/// enrollment.
#[utoipa::path(
    tag = "courses",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses(
        (status = 200, description = "The lesson", body = ApiResponse<Lesson>),
        (status = 403, description = "Enrolled students only", body = crate::api::ErrorBody),
        (status = 404, description = "No such lesson, or not visible", body = crate::api::ErrorBody),
    )
)]
#[get("/lessons/{id}")]
pub async fn get_lesson(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = find_lesson(&state.db, *id).await?;
    let course = find_course(&state.db, &row.course_id.to_string()).await?;
    let caller = viewer.0.as_ref();
    let access = catalogue::access(&state.db, caller, course.id).await?;
    if access.can_edit() {
        return Ok(ok(catalogue::lesson_to_wire(&row)));
    }
    if !row.is_published || !catalogue::can_view(&state.db, &course, access, caller).await? {
        return Err(ApiError::NotFound("Lesson not found".into()));
    }
    let enrolled = match caller {
        Some(c) => catalogue::is_enrolled(&state.db, course.id, c.id()).await?,
        None => false,
    };
    if !(row.is_free_preview || enrolled) {
        return Err(ApiError::Forbidden(
            "Enroll in this course to open this lesson".into(),
        ));
    }
    Ok(ok(catalogue::lesson_to_wire(&row)))
}

/// Changes a lesson (its course's staff and admins): any field; `position` moves it
/// within its section; `sectionId` moves it to another section of the same course.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Lesson id")),
    request_body = UpdateLesson,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Lesson>),
        (status = 400, description = "Invalid fields or position", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such lesson", body = crate::api::ErrorBody),
        (status = 422, description = "The target section belongs to another course", body = crate::api::ErrorBody),
    )
)]
#[patch("/lessons/{id}")]
pub async fn update_lesson(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateLesson>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let mut update = lesson::ActiveModel {
        id: Set(*id),
        ..Default::default()
    };
    if let Some(t) = &body.title
        && let Some(t) = fields.take("title", Title::parse(t))
    {
        update.title = Set(t.as_ref().to_owned());
    }
    if let Some(kind) = body.r#type {
        update.r#type = Set(kind.as_str().to_owned());
    }
    match &body.url {
        Some(None) => update.url = Set(None),
        Some(Some(u)) => {
            if let Some(u) = fields.take("url", WebUrl::parse(u)) {
                update.url = Set(Some(u.as_ref().to_owned()));
            }
        }
        None => {}
    }
    match &body.content {
        Some(None) => update.content = Set(None),
        Some(Some(c)) => {
            if let Some(c) = parse_content(&mut fields, c) {
                update.content = Set(Some(c));
            }
        }
        None => {}
    }
    if let Some(d) = body.duration
        && let Some(d) = parse_duration(&mut fields, d)
    {
        update.duration_minutes = Set(d);
    }
    if let Some(p) = body.is_free_preview {
        update.is_free_preview = Set(p);
    }
    if let Some(p) = body.is_published {
        update.is_published = Set(p);
    }
    fields.finish()?;
    let found = find_lesson(&state.db, *id).await?;
    catalogue::access(&state.db, Some(&auth), found.course_id)
        .await?
        .require_edit()?;
    let target = match body.section_id {
        Some(section_id) if section_id != found.section_id => {
            let target = find_section(&state.db, section_id)
                .await
                .map_err(|_| ApiError::field("sectionId", "no such section"))?;
            if target.course_id != found.course_id {
                return Err(ApiError::Unprocessable(
                    "A lesson can only move to a section of its own course".into(),
                ));
            }
            Some(target.id)
        }
        _ => None,
    };
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let current = find_lesson(&txn, found.id).await?;
    let source = catalogue::lessons_of(&txn, current.section_id).await?;
    let from = source
        .iter()
        .position(|l| l.id == current.id)
        .ok_or_else(|| anyhow::anyhow!("lesson {} missing from its section", current.id))?;
    match target {
        Some(target_id) => {
            find_section(&txn, target_id)
                .await
                .map_err(|_| ApiError::field("sectionId", "no such section"))?;
            let mut rest: Vec<Uuid> = source.iter().map(|l| l.id).collect();
            rest.remove(from);
            let destination = catalogue::lessons_of(&txn, target_id).await?;
            let index = catalogue::insert_index(body.position, destination.len())?;
            let mut order: Vec<Uuid> = destination.iter().map(|l| l.id).collect();
            order.insert(index, current.id);
            catalogue::renumber_lessons(&txn, current.section_id, &positions(&source), &rest)
                .await?;
            catalogue::renumber_lessons(&txn, target_id, &positions(&destination), &order).await?;
        }
        None => {
            if let Some(position) = body.position {
                let to = catalogue::move_index(position, source.len())?;
                let mut order: Vec<Uuid> = source.iter().map(|l| l.id).collect();
                let moved = order.remove(from);
                order.insert(to, moved);
                catalogue::renumber_lessons(&txn, current.section_id, &positions(&source), &order)
                    .await?;
            }
        }
    }
    update.updated_at = Set(Utc::now());
    let row = update.update(&txn).await?;
    txn.commit().await?;
    Ok(ok(catalogue::lesson_to_wire(&row)))
}

/// Deletes a lesson (its course's staff and admins); later lessons move up.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such lesson", body = crate::api::ErrorBody),
    )
)]
#[delete("/lessons/{id}")]
pub async fn delete_lesson(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = find_lesson(&state.db, *id).await?;
    catalogue::access(&state.db, Some(&auth), found.course_id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let current = find_lesson(&txn, found.id).await?;
    lesson::Entity::delete_by_id(current.id).exec(&txn).await?;
    let rest = catalogue::lessons_of(&txn, current.section_id).await?;
    let order: Vec<Uuid> = rest.iter().map(|l| l.id).collect();
    catalogue::renumber_lessons(&txn, current.section_id, &positions(&rest), &order).await?;
    txn.commit().await?;
    Ok(ok_with("Lesson deleted", json!({ "id": current.id })))
}

/// Puts a section's lessons in the given order (its course's staff and admins); the list
/// must hold each of the section's lessons exactly once.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Section id")),
    request_body = ReorderLessons,
    responses(
        (status = 200, description = "The lessons in their new order", body = ApiResponse<Vec<LessonSummary>>),
        (status = 400, description = "Not exactly the section's lessons", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
    )
)]
#[post("/sections/{id}/lessons/reorder")]
pub async fn reorder_lessons(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<ReorderLessons>,
) -> Result<HttpResponse, ApiError> {
    let section = find_section(&state.db, *id).await?;
    catalogue::access(&state.db, Some(&auth), section.course_id)
        .await?
        .require_edit()?;
    let txn = crate::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, section.course_id).await?;
    find_section(&txn, section.id).await?;
    let existing = catalogue::lessons_of(&txn, section.id).await?;
    let current: Vec<Uuid> = existing.iter().map(|l| l.id).collect();
    catalogue::check_permutation("lessonIds", &body.lesson_ids, &current, "lessons")?;
    catalogue::renumber_lessons(&txn, section.id, &positions(&existing), &body.lesson_ids).await?;
    let lessons = catalogue::lessons_of(&txn, section.id).await?;
    txn.commit().await?;
    Ok(ok(lessons
        .iter()
        .map(catalogue::lesson_summary)
        .collect::<Vec<_>>()))
}
