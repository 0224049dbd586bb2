//! What the test, attempt and grading routes share: parsing a test document, who sees
//! a test, the attempt life cycle (start, save, finalise at submit or deadline), the
//! results policy, ranks, and rows to wire types.
//!
//! Marks are hundredths (`i64`) everywhere below the wire, which speaks decimals.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::{
    AnswerInput, AnswerOutcome, AttemptOption, AttemptQuestion, AttemptResult, AttemptStatus,
    CorrectAnswer, MultipleSelectScoring, Question, QuestionDocument, QuestionOption,
    QuestionResult, QuestionType, SavedAnswer, ShowAnswers, Test, TestDocument, TestStatus,
    TestType,
};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, Access};
use crate::service::events::{self, Event, EventKind, StoredEvent};
use crate::service::grading::{self, Key, Response};
use crate::store::entity::{attempt_answer, enrollment, test, test_attempt, test_question};

/// The most marks one question may carry.
const MAX_MARKS: i64 = 100_000;
/// The longest a timed test may run (a week).
const MAX_DURATION_MINUTES: i32 = 7 * 24 * 60;
const MAX_ATTEMPTS: i32 = 100;
const MAX_QUESTIONS: usize = 500;
const MAX_OPTIONS: usize = 26;
const MAX_TEXT: usize = 20_000;
/// How often the background sweep submits attempts whose deadline has passed.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

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

/// An option as stored in `test_questions.options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredOption {
    pub id: Uuid,
    pub text: String,
    pub is_correct: bool,
}

/// One question's place in an attempt: the question and its options in shown order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutItem {
    pub q: Uuid,
    pub o: Vec<Uuid>,
}

/// A question as parsed from a document: ready to store.
#[derive(Debug, Clone)]
pub struct ParsedQuestion {
    pub kind: QuestionType,
    pub text: String,
    pub marks: i64,
    pub negative: i64,
    pub explanation: Option<String>,
    pub options: Vec<StoredOption>,
    pub accepted: Vec<String>,
    pub tolerance: Option<f64>,
}

/// A test's settings as parsed from a document.
#[derive(Debug, Clone)]
pub struct ParsedSettings {
    pub title: String,
    pub kind: TestType,
    pub instructions: Option<String>,
    pub duration: Option<i32>,
    pub passing: i64,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    pub scoring: MultipleSelectScoring,
    pub allow_negative: bool,
    pub show_results: bool,
    pub show_answers: ShowAnswers,
}

fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn parse_text(fields: &mut Fields, field: &str, text: &str, max: usize) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        fields.push(field, "must not be empty");
        None
    } else if trimmed.chars().count() > max {
        fields.push(field, format!("must be at most {max} characters"));
        None
    } else {
        Some(trimmed.to_owned())
    }
}

fn parse_marks(fields: &mut Fields, field: &str, value: f64, positive: bool) -> Option<i64> {
    let parsed = fields.take(field, hundredths(value))?;
    if positive && parsed <= 0 {
        fields.push(field, "must be greater than 0");
        None
    } else if parsed < 0 {
        fields.push(field, "must not be negative");
        None
    } else if parsed > MAX_MARKS {
        fields.push(field, format!("must be at most {}", marks(MAX_MARKS)));
        None
    } else {
        Some(parsed)
    }
}

/// Parses one question; errors name `prefix.field` (`questions[2].marks`).
pub fn parse_question(
    fields: &mut Fields,
    prefix: &str,
    doc: &QuestionDocument,
) -> Option<ParsedQuestion> {
    let text = parse_text(
        fields,
        &path(prefix, "questionText"),
        &doc.question_text,
        MAX_TEXT,
    );
    let q_marks = parse_marks(fields, &path(prefix, "marks"), doc.marks, true);
    let negative = parse_marks(
        fields,
        &path(prefix, "negativeMarks"),
        doc.negative_marks,
        false,
    );
    if let (Some(m), Some(n)) = (q_marks, negative)
        && n > m
    {
        fields.push(&path(prefix, "negativeMarks"), "must not exceed marks");
    }
    let explanation = doc
        .explanation
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    let choice = matches!(
        doc.question_type,
        QuestionType::Mcq | QuestionType::MultipleSelect | QuestionType::TrueFalse
    );
    let mut options = Vec::new();
    if choice {
        let field = path(prefix, "options");
        for (i, o) in doc.options.iter().enumerate() {
            if let Some(text) = parse_text(fields, &format!("{field}[{i}].text"), &o.text, 1000) {
                options.push(StoredOption {
                    id: Uuid::now_v7(),
                    text,
                    is_correct: o.is_correct,
                });
            }
        }
        let correct = doc.options.iter().filter(|o| o.is_correct).count();
        let count = doc.options.len();
        let rule = match doc.question_type {
            QuestionType::TrueFalse if count != 2 => {
                Some("a TRUE_FALSE question has exactly 2 options")
            }
            QuestionType::Mcq | QuestionType::MultipleSelect if count < 2 => {
                Some("needs at least 2 options")
            }
            _ if count > MAX_OPTIONS => Some("has too many options (at most 26)"),
            QuestionType::Mcq | QuestionType::TrueFalse if correct != 1 => {
                Some("needs exactly one correct option")
            }
            QuestionType::MultipleSelect if correct == 0 => {
                Some("needs at least one correct option")
            }
            _ => None,
        };
        if let Some(rule) = rule {
            fields.push(&field, rule);
        }
        let mut texts: Vec<String> = options
            .iter()
            .map(|o| grading::normalize(&o.text))
            .collect();
        texts.sort();
        texts.dedup();
        if texts.len() < options.len() {
            fields.push(&field, "option texts must differ");
        }
    } else if !doc.options.is_empty() {
        fields.push(
            &path(prefix, "options"),
            format!("a {} question has no options", doc.question_type),
        );
    }
    let mut accepted = Vec::new();
    let field = path(prefix, "acceptedAnswers");
    match doc.question_type {
        QuestionType::ShortAnswer => {
            for (i, a) in doc.accepted_answers.iter().enumerate() {
                if let Some(a) = parse_text(fields, &format!("{field}[{i}]"), a, 1000) {
                    accepted.push(a);
                }
            }
            if doc.accepted_answers.is_empty() {
                fields.push(
                    &field,
                    "a SHORT_ANSWER question needs at least one accepted answer",
                );
            }
        }
        _ if !doc.accepted_answers.is_empty() => {
            fields.push(&field, "only SHORT_ANSWER questions have accepted answers");
        }
        _ => {}
    }
    let tolerance = match doc.numeric_tolerance {
        None => None,
        Some(_) if doc.question_type != QuestionType::ShortAnswer => {
            fields.push(
                &path(prefix, "numericTolerance"),
                "only SHORT_ANSWER questions have a tolerance",
            );
            None
        }
        Some(t) if !t.is_finite() || t < 0.0 => {
            fields.push(&path(prefix, "numericTolerance"), "must be a number ≥ 0");
            None
        }
        Some(t) => {
            if !accepted.iter().any(|a| {
                grading::normalize(a)
                    .replace(' ', "")
                    .parse::<f64>()
                    .is_ok_and(f64::is_finite)
            }) {
                fields.push(
                    &path(prefix, "numericTolerance"),
                    "needs at least one numeric accepted answer",
                );
            }
            Some(t)
        }
    };
    Some(ParsedQuestion {
        kind: doc.question_type,
        text: text?,
        marks: q_marks?,
        negative: negative?,
        explanation,
        options,
        accepted,
        tolerance,
    })
}

/// Checks the window and attempts settings shared by create and update.
fn check_settings(fields: &mut Fields, s: &ParsedSettings) {
    if let Some(d) = s.duration
        && !(1..=MAX_DURATION_MINUTES).contains(&d)
    {
        fields.push(
            "durationMinutes",
            format!("must be between 1 and {MAX_DURATION_MINUTES} minutes, or absent for no limit"),
        );
    }
    if let (Some(f), Some(u)) = (s.from, s.until)
        && u <= f
    {
        fields.push("availableUntil", "must be after availableFrom");
    }
    if !(1..=MAX_ATTEMPTS).contains(&s.attempts) {
        fields.push(
            "attemptsAllowed",
            format!("must be between 1 and {MAX_ATTEMPTS}"),
        );
    }
    if s.show_answers == ShowAnswers::AfterWindow && s.until.is_none() {
        fields.push("showAnswers", "AFTER_WINDOW needs availableUntil");
    }
}

/// Parses a whole test document: settings and questions, every bad field at once.
pub fn parse_document(
    doc: &TestDocument,
) -> Result<(ParsedSettings, Vec<ParsedQuestion>), ApiError> {
    let mut fields = Fields::default();
    let title = parse_text(&mut fields, "title", &doc.title, 200);
    let passing = parse_marks(&mut fields, "passingMarks", doc.passing_marks, false);
    if doc.questions.len() > MAX_QUESTIONS {
        fields.push("questions", format!("at most {MAX_QUESTIONS} questions"));
    }
    let questions: Vec<Option<ParsedQuestion>> = doc
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| parse_question(&mut fields, &format!("questions[{i}]"), q))
        .collect();
    let total: i64 = questions.iter().flatten().map(|q| q.marks).sum();
    if let Some(given) = doc.total_marks
        && questions.iter().all(Option::is_some)
        && hundredths(given).ok() != Some(total)
    {
        fields.push(
            "totalMarks",
            format!(
                "is the sum of the questions' marks ({}); leave it out",
                marks(total)
            ),
        );
    }
    if let Some(p) = passing
        && !doc.questions.is_empty()
        && questions.iter().all(Option::is_some)
        && p > total
    {
        fields.push(
            "passingMarks",
            format!("must not exceed the total marks ({})", marks(total)),
        );
    }
    let settings = ParsedSettings {
        title: title.clone().unwrap_or_default(),
        kind: doc.test_type,
        instructions: doc
            .instructions
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        duration: doc.duration_minutes,
        passing: passing.unwrap_or_default(),
        from: doc.available_from,
        until: doc.available_until,
        attempts: doc.attempts_allowed,
        shuffle_questions: doc.shuffle_questions,
        shuffle_options: doc.shuffle_options,
        scoring: doc.multiple_select_scoring,
        allow_negative: doc.allow_negative_total,
        show_results: doc.show_results,
        show_answers: doc.show_answers,
    };
    check_settings(&mut fields, &settings);
    fields.finish()?;
    Ok((settings, questions.into_iter().flatten().collect()))
}

/// Settings of a stored test, for re-checking after a PATCH.
pub fn settings_of(t: &test::Model) -> ParsedSettings {
    ParsedSettings {
        title: t.title.clone(),
        kind: t.test_type.parse().unwrap_or(TestType::Quiz),
        instructions: t.instructions.clone(),
        duration: t.duration_minutes,
        passing: t.passing_marks,
        from: t.available_from,
        until: t.available_until,
        attempts: t.attempts_allowed,
        shuffle_questions: t.shuffle_questions,
        shuffle_options: t.shuffle_options,
        scoring: scoring_of(t),
        allow_negative: t.allow_negative_total,
        show_results: t.show_results,
        show_answers: show_answers_of(t),
    }
}

/// Validates changed settings (the PATCH's view of the whole test).
pub fn check_update(s: &ParsedSettings, total: i64) -> Result<(), ApiError> {
    let mut fields = Fields::default();
    check_settings(&mut fields, s);
    if s.passing > total && total > 0 {
        fields.push(
            "passingMarks",
            format!("must not exceed the total marks ({})", marks(total)),
        );
    }
    fields.finish()
}

pub fn scoring_of(t: &test::Model) -> MultipleSelectScoring {
    t.multiple_select_scoring.parse().unwrap_or_default()
}

pub fn show_answers_of(t: &test::Model) -> ShowAnswers {
    t.show_answers.parse().unwrap_or_default()
}

pub fn status_of(t: &test::Model) -> TestStatus {
    t.status.parse().unwrap_or(TestStatus::Draft)
}

pub fn question_type_of(q: &test_question::Model) -> QuestionType {
    q.question_type.parse().unwrap_or(QuestionType::LongAnswer)
}

pub fn options_of(q: &test_question::Model) -> Vec<StoredOption> {
    serde_json::from_value(q.options.clone()).unwrap_or_default()
}

pub fn accepted_of(q: &test_question::Model) -> Vec<String> {
    serde_json::from_value(q.accepted_answers.clone()).unwrap_or_default()
}

/// A new question row from a parsed one.
pub fn question_row(
    test_id: Uuid,
    position: i64,
    q: &ParsedQuestion,
) -> test_question::ActiveModel {
    let now = Utc::now();
    test_question::ActiveModel {
        id: Set(Uuid::now_v7()),
        test_id: Set(test_id),
        position: Set(position),
        question_type: Set(q.kind.as_str().to_owned()),
        question_text: Set(q.text.clone()),
        marks: Set(q.marks),
        negative_marks: Set(q.negative),
        explanation: Set(q.explanation.clone()),
        options: Set(serde_json::to_value(&q.options).unwrap_or_default()),
        accepted_answers: Set(serde_json::to_value(&q.accepted).unwrap_or_default()),
        numeric_tolerance: Set(q.tolerance),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The caller's standing towards one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Staff of the course, or an admin: everything, keys included.
    Staff,
    /// An enrolled student (of the batch, for a batch's test) of a published test.
    Student,
}

pub fn test_not_found() -> ApiError {
    ApiError::NotFound("Test not found".into())
}

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

/// Renumbers `questions` (in their new order) 1..n and stores `total_marks`, writing only
/// what changed.
pub async fn renumber(
    txn: &impl ConnectionTrait,
    test_id: Uuid,
    questions: &[test_question::Model],
) -> Result<i64, ApiError> {
    for (i, q) in questions.iter().enumerate() {
        let position = i as i64 + 1;
        if q.position != position {
            test_question::Entity::update_many()
                .col_expr(test_question::Column::Position, Expr::value(position))
                .filter(test_question::Column::Id.eq(q.id))
                .exec(txn)
                .await?;
        }
    }
    let total: i64 = questions.iter().map(|q| q.marks).sum();
    test::Entity::update_many()
        .col_expr(test::Column::TotalMarks, Expr::value(total))
        .filter(test::Column::Id.eq(test_id))
        .exec(txn)
        .await?;
    Ok(total)
}

pub fn question_to_wire(q: &test_question::Model) -> Question {
    Question {
        id: q.id,
        test_id: q.test_id,
        order: q.position,
        question_type: question_type_of(q),
        question_text: q.question_text.clone(),
        marks: marks(q.marks),
        negative_marks: marks(q.negative_marks),
        explanation: q.explanation.clone(),
        options: options_of(q)
            .into_iter()
            .enumerate()
            .map(|(i, o)| QuestionOption {
                id: o.id,
                text: o.text,
                order: i as i64 + 1,
                is_correct: o.is_correct,
            })
            .collect(),
        accepted_answers: accepted_of(q),
        numeric_tolerance: q.numeric_tolerance,
    }
}

/// The question as a document again (export).
pub fn question_document(q: &test_question::Model) -> QuestionDocument {
    QuestionDocument {
        question_type: question_type_of(q),
        question_text: q.question_text.clone(),
        marks: marks(q.marks),
        negative_marks: marks(q.negative_marks),
        explanation: q.explanation.clone(),
        options: options_of(q)
            .into_iter()
            .map(|o| crate::api::OptionDocument {
                text: o.text,
                is_correct: o.is_correct,
            })
            .collect(),
        accepted_answers: accepted_of(q),
        numeric_tolerance: q.numeric_tolerance,
        position: None,
    }
}

/// A whole test as one document (export).
pub fn test_document(t: &test::Model, questions: &[test_question::Model]) -> TestDocument {
    TestDocument {
        course_id: None,
        batch_id: None,
        title: t.title.clone(),
        test_type: t.test_type.parse().unwrap_or(TestType::Quiz),
        instructions: t.instructions.clone(),
        duration_minutes: t.duration_minutes,
        passing_marks: marks(t.passing_marks),
        total_marks: Some(marks(t.total_marks)),
        available_from: t.available_from,
        available_until: t.available_until,
        attempts_allowed: t.attempts_allowed,
        shuffle_questions: t.shuffle_questions,
        shuffle_options: t.shuffle_options,
        multiple_select_scoring: scoring_of(t),
        allow_negative_total: t.allow_negative_total,
        show_results: t.show_results,
        show_answers: show_answers_of(t),
        questions: questions.iter().map(question_document).collect(),
    }
}

pub fn test_to_wire(
    t: &test::Model,
    count: i64,
    questions: Option<Vec<Question>>,
    attempts_used: Option<i64>,
) -> Test {
    Test {
        id: t.id,
        course_id: t.course_id,
        batch_id: t.batch_id,
        title: t.title.clone(),
        test_type: t.test_type.parse().unwrap_or(TestType::Quiz),
        status: status_of(t),
        instructions: t.instructions.clone(),
        duration_minutes: t.duration_minutes,
        duration: t.duration_minutes,
        passing_marks: marks(t.passing_marks),
        total_marks: marks(t.total_marks),
        total_questions: count,
        available_from: t.available_from,
        available_until: t.available_until,
        attempts_allowed: t.attempts_allowed,
        shuffle_questions: t.shuffle_questions,
        shuffle_options: t.shuffle_options,
        multiple_select_scoring: scoring_of(t),
        allow_negative_total: t.allow_negative_total,
        show_results: t.show_results,
        show_answers: show_answers_of(t),
        published_at: t.published_at,
        created_at: t.created_at,
        updated_at: t.updated_at,
        questions,
        attempts_used,
    }
}

// ---------------------------------------------------------------- attempts

pub fn attempt_status(a: &test_attempt::Model) -> AttemptStatus {
    a.status.parse().unwrap_or(AttemptStatus::InProgress)
}

pub fn layout_of(a: &test_attempt::Model) -> Vec<LayoutItem> {
    serde_json::from_value(a.layout.clone()).unwrap_or_default()
}

/// The order one attempt shows: questions and options shuffled when the test says so.
pub fn layout_for(t: &test::Model, questions: &[test_question::Model]) -> Vec<LayoutItem> {
    use rand::seq::SliceRandom;
    let mut rng = rand::rng();
    let mut items: Vec<LayoutItem> = questions
        .iter()
        .map(|q| {
            let mut o: Vec<Uuid> = options_of(q).iter().map(|o| o.id).collect();
            if t.shuffle_options {
                o.shuffle(&mut rng);
            }
            LayoutItem { q: q.id, o }
        })
        .collect();
    if t.shuffle_questions {
        items.shuffle(&mut rng);
    }
    items
}

/// The attempt's questions as its student sees them: in its order, without keys.
pub fn attempt_questions(
    a: &test_attempt::Model,
    questions: &[test_question::Model],
) -> Vec<AttemptQuestion> {
    let by_id: HashMap<Uuid, &test_question::Model> = questions.iter().map(|q| (q.id, q)).collect();
    layout_of(a)
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let q = by_id.get(&item.q)?;
            let texts: HashMap<Uuid, String> =
                options_of(q).into_iter().map(|o| (o.id, o.text)).collect();
            Some(AttemptQuestion {
                id: q.id,
                order: i as i64 + 1,
                question_type: question_type_of(q),
                question_text: q.question_text.clone(),
                marks: marks(q.marks),
                options: item
                    .o
                    .iter()
                    .enumerate()
                    .filter_map(|(j, id)| {
                        Some(AttemptOption {
                            id: *id,
                            text: texts.get(id)?.clone(),
                            order: j as i64 + 1,
                        })
                    })
                    .collect(),
            })
        })
        .collect()
}

/// Sorted option ids as the stored JSON text (equal answers, equal strings).
pub fn selected_text(ids: &[Uuid]) -> String {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
}

pub fn selected_of(a: &attempt_answer::Model) -> Vec<Uuid> {
    serde_json::from_str(&a.selected_options).unwrap_or_default()
}

pub fn saved_to_wire(a: &attempt_answer::Model) -> SavedAnswer {
    SavedAnswer {
        question_id: a.question_id,
        selected_options: selected_of(a),
        answer: a.answer_text.clone(),
    }
}

/// Checks answers against the test's questions; errors name `answers[i].…`.
pub fn check_answers(
    answers: &[AnswerInput],
    questions: &[test_question::Model],
) -> Result<(), ApiError> {
    let by_id: HashMap<Uuid, &test_question::Model> = questions.iter().map(|q| (q.id, q)).collect();
    let mut fields = Fields::default();
    let mut seen = Vec::new();
    for (i, a) in answers.iter().enumerate() {
        let Some(q) = by_id.get(&a.question_id) else {
            fields.push(
                &format!("answers[{i}].questionId"),
                "is not a question of this test",
            );
            continue;
        };
        if seen.contains(&a.question_id) {
            fields.push(
                &format!("answers[{i}].questionId"),
                "is answered twice in this request",
            );
        }
        seen.push(a.question_id);
        let kind = question_type_of(q);
        let options: Vec<Uuid> = options_of(q).iter().map(|o| o.id).collect();
        match kind {
            QuestionType::Mcq | QuestionType::TrueFalse | QuestionType::MultipleSelect => {
                if a.answer.is_some() {
                    fields.push(
                        &format!("answers[{i}].answer"),
                        "this question is answered with selectedOptions",
                    );
                }
                if a.selected_options.iter().any(|o| !options.contains(o)) {
                    fields.push(
                        &format!("answers[{i}].selectedOptions"),
                        "holds an option of another question",
                    );
                }
                if kind != QuestionType::MultipleSelect && a.selected_options.len() > 1 {
                    fields.push(
                        &format!("answers[{i}].selectedOptions"),
                        "pick at most one option",
                    );
                }
            }
            QuestionType::ShortAnswer | QuestionType::LongAnswer => {
                if !a.selected_options.is_empty() {
                    fields.push(
                        &format!("answers[{i}].selectedOptions"),
                        "this question is answered with answer text",
                    );
                }
                if a.answer
                    .as_deref()
                    .is_some_and(|t| t.chars().count() > MAX_TEXT)
                {
                    fields.push(
                        &format!("answers[{i}].answer"),
                        format!("must be at most {MAX_TEXT} characters"),
                    );
                }
            }
        }
    }
    fields.finish()
}

/// Writes (or replaces) saved answers of an open attempt.
pub async fn upsert_answers(
    txn: &impl ConnectionTrait,
    attempt: &test_attempt::Model,
    answers: &[AnswerInput],
) -> Result<(), ApiError> {
    if answers.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = answers.iter().map(|a| attempt_answer::ActiveModel {
        id: Set(Uuid::now_v7()),
        attempt_id: Set(attempt.id),
        question_id: Set(a.question_id),
        test_id: Set(attempt.test_id),
        selected_options: Set(selected_text(&a.selected_options)),
        answer_text: Set(a.answer.clone()),
        marks: Set(None),
        outcome: Set(None),
        feedback: Set(None),
        graded_by: Set(None),
        graded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    attempt_answer::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                attempt_answer::Column::AttemptId,
                attempt_answer::Column::QuestionId,
            ])
            .update_columns([
                attempt_answer::Column::SelectedOptions,
                attempt_answer::Column::AnswerText,
                attempt_answer::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Takes an open attempt's lock (its row, written first). `false` when it is no longer
/// open (submitted meanwhile).
pub async fn lock_open_attempt(txn: &impl ConnectionTrait, id: Uuid) -> Result<bool, ApiError> {
    let touched = test_attempt::Entity::update_many()
        .col_expr(test_attempt::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(test_attempt::Column::Id.eq(id))
        .filter(test_attempt::Column::Status.eq(AttemptStatus::InProgress.as_str()))
        .exec(txn)
        .await?;
    Ok(touched.rows_affected == 1)
}

/// Grades one stored response of question `q`.
pub fn grade_response(
    q: &test_question::Model,
    scoring: MultipleSelectScoring,
    selected: &[Uuid],
    text: Option<&str>,
) -> grading::Graded {
    let options = options_of(q);
    let correct: Vec<Uuid> = options
        .iter()
        .filter(|o| o.is_correct)
        .map(|o| o.id)
        .collect();
    let accepted = accepted_of(q);
    grading::grade(
        &Key {
            kind: question_type_of(q),
            marks: q.marks,
            negative: q.negative_marks,
            correct: &correct,
            accepted: &accepted,
            tolerance: q.numeric_tolerance,
            scoring,
        },
        &Response { selected, text },
    )
}

/// Submits an open attempt inside `txn` (whose first statement must have been
/// [`lock_open_attempt`]): grades every question (unanswered ones as empty), stores the
/// marks and the score. `submitted_at` is now, or the deadline for an automatic submit.
pub async fn finalize(
    txn: &impl ConnectionTrait,
    t: &test::Model,
    attempt: &test_attempt::Model,
    questions: &[test_question::Model],
    auto: bool,
    time_spent: Option<i64>,
) -> Result<test_attempt::Model, ApiError> {
    let now = Utc::now();
    let saved: HashMap<Uuid, attempt_answer::Model> = attempt_answer::Entity::find()
        .filter(attempt_answer::Column::AttemptId.eq(attempt.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| (a.question_id, a))
        .collect();
    let scoring = scoring_of(t);
    let mut raw = 0i64;
    let mut pending = 0i32;
    let mut rows = Vec::with_capacity(questions.len());
    for q in questions {
        let (selected, text) = match saved.get(&q.id) {
            Some(a) => (selected_of(a), a.answer_text.clone()),
            None => (Vec::new(), None),
        };
        let graded = grade_response(q, scoring, &selected, text.as_deref());
        match graded.marks {
            Some(m) => raw += m,
            None => pending += 1,
        }
        rows.push(attempt_answer::ActiveModel {
            id: Set(saved.get(&q.id).map_or_else(Uuid::now_v7, |a| a.id)),
            attempt_id: Set(attempt.id),
            question_id: Set(q.id),
            test_id: Set(t.id),
            selected_options: Set(selected_text(&selected)),
            answer_text: Set(text),
            marks: Set(graded.marks),
            outcome: Set(Some(graded.outcome.as_str().to_owned())),
            feedback: Set(None),
            graded_by: Set(None),
            graded_at: Set(graded.marks.map(|_| now)),
            created_at: Set(saved.get(&q.id).map_or(now, |a| a.created_at)),
            updated_at: Set(now),
        });
    }
    attempt_answer::Entity::delete_many()
        .filter(attempt_answer::Column::AttemptId.eq(attempt.id))
        .exec(txn)
        .await?;
    for chunk in rows.chunks(500) {
        attempt_answer::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    let submitted_at = if auto {
        attempt.deadline.unwrap_or(now).min(now)
    } else {
        now
    };
    let updated = test_attempt::ActiveModel {
        id: Set(attempt.id),
        status: Set(AttemptStatus::Submitted.as_str().to_owned()),
        submitted_at: Set(Some(submitted_at)),
        auto_submitted: Set(auto),
        raw_score: Set(Some(raw)),
        score: Set(Some(grading::total(raw, t.allow_negative_total))),
        pending_answers: Set(pending),
        graded_at: Set((pending == 0).then_some(now)),
        time_spent_seconds: Set(time_spent.or(attempt.time_spent_seconds)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    Ok(updated)
}

/// Submits, each in its own transaction, the open attempts whose deadline has passed
/// (of one test, or of all tests). Returns how many it submitted.
pub async fn close_overdue(
    db: &DatabaseConnection,
    test_id: Option<Uuid>,
) -> Result<u64, ApiError> {
    let now = Utc::now();
    let mut query = test_attempt::Entity::find()
        .filter(test_attempt::Column::Status.eq(AttemptStatus::InProgress.as_str()))
        .filter(test_attempt::Column::Deadline.lte(now));
    if let Some(id) = test_id {
        query = query.filter(test_attempt::Column::TestId.eq(id));
    }
    let overdue = query.limit(1000).all(db).await?;
    let mut tests: HashMap<Uuid, (test::Model, Vec<test_question::Model>)> = HashMap::new();
    let mut closed = 0;
    for attempt in overdue {
        if !tests.contains_key(&attempt.test_id) {
            let t = find_test(db, attempt.test_id).await?;
            let qs = questions_of(db, t.id).await?;
            tests.insert(t.id, (t, qs));
        }
        let Some((t, qs)) = tests.get(&attempt.test_id) else {
            continue;
        };
        let txn = crate::store::db::begin_write(db).await?;
        if lock_open_attempt(&txn, attempt.id).await? {
            finalize(&txn, t, &attempt, qs, true, None).await?;
            closed += 1;
        }
        txn.commit().await?;
    }
    Ok(closed)
}

/// Submits overdue attempts every [`SWEEP_EVERY`] for as long as the server runs.
pub fn spawn_sweeper(background: &crate::platform::state::Background, db: DatabaseConnection) {
    background.spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            match close_overdue(&db, None).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(attempts = n, "submitted attempts whose deadline passed"),
                Err(err) => tracing::warn!(error = %err, "deadline sweep failed"),
            }
        }
    });
}

/// Whether students may see correct answers and explanations now.
pub fn answers_visible(t: &test::Model, now: DateTime<Utc>) -> bool {
    match show_answers_of(t) {
        ShowAnswers::Never => false,
        ShowAnswers::AfterSubmit => true,
        ShowAnswers::AfterWindow => t.available_until.is_some_and(|u| now >= u),
    }
}

/// Competition rank (1, 2, 2, 4) of `score` among the students' best submitted scores.
pub async fn rank_of(
    db: &impl ConnectionTrait,
    test_id: Uuid,
    score: i64,
) -> Result<i64, ApiError> {
    let best = best_scores(db, test_id).await?;
    Ok(1 + best.values().filter(|s| **s > score).count() as i64)
}

/// Each student's best submitted score of the test.
pub async fn best_scores(
    db: &impl ConnectionTrait,
    test_id: Uuid,
) -> Result<HashMap<Uuid, i64>, ApiError> {
    let rows: Vec<(Uuid, Option<i64>)> = test_attempt::Entity::find()
        .select_only()
        .column(test_attempt::Column::StudentId)
        .column_as(test_attempt::Column::Score.max(), "best")
        .filter(test_attempt::Column::TestId.eq(test_id))
        .filter(test_attempt::Column::Status.eq(AttemptStatus::Submitted.as_str()))
        .group_by(test_attempt::Column::StudentId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, b)| Some((s, b?)))
        .collect())
}

/// A submitted attempt's result: everything for staff; for its student, what the policy
/// allows at `now`.
pub async fn result_of(
    db: &impl ConnectionTrait,
    t: &test::Model,
    attempt: &test_attempt::Model,
    questions: &[test_question::Model],
    standing: Standing,
    now: DateTime<Utc>,
) -> Result<Option<AttemptResult>, ApiError> {
    if attempt_status(attempt) != AttemptStatus::Submitted {
        return Ok(None);
    }
    let staff = standing == Standing::Staff;
    let complete = attempt.pending_answers == 0;
    let total = t.total_marks;
    if !staff && !t.show_results {
        return Ok(Some(AttemptResult {
            attempt_id: attempt.id,
            grading_complete: complete,
            score: None,
            total_marks: marks(total),
            percentage: None,
            passed: None,
            rank: None,
            correct_answers: None,
            wrong_answers: None,
            breakdown: None,
        }));
    }
    let score = attempt.score.unwrap_or_default();
    let answers: HashMap<Uuid, attempt_answer::Model> = attempt_answer::Entity::find()
        .filter(attempt_answer::Column::AttemptId.eq(attempt.id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.question_id, a))
        .collect();
    let show_key = staff || answers_visible(t, now);
    let order: HashMap<Uuid, i64> = layout_of(attempt)
        .iter()
        .enumerate()
        .map(|(i, l)| (l.q, i as i64 + 1))
        .collect();
    let mut breakdown = Vec::with_capacity(questions.len());
    let (mut right, mut wrong) = (0, 0);
    for q in questions {
        let a = answers.get(&q.id);
        let outcome = a
            .and_then(|a| a.outcome.as_deref())
            .and_then(|o| o.parse().ok())
            .unwrap_or(AnswerOutcome::Empty);
        match outcome {
            AnswerOutcome::Correct => right += 1,
            AnswerOutcome::Wrong => wrong += 1,
            _ => {}
        }
        breakdown.push(QuestionResult {
            question_id: q.id,
            order: order.get(&q.id).copied().unwrap_or(q.position),
            max_marks: marks(q.marks),
            marks: a.and_then(|a| a.marks).map(marks),
            outcome,
            feedback: a.and_then(|a| a.feedback.clone()),
            correct: show_key.then(|| CorrectAnswer {
                options: options_of(q)
                    .iter()
                    .filter(|o| o.is_correct)
                    .map(|o| o.id)
                    .collect(),
                accepted_answers: accepted_of(q),
            }),
            explanation: if show_key {
                q.explanation.clone()
            } else {
                None
            },
        });
    }
    breakdown.sort_by_key(|b| b.order);
    Ok(Some(AttemptResult {
        attempt_id: attempt.id,
        grading_complete: complete,
        score: Some(marks(score)),
        total_marks: marks(total),
        percentage: Some(percentage(score, total)),
        passed: complete.then_some(score >= t.passing_marks),
        rank: Some(rank_of(db, t.id, score).await?),
        correct_answers: Some(right),
        wrong_answers: Some(wrong),
        breakdown: Some(breakdown),
    }))
}

/// Publishes `attempt.graded` in `txn` when the attempt just became fully graded.
pub async fn graded_event(
    txn: &impl ConnectionTrait,
    t: &test::Model,
    attempt: &test_attempt::Model,
    actor: Uuid,
) -> Result<StoredEvent, ApiError> {
    events::publish(
        txn,
        Event {
            kind: EventKind::AttemptGraded,
            payload: serde_json::json!({
                "attemptId": attempt.id,
                "testId": t.id,
                "courseId": t.course_id,
                "studentId": attempt.student_id,
                "title": t.title,
                "actorId": actor,
            }),
        },
    )
    .await
}
