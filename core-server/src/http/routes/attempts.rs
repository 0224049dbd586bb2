//! `/api/v1/tests/{id}/attempts` and `/api/v1/attempts/{id}`: a student starts an
//! attempt (the server's clock; deadline = the earlier of the window's end and start +
//! duration), saves answers as they go and submits; objective questions are graded at
//! submit, long answers wait for the grading queue. An attempt still open at its
//! deadline is submitted automatically, by the background sweep or by the next read.
//! A student sees only their own attempts; staff see all of their course's.

use actix_web::{HttpResponse, get, post, put, web};
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{ApiResponse, Attempt, AttemptList, SaveAnswers, Submission, SubmitAttempt};
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::assessments;
use crate::service::auth::AuthUser;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start_attempt)
        .service(list_attempts)
        .service(submit_test)
        .service(get_attempt)
        .service(save_answers)
        .service(submit_attempt);
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
    let (wire, fresh) = assessments::start_attempt(&state, &auth, *id).await?;
    Ok(if fresh { created(wire) } else { ok(wire) })
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
    Ok(ok(assessments::list_attempts(&state, &auth, *id).await?))
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
    Ok(ok(assessments::get_attempt(&state, &auth, *id).await?))
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
    Ok(ok_with(
        "Answers saved",
        assessments::save_answers(&state, &auth, *id, &body).await?,
    ))
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
    Ok(ok_with(
        "Submitted",
        assessments::submit_attempt(&state, &auth, *id, &body).await?,
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
    let done = assessments::submit_test(&state, &auth, *id, &body).await?;
    Ok(ok_with("Submitted", done))
}
