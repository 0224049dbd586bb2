//! A course's staff: its OWNER (the creator), co-teachers and TAs. The owner and admins
//! manage it; staff members see it and may leave it.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::find_course;
use crate::api::{Role, StaffMember, StaffRole};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::find_user;
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::store::entity::{course_staff, user};

fn staff_to_wire(row: &course_staff::Model, user: &user::Model) -> StaffMember {
    StaffMember {
        user_id: user.id,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        role: row.role,
        added_at: row.created_at,
    }
}

/// The staff of the course `key`, owner first (to its staff and admins).
pub async fn list_staff(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
) -> Result<Vec<StaffMember>, ApiError> {
    let course = find_course(&state.db, key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let rows = course_staff::Entity::find()
        .filter(course_staff::Column::CourseId.eq(course.id))
        .all(&state.db)
        .await?;
    let users: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|r| r.user_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut staff: Vec<StaffMember> = rows
        .iter()
        .filter_map(|row| Some(staff_to_wire(row, users.get(&row.user_id)?)))
        .collect();
    staff.sort_by_key(|m| (m.role != StaffRole::Owner, m.added_at));
    Ok(staff)
}

/// Adds the TEACHER `user_id` to the course `key`'s staff as `role` (its owner and
/// admins); 422 for someone who is not a teacher, 409 if already there.
pub async fn add_staff(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    user_id: Uuid,
    role: StaffRole,
) -> Result<StaffMember, ApiError> {
    let course = find_course(&state.db, key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_manage()?;
    let user = find_user(&state.db, user_id).await?;
    if user.role != Role::Teacher {
        return Err(ApiError::Unprocessable(format!(
            "Only a TEACHER can join a course's staff; this user is a {}",
            user.role
        )));
    }
    let now = Utc::now();
    let row = course_staff::ActiveModel {
        id: Set(Uuid::now_v7()),
        course_id: Set(course.id),
        user_id: Set(user.id),
        role: Set(role),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(staff_to_wire(&row, &user))
}

/// Removes `user_id` from the course `key`'s staff: its owner and admins remove anyone
/// but the owner; a co-teacher or TA may remove themselves. Their open sockets learn
/// that their access changed.
pub async fn remove_staff(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    user_id: Uuid,
) -> Result<(), ApiError> {
    let course = find_course(&state.db, key).await?;
    let access = catalogue::access(&state.db, Some(auth), course.id).await?;
    if !(access.can_manage() || (user_id == auth.id() && access.staff.is_some())) {
        access.require_manage()?;
    }
    match catalogue::staff_role(&state.db, course.id, user_id).await? {
        None => return Err(ApiError::NotFound("Not on this course's staff".into())),
        Some(StaffRole::Owner) => {
            return Err(ApiError::Unprocessable(
                "The owner can't be removed from their course".into(),
            ));
        }
        Some(_) => {}
    }
    course_staff::Entity::delete_many()
        .filter(course_staff::Column::CourseId.eq(course.id))
        .filter(course_staff::Column::UserId.eq(user_id))
        .filter(course_staff::Column::Role.ne(StaffRole::Owner.as_str()))
        .exec(&state.db)
        .await?;
    state
        .realtime
        .course_access_changed(&state.db, user_id)
        .await;
    Ok(())
}
