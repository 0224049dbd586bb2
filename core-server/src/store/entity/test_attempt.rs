//! A student's attempt at a test: its clock, and once submitted its score (hundredths;
//! `raw_score` is the unclamped sum of the answers' marks, `score` what counts).

use crate::store::json::AttemptLayout;
use sea_orm::entity::prelude::*;

pub use crate::api::AttemptStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "test_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub test_id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    /// 1 for the first attempt of this student at this test.
    pub number: i32,
    /// IN_PROGRESS or SUBMITTED.
    pub status: AttemptStatus,
    pub started_at: DateTimeUtc,
    pub deadline: Option<DateTimeUtc>,
    pub submitted_at: Option<DateTimeUtc>,
    pub auto_submitted: bool,
    pub raw_score: Option<i64>,
    pub score: Option<i64>,
    /// Long answers still waiting for a teacher.
    pub pending_answers: i32,
    /// When the last answer got its marks.
    pub graded_at: Option<DateTimeUtc>,
    pub time_spent_seconds: Option<i64>,
    /// The attempt's order: `[{"q": id, "o": [option ids]}]`.
    #[sea_orm(column_type = "Json")]
    pub layout: AttemptLayout,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
