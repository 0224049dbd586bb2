//! `/api/v1/grading/…`, `/api/v1/questions/{id}/regrade` and
//! `/api/v1/courses/{id}/gradebook`: the teacher's side of results. The queue holds the
//! long answers of submitted attempts across the caller's courses (admins: all); grading
//! the last one of an attempt announces `attempt.graded`. A regrade changes an objective
//! question's key or marks and rescores every submitted attempt in one transaction,
//! set-based: one UPDATE per distinct response, then one per score column.

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use uuid::Uuid;

use super::ok;
use crate::api::{
    ApiResponse, GradeAnswer, Gradebook, GradedAnswer, GradingFilter, GradingItem, GradingQueue,
    NextUngraded, Regrade, RegradeReport,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::platform::state::AppState;
use crate::service::assessments;
use crate::service::auth::AuthUser;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(grading_queue)
        .service(next_ungraded)
        .service(get_answer)
        .service(grade_answer)
        .service(regrade_question)
        .service(gradebook);
}

/// Long answers waiting for marks across the caller's courses, oldest submission first.
/// `courseId` / `testId` narrow it; `blind=true` hides who wrote them.
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(GradingFilter),
    responses(
        (status = 200, description = "The queue", body = ApiResponse<GradingQueue>),
        (status = 404, description = "Not staff of that course or test", body = crate::api::ErrorBody),
    )
)]
#[get("/grading/queue")]
pub async fn grading_queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<GradingFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(assessments::grading_queue(&state, &auth, &filter).await?))
}

/// The oldest ungraded answer of the (filtered) queue and how many wait in all.
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(GradingFilter),
    responses((status = 200, description = "The next answer, or `item: null`", body = ApiResponse<NextUngraded>))
)]
#[get("/grading/next")]
pub async fn next_ungraded(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<GradingFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(assessments::next_ungraded(&state, &auth, &filter).await?))
}

/// `?blind=` for one answer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Blind {
    #[serde(default)]
    pub blind: bool,
}

/// One answer of the queue (graded or not).
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id"), Blind),
    responses(
        (status = 200, description = "The answer", body = ApiResponse<GradingItem>),
        (status = 404, description = "No such answer, or not yours to grade", body = crate::api::ErrorBody),
    )
)]
#[get("/grading/answers/{id}")]
pub async fn get_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    blind: Query<Blind>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        assessments::get_answer(&state, &auth, *id, blind.blind).await?
    ))
}

/// Marks a long answer (0 to the question's marks, two decimals) with optional feedback;
/// grading it again replaces the marks. The attempt's score follows; when its last
/// answer gets marks, `attempt.graded` is announced.
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Answer id")),
    request_body = GradeAnswer,
    responses(
        (status = 200, description = "Graded", body = ApiResponse<GradedAnswer>),
        (status = 400, description = "Marks out of range", body = crate::api::ErrorBody),
        (status = 404, description = "No such answer, or not yours to grade", body = crate::api::ErrorBody),
        (status = 422, description = "Not a long answer (objective answers change by regrade)", body = crate::api::ErrorBody),
    )
)]
#[put("/grading/answers/{id}")]
pub async fn grade_answer(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<GradeAnswer>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        assessments::grade_answer(&state, &auth, *id, &body).await?
    ))
}

/// Changes an objective question's key or marks and rescores the submitted attempts.
/// `dryRun: true` changes nothing and lists every attempt whose marks for the question
/// would change, with its old and new score; otherwise the same happens in one
/// transaction.
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = Regrade,
    responses(
        (status = 200, description = "What changed (or would)", body = ApiResponse<RegradeReport>),
        (status = 400, description = "Invalid key or marks", body = crate::api::ErrorBody),
        (status = 404, description = "No such question", body = crate::api::ErrorBody),
        (status = 422, description = "A long-answer question", body = crate::api::ErrorBody),
    )
)]
#[post("/questions/{id}/regrade")]
pub async fn regrade_question(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<Regrade>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        assessments::regrade_question(&state, &auth, *id, &body).await?
    ))
}

/// `GET /courses/{id}/gradebook` format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct GradebookFormat {
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// The course's students (enrolled, by name) × its published tests (oldest first), each
/// cell the student's best submitted score (`null`/empty: none). Staff only; CSV with
/// `format=csv`.
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)"), GradebookFormat),
    responses(
        (status = 200, description = "The gradebook, as JSON or (`?format=csv`) CSV", content(
            (ApiResponse<Gradebook> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "A student of the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/gradebook")]
pub async fn gradebook(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    format: Query<GradebookFormat>,
) -> Result<HttpResponse, ApiError> {
    let csv_wanted = match format.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => {
            return Err(ApiError::field(
                "format",
                format!("`{other}` is not one of json, csv"),
            ));
        }
    };
    let found = assessments::gradebook(&state, &auth, &id).await?;
    if !csv_wanted {
        return Ok(ok(found.book));
    }
    let bytes = found.to_csv()?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"gradebook-{}.csv\"", found.slug),
        ))
        .body(bytes))
}
