//! A section's lessons, kept at positions 1..n through every insert, move (within a
//! section or to another section of the same course), reorder and delete, each in one
//! transaction under the course's lock; and who may open a lesson.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{find_course, find_lesson, find_section};
use crate::api::{Lesson, LessonSummary, LessonType};
use crate::domain::{Title, WebUrl};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::store::entity::lesson;

/// A new lesson, its fields parsed.
pub struct NewLesson {
    pub title: Title,
    pub kind: LessonType,
    pub content: Option<String>,
    pub url: Option<WebUrl>,
    /// Minutes.
    pub duration: i32,
    pub is_free_preview: bool,
    pub is_published: bool,
    /// 1-based; appended when absent.
    pub position: Option<i64>,
}

/// The changes to one lesson, its fields parsed; `None` leaves a field as it is.
#[derive(Default)]
pub struct LessonChanges {
    pub title: Option<Title>,
    pub kind: Option<LessonType>,
    /// `Some(None)` clears the URL.
    pub url: Option<Option<WebUrl>>,
    /// `Some(None)` clears the content.
    pub content: Option<Option<String>>,
    pub duration: Option<i32>,
    pub is_free_preview: Option<bool>,
    pub is_published: Option<bool>,
    /// 1-based position within the section (the target section when `section_id` moves it).
    pub position: Option<i64>,
    /// Another section of the same course to move the lesson to.
    pub section_id: Option<Uuid>,
}

fn positions(lessons: &[lesson::Model]) -> HashMap<Uuid, (Uuid, i32)> {
    lessons
        .iter()
        .map(|l| (l.id, (l.section_id, l.position)))
        .collect()
}

/// Adds a lesson to section `section_id` (its course's staff and admins): appended, or
/// inserted at its position.
pub async fn create_lesson(
    state: &AppState,
    auth: &AuthUser,
    section_id: Uuid,
    new: NewLesson,
) -> Result<Lesson, ApiError> {
    let section = find_section(&state.db, section_id).await?;
    catalogue::access(&state.db, Some(auth), section.course_id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, section.course_id).await?;
    // The section may have gone while we waited for the lock.
    find_section(&txn, section.id).await?;
    let existing = catalogue::lessons_of(&txn, section.id).await?;
    let index = catalogue::insert_index(new.position, existing.len())?;
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
        title: Set(new.title.as_ref().to_owned()),
        r#type: Set(new.kind),
        content: Set(new.content),
        url: Set(new.url.map(|u| u.as_ref().to_owned())),
        duration_minutes: Set(new.duration),
        is_free_preview: Set(new.is_free_preview),
        is_published: Set(new.is_published),
        position: Set(index as i32 + 1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(catalogue::lesson_to_wire(&row))
}

/// One lesson with its content: to its course's staff and admins always; to others when
/// the lesson is published, in a course they can see, and a free preview or theirs by
/// enrollment (403 otherwise; 404 when they may not know it exists).
pub async fn get_lesson(
    state: &AppState,
    caller: Option<&AuthUser>,
    id: Uuid,
) -> Result<Lesson, ApiError> {
    let row = find_lesson(&state.db, id).await?;
    let course = find_course(&state.db, &row.course_id.to_string()).await?;
    let access = catalogue::access(&state.db, caller, course.id).await?;
    if access.can_edit() {
        return Ok(catalogue::lesson_to_wire(&row));
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
    Ok(catalogue::lesson_to_wire(&row))
}

/// Changes a lesson (its course's staff and admins): any field, its position within its
/// section, or its section (one of the same course, 422 otherwise).
pub async fn update_lesson(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    changes: LessonChanges,
) -> Result<Lesson, ApiError> {
    let mut update = lesson::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    if let Some(t) = changes.title {
        update.title = Set(t.as_ref().to_owned());
    }
    if let Some(kind) = changes.kind {
        update.r#type = Set(kind);
    }
    if let Some(u) = changes.url {
        update.url = Set(u.map(|u| u.as_ref().to_owned()));
    }
    if let Some(c) = changes.content {
        update.content = Set(c);
    }
    if let Some(d) = changes.duration {
        update.duration_minutes = Set(d);
    }
    if let Some(p) = changes.is_free_preview {
        update.is_free_preview = Set(p);
    }
    if let Some(p) = changes.is_published {
        update.is_published = Set(p);
    }
    let found = find_lesson(&state.db, id).await?;
    catalogue::access(&state.db, Some(auth), found.course_id)
        .await?
        .require_edit()?;
    let target = match changes.section_id {
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
    let txn = crate::store::db::begin_write(&state.db).await?;
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
            let index = catalogue::insert_index(changes.position, destination.len())?;
            let mut order: Vec<Uuid> = destination.iter().map(|l| l.id).collect();
            order.insert(index, current.id);
            catalogue::renumber_lessons(&txn, current.section_id, &positions(&source), &rest)
                .await?;
            catalogue::renumber_lessons(&txn, target_id, &positions(&destination), &order).await?;
        }
        None => {
            if let Some(position) = changes.position {
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
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(catalogue::lesson_to_wire(&row))
}

/// Deletes a lesson (its course's staff and admins); later lessons move up. Answers the
/// deleted lesson's id.
pub async fn delete_lesson(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Uuid, ApiError> {
    let found = find_lesson(&state.db, id).await?;
    catalogue::access(&state.db, Some(auth), found.course_id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let current = find_lesson(&txn, found.id).await?;
    lesson::Entity::delete_by_id(current.id).exec(&txn).await?;
    let rest = catalogue::lessons_of(&txn, current.section_id).await?;
    let order: Vec<Uuid> = rest.iter().map(|l| l.id).collect();
    catalogue::renumber_lessons(&txn, current.section_id, &positions(&rest), &order).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(current.id)
}

/// Puts the section's lessons in the order of `lesson_ids`, which must hold each of them
/// exactly once (its course's staff and admins).
pub async fn reorder_lessons(
    state: &AppState,
    auth: &AuthUser,
    section_id: Uuid,
    lesson_ids: &[Uuid],
) -> Result<Vec<LessonSummary>, ApiError> {
    let section = find_section(&state.db, section_id).await?;
    catalogue::access(&state.db, Some(auth), section.course_id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, section.course_id).await?;
    find_section(&txn, section.id).await?;
    let existing = catalogue::lessons_of(&txn, section.id).await?;
    let current: Vec<Uuid> = existing.iter().map(|l| l.id).collect();
    catalogue::check_permutation("lessonIds", lesson_ids, &current, "lessons")?;
    catalogue::renumber_lessons(&txn, section.id, &positions(&existing), lesson_ids).await?;
    let lessons = catalogue::lessons_of(&txn, section.id).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(lessons.iter().map(catalogue::lesson_summary).collect())
}
