//! `/api/v1/sections/{id}/lessons` and `/api/v1/lessons/{id}`: a section's lessons,
//! kept at positions 1..n through every insert, move (within a section or to another
//! section of the same course), reorder and delete, each in one transaction under the
//! course's lock.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, Lesson, LessonSummary, NewLesson, ReorderLessons, UpdateLesson};
use crate::domain::{Fields, Title, WebUrl};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::Viewer;
use crate::service::catalogue::lessons::{self, LessonChanges};

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
    let new = lessons::NewLesson {
        title,
        kind: body.r#type,
        content,
        url,
        duration,
        is_free_preview: body.is_free_preview.unwrap_or(false),
        is_published: body.is_published.unwrap_or(false),
        position: body.position,
    };
    let lesson = lessons::create_lesson(&state, &auth, *id, new).await?;
    Ok(created(lesson))
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
    let lesson = lessons::get_lesson(&state, viewer.0.as_ref(), *id).await?;
    Ok(ok(lesson))
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
    let mut changes = LessonChanges {
        kind: body.r#type,
        is_free_preview: body.is_free_preview,
        is_published: body.is_published,
        position: body.position,
        section_id: body.section_id,
        ..LessonChanges::default()
    };
    if let Some(t) = &body.title
        && let Some(t) = fields.take("title", Title::parse(t))
    {
        changes.title = Some(t);
    }
    match &body.url {
        Some(None) => changes.url = Some(None),
        Some(Some(u)) => {
            if let Some(u) = fields.take("url", WebUrl::parse(u)) {
                changes.url = Some(Some(u));
            }
        }
        None => {}
    }
    match &body.content {
        Some(None) => changes.content = Some(None),
        Some(Some(c)) => {
            if let Some(c) = parse_content(&mut fields, c) {
                changes.content = Some(Some(c));
            }
        }
        None => {}
    }
    if let Some(d) = body.duration
        && let Some(d) = parse_duration(&mut fields, d)
    {
        changes.duration = Some(d);
    }
    fields.finish()?;
    let lesson = lessons::update_lesson(&state, &auth, *id, changes).await?;
    Ok(ok(lesson))
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
    let id = lessons::delete_lesson(&state, &auth, *id).await?;
    Ok(ok_with("Lesson deleted", json!({ "id": id })))
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
    let order = lessons::reorder_lessons(&state, &auth, *id, &body.lesson_ids).await?;
    Ok(ok(order))
}
