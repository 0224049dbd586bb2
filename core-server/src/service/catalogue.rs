//! The catalogue: courses, their categories, outline (sections and lessons), staff,
//! reviews and announcements. This file holds what every part (and other services)
//! share: finding a course by id or slug, its write lock, the unique-key → 409 mapping
//! and the course status; the children hold one capability each.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::api::{self, CourseStatus};
use crate::error::ApiError;
use crate::store::entity::{course, user};

pub mod access;
pub mod announcements;
pub mod cache;
pub mod categories;
pub mod courses;
pub mod lessons;
pub mod outline;
pub mod reviews;
pub mod sections;
pub mod staff;

pub use access::{Access, Viewer, access, can_view, is_enrolled, staff_role, teaches_student};
pub use courses::{course_to_wire, courses_to_wire};
pub use outline::{
    check_permutation, find_lesson, find_section, has_published_lesson, insert_index,
    lesson_summary, lesson_to_wire, lessons_of, move_index, outline, renumber_lessons,
    renumber_sections, section_to_wire, sections_of,
};
pub use reviews::recompute_rating;

/// The 404 for a course that is missing or that the caller may not see.
pub fn course_not_found() -> ApiError {
    ApiError::NotFound("Course not found".into())
}

/// A course by id, slug or SIS id (`externalId`, looked up only when no slug matches),
/// or 404.
pub async fn find_course(db: &impl ConnectionTrait, key: &str) -> Result<course::Model, ApiError> {
    if let Ok(id) = Uuid::parse_str(key) {
        return course::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(course_not_found);
    }
    if let Some(course) = course::Entity::find()
        .filter(course::Column::Slug.eq(key))
        .one(db)
        .await?
    {
        return Ok(course);
    }
    course::Entity::find()
        .filter(course::Column::ExternalId.eq(key))
        .one(db)
        .await?
        .ok_or_else(course_not_found)
}

/// Takes the course's write lock for the rest of the transaction: an UPDATE of its row,
/// as the transaction's first statement. PostgreSQL holds the row lock until commit, so
/// concurrent writers to one course's outline queue; SQLite serialises all writers and
/// writing first means the transaction never has to upgrade from a stale read snapshot.
/// Every change to sections, lessons or reviews starts here. 404 if the course is gone.
pub async fn lock_course(db: &impl ConnectionTrait, course_id: Uuid) -> Result<(), ApiError> {
    let touched = course::Entity::update_many()
        .col_expr(course::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(course::Column::Id.eq(course_id))
        .exec(db)
        .await?;
    if touched.rows_affected == 0 {
        return Err(course_not_found());
    }
    Ok(())
}

/// [`lock_course`] for several courses at once, in one statement: the locks are taken
/// in id order (PostgreSQL's `SELECT … ORDER BY id FOR UPDATE` under the UPDATE), so two
/// transactions locking overlapping sets never deadlock. 404 if any course is gone.
pub async fn lock_courses(db: &impl ConnectionTrait, ids: &BTreeSet<Uuid>) -> Result<(), ApiError> {
    lock_courses_adding_students(db, ids, &HashMap::new()).await
}

/// [`lock_courses`], adding `added[course]` to each course's `total_students` in the same
/// statement — for a writer that knows, before it writes, how its enrollments change the
/// counts (a bulk import's batch): one new version of each course row, not two.
pub async fn lock_courses_adding_students(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<Uuid>,
    added: &HashMap<Uuid, i32>,
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let in_order = Query::select()
        .column(course::Column::Id)
        .from(course::Entity)
        .and_where(course::Column::Id.is_in(ids.iter().copied()))
        .order_by(course::Column::Id, Order::Asc)
        .lock(LockType::Update)
        .to_owned();
    let mut update = course::Entity::update_many()
        .col_expr(course::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(course::Column::Id.in_subquery(in_order));
    // TOTAL + CASE WHEN id IN (…) THEN 1 WHEN id IN (…) THEN 2 … ELSE 0 END
    let mut by_delta: BTreeMap<i32, Vec<Uuid>> = BTreeMap::new();
    for (id, delta) in added {
        if *delta != 0 {
            by_delta.entry(*delta).or_default().push(*id);
        }
    }
    let mut deltas = by_delta.into_iter();
    if let Some((delta, ids)) = deltas.next() {
        let mut case = Expr::case(course::Column::Id.is_in(ids), delta);
        for (delta, ids) in deltas {
            case = case.case(course::Column::Id.is_in(ids), delta);
        }
        update = update.col_expr(
            course::Column::TotalStudents,
            Expr::col(course::Column::TotalStudents).add(case.finally(0)),
        );
    }
    let touched = update.exec(db).await?;
    if touched.rows_affected != ids.len() as u64 {
        return Err(course_not_found());
    }
    Ok(())
}

/// A course's stored status (an unreadable one reads as DRAFT).
pub fn status_of(course: &course::Model) -> CourseStatus {
    course.status
}

/// The titles of the courses `ids` names, in one query (for lists that span courses).
pub async fn course_titles(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, ApiError> {
    Ok(course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .column(course::Column::Title)
        .filter(course::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// A person as courses name them.
pub fn person(user: &user::Model) -> api::PersonRef {
    api::PersonRef {
        id: user.id,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    }
}

/// After a committed change that a public catalogue page may show (a course written,
/// published, archived or deleted; its counters; a category; an owner's name): the
/// kept pages are dropped here and on every other instance.
pub async fn catalogue_changed(state: &crate::platform::state::AppState) {
    state.catalogue.changed();
    state
        .realtime
        .tell_others(&state.db, "catalogue", None)
        .await;
}
