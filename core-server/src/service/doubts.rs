//! Doubts: a course's questions and answers.
//!
//! Who may do what (`docs/ARCHITECTURE.md` "Doubts"): students enrolled in the course ask,
//! answer, vote and read; its staff (and admins) read everything, answer, hide and
//! unhide; the asker accepts one answer and reopens; authors edit within
//! [`EDIT_WINDOW`] and delete their own posts while nobody else's work hangs on them.
//! A student removed from the course loses access at the next request: every call
//! checks the enrollment. Counts on the rows (`votes`, `answers`) change in the
//! transaction that changes what they count; a vote is one row per person and post.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{
    Doubt, DoubtAnswer, DoubtFilter, DoubtList, DoubtSort, DoubtStatus, DoubtThread, PageQuery,
    Pagination,
};
use crate::domain::events::{DomainEvent, DoubtChange};
use crate::domain::{Markdown, Title, WebUrl};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, course_not_found, find_course, person};
use crate::service::enrollments::users_by_id;
use crate::service::events::{self, StoredEvent};
use crate::service::gamification::{self, Award, Rule};
use crate::store::constraints::{DOUBT_VOTES_PAIR, Violation, unique_violation};
use crate::store::entity::{course, course_staff, doubt, doubt_answer, doubt_vote, lesson};
use crate::store::search;

/// How long after posting an author may still edit a doubt or an answer.
pub const EDIT_WINDOW: Duration = Duration::minutes(30);

/// What the caller is to a course's doubts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Enrolled (ACTIVE or COMPLETED, not expired).
    Student,
    /// On the course's staff, or an admin.
    Staff,
}

/// The caller's part in the course: 404 when they cannot see the course at all, 403
/// when they can but neither teach nor are enrolled in it.
async fn role_in(
    state: &AppState,
    auth: &AuthUser,
    course: &course::Model,
) -> Result<Role, ApiError> {
    let access = catalogue::access(&state.db, Some(auth), course.id).await?;
    if access.can_edit() {
        return Ok(Role::Staff);
    }
    if catalogue::is_enrolled(&state.db, course.id, auth.id()).await? {
        return Ok(Role::Student);
    }
    if !catalogue::can_view(&state.db, course, access, Some(auth)).await? {
        return Err(course_not_found());
    }
    Err(ApiError::Forbidden(
        "Only students enrolled in this course and its staff can see its doubts".into(),
    ))
}

fn doubt_not_found() -> ApiError {
    ApiError::NotFound("Doubt not found".into())
}

fn answer_not_found() -> ApiError {
    ApiError::NotFound("Answer not found".into())
}

/// A doubt the caller may see, its course and the caller's part: hidden ones only to
/// staff (404 to anyone else, as if it did not exist).
async fn visible_doubt(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(doubt::Model, course::Model, Role), ApiError> {
    let d = doubt::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(doubt_not_found)?;
    let course = course::Entity::find_by_id(d.course_id)
        .one(&state.db)
        .await?
        .ok_or_else(doubt_not_found)?;
    let role = match role_in(state, auth, &course).await {
        Ok(role) => role,
        Err(ApiError::NotFound(_)) => return Err(doubt_not_found()),
        Err(e) => return Err(e),
    };
    if d.hidden && role != Role::Staff {
        return Err(doubt_not_found());
    }
    Ok((d, course, role))
}

/// An answer the caller may see, with its doubt, course and the caller's part.
async fn visible_answer(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(doubt_answer::Model, doubt::Model, course::Model, Role), ApiError> {
    let a = doubt_answer::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(answer_not_found)?;
    let (d, course, role) = match visible_doubt(state, auth, a.doubt_id).await {
        Err(ApiError::NotFound(_)) => return Err(answer_not_found()),
        other => other?,
    };
    if a.hidden && role != Role::Staff {
        return Err(answer_not_found());
    }
    Ok((a, d, course, role))
}

fn require_staff(role: Role, what: &str) -> Result<(), ApiError> {
    if role == Role::Staff {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "Only this course's staff can {what}"
        )))
    }
}

fn within_window(created: chrono::DateTime<Utc>, what: &str) -> Result<(), ApiError> {
    if Utc::now() - created <= EDIT_WINDOW {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(format!(
            "{what} can be edited for {} minutes after posting",
            EDIT_WINDOW.num_minutes()
        )))
    }
}

/// The ids among `targets` the user voted for.
async fn voted_by(
    db: &impl ConnectionTrait,
    user: Uuid,
    targets: impl IntoIterator<Item = Uuid>,
) -> Result<HashSet<Uuid>, ApiError> {
    let ids: Vec<Uuid> = doubt_vote::Entity::find()
        .select_only()
        .column(doubt_vote::Column::TargetId)
        .filter(doubt_vote::Column::UserId.eq(user))
        .filter(doubt_vote::Column::TargetId.is_in(targets))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Doubts as the wire shows them to `viewer`, with their authors and courses' titles in
/// a query each.
async fn doubts_to_wire(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: &[doubt::Model],
) -> Result<Vec<Doubt>, ApiError> {
    let authors = users_by_id(db, rows.iter().map(|d| d.author_id)).await?;
    let course_ids: HashSet<Uuid> = rows.iter().map(|d| d.course_id).collect();
    let titles = catalogue::course_titles(db, course_ids).await?;
    let voted = voted_by(db, viewer, rows.iter().map(|d| d.id)).await?;
    Ok(rows
        .iter()
        .filter_map(|d| {
            Some(Doubt {
                id: d.id,
                course_id: d.course_id,
                course_title: titles.get(&d.course_id).cloned().unwrap_or_default(),
                lesson_id: d.lesson_id,
                title: d.title.clone(),
                body: d.body.clone(),
                link: d.link.clone(),
                status: d.status,
                author: person(authors.get(&d.author_id)?),
                votes: d.votes,
                answers: d.answers,
                accepted_answer_id: d.accepted_answer_id,
                voted: voted.contains(&d.id),
                hidden: d.hidden,
                created_at: d.created_at,
                updated_at: d.updated_at,
            })
        })
        .collect())
}

async fn doubt_to_wire(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    row: &doubt::Model,
) -> Result<Doubt, ApiError> {
    doubts_to_wire(db, viewer, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(doubt_not_found)
}

async fn answers_to_wire(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    d: &doubt::Model,
    rows: &[doubt_answer::Model],
) -> Result<Vec<DoubtAnswer>, ApiError> {
    let authors = users_by_id(db, rows.iter().map(|a| a.author_id)).await?;
    let staff: HashSet<Uuid> = course_staff::Entity::find()
        .select_only()
        .column(course_staff::Column::UserId)
        .filter(course_staff::Column::CourseId.eq(d.course_id))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let voted = voted_by(db, viewer, rows.iter().map(|a| a.id)).await?;
    Ok(rows
        .iter()
        .filter_map(|a| {
            Some(DoubtAnswer {
                id: a.id,
                doubt_id: a.doubt_id,
                body: a.body.clone(),
                author: person(authors.get(&a.author_id)?),
                by_staff: staff.contains(&a.author_id),
                votes: a.votes,
                voted: voted.contains(&a.id),
                accepted: d.accepted_answer_id == Some(a.id),
                hidden: a.hidden,
                created_at: a.created_at,
                updated_at: a.updated_at,
            })
        })
        .collect())
}

async fn answer_to_wire(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    d: &doubt::Model,
    row: &doubt_answer::Model,
) -> Result<DoubtAnswer, ApiError> {
    answers_to_wire(db, viewer, d, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(answer_not_found)
}

/// Parsed fields of a new doubt.
pub struct DoubtInput {
    pub title: Title,
    pub body: Markdown,
    pub link: Option<WebUrl>,
    pub lesson_id: Option<Uuid>,
}

/// A student enrolled in the course asks a doubt; the course's staff are notified.
pub async fn ask(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    input: DoubtInput,
) -> Result<Doubt, ApiError> {
    let course = find_course(&state.db, course_key).await?;
    if role_in(state, auth, &course).await? != Role::Student {
        return Err(ApiError::Forbidden(
            "Only students enrolled in this course can ask doubts; its staff answer them".into(),
        ));
    }
    if let Some(lesson_id) = input.lesson_id {
        let found = lesson::Entity::find_by_id(lesson_id)
            .filter(lesson::Column::CourseId.eq(course.id))
            .count(&state.db)
            .await?;
        if found == 0 {
            return Err(ApiError::field(
                "lessonId",
                "is not a lesson of this course",
            ));
        }
    }
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    let row = doubt::ActiveModel {
        id: Set(Uuid::now_v7()),
        course_id: Set(course.id),
        lesson_id: Set(input.lesson_id),
        author_id: Set(auth.id()),
        title: Set(input.title.as_ref().to_owned()),
        body: Set(input.body.into_string()),
        link: Set(input.link.map(|l| l.as_ref().to_owned())),
        status: Set(DoubtStatus::Open),
        accepted_answer_id: Set(None),
        votes: Set(0),
        answers: Set(0),
        hidden: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = publish(&txn, DomainEvent::DoubtAsked, &row, None, auth.id()).await?;
    txn.commit().await?;
    state.events.announce([event]);
    doubt_to_wire(&state.db, auth.id(), &row).await
}

async fn publish(
    txn: &impl ConnectionTrait,
    kind: fn(DoubtChange) -> DomainEvent,
    d: &doubt::Model,
    answer: Option<&doubt_answer::Model>,
    actor: Uuid,
) -> Result<StoredEvent, ApiError> {
    events::publish(
        txn,
        kind(DoubtChange {
            doubt_id: d.id,
            course_id: d.course_id,
            title: d.title.clone(),
            asker_id: d.author_id,
            answer_id: answer.map(|a| a.id),
            answerer_id: answer.map(|a| a.author_id),
            actor_id: actor,
        }),
    )
    .await
}

/// A page of a course's doubts: filtered, searched and sorted. Hidden ones are listed
/// to staff only.
pub async fn list(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    filter: DoubtFilter,
) -> Result<DoubtList, ApiError> {
    let course = find_course(&state.db, course_key).await?;
    let role = role_in(state, auth, &course).await?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = doubt::Entity::find().filter(doubt::Column::CourseId.eq(course.id));
    if role != Role::Staff {
        query = query.filter(doubt::Column::Hidden.eq(false));
    }
    if let Some(lesson) = filter.lesson {
        query = query.filter(doubt::Column::LessonId.eq(lesson));
    }
    if let Some(status) = filter.status {
        query = query.filter(doubt::Column::Status.eq(status.as_str()));
    }
    if filter.mine == Some(true) {
        query = query.filter(doubt::Column::AuthorId.eq(auth.id()));
    }
    if filter.unanswered == Some(true) {
        query = query.filter(doubt::Column::Answers.eq(0));
    }
    if let Some(text) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let like = || search::contains(text);
        let lower = |c: doubt::Column| search::lower(Expr::col(c));
        query = query.filter(
            Condition::any()
                .add(lower(doubt::Column::Title).like(like()))
                .add(lower(doubt::Column::Body).like(like())),
        );
    }
    let total = query.clone().count(&state.db).await?;
    query = match filter.sort.unwrap_or(DoubtSort::Newest) {
        DoubtSort::Newest => query.order_by_desc(doubt::Column::CreatedAt),
        DoubtSort::Votes => query
            .order_by_desc(doubt::Column::Votes)
            .order_by_desc(doubt::Column::CreatedAt),
    };
    let rows = query
        .order_by_desc(doubt::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(DoubtList {
        doubts: doubts_to_wire(&state.db, auth.id(), &rows).await?,
        pagination: Pagination::new(page, total),
    })
}

/// A teacher's queue: the doubts without an answer in the courses they teach (an
/// admin's: every course), oldest first, hidden ones left out.
pub async fn queue(
    state: &AppState,
    auth: &AuthUser,
    page: PageQuery,
) -> Result<DoubtList, ApiError> {
    let mut query = doubt::Entity::find()
        .filter(doubt::Column::Answers.eq(0))
        .filter(doubt::Column::Status.ne(DoubtStatus::Resolved.as_str()))
        .filter(doubt::Column::Hidden.eq(false));
    if !auth.is_admin() {
        if auth.role() != crate::api::Role::Teacher {
            return Err(ApiError::Forbidden(
                "The doubts queue is a teacher's: it lists the doubts of the courses they teach"
                    .into(),
            ));
        }
        query = query.filter(
            doubt::Column::CourseId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(course_staff::Column::CourseId)
                    .from(course_staff::Entity)
                    .and_where(course_staff::Column::UserId.eq(auth.id()))
                    .to_owned(),
            ),
        );
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(doubt::Column::CreatedAt)
        .order_by_asc(doubt::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(DoubtList {
        doubts: doubts_to_wire(&state.db, auth.id(), &rows).await?,
        pagination: Pagination::new(page, total),
    })
}

/// A doubt and its answers: the accepted one first, then by votes, then oldest first.
pub async fn thread(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<DoubtThread, ApiError> {
    let (d, _, role) = visible_doubt(state, auth, id).await?;
    let mut query = doubt_answer::Entity::find().filter(doubt_answer::Column::DoubtId.eq(d.id));
    if role != Role::Staff {
        query = query.filter(doubt_answer::Column::Hidden.eq(false));
    }
    let mut rows = query
        .order_by_desc(doubt_answer::Column::Votes)
        .order_by_asc(doubt_answer::Column::CreatedAt)
        .all(&state.db)
        .await?;
    rows.sort_by_key(|a| d.accepted_answer_id != Some(a.id));
    Ok(DoubtThread {
        doubt: doubt_to_wire(&state.db, auth.id(), &d).await?,
        answers: answers_to_wire(&state.db, auth.id(), &d, &rows).await?,
    })
}

/// Parsed changes to a doubt.
#[derive(Default)]
pub struct DoubtChanges {
    pub title: Option<Title>,
    pub body: Option<Markdown>,
    /// `Some(None)` clears it.
    pub link: Option<Option<WebUrl>>,
}

/// The asker edits their doubt within the edit window.
pub async fn edit(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    changes: DoubtChanges,
) -> Result<Doubt, ApiError> {
    let (d, _, _) = visible_doubt(state, auth, id).await?;
    if d.author_id != auth.id() {
        return Err(ApiError::Forbidden(
            "Only the asker can edit a doubt".into(),
        ));
    }
    within_window(d.created_at, "A doubt")?;
    let mut row: doubt::ActiveModel = d.into();
    if let Some(title) = changes.title {
        row.title = Set(title.as_ref().to_owned());
    }
    if let Some(body) = changes.body {
        row.body = Set(body.into_string());
    }
    if let Some(link) = changes.link {
        row.link = Set(link.map(|l| l.as_ref().to_owned()));
    }
    row.updated_at = Set(Utc::now());
    let row = row.update(&state.db).await?;
    doubt_to_wire(&state.db, auth.id(), &row).await
}

/// The asker deletes their doubt while nobody has answered it; staff hide instead.
pub async fn delete(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    let (d, _, _) = visible_doubt(state, auth, id).await?;
    if d.author_id != auth.id() {
        return Err(ApiError::Forbidden(
            "Only the asker can delete a doubt; staff hide it instead".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let answered = doubt_answer::Entity::find()
        .filter(doubt_answer::Column::DoubtId.eq(d.id))
        .filter(doubt_answer::Column::AuthorId.ne(auth.id()))
        .count(&txn)
        .await?;
    if answered > 0 {
        return Err(ApiError::Conflict {
            field: None,
            message: "Others have answered this doubt, so it stays; ask staff to hide it".into(),
        });
    }
    let answer_ids: Vec<Uuid> = doubt_answer::Entity::find()
        .select_only()
        .column(doubt_answer::Column::Id)
        .filter(doubt_answer::Column::DoubtId.eq(d.id))
        .into_tuple()
        .all(&txn)
        .await?;
    doubt_vote::Entity::delete_many()
        .filter(doubt_vote::Column::TargetId.is_in(answer_ids.into_iter().chain([d.id])))
        .exec(&txn)
        .await?;
    doubt::Entity::delete_by_id(d.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Takes the doubt's row lock for the rest of `txn` (PostgreSQL's row lock under an
/// UPDATE; SQLite's write transaction) and reads it as it now is.
async fn lock_doubt(txn: &impl ConnectionTrait, id: Uuid) -> Result<doubt::Model, ApiError> {
    doubt::Entity::update_many()
        .col_expr(
            doubt::Column::UpdatedAt,
            Expr::col(doubt::Column::UpdatedAt),
        )
        .filter(doubt::Column::Id.eq(id))
        .exec(txn)
        .await?;
    doubt::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(doubt_not_found)
}

/// Counts the doubt's answers not hidden, and sets its status from them: RESOLVED while
/// an answer is accepted, else ANSWERED or OPEN.
async fn recount(txn: &impl ConnectionTrait, d: &doubt::Model) -> Result<doubt::Model, ApiError> {
    let answers = doubt_answer::Entity::find()
        .filter(doubt_answer::Column::DoubtId.eq(d.id))
        .filter(doubt_answer::Column::Hidden.eq(false))
        .count(txn)
        .await?;
    let status = if d.accepted_answer_id.is_some() {
        DoubtStatus::Resolved
    } else if answers > 0 {
        DoubtStatus::Answered
    } else {
        DoubtStatus::Open
    };
    let mut row: doubt::ActiveModel = d.clone().into();
    row.answers = Set(i32::try_from(answers).unwrap_or(i32::MAX));
    row.status = Set(status);
    row.updated_at = Set(Utc::now());
    Ok(row.update(txn).await?)
}

/// Staff or an enrolled student answers a doubt that is not hidden; the asker is
/// notified.
pub async fn answer(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: Markdown,
) -> Result<DoubtAnswer, ApiError> {
    let (d, _, _) = visible_doubt(state, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    let d = lock_doubt(&txn, d.id).await?;
    if d.hidden {
        return Err(ApiError::Conflict {
            field: None,
            message: "This doubt is hidden: it takes no answers".into(),
        });
    }
    let now = Utc::now();
    let row = doubt_answer::ActiveModel {
        id: Set(Uuid::now_v7()),
        doubt_id: Set(d.id),
        author_id: Set(auth.id()),
        body: Set(body.into_string()),
        votes: Set(0),
        hidden: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let d = recount(&txn, &d).await?;
    let event = publish(&txn, DomainEvent::DoubtAnswered, &d, Some(&row), auth.id()).await?;
    txn.commit().await?;
    state.events.announce([event]);
    answer_to_wire(&state.db, auth.id(), &d, &row).await
}

/// The author edits their answer within the edit window.
pub async fn edit_answer(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: Markdown,
) -> Result<DoubtAnswer, ApiError> {
    let (a, d, _, _) = visible_answer(state, auth, id).await?;
    if a.author_id != auth.id() {
        return Err(ApiError::Forbidden(
            "Only its author can edit an answer".into(),
        ));
    }
    within_window(a.created_at, "An answer")?;
    let mut row: doubt_answer::ActiveModel = a.into();
    row.body = Set(body.into_string());
    row.updated_at = Set(Utc::now());
    let row = row.update(&state.db).await?;
    answer_to_wire(&state.db, auth.id(), &d, &row).await
}

/// The author deletes their answer unless it is the accepted one.
pub async fn delete_answer(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    let (a, d, _, _) = visible_answer(state, auth, id).await?;
    if a.author_id != auth.id() {
        return Err(ApiError::Forbidden(
            "Only its author can delete an answer; staff hide it instead".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let d = lock_doubt(&txn, d.id).await?;
    if d.accepted_answer_id == Some(a.id) {
        return Err(ApiError::Conflict {
            field: None,
            message: "The accepted answer stays; the asker can reopen the doubt first".into(),
        });
    }
    doubt_vote::Entity::delete_many()
        .filter(doubt_vote::Column::TargetId.eq(a.id))
        .exec(&txn)
        .await?;
    doubt_answer::Entity::delete_by_id(a.id).exec(&txn).await?;
    recount(&txn, &d).await?;
    txn.commit().await?;
    Ok(())
}

/// The asker accepts one of its answers: the doubt is RESOLVED and the answer's author
/// notified.
pub async fn accept(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    answer_id: Uuid,
) -> Result<Doubt, ApiError> {
    let (d, _, _) = visible_doubt(state, auth, id).await?;
    if d.author_id != auth.id() {
        return Err(ApiError::Forbidden(
            "Only the asker can accept an answer to a doubt".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let d = lock_doubt(&txn, d.id).await?;
    let a = doubt_answer::Entity::find_by_id(answer_id)
        .filter(doubt_answer::Column::DoubtId.eq(d.id))
        .filter(doubt_answer::Column::Hidden.eq(false))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::field("answerId", "is not an answer to this doubt"))?;
    if d.accepted_answer_id == Some(a.id) {
        txn.commit().await?;
        return doubt_to_wire(&state.db, auth.id(), &d).await;
    }
    let mut row: doubt::ActiveModel = d.into();
    row.accepted_answer_id = Set(Some(a.id));
    let d = row.update(&txn).await?;
    let d = recount(&txn, &d).await?;
    let event = publish(&txn, DomainEvent::DoubtAccepted, &d, Some(&a), auth.id()).await?;
    // A student's accepted answer earns XP, once per answer (staff earn none).
    let cause = format!("answer-accepted:{}", a.id);
    let reward = Award::new(Rule::AnswerAccepted, cause, Some(d.course_id));
    let earned = gamification::award(&txn, a.author_id, &[reward]).await?;
    txn.commit().await?;
    state.events.announce([event]);
    earned.announce(state).await;
    doubt_to_wire(&state.db, auth.id(), &d).await
}

/// The asker or staff reopen a doubt: no answer is accepted any more.
pub async fn reopen(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Doubt, ApiError> {
    let (d, _, role) = visible_doubt(state, auth, id).await?;
    if d.author_id != auth.id() && role != Role::Staff {
        return Err(ApiError::Forbidden(
            "Only the asker or the course's staff can reopen a doubt".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let d = lock_doubt(&txn, d.id).await?;
    let mut row: doubt::ActiveModel = d.into();
    row.accepted_answer_id = Set(None);
    let d = row.update(&txn).await?;
    let d = recount(&txn, &d).await?;
    txn.commit().await?;
    doubt_to_wire(&state.db, auth.id(), &d).await
}

/// What a vote is for.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Doubt(Uuid),
    Answer(Uuid),
}

/// A vote given (`up`) or taken back. Voting twice is 409; taking back a vote one has
/// not given changes nothing. One's own posts take no votes.
pub async fn vote(
    state: &AppState,
    auth: &AuthUser,
    target: Target,
    up: bool,
) -> Result<VoteResult, ApiError> {
    let (target_id, author, d) = match target {
        Target::Doubt(id) => {
            let (d, _, _) = visible_doubt(state, auth, id).await?;
            (d.id, d.author_id, d)
        }
        Target::Answer(id) => {
            let (a, d, _, _) = visible_answer(state, auth, id).await?;
            (a.id, a.author_id, d)
        }
    };
    if author == auth.id() {
        return Err(ApiError::Forbidden(
            "You cannot vote for your own post".into(),
        ));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    let existing = doubt_vote::Entity::find()
        .filter(doubt_vote::Column::TargetId.eq(target_id))
        .filter(doubt_vote::Column::UserId.eq(auth.id()))
        .one(&txn)
        .await?;
    let delta = match (up, existing) {
        (true, Some(_)) => {
            return Err(ApiError::Conflict {
                field: None,
                message: "You have already voted for this".into(),
            });
        }
        (true, None) => {
            let now = Utc::now();
            let inserted = doubt_vote::ActiveModel {
                id: Set(Uuid::now_v7()),
                target_id: Set(target_id),
                user_id: Set(auth.id()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await;
            match inserted {
                Ok(_) => 1,
                // A concurrent vote of the same person won the race.
                Err(e) if unique_violation(&e) == Some(Violation::Known(&DOUBT_VOTES_PAIR)) => {
                    return Err(ApiError::Conflict {
                        field: None,
                        message: "You have already voted for this".into(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        (false, Some(v)) => {
            doubt_vote::Entity::delete_by_id(v.id).exec(&txn).await?;
            -1
        }
        (false, None) => 0,
    };
    if delta != 0 {
        match target {
            Target::Doubt(_) => {
                doubt::Entity::update_many()
                    .col_expr(
                        doubt::Column::Votes,
                        Expr::col(doubt::Column::Votes).add(delta),
                    )
                    .filter(doubt::Column::Id.eq(target_id))
                    .exec(&txn)
                    .await?;
            }
            Target::Answer(_) => {
                doubt_answer::Entity::update_many()
                    .col_expr(
                        doubt_answer::Column::Votes,
                        Expr::col(doubt_answer::Column::Votes).add(delta),
                    )
                    .filter(doubt_answer::Column::Id.eq(target_id))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    txn.commit().await?;
    after_change(state, auth, target, &d).await
}

/// A doubt or an answer, as a vote or a hide answers it.
pub enum VoteResult {
    Doubt(Doubt),
    Answer(DoubtAnswer),
}

async fn after_change(
    state: &AppState,
    auth: &AuthUser,
    target: Target,
    d: &doubt::Model,
) -> Result<VoteResult, ApiError> {
    Ok(match target {
        Target::Doubt(id) => {
            let row = doubt::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(doubt_not_found)?;
            VoteResult::Doubt(doubt_to_wire(&state.db, auth.id(), &row).await?)
        }
        Target::Answer(id) => {
            let row = doubt_answer::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(answer_not_found)?;
            let d = doubt::Entity::find_by_id(d.id)
                .one(&state.db)
                .await?
                .ok_or_else(doubt_not_found)?;
            VoteResult::Answer(answer_to_wire(&state.db, auth.id(), &d, &row).await?)
        }
    })
}

/// Staff hide (or show again) an abusive doubt or answer. A hidden answer that was
/// accepted stops being accepted; the doubt's count and status follow.
pub async fn set_hidden(
    state: &AppState,
    auth: &AuthUser,
    target: Target,
    hidden: bool,
) -> Result<VoteResult, ApiError> {
    let d = match target {
        Target::Doubt(id) => {
            let (d, _, role) = visible_doubt(state, auth, id).await?;
            require_staff(role, "hide a doubt")?;
            d
        }
        Target::Answer(id) => {
            let (_, d, _, role) = visible_answer(state, auth, id).await?;
            require_staff(role, "hide an answer")?;
            d
        }
    };
    let txn = crate::store::db::begin_write(&state.db).await?;
    let d = lock_doubt(&txn, d.id).await?;
    match target {
        Target::Doubt(_) => {
            let mut row: doubt::ActiveModel = d.clone().into();
            row.hidden = Set(hidden);
            row.updated_at = Set(Utc::now());
            row.update(&txn).await?;
        }
        Target::Answer(id) => {
            doubt_answer::Entity::update_many()
                .col_expr(doubt_answer::Column::Hidden, Expr::value(hidden))
                .col_expr(doubt_answer::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(doubt_answer::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            let mut d = d.clone();
            if hidden && d.accepted_answer_id == Some(id) {
                let mut row: doubt::ActiveModel = d.into();
                row.accepted_answer_id = Set(None);
                d = row.update(&txn).await?;
            }
            recount(&txn, &d).await?;
        }
    }
    txn.commit().await?;
    after_change(state, auth, target, &d).await
}
