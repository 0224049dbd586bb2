//! Reading enrollments: the caller's own courses, and a course's roster for its staff.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{roster_row, users_by_id};
use crate::api::{
    CourseEnrollmentList, EnrollmentFilter, EnrollmentStatus, MyCourseRef, MyCourses,
    MyCoursesFilter, MyEnrollment, PageQuery, Pagination,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, find_course, status_of};
use crate::store::entity::{course, enrollment};

/// The caller's enrollments, most recent first, with each course's title and thumbnail;
/// CANCELLED ones only when the filter asks for them.
pub async fn my_courses(
    state: &AppState,
    auth: &AuthUser,
    filter: &MyCoursesFilter,
) -> Result<MyCourses, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = enrollment::Entity::find().filter(enrollment::Column::StudentId.eq(auth.id()));
    query = match filter.status {
        Some(status) => query.filter(enrollment::Column::Status.eq(status.as_str())),
        None => query.filter(enrollment::Column::Status.ne(EnrollmentStatus::Cancelled.as_str())),
    };
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(enrollment::Column::EnrolledAt)
        .order_by_desc(enrollment::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    let courses: HashMap<Uuid, course::Model> = course::Entity::find()
        .filter(course::Column::Id.is_in(rows.iter().map(|e| e.course_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let enrollments = rows
        .iter()
        .filter_map(|e| {
            let c = courses.get(&e.course_id)?;
            Some(MyEnrollment {
                id: e.id,
                course_id: e.course_id,
                status: e.status,
                progress: e.progress_percent,
                enrolled_at: e.enrolled_at,
                completed_at: e.completed_at,
                last_accessed_at: e.last_accessed_at,
                batch_id: e.batch_id,
                course: MyCourseRef {
                    title: c.title.clone(),
                    slug: c.slug.clone(),
                    thumbnail: c.thumbnail_url.clone(),
                    status: status_of(c),
                },
            })
        })
        .collect();
    Ok(MyCourses {
        enrollments,
        pagination: Pagination::new(page, total),
    })
}

/// A page of the course's roster (its staff and admins), oldest enrollment first,
/// filtered by status and batch.
pub async fn course_roster(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    filter: &EnrollmentFilter,
) -> Result<CourseEnrollmentList, ApiError> {
    let course = find_course(&state.db, course_key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = enrollment::Entity::find().filter(enrollment::Column::CourseId.eq(course.id));
    if let Some(status) = filter.status {
        query = query.filter(enrollment::Column::Status.eq(status.as_str()));
    }
    if let Some(batch) = filter.batch {
        query = query.filter(enrollment::Column::BatchId.eq(batch));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(enrollment::Column::CreatedAt)
        .order_by_asc(enrollment::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    let students = users_by_id(&state.db, rows.iter().map(|e| e.student_id)).await?;
    Ok(CourseEnrollmentList {
        enrollments: rows
            .iter()
            .filter_map(|e| Some(roster_row(e, students.get(&e.student_id)?)))
            .collect(),
        pagination: Pagination::new(page, total),
    })
}
