//! Attempts: a student starts one (the server's clock; deadline = the earlier of the
//! window's end and start + duration), saves answers as they go and submits; objective
//! questions are graded at submit, long answers wait for the grading queue. An attempt
//! still open at its deadline is submitted automatically, by the sweeper or by the next
//! read. A student sees only their own attempts; staff see all of their course's.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{
    LayoutItem, Standing, attempt_status, best_scores, check_answers, close_overdue, finalize,
    find_test, layout_of, lock_open_attempt, marks, options_of, percentage, question_type_of,
    questions_of, result_of, saved_to_wire, status_of, test_not_found, upsert_answers,
    visible_test,
};
use crate::api::{
    Attempt, AttemptList, AttemptOption, AttemptQuestion, AttemptStatus, AttemptSummary, Role,
    SaveAnswers, Submission, SubmitAttempt, TestStatus,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::enrollments::{student_ref, users_by_id};
use crate::service::gamification;
use crate::store::entity::{attempt_answer, test, test_attempt, test_question};

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

fn attempt_not_found() -> ApiError {
    ApiError::NotFound("Attempt not found".into())
}

/// The attempt, its test and the caller's standing: its student, or the test's staff.
/// Anyone else gets 404. An overdue open attempt is submitted first.
async fn visible_attempt(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(test_attempt::Model, test::Model, Standing), ApiError> {
    let found = test_attempt::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(attempt_not_found)?;
    let t = find_test(&state.db, found.test_id).await?;
    let standing = match super::standing(&state.db, auth, &t).await? {
        Some(Standing::Staff) => Standing::Staff,
        _ if found.student_id == auth.id() => Standing::Student,
        _ => return Err(attempt_not_found()),
    };
    if attempt_status(&found) == AttemptStatus::InProgress
        && found.deadline.is_some_and(|d| d <= Utc::now())
    {
        close_overdue(&state.db, Some(t.id)).await?;
    }
    let found = test_attempt::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(attempt_not_found)?;
    Ok((found, t, standing))
}

async fn attempt_to_wire(
    state: &AppState,
    t: &test::Model,
    a: &test_attempt::Model,
    questions: &[test_question::Model],
    standing: Standing,
) -> Result<Attempt, ApiError> {
    let saved = attempt_answer::Entity::find()
        .filter(attempt_answer::Column::AttemptId.eq(a.id))
        .all(&state.db)
        .await?;
    Ok(Attempt {
        id: a.id,
        test_id: a.test_id,
        student_id: a.student_id,
        number: a.number,
        status: attempt_status(a),
        started_at: a.started_at,
        deadline: a.deadline,
        submitted_at: a.submitted_at,
        auto_submitted: a.auto_submitted,
        questions: attempt_questions(a, questions),
        answers: saved.iter().map(saved_to_wire).collect(),
        result: result_of(&state.db, t, a, questions, standing, Utc::now()).await?,
    })
}

/// Starts an attempt, or gives back the one still open (`false`). Only the test's
/// students, inside its window, within the attempts allowed (422 otherwise).
pub async fn start_attempt(
    state: &AppState,
    auth: &AuthUser,
    test_id: Uuid,
) -> Result<(Attempt, bool), ApiError> {
    let (t, standing) = visible_test(&state.db, auth, test_id).await?;
    let (attempt, fresh) = start(state, auth, &t, standing).await?;
    let questions = questions_of(&state.db, t.id).await?;
    let wire = attempt_to_wire(state, &t, &attempt, &questions, Standing::Student).await?;
    Ok((wire, fresh))
}

/// The open attempt of the caller, or a new one; `true` when new.
async fn start(
    state: &AppState,
    auth: &AuthUser,
    t: &test::Model,
    standing: Standing,
) -> Result<(test_attempt::Model, bool), ApiError> {
    if standing != Standing::Student || auth.role() != Role::Student {
        return Err(ApiError::Forbidden(
            "Only the course's students take its tests".into(),
        ));
    }
    if status_of(t) != TestStatus::Published {
        return Err(test_not_found());
    }
    close_overdue(&state.db, Some(t.id)).await?;
    let mine = test_attempt::Entity::find()
        .filter(test_attempt::Column::TestId.eq(t.id))
        .filter(test_attempt::Column::StudentId.eq(auth.id()))
        .order_by_desc(test_attempt::Column::Number)
        .all(&state.db)
        .await?;
    if let Some(open) = mine
        .iter()
        .find(|a| attempt_status(a) == AttemptStatus::InProgress)
    {
        return Ok((open.clone(), false));
    }
    let now = Utc::now();
    if let Some(from) = t.available_from
        && now < from
    {
        return Err(ApiError::Unprocessable(format!(
            "This test opens at {}",
            from.to_rfc3339()
        )));
    }
    if let Some(until) = t.available_until
        && now >= until
    {
        return Err(ApiError::Unprocessable(format!(
            "This test closed at {}",
            until.to_rfc3339()
        )));
    }
    if mine.len() as i32 >= t.attempts_allowed {
        return Err(ApiError::Unprocessable(format!(
            "You have used all {} attempts allowed for this test",
            t.attempts_allowed
        )));
    }
    let by_duration = t
        .duration_minutes
        .map(|m| now + Duration::minutes(i64::from(m)));
    let deadline = match (by_duration, t.available_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let questions = questions_of(&state.db, t.id).await?;
    let layout = layout_for(t, &questions);
    let row = test_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        test_id: Set(t.id),
        course_id: Set(t.course_id),
        student_id: Set(auth.id()),
        number: Set(mine.len() as i32 + 1),
        status: Set(AttemptStatus::InProgress),
        started_at: Set(now),
        deadline: Set(deadline),
        submitted_at: Set(None),
        auto_submitted: Set(false),
        raw_score: Set(None),
        score: Set(None),
        pending_answers: Set(0),
        graded_at: Set(None),
        time_spent_seconds: Set(None),
        layout: Set(layout.into()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = crate::store::db::begin_write(&state.db).await?;
    let row = row.insert(&txn).await?;
    crate::service::analytics::activity::record(
        &txn,
        &[crate::service::analytics::activity::NewActivity {
            course_id: Some(t.course_id),
            ..crate::service::analytics::activity::NewActivity::new(
                auth.id(),
                row.id,
                crate::api::ActivityKind::TestStarted,
                now,
            )
        }],
    )
    .await?;
    txn.commit().await?;
    Ok((row, true))
}

/// Attempts of the test: all of them (with students) for staff, the caller's own for a
/// student. Overdue open attempts are submitted first.
pub async fn list_attempts(
    state: &AppState,
    auth: &AuthUser,
    test_id: Uuid,
) -> Result<AttemptList, ApiError> {
    let (t, standing) = visible_test(&state.db, auth, test_id).await?;
    close_overdue(&state.db, Some(t.id)).await?;
    let mut query = test_attempt::Entity::find().filter(test_attempt::Column::TestId.eq(t.id));
    if standing == Standing::Student {
        query = query.filter(test_attempt::Column::StudentId.eq(auth.id()));
    }
    let rows = query
        .order_by_asc(test_attempt::Column::StartedAt)
        .order_by_asc(test_attempt::Column::Id)
        .all(&state.db)
        .await?;
    let staff = standing == Standing::Staff;
    let show = staff || t.show_results;
    let students = if staff {
        users_by_id(&state.db, rows.iter().map(|a| a.student_id)).await?
    } else {
        Default::default()
    };
    let best = best_scores(&state.db, t.id).await?;
    let attempts = rows
        .iter()
        .map(|a| {
            let submitted = attempt_status(a) == AttemptStatus::Submitted;
            let score = a.score.filter(|_| show && submitted);
            let complete = submitted && a.pending_answers == 0;
            AttemptSummary {
                id: a.id,
                test_id: a.test_id,
                student: students.get(&a.student_id).map(student_ref),
                number: a.number,
                status: attempt_status(a),
                started_at: a.started_at,
                deadline: a.deadline,
                submitted_at: a.submitted_at,
                auto_submitted: a.auto_submitted,
                grading_complete: complete,
                score: score.map(marks),
                percentage: score.map(|s| percentage(s, t.total_marks)),
                passed: score.filter(|_| complete).map(|s| s >= t.passing_marks),
                rank: score.map(|s| 1 + best.values().filter(|b| **b > s).count() as i64),
            }
        })
        .collect();
    Ok(AttemptList { attempts })
}

/// An attempt: its student, or the test's staff. Questions come without keys; the
/// result (once submitted) shows what the test's policy allows.
pub async fn get_attempt(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Attempt, ApiError> {
    let (a, t, standing) = visible_attempt(state, auth, id).await?;
    let questions = questions_of(&state.db, t.id).await?;
    attempt_to_wire(state, &t, &a, &questions, standing).await
}

fn own_attempt(a: &test_attempt::Model, auth: &AuthUser) -> Result<(), ApiError> {
    if a.student_id == auth.id() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only the attempt's student can answer or submit it".into(),
        ))
    }
}

fn past_deadline() -> ApiError {
    ApiError::Unprocessable(
        "The deadline has passed; the attempt was submitted automatically with the answers saved before it".into(),
    )
}

/// Saves answers of an open attempt (replacing earlier ones for the same questions);
/// the attempt with its answers.
pub async fn save_answers(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &SaveAnswers,
) -> Result<Attempt, ApiError> {
    let (a, t, _) = visible_attempt(state, auth, id).await?;
    own_attempt(&a, auth)?;
    let questions = questions_of(&state.db, t.id).await?;
    check_answers(&body.answers, &questions)?;
    if a.auto_submitted {
        return Err(past_deadline());
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    if !lock_open_attempt(&txn, a.id).await? {
        return Err(already_submitted());
    }
    upsert_answers(&txn, &a, &body.answers).await?;
    txn.commit().await?;
    attempt_to_wire(state, &t, &a, &questions, Standing::Student).await
}

fn already_submitted() -> ApiError {
    ApiError::Conflict {
        field: None,
        message: "This attempt has already been submitted".into(),
    }
}

/// Saves the last answers and submits the attempt before its deadline; objective
/// questions are graded at once. A late submit is refused (422; the attempt was
/// submitted at its deadline with what was saved).
async fn submit(
    state: &AppState,
    auth: &AuthUser,
    a: &test_attempt::Model,
    t: &test::Model,
    body: &SubmitAttempt,
) -> Result<Submission, ApiError> {
    own_attempt(a, auth)?;
    let questions = questions_of(&state.db, t.id).await?;
    check_answers(&body.answers, &questions)?;
    if let Some(ts) = body.time_spent
        && !(0..=7 * 24 * 3600).contains(&ts)
    {
        return Err(ApiError::field(
            "timeSpent",
            "must be between 0 and 604800 seconds",
        ));
    }
    if a.auto_submitted {
        return Err(past_deadline());
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    if !lock_open_attempt(&txn, a.id).await? {
        return Err(already_submitted());
    }
    upsert_answers(&txn, a, &body.answers).await?;
    let (done, submitted) = finalize(&txn, t, a, &questions, false, body.time_spent).await?;
    let earned = gamification::settle_test(&txn, t, &[a.student_id]).await?;
    txn.commit().await?;
    state.events.announce([submitted]);
    earned.announce(state).await;
    let result = result_of(
        &state.db,
        t,
        &done,
        &questions,
        Standing::Student,
        Utc::now(),
    )
    .await?;
    Ok(Submission {
        submission_id: done.id,
        attempt_id: done.id,
        auto_submitted: false,
        grading_complete: done.pending_answers == 0,
        score: result.as_ref().and_then(|r| r.score),
        total_marks: marks(t.total_marks),
        percentage: result.as_ref().and_then(|r| r.percentage),
        passed: result.as_ref().and_then(|r| r.passed),
        correct_answers: result.as_ref().and_then(|r| r.correct_answers),
        wrong_answers: result.as_ref().and_then(|r| r.wrong_answers),
        xp_earned: 0,
    })
}

/// Submits an attempt (its student only).
pub async fn submit_attempt(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &SubmitAttempt,
) -> Result<Submission, ApiError> {
    let (a, t, _) = visible_attempt(state, auth, id).await?;
    submit(state, auth, &a, &t, body).await
}

/// The contract's submit: the caller's open attempt of the test (one is started now when
/// none is open) gets these answers and is submitted.
pub async fn submit_test(
    state: &AppState,
    auth: &AuthUser,
    test_id: Uuid,
    body: &SubmitAttempt,
) -> Result<Submission, ApiError> {
    let (t, standing) = visible_test(&state.db, auth, test_id).await?;
    let (a, _) = start(state, auth, &t, standing).await?;
    submit(state, auth, &a, &t, body).await
}
