//! Answers: checking them against the test's questions, saving them on an open
//! attempt, and grading them all at submit (or at the deadline) into the attempt's
//! marks and score.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    MAX_TEXT, accepted_of, options_of, question_type_of, scoring_of, selected_of, selected_text,
};
use crate::api::{AnswerInput, AttemptStatus, MultipleSelectScoring, QuestionType, SavedAnswer};
use crate::domain::Fields;
use crate::domain::events::{AttemptSubmitted, DomainEvent};
use crate::error::ApiError;
use crate::service::events::{self, StoredEvent};
use crate::service::grading::{self, Key, Response};
use crate::store::entity::{attempt_answer, test, test_attempt, test_question};

pub fn saved_to_wire(a: &attempt_answer::Model) -> SavedAnswer {
    SavedAnswer {
        question_id: a.question_id,
        selected_options: selected_of(a),
        answer: a.answer_text.clone(),
    }
}

/// Checks answers against the test's questions; errors name `answers[i].…`. There is at
/// most one answer per question and one selection per option: longer lists are refused
/// before any answer is looked at, and every check is a set or map lookup.
pub fn check_answers(
    answers: &[AnswerInput],
    questions: &[test_question::Model],
) -> Result<(), ApiError> {
    if answers.len() > questions.len() {
        return Err(ApiError::field(
            "answers",
            format!(
                "at most one answer per question: this test has {} ({} given)",
                questions.len(),
                answers.len()
            ),
        ));
    }
    let by_id: HashMap<Uuid, &test_question::Model> = questions.iter().map(|q| (q.id, q)).collect();
    let mut fields = Fields::default();
    let mut seen = HashSet::with_capacity(answers.len());
    for (i, a) in answers.iter().enumerate() {
        let Some(q) = by_id.get(&a.question_id) else {
            fields.push(
                &format!("answers[{i}].questionId"),
                "is not a question of this test",
            );
            continue;
        };
        if !seen.insert(a.question_id) {
            fields.push(
                &format!("answers[{i}].questionId"),
                "is answered twice in this request",
            );
        }
        let kind = question_type_of(q);
        let options: HashSet<Uuid> = options_of(q).iter().map(|o| o.id).collect();
        match kind {
            QuestionType::Mcq | QuestionType::TrueFalse | QuestionType::MultipleSelect => {
                if a.answer.is_some() {
                    fields.push(
                        &format!("answers[{i}].answer"),
                        "this question is answered with selectedOptions",
                    );
                }
                if a.selected_options.len() > options.len() {
                    fields.push(
                        &format!("answers[{i}].selectedOptions"),
                        format!("this question has {} options", options.len()),
                    );
                } else if a.selected_options.iter().any(|o| !options.contains(o)) {
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
) -> Result<(test_attempt::Model, StoredEvent), ApiError> {
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
        status: Set(AttemptStatus::Submitted),
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
    let event = events::publish(
        txn,
        DomainEvent::AttemptSubmitted(AttemptSubmitted {
            attempt_id: attempt.id,
            test_id: t.id,
            course_id: t.course_id,
            student_id: attempt.student_id,
            title: t.title.clone(),
            ungraded: u64::try_from(pending).unwrap_or(0),
        }),
    )
    .await?;
    Ok((updated, event))
}
