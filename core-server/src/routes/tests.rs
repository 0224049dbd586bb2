//! `/api/v1/tests`, `/api/v1/courses/{id}/tests` and `/api/v1/questions/{id}`: tests of a
//! course and their questions, for the course's staff; students of the course see the
//! published tests meant for them (their batch's, or the whole course's). Anyone else
//! gets 404. Questions keep positions 1..n under the test's lock; once a test has
//! attempts its questions change only through a regrade.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, CreatedTest, MoveQuestion, PageQuery, Pagination, Question, QuestionDocument,
    Test, TestDocument, TestList, TestStatus, UpdateTest,
};
use crate::assessments::{
    self as tests, Standing, editable_test, hundredths, lock_test, parse_document, parse_question,
    question_row, question_to_wire, questions_of, renumber, require_no_attempts, test_to_wire,
    visible_test,
};
use crate::auth::AuthUser;
use crate::catalogue::{self, find_course};
use crate::domain::Fields;
use crate::entity::{batch, course_staff, enrollment, test, test_attempt, test_question};
use crate::error::ApiError;
use crate::events::{self, Event, EventKind};
use crate::extract::{Json, parse_json};
use crate::state::AppState;

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

async fn question_counts(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, i64>, ApiError> {
    let rows: Vec<(Uuid, i64)> = test_question::Entity::find()
        .select_only()
        .column(test_question::Column::TestId)
        .column_as(test_question::Column::Id.count(), "n")
        .filter(test_question::Column::TestId.is_in(ids))
        .group_by(test_question::Column::TestId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
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
    filter: web::Query<TestFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let db = &state.db;
    let mut query = test::Entity::find();
    if let Some(key) = &filter.course_id {
        let course = find_course(db, key).await?;
        let access = catalogue::access(db, Some(&auth), course.id).await?;
        if !catalogue::can_view(db, &course, access, Some(&auth)).await? {
            return Err(catalogue::course_not_found());
        }
        query = query.filter(test::Column::CourseId.eq(course.id));
    }
    if !auth.is_admin() {
        let staff: Vec<Uuid> = course_staff::Entity::find()
            .filter(course_staff::Column::UserId.eq(auth.id()))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.course_id)
            .collect();
        let enrolled = enrollment::Entity::find()
            .filter(enrollment::Column::StudentId.eq(auth.id()))
            .all(db)
            .await?;
        let mut seen = Condition::any().add(test::Column::CourseId.is_in(staff));
        for e in enrolled {
            if !catalogue::is_enrolled(db, e.course_id, auth.id()).await? {
                continue;
            }
            let mut batch = Condition::any().add(test::Column::BatchId.is_null());
            if let Some(b) = e.batch_id {
                batch = batch.add(test::Column::BatchId.eq(b));
            }
            seen = seen.add(
                Condition::all()
                    .add(test::Column::CourseId.eq(e.course_id))
                    .add(test::Column::Status.eq(TestStatus::Published.as_str()))
                    .add(batch),
            );
        }
        query = query.filter(seen);
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(test::Column::CreatedAt)
        .order_by_desc(test::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(db)
        .await?;
    let counts = question_counts(db, rows.iter().map(|t| t.id).collect()).await?;
    let tests = rows
        .iter()
        .map(|t| test_to_wire(t, counts.get(&t.id).copied().unwrap_or(0), None, None))
        .collect();
    Ok(ok(TestList {
        tests,
        pagination: Pagination::new(page, total),
    }))
}

/// Creates a draft test (settings and questions) in `course_id` from a parsed document.
async fn create_in(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    doc: TestDocument,
) -> Result<HttpResponse, ApiError> {
    let (settings, questions) = parse_document(&doc)?;
    let db = &state.db;
    let course = find_course(db, course_key).await?;
    let access = catalogue::access(db, Some(auth), course.id).await?;
    if !catalogue::can_view(db, &course, access, Some(auth)).await? {
        return Err(catalogue::course_not_found());
    }
    access.require_edit()?;
    if let Some(b) = doc.batch_id {
        let found = batch::Entity::find_by_id(b).one(db).await?;
        if found.is_none_or(|found| found.course_id != course.id) {
            return Err(ApiError::field("batchId", "is not a batch of this course"));
        }
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    let txn = crate::db::begin_write(db).await?;
    let row = test::ActiveModel {
        id: Set(id),
        course_id: Set(course.id),
        batch_id: Set(doc.batch_id),
        title: Set(settings.title.clone()),
        test_type: Set(settings.kind.as_str().to_owned()),
        status: Set(TestStatus::Draft.as_str().to_owned()),
        instructions: Set(settings.instructions.clone()),
        duration_minutes: Set(settings.duration),
        passing_marks: Set(settings.passing),
        total_marks: Set(questions.iter().map(|q| q.marks).sum()),
        available_from: Set(settings.from),
        available_until: Set(settings.until),
        attempts_allowed: Set(settings.attempts),
        shuffle_questions: Set(settings.shuffle_questions),
        shuffle_options: Set(settings.shuffle_options),
        multiple_select_scoring: Set(settings.scoring.as_str().to_owned()),
        allow_negative_total: Set(settings.allow_negative),
        show_results: Set(settings.show_results),
        show_answers: Set(settings.show_answers.as_str().to_owned()),
        published_at: Set(None),
        created_by: Set(auth.id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let rows: Vec<_> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| question_row(id, i as i64 + 1, q))
        .collect();
    for chunk in rows.chunks(200) {
        test_question::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(created(CreatedTest {
        id: row.id,
        title: row.title,
        status: TestStatus::Draft,
    }))
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
    create_in(&state, &auth, &course.to_string(), doc).await
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
    params(("id" = String, Path, description = "Course id or slug")),
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
    if let Some(course) = doc.course_id {
        let target = find_course(&state.db, &id).await?;
        if target.id != course {
            return Err(ApiError::field(
                "courseId",
                "differs from the course in the URL; leave it out",
            ));
        }
    }
    create_in(&state, &auth, &id, doc).await
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
    let (t, standing) = visible_test(&state.db, &auth, *id).await?;
    let questions = questions_of(&state.db, t.id).await?;
    let count = questions.len() as i64;
    Ok(ok(match standing {
        Standing::Staff => test_to_wire(
            &t,
            count,
            Some(questions.iter().map(question_to_wire).collect()),
            None,
        ),
        Standing::Student => {
            let used = test_attempt::Entity::find()
                .filter(test_attempt::Column::TestId.eq(t.id))
                .filter(test_attempt::Column::StudentId.eq(auth.id()))
                .count(&state.db)
                .await?;
            test_to_wire(&t, count, None, Some(used as i64))
        }
    }))
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
    let found = editable_test(&state.db, &auth, *id).await?;
    let mut s = tests::settings_of(&found);
    let mut fields = Fields::default();
    if let Some(title) = &body.title {
        let t = title.trim();
        if t.is_empty() || t.chars().count() > 200 {
            fields.push("title", "must be 1 to 200 characters");
        }
        s.title = t.to_owned();
    }
    if let Some(k) = body.test_type {
        s.kind = k;
    }
    if let Some(i) = &body.instructions {
        s.instructions = i
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned);
    }
    if let Some(d) = body.duration_minutes {
        s.duration = d;
    }
    if let Some(p) = body.passing_marks
        && let Some(p) = fields.take("passingMarks", hundredths(p))
    {
        if p < 0 {
            fields.push("passingMarks", "must not be negative");
        }
        s.passing = p;
    }
    if let Some(f) = body.available_from {
        s.from = f;
    }
    if let Some(u) = body.available_until {
        s.until = u;
    }
    if let Some(a) = body.attempts_allowed {
        s.attempts = a;
    }
    if let Some(v) = body.shuffle_questions {
        s.shuffle_questions = v;
    }
    if let Some(v) = body.shuffle_options {
        s.shuffle_options = v;
    }
    if let Some(v) = body.show_results {
        s.show_results = v;
    }
    if let Some(v) = body.show_answers {
        s.show_answers = v;
    }
    let rescoring = body.multiple_select_scoring.is_some_and(|v| v != s.scoring)
        || body
            .allow_negative_total
            .is_some_and(|v| v != s.allow_negative);
    if let Some(v) = body.multiple_select_scoring {
        s.scoring = v;
    }
    if let Some(v) = body.allow_negative_total {
        s.allow_negative = v;
    }
    fields.finish()?;
    tests::check_update(&s, found.total_marks)?;
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, found.id).await?;
    if rescoring {
        require_no_attempts(&txn, found.id).await?;
    }
    let row = test::ActiveModel {
        id: Set(found.id),
        title: Set(s.title),
        test_type: Set(s.kind.as_str().to_owned()),
        instructions: Set(s.instructions),
        duration_minutes: Set(s.duration),
        passing_marks: Set(s.passing),
        available_from: Set(s.from),
        available_until: Set(s.until),
        attempts_allowed: Set(s.attempts),
        shuffle_questions: Set(s.shuffle_questions),
        shuffle_options: Set(s.shuffle_options),
        multiple_select_scoring: Set(s.scoring.as_str().to_owned()),
        allow_negative_total: Set(s.allow_negative),
        show_results: Set(s.show_results),
        show_answers: Set(s.show_answers.as_str().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let questions = questions_of(&txn, row.id).await?;
    txn.commit().await?;
    Ok(ok(test_to_wire(
        &row,
        questions.len() as i64,
        Some(questions.iter().map(question_to_wire).collect()),
        None,
    )))
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
    let found = editable_test(&state.db, &auth, *id).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, found.id).await?;
    let attempts = test_attempt::Entity::find()
        .filter(test_attempt::Column::TestId.eq(found.id))
        .count(&txn)
        .await?;
    if attempts > 0 {
        return Err(ApiError::Conflict {
            field: Some("attempts".into()),
            message: format!(
                "This test has {attempts} attempts and keeps them; it can't be deleted"
            ),
        });
    }
    test::Entity::delete_by_id(found.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(ok_with("Test deleted", json!({ "id": found.id })))
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
    let found = editable_test(&state.db, &auth, *id).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, found.id).await?;
    let t = tests::find_test(&txn, found.id).await?;
    let questions = questions_of(&txn, t.id).await?;
    if tests::status_of(&t) == TestStatus::Published {
        txn.commit().await?;
        return Ok(ok(test_to_wire(
            &t,
            questions.len() as i64,
            Some(questions.iter().map(question_to_wire).collect()),
            None,
        )));
    }
    if questions.is_empty() {
        return Err(ApiError::Unprocessable(
            "A test needs at least one question before it is published".into(),
        ));
    }
    if t.passing_marks > t.total_marks {
        return Err(ApiError::Unprocessable(format!(
            "passingMarks ({}) is above the total marks ({})",
            tests::marks(t.passing_marks),
            tests::marks(t.total_marks)
        )));
    }
    let now = Utc::now();
    let row = test::ActiveModel {
        id: Set(t.id),
        status: Set(TestStatus::Published.as_str().to_owned()),
        published_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let event = events::publish(
        &txn,
        Event {
            kind: EventKind::TestPublished,
            payload: json!({
                "testId": row.id,
                "courseId": row.course_id,
                "batchId": row.batch_id,
                "title": row.title,
                "actorId": auth.id(),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    state.events.announce([event]);
    Ok(ok_with(
        "Test published",
        test_to_wire(
            &row,
            questions.len() as i64,
            Some(questions.iter().map(question_to_wire).collect()),
            None,
        ),
    ))
}

/// `GET /tests/{id}/export` format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportFormat {
    /// `json` (default) or `toml`.
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
    format: web::Query<ExportFormat>,
) -> Result<HttpResponse, ApiError> {
    let t = editable_test(&state.db, &auth, *id).await?;
    let questions = questions_of(&state.db, t.id).await?;
    let doc = tests::test_document(&t, &questions);
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
    let found = editable_test(&state.db, &auth, *id).await?;
    let mut fields = Fields::default();
    let parsed = parse_question(&mut fields, "", &doc);
    fields.finish()?;
    let Some(parsed) = parsed else {
        return Err(anyhow::anyhow!("question parsed without a value").into());
    };
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, found.id).await?;
    require_no_attempts(&txn, found.id).await?;
    let mut questions = questions_of(&txn, found.id).await?;
    let at = catalogue::insert_index(doc.position, questions.len())?;
    let row = question_row(found.id, at as i64 + 1, &parsed)
        .insert(&txn)
        .await?;
    questions.insert(at, row.clone());
    renumber(&txn, found.id, &questions).await?;
    txn.commit().await?;
    Ok(created(question_to_wire(&row)))
}

/// A question and its test, for a change by the test's staff.
async fn editable_question(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(test_question::Model, test::Model), ApiError> {
    let q = test_question::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Question not found".into()))?;
    let t = editable_test(&state.db, auth, q.test_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => ApiError::NotFound("Question not found".into()),
            e => e,
        })?;
    Ok((q, t))
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
    let (q, t) = editable_question(&state, &auth, *id).await?;
    let mut fields = Fields::default();
    let parsed = parse_question(&mut fields, "", &doc);
    fields.finish()?;
    let Some(parsed) = parsed else {
        return Err(anyhow::anyhow!("question parsed without a value").into());
    };
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, t.id).await?;
    require_no_attempts(&txn, t.id).await?;
    let mut fresh = question_row(t.id, q.position, &parsed);
    fresh.id = Set(q.id);
    fresh.created_at = Set(q.created_at);
    let row = fresh.update(&txn).await?;
    let mut questions = questions_of(&txn, t.id).await?;
    if let Some(p) = doc.position {
        let to = catalogue::move_index(p, questions.len())?;
        let from = questions
            .iter()
            .position(|x| x.id == row.id)
            .ok_or_else(|| ApiError::NotFound("Question not found".into()))?;
        let moved = questions.remove(from);
        questions.insert(to, moved);
    }
    renumber(&txn, t.id, &questions).await?;
    let row = test_question::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::NotFound("Question not found".into()))?;
    txn.commit().await?;
    Ok(ok(question_to_wire(&row)))
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
    let (q, t) = editable_question(&state, &auth, *id).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, t.id).await?;
    require_no_attempts(&txn, t.id).await?;
    test_question::Entity::delete_by_id(q.id).exec(&txn).await?;
    let questions = questions_of(&txn, t.id).await?;
    renumber(&txn, t.id, &questions).await?;
    txn.commit().await?;
    Ok(ok_with("Question deleted", json!({ "id": q.id })))
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
    let (q, t) = editable_question(&state, &auth, *id).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    lock_test(&txn, t.id).await?;
    require_no_attempts(&txn, t.id).await?;
    let mut questions = questions_of(&txn, t.id).await?;
    let to = catalogue::move_index(body.position, questions.len())?;
    let from = questions
        .iter()
        .position(|x| x.id == q.id)
        .ok_or_else(|| ApiError::NotFound("Question not found".into()))?;
    let moved = questions.remove(from);
    questions.insert(to, moved);
    renumber(&txn, t.id, &questions).await?;
    let questions = questions_of(&txn, t.id).await?;
    txn.commit().await?;
    Ok(ok(questions
        .iter()
        .map(question_to_wire)
        .collect::<Vec<_>>()))
}
