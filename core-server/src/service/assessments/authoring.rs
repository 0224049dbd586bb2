//! Authoring: listing, creating (or importing), changing, publishing, exporting and
//! deleting tests, and keeping their questions at positions 1..n under the test's lock.
//! Once a test has attempts its questions change only through a regrade.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    Standing, editable_test, find_test, hundredths, lock_test, marks, parse_document,
    parse_question, question_row, question_to_wire, questions_of, require_no_attempts, settings_of,
    status_of, test_document, test_to_wire, visible_test,
};
use crate::api::{
    CreatedTest, MoveQuestion, PageQuery, Pagination, Question, QuestionDocument, Test,
    TestDocument, TestList, TestStatus, UpdateTest,
};
use crate::domain::Fields;
use crate::domain::events::{DomainEvent, TestPublished};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, find_course};
use crate::service::events;
use crate::store::entity::{batch, course_staff, enrollment, test, test_attempt, test_question};

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
/// batch), admins everything. `course_key` (id or slug) narrows to one course.
pub async fn list_tests(
    state: &AppState,
    auth: &AuthUser,
    course_key: Option<&str>,
    page: PageQuery,
) -> Result<TestList, ApiError> {
    let db = &state.db;
    let mut query = test::Entity::find();
    if let Some(key) = course_key {
        let course = find_course(db, key).await?;
        let access = catalogue::access(db, Some(auth), course.id).await?;
        if !catalogue::can_view(db, &course, access, Some(auth)).await? {
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
    Ok(TestList {
        tests,
        pagination: Pagination::new(page, total),
    })
}

/// Creates a draft test (settings and questions) in the course `course_key` (id or
/// slug) from a document. Course staff and admins only.
pub async fn create_test(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    doc: TestDocument,
) -> Result<CreatedTest, ApiError> {
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
    let txn = crate::store::db::begin_write(db).await?;
    let row = test::ActiveModel {
        id: Set(id),
        course_id: Set(course.id),
        batch_id: Set(doc.batch_id),
        title: Set(settings.title.clone()),
        test_type: Set(settings.kind),
        status: Set(TestStatus::Draft),
        instructions: Set(settings.instructions.clone()),
        duration_minutes: Set(settings.duration),
        passing_marks: Set(settings.passing),
        total_marks: Set(questions.iter().map(|q| q.marks).sum()),
        available_from: Set(settings.from),
        available_until: Set(settings.until),
        attempts_allowed: Set(settings.attempts),
        shuffle_questions: Set(settings.shuffle_questions),
        shuffle_options: Set(settings.shuffle_options),
        multiple_select_scoring: Set(settings.scoring),
        allow_negative_total: Set(settings.allow_negative),
        show_results: Set(settings.show_results),
        show_answers: Set(settings.show_answers),
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
    Ok(CreatedTest {
        id: row.id,
        title: row.title,
        status: TestStatus::Draft,
    })
}

/// Imports a whole test document into the course of the URL as a draft; a `courseId`
/// in the document must name that same course.
pub async fn import_test(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    doc: TestDocument,
) -> Result<CreatedTest, ApiError> {
    if let Some(course) = doc.course_id {
        let target = find_course(&state.db, course_key).await?;
        if target.id != course {
            return Err(ApiError::field(
                "courseId",
                "differs from the course in the URL; leave it out",
            ));
        }
    }
    create_test(state, auth, course_key, doc).await
}

/// A test: staff get its questions with their keys; students its settings, the number
/// of questions and their attempts used (questions come with an attempt).
pub async fn get_test(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Test, ApiError> {
    let (t, standing) = visible_test(&state.db, auth, id).await?;
    let questions = questions_of(&state.db, t.id).await?;
    let count = questions.len() as i64;
    Ok(match standing {
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
    })
}

/// Changes a test's settings. Scoring rules (`multipleSelectScoring`,
/// `allowNegativeTotal`) are fixed once anyone has started it.
pub async fn update_test(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &UpdateTest,
) -> Result<Test, ApiError> {
    let found = editable_test(&state.db, auth, id).await?;
    let mut s = settings_of(&found);
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
    super::check_update(&s, found.total_marks)?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_test(&txn, found.id).await?;
    if rescoring {
        require_no_attempts(&txn, found.id).await?;
    }
    let row = test::ActiveModel {
        id: Set(found.id),
        title: Set(s.title),
        test_type: Set(s.kind),
        instructions: Set(s.instructions),
        duration_minutes: Set(s.duration),
        passing_marks: Set(s.passing),
        available_from: Set(s.from),
        available_until: Set(s.until),
        attempts_allowed: Set(s.attempts),
        shuffle_questions: Set(s.shuffle_questions),
        shuffle_options: Set(s.shuffle_options),
        multiple_select_scoring: Set(s.scoring),
        allow_negative_total: Set(s.allow_negative),
        show_results: Set(s.show_results),
        show_answers: Set(s.show_answers),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let questions = questions_of(&txn, row.id).await?;
    txn.commit().await?;
    Ok(test_to_wire(
        &row,
        questions.len() as i64,
        Some(questions.iter().map(question_to_wire).collect()),
        None,
    ))
}

/// Deletes a test nobody has attempted (409 naming `attempts` otherwise); its id.
pub async fn delete_test(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Uuid, ApiError> {
    let found = editable_test(&state.db, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
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
    Ok(found.id)
}

/// Publishes a draft test to its course (or batch) and announces `test.published`.
/// Needs at least one question and passing marks within the total. `true` with the
/// test when it was published now; `false` when it already was (a no-op).
pub async fn publish_test(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(Test, bool), ApiError> {
    let found = editable_test(&state.db, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_test(&txn, found.id).await?;
    let t = find_test(&txn, found.id).await?;
    let questions = questions_of(&txn, t.id).await?;
    if status_of(&t) == TestStatus::Published {
        txn.commit().await?;
        return Ok((
            test_to_wire(
                &t,
                questions.len() as i64,
                Some(questions.iter().map(question_to_wire).collect()),
                None,
            ),
            false,
        ));
    }
    if questions.is_empty() {
        return Err(ApiError::Unprocessable(
            "A test needs at least one question before it is published".into(),
        ));
    }
    if t.passing_marks > t.total_marks {
        return Err(ApiError::Unprocessable(format!(
            "passingMarks ({}) is above the total marks ({})",
            marks(t.passing_marks),
            marks(t.total_marks)
        )));
    }
    let now = Utc::now();
    let row = test::ActiveModel {
        id: Set(t.id),
        status: Set(TestStatus::Published),
        published_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let event = events::publish(
        &txn,
        DomainEvent::TestPublished(TestPublished {
            test_id: row.id,
            course_id: row.course_id,
            batch_id: row.batch_id,
            title: row.title.clone(),
            actor_id: auth.id(),
        }),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([event]);
    Ok((
        test_to_wire(
            &row,
            questions.len() as i64,
            Some(questions.iter().map(question_to_wire).collect()),
            None,
        ),
        true,
    ))
}

/// The whole test as one document, ready to import again. Staff only.
pub async fn export_test(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<TestDocument, ApiError> {
    let t = editable_test(&state.db, auth, id).await?;
    let questions = questions_of(&state.db, t.id).await?;
    Ok(test_document(&t, &questions))
}

/// Renumbers `questions` (in their new order) 1..n and stores `total_marks`, writing only
/// what changed.
pub async fn renumber(
    txn: &impl ConnectionTrait,
    test_id: Uuid,
    questions: &[test_question::Model],
) -> Result<i64, ApiError> {
    for (i, q) in questions.iter().enumerate() {
        let position = i as i64 + 1;
        if q.position != position {
            test_question::Entity::update_many()
                .col_expr(test_question::Column::Position, Expr::value(position))
                .filter(test_question::Column::Id.eq(q.id))
                .exec(txn)
                .await?;
        }
    }
    let total: i64 = questions.iter().map(|q| q.marks).sum();
    test::Entity::update_many()
        .col_expr(test::Column::TotalMarks, Expr::value(total))
        .filter(test::Column::Id.eq(test_id))
        .exec(txn)
        .await?;
    Ok(total)
}

/// Adds a question (at `position`, or last) to a test nobody has attempted yet.
pub async fn add_question(
    state: &AppState,
    auth: &AuthUser,
    test_id: Uuid,
    doc: &QuestionDocument,
) -> Result<Question, ApiError> {
    let found = editable_test(&state.db, auth, test_id).await?;
    let mut fields = Fields::default();
    let parsed = parse_question(&mut fields, "", doc);
    fields.finish()?;
    let Some(parsed) = parsed else {
        return Err(anyhow::anyhow!("question parsed without a value").into());
    };
    let txn = crate::store::db::begin_write(&state.db).await?;
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
    Ok(question_to_wire(&row))
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
pub async fn replace_question(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    doc: &QuestionDocument,
) -> Result<Question, ApiError> {
    let (q, t) = editable_question(state, auth, id).await?;
    let mut fields = Fields::default();
    let parsed = parse_question(&mut fields, "", doc);
    fields.finish()?;
    let Some(parsed) = parsed else {
        return Err(anyhow::anyhow!("question parsed without a value").into());
    };
    let txn = crate::store::db::begin_write(&state.db).await?;
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
    Ok(question_to_wire(&row))
}

/// Deletes a question; the others close the gap. Its id.
pub async fn delete_question(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<Uuid, ApiError> {
    let (q, t) = editable_question(state, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_test(&txn, t.id).await?;
    require_no_attempts(&txn, t.id).await?;
    test_question::Entity::delete_by_id(q.id).exec(&txn).await?;
    let questions = questions_of(&txn, t.id).await?;
    renumber(&txn, t.id, &questions).await?;
    txn.commit().await?;
    Ok(q.id)
}

/// Moves a question to `position` (1..n); the others shift. The test's questions in
/// their new order.
pub async fn move_question(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &MoveQuestion,
) -> Result<Vec<Question>, ApiError> {
    let (q, t) = editable_question(state, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
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
    Ok(questions.iter().map(question_to_wire).collect())
}
