//! A test of a course (optionally of one batch): its settings and results policy.
//! Marks are hundredths (`total_marks` is kept equal to the sum of its questions).

use sea_orm::entity::prelude::*;

pub use crate::api::{MultipleSelectScoring, ShowAnswers, TestStatus, TestType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub title: String,
    /// QUIZ, ASSIGNMENT, MOCK_TEST or FINAL_EXAM.
    pub test_type: TestType,
    /// DRAFT or PUBLISHED.
    pub status: TestStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub instructions: Option<String>,
    pub duration_minutes: Option<i32>,
    pub passing_marks: i64,
    pub total_marks: i64,
    pub available_from: Option<DateTimeUtc>,
    pub available_until: Option<DateTimeUtc>,
    pub attempts_allowed: i32,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    /// ALL_OR_NOTHING or PROPORTIONAL.
    pub multiple_select_scoring: MultipleSelectScoring,
    pub allow_negative_total: bool,
    pub show_results: bool,
    /// NEVER, AFTER_SUBMIT or AFTER_WINDOW.
    pub show_answers: ShowAnswers,
    pub published_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
