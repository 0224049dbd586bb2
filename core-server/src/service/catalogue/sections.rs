//! A course's sections, kept at positions 1..n through every insert, move, reorder and
//! delete. Each change runs in one transaction that first takes the course's lock
//! ([`lock_course`](super::lock_course)).

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{find_course, find_section};
use crate::api::Section;
use crate::domain::Title;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::store::entity::section;

fn positions(sections: &[section::Model]) -> HashMap<Uuid, i32> {
    sections.iter().map(|s| (s.id, s.position)).collect()
}

/// Adds a section to the course `key` (its staff and admins): appended, or inserted at
/// 1-based `position`, moving later sections down.
pub async fn create_section(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    title: Title,
    position: Option<i64>,
) -> Result<Section, ApiError> {
    let course = find_course(&state.db, key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let existing = catalogue::sections_of(&txn, course.id).await?;
    let index = catalogue::insert_index(position, existing.len())?;
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
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(Section {
        id: row.id,
        title: row.title,
        order: row.position,
        lessons: Vec::new(),
    })
}

/// Renames a section and/or moves it to 1-based `position` (its course's staff and
/// admins); answers the section with all its lessons.
pub async fn update_section(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    title: Option<Title>,
    position: Option<i64>,
) -> Result<Section, ApiError> {
    let found = find_section(&state.db, id).await?;
    catalogue::access(&state.db, Some(auth), found.course_id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let existing = catalogue::sections_of(&txn, found.course_id).await?;
    let Some(from) = existing.iter().position(|s| s.id == found.id) else {
        return Err(ApiError::NotFound("Section not found".into()));
    };
    if let Some(position) = position {
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
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(wire)
}

/// Deletes a section and its lessons (its course's staff and admins); later sections
/// move up. Answers the deleted section's id.
pub async fn delete_section(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Uuid, ApiError> {
    let found = find_section(&state.db, id).await?;
    catalogue::access(&state.db, Some(auth), found.course_id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, found.course_id).await?;
    let deleted = section::Entity::delete_by_id(found.id).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound("Section not found".into()));
    }
    let rest = catalogue::sections_of(&txn, found.course_id).await?;
    let order: Vec<Uuid> = rest.iter().map(|s| s.id).collect();
    catalogue::renumber_sections(&txn, &positions(&rest), &order).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(found.id)
}

/// Puts the course's sections in the order of `section_ids`, which must hold each of
/// them exactly once (its staff and admins); answers the whole outline.
pub async fn reorder_sections(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    section_ids: &[Uuid],
) -> Result<Vec<Section>, ApiError> {
    let course = find_course(&state.db, key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    catalogue::lock_course(&txn, course.id).await?;
    let existing = catalogue::sections_of(&txn, course.id).await?;
    let current: Vec<Uuid> = existing.iter().map(|s| s.id).collect();
    catalogue::check_permutation("sectionIds", section_ids, &current, "sections")?;
    catalogue::renumber_sections(&txn, &positions(&existing), section_ids).await?;
    let outline = catalogue::outline(&txn, course.id, true).await?;
    txn.commit().await?;
    crate::service::catalogue::catalogue_changed(state).await;
    Ok(outline)
}
