//! The grading queue: the long answers of submitted attempts across the caller's
//! courses (admins: all), and marking them by hand; grading the last one of an attempt
//! announces `attempt.graded`.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use uuid::Uuid;

use super::{Standing, hundredths, marks, question_type_of};
use crate::api::{
    AnswerOutcome, GradeAnswer, GradedAnswer, GradingFilter, GradingItem, GradingQueue,
    NextUngraded, PageQuery, Pagination, QuestionType,
};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::service::enrollments::{student_ref, users_by_id};
use crate::service::gamification;
use crate::service::grading;
use crate::store::entity::{attempt_answer, course_staff, test, test_attempt, test_question};

fn answer_not_found() -> ApiError {
    ApiError::NotFound("Answer not found".into())
}

/// Pending answers the caller may grade, narrowed by the filter.
async fn pending_answers(
    state: &AppState,
    auth: &AuthUser,
    filter: &GradingFilter,
) -> Result<Select<attempt_answer::Entity>, ApiError> {
    let db = &state.db;
    let mut query = attempt_answer::Entity::find()
        .filter(attempt_answer::Column::Outcome.eq(AnswerOutcome::Pending.as_str()));
    if let Some(test_id) = filter.test_id {
        let (_, standing) = super::visible_test(db, auth, test_id).await?;
        if standing != Standing::Staff {
            return Err(super::test_not_found());
        }
        query = query.filter(attempt_answer::Column::TestId.eq(test_id));
    }
    let mut tests_of = Query::select()
        .column(test::Column::Id)
        .from(test::Entity)
        .to_owned();
    if let Some(course_id) = filter.course_id {
        let access = catalogue::access(db, Some(auth), course_id).await?;
        if !access.can_edit() {
            return Err(catalogue::course_not_found());
        }
        tests_of.and_where(test::Column::CourseId.eq(course_id));
    }
    if !auth.is_admin() {
        tests_of.and_where(
            test::Column::CourseId.in_subquery(
                Query::select()
                    .column(course_staff::Column::CourseId)
                    .from(course_staff::Entity)
                    .and_where(course_staff::Column::UserId.eq(auth.id()))
                    .to_owned(),
            ),
        );
    }
    Ok(query.filter(attempt_answer::Column::TestId.in_subquery(tests_of)))
}

/// Queue rows as wire items (students hidden in blind mode).
async fn items(
    db: &impl ConnectionTrait,
    rows: &[attempt_answer::Model],
    blind: bool,
) -> Result<Vec<GradingItem>, ApiError> {
    let attempts: HashMap<Uuid, test_attempt::Model> = test_attempt::Entity::find()
        .filter(test_attempt::Column::Id.is_in(rows.iter().map(|r| r.attempt_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let tests_by: HashMap<Uuid, test::Model> = test::Entity::find()
        .filter(test::Column::Id.is_in(rows.iter().map(|r| r.test_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let questions: HashMap<Uuid, test_question::Model> = test_question::Entity::find()
        .filter(test_question::Column::Id.is_in(rows.iter().map(|r| r.question_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|q| (q.id, q))
        .collect();
    let students = if blind {
        HashMap::new()
    } else {
        users_by_id(db, attempts.values().map(|a| a.student_id)).await?
    };
    Ok(rows
        .iter()
        .filter_map(|r| {
            let a = attempts.get(&r.attempt_id)?;
            let t = tests_by.get(&r.test_id)?;
            let q = questions.get(&r.question_id)?;
            Some(GradingItem {
                answer_id: r.id,
                attempt_id: a.id,
                test_id: t.id,
                test_title: t.title.clone(),
                course_id: t.course_id,
                question_id: q.id,
                question_order: q.position,
                question_text: q.question_text.clone(),
                max_marks: marks(q.marks),
                answer: r.answer_text.clone(),
                student: students.get(&a.student_id).map(student_ref),
                submitted_at: a.submitted_at,
                marks: r.marks.map(marks),
                feedback: r.feedback.clone(),
                outcome: r
                    .outcome
                    .as_deref()
                    .and_then(|o| o.parse().ok())
                    .unwrap_or(AnswerOutcome::Pending),
            })
        })
        .collect())
}

/// Long answers waiting for marks across the caller's courses, oldest submission first.
/// `courseId` / `testId` narrow it; `blind` hides who wrote them.
pub async fn grading_queue(
    state: &AppState,
    auth: &AuthUser,
    filter: &GradingFilter,
) -> Result<GradingQueue, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let query = pending_answers(state, auth, filter).await?;
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(attempt_answer::Column::UpdatedAt)
        .order_by_asc(attempt_answer::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(GradingQueue {
        items: items(&state.db, &rows, filter.blind).await?,
        pagination: Pagination::new(page, total),
    })
}

/// The oldest ungraded answer of the (filtered) queue and how many wait in all.
pub async fn next_ungraded(
    state: &AppState,
    auth: &AuthUser,
    filter: &GradingFilter,
) -> Result<NextUngraded, ApiError> {
    let query = pending_answers(state, auth, filter).await?;
    let remaining = query.clone().count(&state.db).await?;
    let row = query
        .order_by_asc(attempt_answer::Column::UpdatedAt)
        .order_by_asc(attempt_answer::Column::Id)
        .one(&state.db)
        .await?;
    let item = match row {
        Some(r) => items(&state.db, &[r], filter.blind).await?.pop(),
        None => None,
    };
    Ok(NextUngraded { item, remaining })
}

/// An answer, its attempt and test, for the test's staff (404 for anyone else).
async fn staff_answer(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(attempt_answer::Model, test::Model), ApiError> {
    let a = attempt_answer::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(answer_not_found)?;
    let t = super::find_test(&state.db, a.test_id).await?;
    if super::standing(&state.db, auth, &t).await? != Some(Standing::Staff) {
        return Err(answer_not_found());
    }
    Ok((a, t))
}

/// One answer of the queue (graded or not); `blind` hides its student.
pub async fn get_answer(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    blind: bool,
) -> Result<GradingItem, ApiError> {
    let (a, _) = staff_answer(state, auth, id).await?;
    items(&state.db, &[a], blind)
        .await?
        .pop()
        .ok_or_else(answer_not_found)
}

/// Marks a long answer (0 to the question's marks, two decimals) with optional feedback;
/// grading it again replaces the marks. The attempt's score follows; when its last
/// answer gets marks, `attempt.graded` is announced.
pub async fn grade_answer(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &GradeAnswer,
) -> Result<GradedAnswer, ApiError> {
    let (a, t) = staff_answer(state, auth, id).await?;
    let q = test_question::Entity::find_by_id(a.question_id)
        .one(&state.db)
        .await?
        .ok_or_else(answer_not_found)?;
    if question_type_of(&q) != QuestionType::LongAnswer || a.outcome.is_none() {
        return Err(ApiError::Unprocessable(
            "Only long answers of submitted attempts are graded by hand; change an objective question's key with a regrade".into(),
        ));
    }
    let mut fields = Fields::default();
    let given = fields.take("marks", hundredths(body.marks));
    if let Some(m) = given
        && !(0..=q.marks).contains(&m)
    {
        fields.push("marks", format!("must be between 0 and {}", marks(q.marks)));
    }
    let feedback = body
        .feedback
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned);
    if feedback
        .as_ref()
        .is_some_and(|f| f.chars().count() > 10_000)
    {
        fields.push("feedback", "must be at most 10000 characters");
    }
    fields.finish()?;
    let given = given.unwrap_or_default();
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    // The attempt's row first: graders of one attempt queue here.
    test_attempt::Entity::update_many()
        .col_expr(test_attempt::Column::UpdatedAt, Expr::value(now))
        .filter(test_attempt::Column::Id.eq(a.attempt_id))
        .exec(&txn)
        .await?;
    let attempt = test_attempt::Entity::find_by_id(a.attempt_id)
        .one(&txn)
        .await?
        .ok_or_else(answer_not_found)?;
    attempt_answer::ActiveModel {
        id: Set(a.id),
        marks: Set(Some(given)),
        outcome: Set(Some(AnswerOutcome::Graded.as_str().to_owned())),
        feedback: Set(feedback),
        graded_by: Set(Some(auth.id())),
        graded_at: Set(Some(now)),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let all = attempt_answer::Entity::find()
        .filter(attempt_answer::Column::AttemptId.eq(attempt.id))
        .all(&txn)
        .await?;
    let raw: i64 = all.iter().filter_map(|x| x.marks).sum();
    let pending = all
        .iter()
        .filter(|x| x.outcome.as_deref() == Some(AnswerOutcome::Pending.as_str()))
        .count() as i32;
    let completes = pending == 0 && attempt.pending_answers > 0;
    let updated = test_attempt::ActiveModel {
        id: Set(attempt.id),
        raw_score: Set(Some(raw)),
        score: Set(Some(grading::total(raw, t.allow_negative_total))),
        pending_answers: Set(pending),
        graded_at: Set(if pending == 0 {
            attempt.graded_at.or(Some(now))
        } else {
            None
        }),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let event = if completes {
        Some(super::graded_event(&txn, &t, &updated, auth.id()).await?)
    } else {
        None
    };
    let earned = if pending == 0 {
        gamification::settle_test(&txn, &t, &[attempt.student_id]).await?
    } else {
        gamification::Earned::default()
    };
    txn.commit().await?;
    state.events.announce(event);
    earned.announce(state).await;
    let a = attempt_answer::Entity::find_by_id(a.id)
        .one(&state.db)
        .await?
        .ok_or_else(answer_not_found)?;
    let item = items(&state.db, &[a], false)
        .await?
        .pop()
        .ok_or_else(answer_not_found)?;
    Ok(GradedAnswer {
        item,
        attempt_score: marks(updated.score.unwrap_or_default()),
        grading_complete: pending == 0,
    })
}
