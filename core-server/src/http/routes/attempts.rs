//! `/api/v1/tests/{id}/attempts` and `/api/v1/attempts/{id}`: a student starts an
//! attempt (the server's clock; deadline = the earlier of the window's end and start +
//! duration), saves answers as they go and submits; objective questions are graded at
//! submit, long answers wait for the grading queue. An attempt still open at its
//! deadline is submitted automatically, by the background sweep or by the next read.
//! A student sees only their own attempts; staff see all of their course's.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, Attempt, AttemptList, AttemptStatus, AttemptSummary, Role, SaveAnswers,
    Submission, SubmitAttempt, TestStatus,
};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::assessments::{
    self as tests, Standing, attempt_questions, attempt_status, best_scores, check_answers,
    close_overdue, finalize, layout_for, lock_open_attempt, marks, percentage, questions_of,
    result_of, saved_to_wire, upsert_answers, visible_test,
};
use crate::service::auth::AuthUser;
use crate::service::enrollments::{student_ref, users_by_id};
use crate::store::entity::{attempt_answer, test, test_attempt, test_question};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start_attempt)
        .service(list_attempts)
        .service(submit_test)
        .service(get_attempt)
        .service(save_answers)
        .service(submit_attempt);
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
    let t = tests::find_test(&state.db, found.test_id).await?;
    let standing = match tests::standing(&state.db, auth, &t).await? {
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

/// Starts an attempt, or gives back the one still open (200). Only the test's students,
/// inside its window, within the attempts allowed (422 otherwise).
#[utoipa::path(
    tag = "attempts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 201, description = "Started: questions without keys, the deadline", body = ApiResponse<Attempt>),
        (status = 200, description = "The attempt already open", body = ApiResponse<Attempt>),
        (status = 403, description = "Staff don't take tests", body = crate::api::ErrorBody),
        (status = 404, description = "No such test for this student", body = crate::api::ErrorBody),
        (status = 409, description = "Started twice at once", body = crate::api::ErrorBody),
        (status = 422, description = "Outside the window, or no attempts left", body = crate::api::ErrorBody),
    )
)]
#[post("/tests/{id}/attempts")]
pub async fn start_attempt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (t, standing) = visible_test(&state.db, &auth, *id).await?;
    let (attempt, fresh) = start(&state, &auth, &t, standing).await?;
    let questions = questions_of(&state.db, t.id).await?;
    let wire = attempt_to_wire(&state, &t, &attempt, &questions, Standing::Student).await?;
    Ok(if fresh { created(wire) } else { ok(wire) })
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
    if tests::status_of(t) != TestStatus::Published {
        return Err(tests::test_not_found());
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
        status: Set(AttemptStatus::InProgress.as_str().to_owned()),
        started_at: Set(now),
        deadline: Set(deadline),
        submitted_at: Set(None),
        auto_submitted: Set(false),
        raw_score: Set(None),
        score: Set(None),
        pending_answers: Set(0),
        graded_at: Set(None),
        time_spent_seconds: Set(None),
        layout: Set(serde_json::to_value(&layout).map_err(anyhow::Error::from)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(|err| {
        crate::service::catalogue::conflict(
            err,
            "attempt",
            "An attempt was started at the same moment; open it with GET /tests/{id}/attempts",
        )
    })?;
    Ok((row, true))
}

/// Attempts of the test: all of them (with students) for staff, the caller's own for a
/// student. Overdue open attempts are submitted first.
#[utoipa::path(
    tag = "attempts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 200, description = "The attempts", body = ApiResponse<AttemptList>),
        (status = 404, description = "No such test", body = crate::api::ErrorBody),
    )
)]
#[get("/tests/{id}/attempts")]
pub async fn list_attempts(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (t, standing) = visible_test(&state.db, &auth, *id).await?;
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
    Ok(ok(AttemptList { attempts }))
}

/// An attempt: its student, or the test's staff. Questions come without keys; the
/// result (once submitted) shows what the test's policy allows.
#[utoipa::path(
    tag = "attempts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attempt id")),
    responses(
        (status = 200, description = "The attempt", body = ApiResponse<Attempt>),
        (status = 404, description = "No such attempt, or not yours", body = crate::api::ErrorBody),
    )
)]
#[get("/attempts/{id}")]
pub async fn get_attempt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (a, t, standing) = visible_attempt(&state, &auth, *id).await?;
    let questions = questions_of(&state.db, t.id).await?;
    Ok(ok(
        attempt_to_wire(&state, &t, &a, &questions, standing).await?
    ))
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

/// Saves answers of an open attempt (replacing earlier ones for the same questions).
#[utoipa::path(
    tag = "attempts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attempt id")),
    request_body = SaveAnswers,
    responses(
        (status = 200, description = "Saved; the attempt's answers", body = ApiResponse<Attempt>),
        (status = 400, description = "An answer names another test's question or option", body = crate::api::ErrorBody),
        (status = 404, description = "No such attempt, or not yours", body = crate::api::ErrorBody),
        (status = 409, description = "Already submitted", body = crate::api::ErrorBody),
        (status = 422, description = "Past the deadline", body = crate::api::ErrorBody),
    )
)]
#[put("/attempts/{id}/answers")]
pub async fn save_answers(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<SaveAnswers>,
) -> Result<HttpResponse, ApiError> {
    let (a, t, _) = visible_attempt(&state, &auth, *id).await?;
    own_attempt(&a, &auth)?;
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
    Ok(ok_with(
        "Answers saved",
        attempt_to_wire(&state, &t, &a, &questions, Standing::Student).await?,
    ))
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
    let done = finalize(&txn, t, a, &questions, false, body.time_spent).await?;
    txn.commit().await?;
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
#[utoipa::path(
    tag = "attempts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attempt id")),
    request_body = SubmitAttempt,
    responses(
        (status = 200, description = "Submitted; the score as the policy allows", body = ApiResponse<Submission>),
        (status = 403, description = "Not the attempt's student", body = crate::api::ErrorBody),
        (status = 404, description = "No such attempt, or not yours", body = crate::api::ErrorBody),
        (status = 409, description = "Already submitted", body = crate::api::ErrorBody),
        (status = 422, description = "Past the deadline", body = crate::api::ErrorBody),
    )
)]
#[post("/attempts/{id}/submit")]
pub async fn submit_attempt(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<SubmitAttempt>,
) -> Result<HttpResponse, ApiError> {
    let (a, t, _) = visible_attempt(&state, &auth, *id).await?;
    Ok(ok_with(
        "Submitted",
        submit(&state, &auth, &a, &t, &body).await?,
    ))
}

/// The contract's submit: the caller's open attempt of the test (one is started now when
/// none is open) gets these answers and is submitted.
#[utoipa::path(
    tag = "attempts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    request_body = SubmitAttempt,
    responses(
        (status = 200, description = "Submitted", body = ApiResponse<Submission>),
        (status = 404, description = "No such test for this student", body = crate::api::ErrorBody),
        (status = 422, description = "Outside the window, no attempts left, or past the deadline", body = crate::api::ErrorBody),
    )
)]
#[post("/tests/{id}/submit")]
pub async fn submit_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<SubmitAttempt>,
) -> Result<HttpResponse, ApiError> {
    let (t, standing) = visible_test(&state.db, &auth, *id).await?;
    let (a, _) = start(&state, &auth, &t, standing).await?;
    let done = submit(&state, &auth, &a, &t, &body).await?;
    Ok(ok_with("Submitted", done))
}
