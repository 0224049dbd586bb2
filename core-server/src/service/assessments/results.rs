//! Results: what a submitted attempt shows to whom and when (the test's results
//! policy), competition ranks, the `attempt.graded` event, and the course gradebook.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    Standing, accepted_of, attempt_status, layout_of, marks, options_of, percentage,
    show_answers_of,
};
use crate::api::{
    AnswerOutcome, AttemptResult, AttemptStatus, CorrectAnswer, EnrollmentStatus, Gradebook,
    GradebookRow, GradebookTest, QuestionResult, ShowAnswers,
};
use crate::domain::events::{AttemptGraded, DomainEvent};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, find_course};
use crate::service::enrollments::{student_ref, users_by_id};
use crate::service::events::{self, StoredEvent};
use crate::store::entity::{attempt_answer, enrollment, test, test_attempt, test_question, user};

/// Whether a student who has used `attempts_used` of the test's attempts may see the
/// correct answers and explanations now. AFTER_SUBMIT shows them once no attempt is
/// left (or the window has closed), so the key of one attempt never helps the next.
pub fn answers_visible(t: &test::Model, now: DateTime<Utc>, attempts_used: u64) -> bool {
    let window_closed = t.available_until.is_some_and(|u| now >= u);
    match show_answers_of(t) {
        ShowAnswers::Never => false,
        ShowAnswers::AfterSubmit => {
            window_closed || attempts_used >= u64::try_from(t.attempts_allowed).unwrap_or(0)
        }
        ShowAnswers::AfterWindow => window_closed,
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
    let show_key = staff || {
        let used = test_attempt::Entity::find()
            .filter(test_attempt::Column::TestId.eq(t.id))
            .filter(test_attempt::Column::StudentId.eq(attempt.student_id))
            .count(db)
            .await?;
        answers_visible(t, now, used)
    };
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
        DomainEvent::AttemptGraded(AttemptGraded {
            attempt_id: attempt.id,
            test_id: t.id,
            course_id: t.course_id,
            student_id: attempt.student_id,
            title: t.title.clone(),
            actor_id: Some(actor),
        }),
    )
    .await
}

/// A course's gradebook and the course's slug (for a file name).
#[derive(Debug)]
pub struct CourseGradebook {
    pub book: Gradebook,
    pub slug: String,
}

/// The course's students (enrolled, by name) × its published tests (oldest first), each
/// cell the student's best submitted score (`None`: none). Staff only.
pub async fn gradebook(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
) -> Result<CourseGradebook, ApiError> {
    let db = &state.db;
    let course = find_course(db, course_key).await?;
    let access = catalogue::access(db, Some(auth), course.id).await?;
    if !catalogue::can_view(db, &course, access, Some(auth)).await? {
        return Err(catalogue::course_not_found());
    }
    access.require_edit()?;
    let tests_of = test::Entity::find()
        .filter(test::Column::CourseId.eq(course.id))
        .filter(test::Column::Status.eq(crate::api::TestStatus::Published.as_str()))
        .order_by_asc(test::Column::CreatedAt)
        .order_by_asc(test::Column::Id)
        .all(db)
        .await?;
    let enrolled = enrollment::Entity::find()
        .filter(enrollment::Column::CourseId.eq(course.id))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]))
        .all(db)
        .await?;
    let mut students: Vec<user::Model> = users_by_id(db, enrolled.iter().map(|e| e.student_id))
        .await?
        .into_values()
        .collect();
    students.sort_by(|a, b| {
        (&a.last_name, &a.first_name, a.id).cmp(&(&b.last_name, &b.first_name, b.id))
    });
    let best: Vec<(Uuid, Uuid, Option<i64>)> = test_attempt::Entity::find()
        .select_only()
        .column(test_attempt::Column::TestId)
        .column(test_attempt::Column::StudentId)
        .column_as(test_attempt::Column::Score.max(), "best")
        .filter(test_attempt::Column::CourseId.eq(course.id))
        .filter(test_attempt::Column::Status.eq(AttemptStatus::Submitted.as_str()))
        .group_by(test_attempt::Column::TestId)
        .group_by(test_attempt::Column::StudentId)
        .into_tuple()
        .all(db)
        .await?;
    let best: HashMap<(Uuid, Uuid), i64> = best
        .into_iter()
        .filter_map(|(t, s, b)| Some(((t, s), b?)))
        .collect();
    let book = Gradebook {
        course_id: course.id,
        tests: tests_of
            .iter()
            .map(|t| GradebookTest {
                id: t.id,
                title: t.title.clone(),
                total_marks: marks(t.total_marks),
            })
            .collect(),
        rows: students
            .iter()
            .map(|s| GradebookRow {
                student: student_ref(s),
                scores: tests_of
                    .iter()
                    .map(|t| best.get(&(t.id, s.id)).copied().map(marks))
                    .collect(),
            })
            .collect(),
    };
    Ok(CourseGradebook {
        book,
        slug: course.slug,
    })
}

/// A CSV cell a spreadsheet would run as a formula (`= + - @`, tab, CR) is prefixed with
/// `'` so it stays text.
pub fn csv_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

impl CourseGradebook {
    /// The gradebook as CSV: one row per student, one column per test.
    pub fn to_csv(&self) -> Result<Vec<u8>, ApiError> {
        let book = &self.book;
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut header = vec![
            "studentId".to_owned(),
            "firstName".to_owned(),
            "lastName".to_owned(),
            "email".to_owned(),
        ];
        header.extend(book.tests.iter().map(|t| csv_safe(&t.title)));
        out.write_record(&header).map_err(anyhow::Error::from)?;
        for row in &book.rows {
            let mut record = vec![
                row.student.id.to_string(),
                csv_safe(&row.student.first_name),
                csv_safe(&row.student.last_name),
                csv_safe(&row.student.email),
            ];
            record.extend(
                row.scores
                    .iter()
                    .map(|s| s.map(|s| s.to_string()).unwrap_or_default()),
            );
            out.write_record(&record).map_err(anyhow::Error::from)?;
        }
        let bytes = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod csv_cells {
    use super::csv_safe;

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_kept_as_text() {
        for (cell, expected) in [
            ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("Ada", "Ada"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(csv_safe(cell), expected, "{cell:?}");
        }
    }
}
