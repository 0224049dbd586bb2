//! Who the caller is to a course: anonymous viewers, staff roles, admins and enrolled
//! students, and what each may see or change.

use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::status_of;
use crate::api::{CourseStatus, EnrollmentStatus, StaffRole};
use crate::error::ApiError;
use crate::service::auth::AuthUser;
use crate::store::entity::{course, course_staff, enrollment};

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
        .map(|row| row.role))
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
