//! One answer of an attempt. `selected_options` is a sorted JSON array text, so equal
//! answers are equal strings and a regrade can group them in SQL; `marks` (hundredths)
//! is null while a long answer waits in the grading queue.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attempt_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub attempt_id: Uuid,
    pub question_id: Uuid,
    pub test_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub selected_options: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer_text: Option<String>,
    pub marks: Option<i64>,
    /// Null until submitted; then CORRECT, WRONG, PARTIAL, EMPTY, PENDING or GRADED.
    pub outcome: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub feedback: Option<String>,
    pub graded_by: Option<Uuid>,
    pub graded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
