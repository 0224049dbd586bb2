//! A student's question on a course (or one of its lessons).

use sea_orm::entity::prelude::*;

pub use crate::api::DoubtStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "doubts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub course_id: Uuid,
    pub lesson_id: Option<Uuid>,
    pub author_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub link: Option<String>,
    pub status: DoubtStatus,
    pub accepted_answer_id: Option<Uuid>,
    /// Votes for it.
    pub votes: i32,
    /// Its answers not hidden.
    pub answers: i32,
    pub hidden: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
