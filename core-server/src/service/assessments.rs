//! Assessments: tests, their questions, students' attempts, grading and results. This
//! file holds what every part shares (marks as hundredths, stored JSON columns decoded,
//! who sees a test, the test's lock); the parts live in the submodules and are
//! re-exported here, so `service::assessments::X` names each of them:
//!
//! - `documents`: parsing test and question documents, rows to wire types;
//! - `authoring`: creating, changing, publishing and exporting tests and questions;
//! - `attempts`: starting, answering and submitting attempts;
//! - `answers`: checking, saving and grading an attempt's answers;
//! - `sweeper`: submitting attempts whose deadline has passed;
//! - `results`: the results policy, ranks and the gradebook;
//! - `queue`: the grading queue and marking long answers by hand;
//! - `regrade`: changing a question's key or marks and rescoring attempts.
//!
//! Marks are hundredths (`i64`) everywhere below the wire, which speaks decimals.

mod answers;
mod attempts;
mod authoring;
mod documents;
mod queue;
mod regrade;
mod results;
mod sweeper;

pub use answers::*;
pub use attempts::*;
pub use authoring::*;
pub use documents::*;
pub use queue::*;
pub use regrade::*;
pub use results::*;
pub use sweeper::*;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use uuid::Uuid;

use crate::api::{AttemptStatus, MultipleSelectScoring, QuestionType, ShowAnswers, TestStatus};
use crate::error::ApiError;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, Access};
use crate::store::entity::{attempt_answer, enrollment, test, test_attempt, test_question};

/// The longest text of a question or a long answer.
const MAX_TEXT: usize = 20_000;

/// Hundredths as the wire's decimal.
pub fn marks(hundredths: i64) -> f64 {
    hundredths as f64 / 100.0
}

/// A wire decimal as hundredths; more than two decimals is an error.
pub fn hundredths(value: f64) -> Result<i64, String> {
    if !value.is_finite() {
        return Err("must be a number".into());
    }
    let scaled = value * 100.0;
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-6 {
        return Err("may have at most two decimals".into());
    }
    if rounded.abs() > 1e15 {
        return Err("is too large".into());
    }
    Ok(rounded as i64)
}

/// `part` of `whole` in percent, two decimals.
pub fn percentage(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    ((part as f64 / whole as f64) * 10_000.0).round() / 100.0
}

pub use crate::store::json::{LayoutItem, StoredOption};

/// The test's rule for multiple-select partial credit.
pub fn scoring_of(t: &test::Model) -> MultipleSelectScoring {
    t.multiple_select_scoring
}

/// When the test's students see correct answers.
pub fn show_answers_of(t: &test::Model) -> ShowAnswers {
    t.show_answers
}

/// Draft or published (an unknown value reads as a draft).
pub fn status_of(t: &test::Model) -> TestStatus {
    t.status
}

/// The question's type (an unknown value reads as a long answer, graded by hand).
pub fn question_type_of(q: &test_question::Model) -> QuestionType {
    q.question_type
}

/// The question's options with their keys.
pub fn options_of(q: &test_question::Model) -> Vec<StoredOption> {
    q.options.0.clone()
}

/// A short-answer question's accepted answers.
pub fn accepted_of(q: &test_question::Model) -> Vec<String> {
    q.accepted_answers.0.clone()
}

/// The caller's standing towards one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Staff of the course, or an admin: everything, keys included.
    Staff,
    /// An enrolled student (of the batch, for a batch's test) of a published test.
    Student,
}

/// 404 for a test the caller may not see.
pub fn test_not_found() -> ApiError {
    ApiError::NotFound("Test not found".into())
}

/// The test by id, or 404.
pub async fn find_test(db: &impl ConnectionTrait, id: Uuid) -> Result<test::Model, ApiError> {
    test::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(test_not_found)
}

/// The test and the caller's standing; 404 for anyone who may not see it (staff of
/// other courses, students of other courses or batches, anyone for a draft).
pub async fn visible_test(
    db: &impl ConnectionTrait,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(test::Model, Standing), ApiError> {
    let t = find_test(db, id).await?;
    let standing = standing(db, auth, &t).await?.ok_or_else(test_not_found)?;
    Ok((t, standing))
}

/// What `auth` is to test `t`, if anything.
pub async fn standing(
    db: &impl ConnectionTrait,
    auth: &AuthUser,
    t: &test::Model,
) -> Result<Option<Standing>, ApiError> {
    let access: Access = catalogue::access(db, Some(auth), t.course_id).await?;
    if access.can_edit() {
        return Ok(Some(Standing::Staff));
    }
    if status_of(t) != TestStatus::Published
        || !catalogue::is_enrolled(db, t.course_id, auth.id()).await?
    {
        return Ok(None);
    }
    if let Some(batch) = t.batch_id {
        let seat = enrollment::Entity::find()
            .filter(enrollment::Column::CourseId.eq(t.course_id))
            .filter(enrollment::Column::StudentId.eq(auth.id()))
            .one(db)
            .await?
            .and_then(|e| e.batch_id);
        if seat != Some(batch) {
            return Ok(None);
        }
    }
    Ok(Some(Standing::Student))
}

/// The test for a change: staff only (403 for its students, 404 for everyone else).
pub async fn editable_test(
    db: &impl ConnectionTrait,
    auth: &AuthUser,
    id: Uuid,
) -> Result<test::Model, ApiError> {
    let (t, standing) = visible_test(db, auth, id).await?;
    if standing != Standing::Staff {
        return Err(ApiError::Forbidden(
            "Only this course's staff or an admin can change its tests".into(),
        ));
    }
    Ok(t)
}

/// Takes the test's write lock (an UPDATE of its row first, as `catalogue::lock_course`).
pub async fn lock_test(db: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    let touched = test::Entity::update_many()
        .col_expr(test::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(test::Column::Id.eq(id))
        .exec(db)
        .await?;
    if touched.rows_affected == 0 {
        return Err(test_not_found());
    }
    Ok(())
}

/// The test's questions in order.
pub async fn questions_of(
    db: &impl ConnectionTrait,
    test_id: Uuid,
) -> Result<Vec<test_question::Model>, ApiError> {
    Ok(test_question::Entity::find()
        .filter(test_question::Column::TestId.eq(test_id))
        .order_by_asc(test_question::Column::Position)
        .order_by_asc(test_question::Column::Id)
        .all(db)
        .await?)
}

/// 422 once anyone has started the test: its questions are then changed by regrade only.
pub async fn require_no_attempts(db: &impl ConnectionTrait, test_id: Uuid) -> Result<(), ApiError> {
    let n = test_attempt::Entity::find()
        .filter(test_attempt::Column::TestId.eq(test_id))
        .count(db)
        .await?;
    if n > 0 {
        return Err(ApiError::Unprocessable(format!(
            "This test has {n} attempts; its questions can't be added, removed, moved or rewritten now. Change a key or marks with POST /questions/{{id}}/regrade"
        )));
    }
    Ok(())
}

/// Open or submitted (an unknown value reads as open).
pub fn attempt_status(a: &test_attempt::Model) -> AttemptStatus {
    a.status
}

/// The attempt's question and option order.
pub fn layout_of(a: &test_attempt::Model) -> Vec<LayoutItem> {
    a.layout.0.clone()
}

/// Sorted option ids as the stored JSON text (equal answers, equal strings).
pub fn selected_text(ids: &[Uuid]) -> String {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
}

/// The option ids an answer selected, from the stored JSON text.
pub fn selected_of(a: &attempt_answer::Model) -> Vec<Uuid> {
    serde_json::from_str(&a.selected_options).unwrap_or_default()
}
