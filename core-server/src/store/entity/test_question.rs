//! A question of a test at `position` (1..n). The key lives here: `options` is a JSON
//! array of `{id, text, isCorrect}`, `accepted_answers` a JSON array of strings.

use crate::store::json::{AcceptedAnswers, QuestionOptions};
use sea_orm::entity::prelude::*;

pub use crate::api::QuestionType;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "test_questions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub test_id: Uuid,
    pub position: i64,
    /// MCQ, MULTIPLE_SELECT, TRUE_FALSE, SHORT_ANSWER or LONG_ANSWER.
    pub question_type: QuestionType,
    #[sea_orm(column_type = "Text")]
    pub question_text: String,
    /// Hundredths.
    pub marks: i64,
    pub negative_marks: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub explanation: Option<String>,
    #[sea_orm(column_type = "Json")]
    pub options: QuestionOptions,
    #[sea_orm(column_type = "Json")]
    pub accepted_answers: AcceptedAnswers,
    pub numeric_tolerance: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
