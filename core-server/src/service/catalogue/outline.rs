//! A course's outline: finding sections and lessons, reading them in order, keeping
//! their positions 1..n, and turning them into wire types.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::api;
use crate::error::ApiError;
use crate::store::entity::{lesson, section};

/// A section by id, or 404.
pub async fn find_section(db: &impl ConnectionTrait, id: Uuid) -> Result<section::Model, ApiError> {
    section::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Section not found".into()))
}

/// A lesson by id, or 404.
pub async fn find_lesson(db: &impl ConnectionTrait, id: Uuid) -> Result<lesson::Model, ApiError> {
    lesson::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Lesson not found".into()))
}

/// Where a new item goes among `count`: appended, or at 1-based `position` (1..=count+1).
pub fn insert_index(position: Option<i64>, count: usize) -> Result<usize, ApiError> {
    match position {
        None => Ok(count),
        Some(p) if p >= 1 && p <= count as i64 + 1 => Ok(p as usize - 1),
        Some(_) => Err(ApiError::field(
            "position",
            format!("must be between 1 and {}", count + 1),
        )),
    }
}

/// Where an existing item moves among `count`: 1-based `position` (1..=count).
pub fn move_index(position: i64, count: usize) -> Result<usize, ApiError> {
    if position >= 1 && position <= count as i64 {
        Ok(position as usize - 1)
    } else {
        Err(ApiError::field(
            "position",
            format!("must be between 1 and {count}"),
        ))
    }
}

/// `ids` must be exactly `current` in some order; `field` names the list in the 400.
pub fn check_permutation(
    field: &str,
    ids: &[Uuid],
    current: &[Uuid],
    what: &str,
) -> Result<(), ApiError> {
    // The length first: a body of 100k ids is refused without being sorted.
    let same = ids.len() == current.len() && {
        let mut given = ids.to_vec();
        given.sort_unstable();
        let mut expected = current.to_vec();
        expected.sort_unstable();
        given == expected
    };
    if same {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            format!(
                "must list each of the {} {what} exactly once ({} given)",
                current.len(),
                ids.len()
            ),
        ))
    }
}

/// A course's sections, in order.
pub async fn sections_of(
    db: &impl ConnectionTrait,
    course_id: Uuid,
) -> Result<Vec<section::Model>, ApiError> {
    Ok(section::Entity::find()
        .filter(section::Column::CourseId.eq(course_id))
        .order_by_asc(section::Column::Position)
        .order_by_asc(section::Column::Id)
        .all(db)
        .await?)
}

/// A section's lessons, in order.
pub async fn lessons_of(
    db: &impl ConnectionTrait,
    section_id: Uuid,
) -> Result<Vec<lesson::Model>, ApiError> {
    Ok(lesson::Entity::find()
        .filter(lesson::Column::SectionId.eq(section_id))
        .order_by_asc(lesson::Column::Position)
        .order_by_asc(lesson::Column::Id)
        .all(db)
        .await?)
}

/// Gives the sections in `order` the positions 1..n, writing only those that changed
/// (`old` holds the stored positions; a new row is absent from it).
pub async fn renumber_sections(
    db: &impl ConnectionTrait,
    old: &HashMap<Uuid, i32>,
    order: &[Uuid],
) -> Result<(), ApiError> {
    let now = Utc::now();
    for (index, id) in order.iter().enumerate() {
        let position = index as i32 + 1;
        if old.get(id) != Some(&position) {
            section::Entity::update_many()
                .col_expr(section::Column::Position, Expr::value(position))
                .col_expr(section::Column::UpdatedAt, Expr::value(now))
                .filter(section::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// As [`renumber_sections`], for the lessons of `section_id` (moving any lesson listed
/// there into that section).
pub async fn renumber_lessons(
    db: &impl ConnectionTrait,
    section_id: Uuid,
    old: &HashMap<Uuid, (Uuid, i32)>,
    order: &[Uuid],
) -> Result<(), ApiError> {
    let now = Utc::now();
    for (index, id) in order.iter().enumerate() {
        let position = index as i32 + 1;
        if old.get(id) != Some(&(section_id, position)) {
            lesson::Entity::update_many()
                .col_expr(lesson::Column::Position, Expr::value(position))
                .col_expr(lesson::Column::SectionId, Expr::value(section_id))
                .col_expr(lesson::Column::UpdatedAt, Expr::value(now))
                .filter(lesson::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Whether the course has a lesson students can see (publishing needs one).
pub async fn has_published_lesson(
    db: &impl ConnectionTrait,
    course_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course_id))
        .filter(lesson::Column::IsPublished.eq(true))
        .count(db)
        .await?
        > 0)
}

/// One lesson as its outline shows it.
pub fn lesson_summary(l: &lesson::Model) -> api::LessonSummary {
    api::LessonSummary {
        id: l.id,
        title: l.title.clone(),
        r#type: l.r#type,
        duration: l.duration_minutes,
        order: l.position,
        is_free_preview: l.is_free_preview,
        is_published: l.is_published,
    }
}

/// One lesson with its content.
pub fn lesson_to_wire(l: &lesson::Model) -> api::Lesson {
    api::Lesson {
        id: l.id,
        course_id: l.course_id,
        section_id: l.section_id,
        title: l.title.clone(),
        r#type: l.r#type,
        content: l.content.clone(),
        url: l.url.clone(),
        duration: l.duration_minutes,
        order: l.position,
        is_free_preview: l.is_free_preview,
        is_published: l.is_published,
    }
}

/// A section with its lessons; unpublished lessons only when `all_lessons`.
pub async fn section_to_wire(
    db: &impl ConnectionTrait,
    s: &section::Model,
    all_lessons: bool,
) -> Result<api::Section, ApiError> {
    let lessons = lessons_of(db, s.id).await?;
    Ok(api::Section {
        id: s.id,
        title: s.title.clone(),
        order: s.position,
        lessons: lessons
            .iter()
            .filter(|l| all_lessons || l.is_published)
            .map(lesson_summary)
            .collect(),
    })
}

/// The course's outline: sections in order with the lessons the caller may see.
pub async fn outline(
    db: &impl ConnectionTrait,
    course_id: Uuid,
    all_lessons: bool,
) -> Result<Vec<api::Section>, ApiError> {
    let sections = sections_of(db, course_id).await?;
    let lessons = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course_id))
        .order_by_asc(lesson::Column::Position)
        .order_by_asc(lesson::Column::Id)
        .all(db)
        .await?;
    Ok(sections
        .iter()
        .map(|s| api::Section {
            id: s.id,
            title: s.title.clone(),
            order: s.position,
            lessons: lessons
                .iter()
                .filter(|l| l.section_id == s.id && (all_lessons || l.is_published))
                .map(lesson_summary)
                .collect(),
        })
        .collect())
}
