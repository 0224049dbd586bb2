//! `/api/v1/tests`, `/api/v1/courses/{id}/tests` and `/api/v1/questions/{id}`: tests of a
//! course and their questions, for the course's staff; students of the course see the
//! published tests meant for them (their batch's, or the whole course's). Anyone else
//! gets 404. Questions keep positions 1..n under the test's lock; once a test has
//! attempts its questions change only through a regrade.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, CreatedTest, MoveQuestion, PageQuery, Question, QuestionDocument, Test,
    TestDocument, TestList, UpdateTest,
};
use crate::error::ApiError;
use crate::http::extract::{Json, Query, parse_json};
use crate::platform::state::AppState;
use crate::service::assessments;
use crate::service::auth::AuthUser;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_tests)
        .service(create_test)
        .service(import_test)
        .service(get_test)
        .service(update_test)
        .service(delete_test)
        .service(publish_test)
        .service(export_test)
        .service(add_question)
        .service(replace_question)
        .service(delete_question)
        .service(move_question);
}

/// `GET /tests` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct TestFilter {
    /// Only this course's tests (id or slug).
    pub course_id: Option<String>,
    pub page: Option<u64>,
    pub limit: Option<u64>,
}

/// Tests the caller may see: staff see every test of their courses (drafts too),
/// students the published tests of their courses meant for them (whole course or their
/// batch), admins everything. `courseId` narrows to one course.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(TestFilter),
    responses(
        (status = 200, description = "The tests", body = ApiResponse<TestList>),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[get("/tests")]
pub async fn list_tests(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: Query<TestFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let list = assessments::list_tests(&state, &auth, filter.course_id.as_deref(), page).await?;
    Ok(ok(list))
}

/// Creates a draft test with its questions (the contract's `POST /tests`; `courseId`
/// in the body). Course staff and admins only.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    request_body = TestDocument,
    responses(
        (status = 201, description = "Created (a draft)", body = ApiResponse<CreatedTest>),
        (status = 400, description = "Invalid fields, named by path (`questions[2].marks`)", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[post("/tests")]
pub async fn create_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(doc): Json<TestDocument>,
) -> Result<HttpResponse, ApiError> {
    let Some(course) = doc.course_id else {
        return Err(ApiError::field("courseId", "is required"));
    };
    let made = assessments::create_test(&state, &auth, &course.to_string(), doc).await?;
    Ok(created(made))
}

/// Whether a request body is TOML (by its content type).
fn is_toml(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("toml"))
}

/// Parses a TOML test document; a bad field is named by its path, as for JSON.
pub fn parse_toml(body: &[u8]) -> Result<TestDocument, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("The TOML document is not UTF-8".into()))?;
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ApiError::BadRequest(format!("Malformed TOML: {e}")))?;
    serde_path_to_error::deserialize::<_, TestDocument>(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().message().to_owned();
        if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            let field = if path == "." {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            ApiError::field(field, "is required")
        } else {
            ApiError::field(if path == "." { "body" } else { &path }, message)
        }
    })
}

/// Imports a whole test (the document `GET /tests/{id}/export` gives) into the course as
/// a draft. The body is JSON, or TOML with a `…toml` content type.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id, slug or SIS id (externalId)")),
    request_body(content = TestDocument, content_type = "application/json"),
    responses(
        (status = 201, description = "Created (a draft)", body = ApiResponse<CreatedTest>),
        (status = 400, description = "Invalid fields, named by path", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/tests")]
pub async fn import_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let doc = if is_toml(&req) {
        parse_toml(&body)?
    } else {
        parse_json::<TestDocument>(&body)?
    };
    Ok(created(
        assessments::import_test(&state, &auth, &id, doc).await?,
    ))
}

/// A test: staff get its questions with their keys; students its settings, the number
/// of questions and their attempts used (questions come with an attempt).
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 200, description = "The test", body = ApiResponse<Test>),
        (status = 404, description = "No such test, or not yours to see", body = crate::api::ErrorBody),
    )
)]
#[get("/tests/{id}")]
pub async fn get_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(assessments::get_test(&state, &auth, *id).await?))
}

/// Changes a test's settings. Scoring rules (`multipleSelectScoring`,
/// `allowNegativeTotal`) are fixed once anyone has started it.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    request_body = UpdateTest,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Test>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "A student of the course", body = crate::api::ErrorBody),
        (status = 404, description = "No such test", body = crate::api::ErrorBody),
        (status = 422, description = "Scoring change after attempts", body = crate::api::ErrorBody),
    )
)]
#[patch("/tests/{id}")]
pub async fn update_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateTest>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        assessments::update_test(&state, &auth, *id, &body).await?
    ))
}

/// Deletes a test nobody has attempted (409 naming `attempts` otherwise).
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 404, description = "No such test", body = crate::api::ErrorBody),
        (status = 409, description = "The test has attempts", body = crate::api::ErrorBody),
    )
)]
#[delete("/tests/{id}")]
pub async fn delete_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = assessments::delete_test(&state, &auth, *id).await?;
    Ok(ok_with("Test deleted", json!({ "id": id })))
}

/// Publishes a draft test to its course (or batch) and announces `test.published`.
/// Needs at least one question and passing marks within the total; publishing a
/// published test is a no-op 200.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 200, description = "Published", body = ApiResponse<Test>),
        (status = 404, description = "No such test", body = crate::api::ErrorBody),
        (status = 422, description = "No questions, or passing marks above the total", body = crate::api::ErrorBody),
    )
)]
#[post("/tests/{id}/publish")]
pub async fn publish_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (test, now) = assessments::publish_test(&state, &auth, *id).await?;
    Ok(if now {
        ok_with("Test published", test)
    } else {
        ok(test)
    })
}

/// `GET /tests/{id}/export` format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportFormat {
    /// `json` (default) or `toml`.
    #[param(pattern = "^(json|toml)$")]
    pub format: Option<String>,
}

/// The whole test as one document (no envelope), JSON or TOML, ready for
/// `POST /courses/{id}/tests`. Staff only.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id"), ExportFormat),
    responses(
        (status = 200, description = "The document, as JSON or (`?format=toml`) TOML", content(
            (TestDocument = "application/json"),
            (String = "application/toml"),
        )),
        (status = 403, description = "Not staff of the test's course", body = crate::api::ErrorBody),
        (status = 404, description = "No such test", body = crate::api::ErrorBody),
    )
)]
#[get("/tests/{id}/export")]
pub async fn export_test(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    format: Query<ExportFormat>,
) -> Result<HttpResponse, ApiError> {
    let doc = assessments::export_test(&state, &auth, *id).await?;
    match format.format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(doc)),
        "toml" => {
            let text = toml::to_string_pretty(&doc).map_err(anyhow::Error::from)?;
            Ok(HttpResponse::Ok()
                .content_type("application/toml; charset=utf-8")
                .body(text))
        }
        other => Err(ApiError::field(
            "format",
            format!("`{other}` is not one of json, toml"),
        )),
    }
}

/// Adds a question (at `position`, or last) to a test nobody has attempted yet.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    request_body = QuestionDocument,
    responses(
        (status = 201, description = "Added", body = ApiResponse<Question>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 404, description = "No such test", body = crate::api::ErrorBody),
        (status = 422, description = "The test has attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/tests/{id}/questions")]
pub async fn add_question(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(doc): Json<QuestionDocument>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(
        assessments::add_question(&state, &auth, *id, &doc).await?,
    ))
}

/// Rewrites a question (its id stays; options get new ids). `position` moves it too.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = QuestionDocument,
    responses(
        (status = 200, description = "Rewritten", body = ApiResponse<Question>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 404, description = "No such question", body = crate::api::ErrorBody),
        (status = 422, description = "The test has attempts", body = crate::api::ErrorBody),
    )
)]
#[put("/questions/{id}")]
pub async fn replace_question(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(doc): Json<QuestionDocument>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        assessments::replace_question(&state, &auth, *id, &doc).await?
    ))
}

/// Deletes a question; the others close the gap.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 404, description = "No such question", body = crate::api::ErrorBody),
        (status = 422, description = "The test has attempts", body = crate::api::ErrorBody),
    )
)]
#[delete("/questions/{id}")]
pub async fn delete_question(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = assessments::delete_question(&state, &auth, *id).await?;
    Ok(ok_with("Question deleted", json!({ "id": id })))
}

/// Moves a question to `position` (1..n); the others shift.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = MoveQuestion,
    responses(
        (status = 200, description = "The test's questions in their new order", body = ApiResponse<Vec<Question>>),
        (status = 400, description = "Position out of range", body = crate::api::ErrorBody),
        (status = 404, description = "No such question", body = crate::api::ErrorBody),
    )
)]
#[post("/questions/{id}/move")]
pub async fn move_question(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<MoveQuestion>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        assessments::move_question(&state, &auth, *id, &body).await?
    ))
}
