//! Test documents: parsing a test or a question from the wire (every bad field named by
//! its path, `questions[2].marks`), a new question's row, and stored rows back to wire
//! types and to the document an export gives.

use chrono::{DateTime, Utc};
use sea_orm::Set;
use uuid::Uuid;

use super::{
    MAX_TEXT, StoredOption, accepted_of, hundredths, marks, options_of, question_type_of,
    scoring_of, show_answers_of, status_of,
};
use crate::api::{
    MultipleSelectScoring, Question, QuestionDocument, QuestionOption, QuestionType, ShowAnswers,
    Test, TestDocument, TestType,
};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::service::grading;
use crate::store::entity::{test, test_question};

/// The most marks one question may carry.
const MAX_MARKS: i64 = 100_000;
/// The longest a timed test may run (a week).
const MAX_DURATION_MINUTES: i32 = 7 * 24 * 60;
const MAX_ATTEMPTS: i32 = 100;
/// Lists in a test document are bounded, and each bound is checked before the list's
/// items are examined, so an oversized document costs one comparison per list.
const MAX_QUESTIONS: usize = 500;
pub(super) const MAX_OPTIONS: usize = 26;
/// The most spellings a SHORT_ANSWER question accepts (each submitted answer is
/// compared with all of them).
pub(super) const MAX_ACCEPTED: usize = 50;

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
    if choice && doc.options.len() > MAX_OPTIONS {
        fields.push(
            &path(prefix, "options"),
            format!("has too many options (at most {MAX_OPTIONS})"),
        );
    } else if choice {
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
        QuestionType::ShortAnswer if doc.accepted_answers.len() > MAX_ACCEPTED => {
            fields.push(&field, format!("at most {MAX_ACCEPTED} accepted answers"));
        }
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
    let questions: Vec<Option<ParsedQuestion>> = if doc.questions.len() > MAX_QUESTIONS {
        fields.push("questions", format!("at most {MAX_QUESTIONS} questions"));
        Vec::new()
    } else {
        doc.questions
            .iter()
            .enumerate()
            .map(|(i, q)| parse_question(&mut fields, &format!("questions[{i}]"), q))
            .collect()
    };
    // Totals are checked only against a complete, parsed list of questions.
    let complete = doc.questions.len() <= MAX_QUESTIONS && questions.iter().all(Option::is_some);
    let total: i64 = questions.iter().flatten().map(|q| q.marks).sum();
    if let Some(given) = doc.total_marks
        && complete
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
        && complete
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
        kind: t.test_type,
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
        question_type: Set(q.kind),
        question_text: Set(q.text.clone()),
        marks: Set(q.marks),
        negative_marks: Set(q.negative),
        explanation: Set(q.explanation.clone()),
        options: Set(q.options.clone().into()),
        accepted_answers: Set(q.accepted.clone().into()),
        numeric_tolerance: Set(q.tolerance),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A question as staff see it, keys included.
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
        test_type: t.test_type,
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

/// A test on the wire; `questions` and `attempts_used` only for who may see them.
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
        test_type: t.test_type,
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
