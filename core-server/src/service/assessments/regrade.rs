//! Regrades: an objective question's key or marks change and every submitted attempt
//! is rescored in one transaction, set-based: one UPDATE per distinct response, then one
//! per score delta. A dry run reports what would change and writes nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QuerySelect, Set, Statement, Value,
};
use uuid::Uuid;

use super::{
    Standing, accepted_of, grade_response, hundredths, lock_test, marks, options_of,
    question_type_of, scoring_of,
};
use crate::api::{AttemptStatus, QuestionType, Regrade, RegradeChange, RegradeReport};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::grading;
use crate::store::entity::{attempt_answer, test, test_attempt, test_question};

/// `?` placeholders as the backend wants them (`$1…` on PostgreSQL).
fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The question as it would be after the regrade; 400 naming a bad field.
fn regraded(q: &test_question::Model, body: &Regrade) -> Result<test_question::Model, ApiError> {
    let kind = question_type_of(q);
    if kind == QuestionType::LongAnswer {
        return Err(ApiError::Unprocessable(
            "Long answers are graded by hand; a regrade is for objective questions".into(),
        ));
    }
    let mut fields = Fields::default();
    let mut next = q.clone();
    if let Some(m) = body.marks
        && let Some(m) = fields.take("marks", hundredths(m))
    {
        if m <= 0 {
            fields.push("marks", "must be greater than 0");
        }
        next.marks = m;
    }
    if let Some(n) = body.negative_marks
        && let Some(n) = fields.take("negativeMarks", hundredths(n))
    {
        if n < 0 {
            fields.push("negativeMarks", "must not be negative");
        }
        next.negative_marks = n;
    }
    if next.negative_marks > next.marks {
        fields.push("negativeMarks", "must not exceed marks");
    }
    if let Some(correct) = &body.correct_options {
        let mut options = options_of(q);
        let ids: HashSet<Uuid> = options.iter().map(|o| o.id).collect();
        if kind == QuestionType::ShortAnswer {
            fields.push("correctOptions", "a SHORT_ANSWER question has no options");
        } else if correct.len() > options.len() {
            fields.push(
                "correctOptions",
                format!("this question has {} options", options.len()),
            );
        } else if correct.iter().any(|c| !ids.contains(c)) {
            fields.push(
                "correctOptions",
                "holds an id that is not an option of this question",
            );
        } else {
            let unique: HashSet<&Uuid> = correct.iter().collect();
            let ok = match kind {
                QuestionType::MultipleSelect => !unique.is_empty(),
                _ => unique.len() == 1,
            };
            if !ok {
                fields.push(
                    "correctOptions",
                    if kind == QuestionType::MultipleSelect {
                        "needs at least one option"
                    } else {
                        "needs exactly one option"
                    },
                );
            }
            for o in &mut options {
                o.is_correct = unique.contains(&o.id);
            }
            next.options = options.into();
        }
    }
    if let Some(accepted) = &body.accepted_answers {
        if kind != QuestionType::ShortAnswer {
            fields.push(
                "acceptedAnswers",
                "only SHORT_ANSWER questions have accepted answers",
            );
        } else if accepted.len() > super::documents::MAX_ACCEPTED {
            fields.push(
                "acceptedAnswers",
                format!(
                    "at most {} accepted answers",
                    super::documents::MAX_ACCEPTED
                ),
            );
        } else {
            let cleaned: Vec<String> = accepted
                .iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect();
            if cleaned.is_empty() {
                fields.push("acceptedAnswers", "needs at least one non-empty answer");
            }
            next.accepted_answers = cleaned.into();
        }
    }
    if let Some(tolerance) = body.numeric_tolerance {
        if kind != QuestionType::ShortAnswer {
            fields.push(
                "numericTolerance",
                "only SHORT_ANSWER questions have a tolerance",
            );
        } else if tolerance.is_some_and(|t| !t.is_finite() || t < 0.0) {
            fields.push("numericTolerance", "must be a number ≥ 0");
        }
        next.numeric_tolerance = tolerance;
    }
    fields.finish()?;
    // The whole question must still be valid (e.g. a tolerance needs a numeric answer).
    let mut check = Fields::default();
    super::parse_question(&mut check, "", &super::question_document(&next));
    check.finish()?;
    let _ = accepted_of(&next);
    Ok(next)
}

/// Changes an objective question's key or marks and rescores the submitted attempts.
/// `dryRun: true` changes nothing and lists every attempt whose marks for the question
/// would change, with its old and new score; otherwise the same happens in one
/// transaction. The course's staff only.
pub async fn regrade_question(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &Regrade,
) -> Result<RegradeReport, ApiError> {
    let not_found = || ApiError::NotFound("Question not found".into());
    let q = test_question::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let t = super::find_test(&state.db, q.test_id).await?;
    match super::standing(&state.db, auth, &t).await? {
        Some(Standing::Staff) => {}
        Some(Standing::Student) => {
            return Err(ApiError::Forbidden(
                "Only this course's staff or an admin can regrade".into(),
            ));
        }
        None => return Err(not_found()),
    }
    let next = regraded(&q, body)?;
    regrade(state, &t, &q, &next, body.dry_run).await
}

/// An answer as a regrade reads it: attempt, selected options, text, marks, outcome.
type AnswerRow = (Uuid, String, Option<String>, Option<i64>, Option<String>);

/// Runs a regrade of `q` to `next` (see [`regrade_question`]); public for the benchmark.
pub async fn regrade(
    state: &AppState,
    t: &test::Model,
    q: &test_question::Model,
    next: &test_question::Model,
    dry_run: bool,
) -> Result<RegradeReport, ApiError> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    if !dry_run {
        lock_test(&txn, t.id).await?;
    }
    let scoring = scoring_of(t);
    // One grading per distinct response, whatever the number of attempts.
    let groups: Vec<(String, Option<String>)> = attempt_answer::Entity::find()
        .select_only()
        .column(attempt_answer::Column::SelectedOptions)
        .column(attempt_answer::Column::AnswerText)
        .filter(attempt_answer::Column::QuestionId.eq(q.id))
        .filter(attempt_answer::Column::Outcome.is_not_null())
        .group_by(attempt_answer::Column::SelectedOptions)
        .group_by(attempt_answer::Column::AnswerText)
        .into_tuple()
        .all(&txn)
        .await?;
    let mut new_marks: HashMap<(String, Option<String>), grading::Graded> = HashMap::new();
    for (selected, text) in groups {
        let ids: Vec<Uuid> = serde_json::from_str(&selected).unwrap_or_default();
        let graded = grade_response(next, scoring, &ids, text.as_deref());
        new_marks.insert((selected, text), graded);
    }
    let answers: Vec<AnswerRow> = attempt_answer::Entity::find()
        .select_only()
        .column(attempt_answer::Column::AttemptId)
        .column(attempt_answer::Column::SelectedOptions)
        .column(attempt_answer::Column::AnswerText)
        .column(attempt_answer::Column::Marks)
        .column(attempt_answer::Column::Outcome)
        .filter(attempt_answer::Column::QuestionId.eq(q.id))
        .filter(attempt_answer::Column::Outcome.is_not_null())
        .into_tuple()
        .all(&txn)
        .await?;
    let attempts: HashMap<Uuid, (Uuid, Option<i64>, Option<i64>)> = test_attempt::Entity::find()
        .select_only()
        .column(test_attempt::Column::Id)
        .column(test_attempt::Column::StudentId)
        .column(test_attempt::Column::RawScore)
        .column(test_attempt::Column::Score)
        .filter(test_attempt::Column::TestId.eq(t.id))
        .filter(test_attempt::Column::Status.eq(AttemptStatus::Submitted.as_str()))
        .into_tuple::<(Uuid, Uuid, Option<i64>, Option<i64>)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(id, s, raw, score)| (id, (s, raw, score)))
        .collect();
    let mut affected = Vec::new();
    // The submitted attempts whose raw score moves, by how much.
    let mut moves: BTreeMap<i64, Vec<Uuid>> = BTreeMap::new();
    let mut changed_groups: BTreeMap<(String, Option<String>), grading::Graded> = BTreeMap::new();
    for (attempt_id, selected, text, old, outcome) in answers {
        let key = (selected, text);
        let Some(graded) = new_marks.get(&key) else {
            continue;
        };
        let same = graded.marks == old && outcome.as_deref() == Some(graded.outcome.as_str());
        if same {
            continue;
        }
        changed_groups.insert(key, *graded);
        let Some((student, raw, score)) = attempts.get(&attempt_id) else {
            continue;
        };
        let raw = raw.unwrap_or_default();
        let delta = graded.marks.unwrap_or_default() - old.unwrap_or_default();
        let new_raw = raw + delta;
        if delta != 0 {
            moves.entry(delta).or_default().push(attempt_id);
        }
        affected.push(RegradeChange {
            attempt_id,
            student_id: *student,
            old_score: marks(score.unwrap_or_default()),
            new_score: marks(grading::total(new_raw, t.allow_negative_total)),
        });
    }
    affected.sort_by_key(|c| c.attempt_id);
    let report = RegradeReport {
        question_id: q.id,
        dry_run,
        examined: attempts.len() as u64,
        affected,
    };
    if dry_run {
        txn.rollback().await?;
        return Ok(report);
    }
    let now = Utc::now();
    test_question::ActiveModel {
        id: Set(q.id),
        marks: Set(next.marks),
        negative_marks: Set(next.negative_marks),
        options: Set(next.options.clone()),
        accepted_answers: Set(next.accepted_answers.clone()),
        numeric_tolerance: Set(next.numeric_tolerance),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let questions = super::questions_of(&txn, t.id).await?;
    super::renumber(&txn, t.id, &questions).await?;
    for ((selected, text), graded) in &changed_groups {
        let mut update = attempt_answer::Entity::update_many()
            .col_expr(attempt_answer::Column::Marks, Expr::value(graded.marks))
            .col_expr(
                attempt_answer::Column::Outcome,
                Expr::value(graded.outcome.as_str()),
            )
            .col_expr(attempt_answer::Column::UpdatedAt, Expr::value(now))
            .filter(attempt_answer::Column::QuestionId.eq(q.id))
            .filter(attempt_answer::Column::Outcome.is_not_null())
            .filter(attempt_answer::Column::SelectedOptions.eq(selected.as_str()));
        update = match text {
            Some(text) => update.filter(attempt_answer::Column::AnswerText.eq(text.as_str())),
            None => update.filter(attempt_answer::Column::AnswerText.is_null()),
        };
        update.exec(&txn).await?;
    }
    // Only the attempts that moved are written, each by its delta (the report's new
    // score): one statement per delta and 500 attempts.
    let backend = txn.get_database_backend();
    let score = if t.allow_negative_total {
        "raw_score + ?"
    } else {
        "CASE WHEN raw_score + ? < 0 THEN 0 ELSE raw_score + ? END"
    };
    for (delta, ids) in &moves {
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut values: Vec<sea_orm::Value> = vec![(*delta).into()];
            values.push((*delta).into());
            if !t.allow_negative_total {
                values.push((*delta).into());
            }
            values.push(now.into());
            values.extend(chunk.iter().map(|id| (*id).into()));
            txn.execute_raw(statement(
                backend,
                &format!(
                    "UPDATE test_attempts SET raw_score = raw_score + ?, score = {score}, updated_at = ? WHERE id IN ({marks})"
                ),
                values,
            ))
            .await?;
        }
    }
    // A pass that became a fail takes its XP back; a fail that became a pass earns it.
    let students: std::collections::BTreeSet<Uuid> =
        report.affected.iter().map(|c| c.student_id).collect();
    let students: Vec<Uuid> = students.into_iter().collect();
    let earned = crate::service::gamification::settle_test(&txn, t, &students).await?;
    txn.commit().await?;
    earned.announce(state).await;
    Ok(report)
}
