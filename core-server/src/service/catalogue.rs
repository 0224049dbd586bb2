//! What the catalogue routes share: finding a course by id or slug, who may see or
//! change it, serialising writes to a course's outline, keeping positions 1..n, the
//! rating recomputation, and turning rows into wire types.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use crate::api::{self, CourseLevel, CourseStatus, EnrollmentStatus, LessonType, StaffRole};
use crate::domain::rating;
use crate::error::ApiError;
use crate::service::auth::AuthUser;
use crate::store::entity::{
    category, course, course_staff, enrollment, lesson, review, section, user,
};

/// The caller of a route that anonymous users may call too. A request that sends a
/// token must send a valid one (401 otherwise); one without a token is anonymous.
pub struct Viewer(pub Option<AuthUser>);

/// What the caller is to one course.
#[derive(Debug, Clone, Copy, Default)]
pub struct Access {
    pub admin: bool,
    pub staff: Option<StaffRole>,
}

impl Access {
    /// Staff (any role) and admins change a course, its sections and lessons.
    pub fn can_edit(&self) -> bool {
        self.admin || self.staff.is_some()
    }

    /// The owner and admins delete a course and manage its staff.
    pub fn can_manage(&self) -> bool {
        self.admin || self.staff == Some(StaffRole::Owner)
    }

    /// 403 unless [`Self::can_edit`].
    pub fn require_edit(&self) -> Result<(), ApiError> {
        if self.can_edit() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "Only this course's staff or an admin can change it".into(),
            ))
        }
    }

    /// 403 unless [`Self::can_manage`].
    pub fn require_manage(&self) -> Result<(), ApiError> {
        if self.can_manage() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "Only this course's owner or an admin can do this".into(),
            ))
        }
    }
}

/// The caller's access to `course_id`; anonymous callers have none.
pub async fn access(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    course_id: Uuid,
) -> Result<Access, ApiError> {
    let Some(caller) = caller else {
        return Ok(Access::default());
    };
    Ok(Access {
        admin: caller.is_admin(),
        staff: staff_role(db, course_id, caller.id()).await?,
    })
}

/// `user_id`'s role on `course_id`'s staff, if any.
pub async fn staff_role(
    db: &impl ConnectionTrait,
    course_id: Uuid,
    user_id: Uuid,
) -> Result<Option<StaffRole>, ApiError> {
    Ok(course_staff::Entity::find()
        .filter(course_staff::Column::CourseId.eq(course_id))
        .filter(course_staff::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .and_then(|row| row.role.parse().ok()))
}

/// Whether `user_id` is enrolled in `course_id`: an ACTIVE or COMPLETED enrollment that
/// has not expired. Enrolled students review the course, open its published lessons and
/// still see it once archived.
pub async fn is_enrolled(
    db: &impl ConnectionTrait,
    course_id: Uuid,
    user_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::CourseId.eq(course_id))
        .filter(enrollment::Column::StudentId.eq(user_id))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]))
        .filter(
            Condition::any()
                .add(enrollment::Column::ExpiresAt.is_null())
                .add(enrollment::Column::ExpiresAt.gt(Utc::now())),
        )
        .count(db)
        .await?
        > 0)
}

/// Whether `teacher_id` is on the staff of a course `student_id` is (or was) enrolled
/// in: teachers see the students of their courses.
pub async fn teaches_student(
    db: &impl ConnectionTrait,
    teacher_id: Uuid,
    student_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::StudentId.eq(student_id))
        .filter(
            enrollment::Column::CourseId.in_subquery(
                Query::select()
                    .column(course_staff::Column::CourseId)
                    .from(course_staff::Entity)
                    .and_where(course_staff::Column::UserId.eq(teacher_id))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?
        > 0)
}

/// Whether the caller may see the course at all: a published course is public, a draft
/// belongs to its staff (and admins), an archived one to them and its enrolled students.
pub async fn can_view(
    db: &impl ConnectionTrait,
    course: &course::Model,
    access: Access,
    caller: Option<&AuthUser>,
) -> Result<bool, ApiError> {
    Ok(match status_of(course) {
        CourseStatus::Published => true,
        _ if access.can_edit() => true,
        CourseStatus::Archived => match caller {
            Some(c) => is_enrolled(db, course.id, c.id()).await?,
            None => false,
        },
        CourseStatus::Draft => false,
    })
}

pub fn course_not_found() -> ApiError {
    ApiError::NotFound("Course not found".into())
}

/// A course by id or slug, or 404.
pub async fn find_course(db: &impl ConnectionTrait, key: &str) -> Result<course::Model, ApiError> {
    let query = match Uuid::parse_str(key) {
        Ok(id) => course::Entity::find_by_id(id),
        Err(_) => course::Entity::find().filter(course::Column::Slug.eq(key)),
    };
    query.one(db).await?.ok_or_else(course_not_found)
}

/// A section by id, or 404.
pub async fn find_section(db: &impl ConnectionTrait, id: Uuid) -> Result<section::Model, ApiError> {
    section::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Section not found".into()))
}

/// A lesson by id, or 404.
pub async fn find_lesson(db: &impl ConnectionTrait, id: Uuid) -> Result<lesson::Model, ApiError> {
    lesson::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Lesson not found".into()))
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

/// A unique-key violation becomes a 409 naming `field`; other errors pass through.
pub fn conflict(err: DbErr, field: &str, message: &str) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict {
            field: Some(field.into()),
            message: message.into(),
        },
        _ => err.into(),
    }
}

/// Whether `err` is a unique-key violation whose message mentions `column`.
pub fn is_unique_violation_on(err: &DbErr, column: &str) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains(column))
}

/// Where a new item goes among `count`: appended, or at 1-based `position` (1..=count+1).
pub fn insert_index(position: Option<i64>, count: usize) -> Result<usize, ApiError> {
    match position {
        None => Ok(count),
        Some(p) if p >= 1 && p <= count as i64 + 1 => Ok(p as usize - 1),
        Some(_) => Err(ApiError::field(
            "position",
            format!("must be between 1 and {}", count + 1),
        )),
    }
}

/// Where an existing item moves among `count`: 1-based `position` (1..=count).
pub fn move_index(position: i64, count: usize) -> Result<usize, ApiError> {
    if position >= 1 && position <= count as i64 {
        Ok(position as usize - 1)
    } else {
        Err(ApiError::field(
            "position",
            format!("must be between 1 and {count}"),
        ))
    }
}

/// `ids` must be exactly `current` in some order; `field` names the list in the 400.
pub fn check_permutation(
    field: &str,
    ids: &[Uuid],
    current: &[Uuid],
    what: &str,
) -> Result<(), ApiError> {
    let mut given = ids.to_vec();
    given.sort();
    let mut expected = current.to_vec();
    expected.sort();
    if given == expected {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            format!(
                "must list each of the {} {what} exactly once ({} given)",
                current.len(),
                ids.len()
            ),
        ))
    }
}

/// A course's sections, in order.
pub async fn sections_of(
    db: &impl ConnectionTrait,
    course_id: Uuid,
) -> Result<Vec<section::Model>, ApiError> {
    Ok(section::Entity::find()
        .filter(section::Column::CourseId.eq(course_id))
        .order_by_asc(section::Column::Position)
        .order_by_asc(section::Column::Id)
        .all(db)
        .await?)
}

/// A section's lessons, in order.
pub async fn lessons_of(
    db: &impl ConnectionTrait,
    section_id: Uuid,
) -> Result<Vec<lesson::Model>, ApiError> {
    Ok(lesson::Entity::find()
        .filter(lesson::Column::SectionId.eq(section_id))
        .order_by_asc(lesson::Column::Position)
        .order_by_asc(lesson::Column::Id)
        .all(db)
        .await?)
}

/// Gives the sections in `order` the positions 1..n, writing only those that changed
/// (`old` holds the stored positions; a new row is absent from it).
pub async fn renumber_sections(
    db: &impl ConnectionTrait,
    old: &HashMap<Uuid, i32>,
    order: &[Uuid],
) -> Result<(), ApiError> {
    let now = Utc::now();
    for (index, id) in order.iter().enumerate() {
        let position = index as i32 + 1;
        if old.get(id) != Some(&position) {
            section::Entity::update_many()
                .col_expr(section::Column::Position, Expr::value(position))
                .col_expr(section::Column::UpdatedAt, Expr::value(now))
                .filter(section::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// As [`renumber_sections`], for the lessons of `section_id` (moving any lesson listed
/// there into that section).
pub async fn renumber_lessons(
    db: &impl ConnectionTrait,
    section_id: Uuid,
    old: &HashMap<Uuid, (Uuid, i32)>,
    order: &[Uuid],
) -> Result<(), ApiError> {
    let now = Utc::now();
    for (index, id) in order.iter().enumerate() {
        let position = index as i32 + 1;
        if old.get(id) != Some(&(section_id, position)) {
            lesson::Entity::update_many()
                .col_expr(lesson::Column::Position, Expr::value(position))
                .col_expr(lesson::Column::SectionId, Expr::value(section_id))
                .col_expr(lesson::Column::UpdatedAt, Expr::value(now))
                .filter(lesson::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Recomputes the course's rating and review count from its reviews. Call it in the
/// transaction that wrote a review, after [`lock_course`].
pub async fn recompute_rating(db: &impl ConnectionTrait, course_id: Uuid) -> Result<(), ApiError> {
    let (count, total): (i64, Option<i64>) = review::Entity::find()
        .select_only()
        .column_as(review::Column::Id.count(), "count")
        .column_as(review::Column::Rating.sum(), "total")
        .filter(review::Column::CourseId.eq(course_id))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    course::Entity::update_many()
        .col_expr(
            course::Column::RatingAvg,
            Expr::value(rating::average(total.unwrap_or(0), count)),
        )
        .col_expr(course::Column::RatingCount, Expr::value(count as i32))
        .filter(course::Column::Id.eq(course_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether the course has a lesson students can see (publishing needs one).
pub async fn has_published_lesson(
    db: &impl ConnectionTrait,
    course_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course_id))
        .filter(lesson::Column::IsPublished.eq(true))
        .count(db)
        .await?
        > 0)
}

pub fn status_of(course: &course::Model) -> CourseStatus {
    course.status.parse().unwrap_or(CourseStatus::Draft)
}

/// A person as courses name them.
pub fn person(user: &user::Model) -> api::PersonRef {
    api::PersonRef {
        id: user.id,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    }
}

/// One lesson as its outline shows it.
pub fn lesson_summary(l: &lesson::Model) -> api::LessonSummary {
    api::LessonSummary {
        id: l.id,
        title: l.title.clone(),
        r#type: l.r#type.parse().unwrap_or(LessonType::Text),
        duration: l.duration_minutes,
        order: l.position,
        is_free_preview: l.is_free_preview,
        is_published: l.is_published,
    }
}

/// One lesson with its content.
pub fn lesson_to_wire(l: &lesson::Model) -> api::Lesson {
    api::Lesson {
        id: l.id,
        course_id: l.course_id,
        section_id: l.section_id,
        title: l.title.clone(),
        r#type: l.r#type.parse().unwrap_or(LessonType::Text),
        content: l.content.clone(),
        url: l.url.clone(),
        duration: l.duration_minutes,
        order: l.position,
        is_free_preview: l.is_free_preview,
        is_published: l.is_published,
    }
}

/// A section with its lessons; unpublished lessons only when `all_lessons`.
pub async fn section_to_wire(
    db: &impl ConnectionTrait,
    s: &section::Model,
    all_lessons: bool,
) -> Result<api::Section, ApiError> {
    let lessons = lessons_of(db, s.id).await?;
    Ok(api::Section {
        id: s.id,
        title: s.title.clone(),
        order: s.position,
        lessons: lessons
            .iter()
            .filter(|l| all_lessons || l.is_published)
            .map(lesson_summary)
            .collect(),
    })
}

/// The course's outline: sections in order with the lessons the caller may see.
pub async fn outline(
    db: &impl ConnectionTrait,
    course_id: Uuid,
    all_lessons: bool,
) -> Result<Vec<api::Section>, ApiError> {
    let sections = sections_of(db, course_id).await?;
    let lessons = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course_id))
        .order_by_asc(lesson::Column::Position)
        .order_by_asc(lesson::Column::Id)
        .all(db)
        .await?;
    Ok(sections
        .iter()
        .map(|s| api::Section {
            id: s.id,
            title: s.title.clone(),
            order: s.position,
            lessons: lessons
                .iter()
                .filter(|l| l.section_id == s.id && (all_lessons || l.is_published))
                .map(lesson_summary)
                .collect(),
        })
        .collect())
}

/// Courses as lists show them, with their teachers and categories loaded in two queries.
pub async fn courses_to_wire(
    db: &impl ConnectionTrait,
    courses: &[course::Model],
) -> Result<Vec<api::Course>, ApiError> {
    let owner_ids: Vec<Uuid> = courses.iter().map(|c| c.created_by).collect();
    let owners: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(owner_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let category_ids: Vec<Uuid> = courses.iter().filter_map(|c| c.category_id).collect();
    let categories: HashMap<Uuid, category::Model> = if category_ids.is_empty() {
        HashMap::new()
    } else {
        category::Entity::find()
            .filter(category::Column::Id.is_in(category_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    };
    courses
        .iter()
        .map(|c| {
            let owner = owners
                .get(&c.created_by)
                .ok_or_else(|| anyhow::anyhow!("course {} has no owner row", c.id))?;
            let category = c.category_id.and_then(|id| categories.get(&id));
            Ok(course_to_wire(c, owner, category, None))
        })
        .collect()
}

/// One course in its wire form.
pub fn course_to_wire(
    c: &course::Model,
    owner: &user::Model,
    category: Option<&category::Model>,
    sections: Option<Vec<api::Section>>,
) -> api::Course {
    api::Course {
        id: c.id,
        title: c.title.clone(),
        slug: c.slug.clone(),
        description: c.description.clone(),
        category: category.map(|k| api::CategoryRef {
            id: k.id,
            name: k.name.clone(),
            slug: k.slug.clone(),
        }),
        level: c.level.parse().unwrap_or(CourseLevel::Beginner),
        language: c.language.clone(),
        price: c.price,
        discounted_price: c.discounted_price,
        currency: c.currency.clone(),
        is_free: c.is_free,
        tags: serde_json::from_value(c.tags.clone()).unwrap_or_default(),
        thumbnail: c.thumbnail_url.clone(),
        status: status_of(c),
        published_at: c.published_at,
        teacher: person(owner),
        total_students: i64::from(c.total_students),
        rating: c.rating_avg,
        total_reviews: i64::from(c.rating_count),
        external_id: c.external_id.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        sections,
    }
}
