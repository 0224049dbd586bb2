//! A lesson of a section; `position` runs 1..n within the section, without gaps.
//! `course_id` repeats the section's course so course-wide queries need no join.

use sea_orm::entity::prelude::*;

pub use crate::api::LessonType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lessons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub section_id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    /// VIDEO, PDF, TEXT, QUIZ, ASSIGNMENT or LIVE_CLASS.
    pub r#type: LessonType,
    #[sea_orm(column_type = "Text", nullable)]
    pub content: Option<String>,
    pub url: Option<String>,
    pub duration_minutes: i32,
    pub is_free_preview: bool,
    pub is_published: bool,
    pub position: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
