//! One enrolled student's progress through one lesson; one row per (enrollment, lesson).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lesson_progress")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub enrollment_id: Uuid,
    pub lesson_id: Uuid,
    pub completed: bool,
    pub completed_at: Option<DateTimeUtc>,
    /// Seconds, summed over every report.
    pub time_spent_seconds: i64,
    /// XP given for this lesson: once, on its first completion.
    pub xp_earned: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
