//! `/api/v1/grading/…`, `/api/v1/questions/{id}/regrade` and
//! `/api/v1/courses/{id}/gradebook`: the teacher's side of results. The queue holds the
//! long answers of submitted attempts across the caller's courses (admins: all); grading
//! the last one of an attempt announces `attempt.graded`. A regrade changes an objective
//! question's key or marks and rescores every submitted attempt in one transaction,
//! set-based: one UPDATE per distinct response, then one per score column.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{HttpResponse, get, post, put, web};
use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set, Statement, Value,
};
use serde::Deserialize;
use uuid::Uuid;

use super::enrollments::{student_ref, users_by_id};
use super::ok;
use crate::api::{
    AnswerOutcome, ApiResponse, AttemptStatus, EnrollmentStatus, GradeAnswer, Gradebook,
    GradebookRow, GradebookTest, GradedAnswer, GradingFilter, GradingItem, GradingQueue,
    NextUngraded, PageQuery, Pagination, QuestionType, Regrade, RegradeChange, RegradeReport,
};
use crate::assessments::{
    self as tests, Standing, accepted_of, grade_response, hundredths, lock_test, marks, options_of,
    question_type_of, scoring_of,
};
use crate::auth::AuthUser;
use crate::catalogue::{self, find_course};
use crate::domain::Fields;
use crate::entity::{
    attempt_answer, course_staff, enrollment, test, test_attempt, test_question, user,
};
use crate::error::ApiError;
use crate::extract::Json;
use crate::grading;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(grading_queue)
        .service(next_ungraded)
        .service(get_answer)
        .service(grade_answer)
        .service(regrade_question)
        .service(gradebook);
}

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
        let (_, standing) = tests::visible_test(db, auth, test_id).await?;
        if standing != Standing::Staff {
            return Err(tests::test_not_found());
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
    filter: web::Query<GradingFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let query = pending_answers(&state, &auth, &filter).await?;
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(attempt_answer::Column::UpdatedAt)
        .order_by_asc(attempt_answer::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(ok(GradingQueue {
        items: items(&state.db, &rows, filter.blind).await?,
        pagination: Pagination::new(page, total),
    }))
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
    filter: web::Query<GradingFilter>,
) -> Result<HttpResponse, ApiError> {
    let query = pending_answers(&state, &auth, &filter).await?;
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
    Ok(ok(NextUngraded { item, remaining }))
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
    let t = tests::find_test(&state.db, a.test_id).await?;
    if tests::standing(&state.db, auth, &t).await? != Some(Standing::Staff) {
        return Err(answer_not_found());
    }
    Ok((a, t))
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
    blind: web::Query<Blind>,
) -> Result<HttpResponse, ApiError> {
    let (a, _) = staff_answer(&state, &auth, *id).await?;
    let item = items(&state.db, &[a], blind.blind)
        .await?
        .pop()
        .ok_or_else(answer_not_found)?;
    Ok(ok(item))
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
    let (a, t) = staff_answer(&state, &auth, *id).await?;
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
    let txn = crate::db::begin_write(&state.db).await?;
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
        Some(tests::graded_event(&txn, &t, &updated, auth.id()).await?)
    } else {
        None
    };
    txn.commit().await?;
    state.events.announce(event);
    let a = attempt_answer::Entity::find_by_id(a.id)
        .one(&state.db)
        .await?
        .ok_or_else(answer_not_found)?;
    let item = items(&state.db, &[a], false)
        .await?
        .pop()
        .ok_or_else(answer_not_found)?;
    Ok(ok(GradedAnswer {
        item,
        attempt_score: marks(updated.score.unwrap_or_default()),
        grading_complete: pending == 0,
    }))
}

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
        if kind == QuestionType::ShortAnswer {
            fields.push("correctOptions", "a SHORT_ANSWER question has no options");
        } else if correct.iter().any(|c| !options.iter().any(|o| o.id == *c)) {
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
            next.options = serde_json::to_value(&options).map_err(anyhow::Error::from)?;
        }
    }
    if let Some(accepted) = &body.accepted_answers {
        if kind != QuestionType::ShortAnswer {
            fields.push(
                "acceptedAnswers",
                "only SHORT_ANSWER questions have accepted answers",
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
            next.accepted_answers = serde_json::to_value(&cleaned).map_err(anyhow::Error::from)?;
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
    tests::parse_question(&mut check, "", &tests::question_document(&next));
    check.finish()?;
    let _ = accepted_of(&next);
    Ok(next)
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
    let not_found = || ApiError::NotFound("Question not found".into());
    let q = test_question::Entity::find_by_id(*id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let t = tests::find_test(&state.db, q.test_id).await?;
    match tests::standing(&state.db, &auth, &t).await? {
        Some(Standing::Staff) => {}
        Some(Standing::Student) => {
            return Err(ApiError::Forbidden(
                "Only this course's staff or an admin can regrade".into(),
            ));
        }
        None => return Err(not_found()),
    }
    let next = regraded(&q, &body)?;
    let report = regrade(&state, &t, &q, &next, body.dry_run).await?;
    Ok(ok(report))
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
    let txn = crate::db::begin_write(&state.db).await?;
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
    let questions = tests::questions_of(&txn, t.id).await?;
    tests::renumber(&txn, t.id, &questions).await?;
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
    txn.commit().await?;
    Ok(report)
}

/// `GET /courses/{id}/gradebook` format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct GradebookFormat {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// A CSV cell a spreadsheet would run as a formula (`= + - @`, tab, CR) is prefixed with
/// `'` so it stays text.
pub fn csv_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// The course's students (enrolled, by name) × its published tests (oldest first), each
/// cell the student's best submitted score (`null`/empty: none). Staff only; CSV with
/// `format=csv`.
#[utoipa::path(
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug"), GradebookFormat),
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
    format: web::Query<GradebookFormat>,
) -> Result<HttpResponse, ApiError> {
    let db = &state.db;
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
    let course = find_course(db, &id).await?;
    let access = catalogue::access(db, Some(&auth), course.id).await?;
    if !catalogue::can_view(db, &course, access, Some(&auth)).await? {
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
    if !csv_wanted {
        return Ok(ok(book));
    }
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
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"gradebook-{}.csv\"", course.slug),
        ))
        .body(bytes))
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
