//! Batches (cohorts) of a course and their members, for its staff and admins. A student
//! sits in at most one batch of a course (`enrollments.batch_id`). Seating a member runs
//! under the batch's lock (its row, written first), so a capacity holds however many
//! join at once.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    find_batch, find_enrollment, lock_batch, member_count, not_enrolled, seat, student_ref,
    users_by_id,
};
use crate::api::{
    Batch, BatchList, BatchMember, BatchMembers, NewBatch, NewBatchMember, UpdateBatch,
};
use crate::domain::{Fields, Title};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, find_course};
use crate::store::entity::{batch, enrollment};

/// The largest capacity a batch may have.
const MAX_CAPACITY: i32 = 100_000;

fn to_wire(b: &batch::Model, members: u64) -> Batch {
    Batch {
        id: b.id,
        course_id: b.course_id,
        name: b.name.clone(),
        capacity: b.capacity,
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        members: members as i64,
        created_at: b.created_at,
        updated_at: b.updated_at,
    }
}

fn parse_capacity(fields: &mut Fields, capacity: i32) -> Option<i32> {
    if (1..=MAX_CAPACITY).contains(&capacity) {
        Some(capacity)
    } else {
        fields.push(
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}, or null for no limit"),
        );
        None
    }
}

fn check_dates(fields: &mut Fields, starts: Option<NaiveDate>, ends: Option<NaiveDate>) {
    if let (Some(s), Some(e)) = (starts, ends)
        && e < s
    {
        fields.push("endsOn", "must not be before startsOn");
    }
}

/// The batch and the caller's right to manage it (the course's staff and admins).
async fn managed_batch(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<batch::Model, ApiError> {
    let batch = find_batch(&state.db, id).await?;
    catalogue::access(&state.db, Some(auth), batch.course_id)
        .await?
        .require_edit()?;
    Ok(batch)
}

/// The course's batches, by name, with their member counts (its staff and admins).
pub async fn list(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
) -> Result<BatchList, ApiError> {
    let course = find_course(&state.db, course_key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let rows = batch::Entity::find()
        .filter(batch::Column::CourseId.eq(course.id))
        .order_by_asc(batch::Column::Name)
        .all(&state.db)
        .await?;
    let mut batches = Vec::with_capacity(rows.len());
    for b in &rows {
        batches.push(to_wire(b, member_count(&state.db, b.id).await?));
    }
    Ok(BatchList { batches })
}

/// Creates a batch of the course (its staff and admins): the fields are checked first,
/// then the caller's right; names are unique per course.
pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    course_key: &str,
    body: &NewBatch,
) -> Result<Batch, ApiError> {
    let mut fields = Fields::default();
    let name = fields.take("name", Title::parse(&body.name));
    let capacity = match body.capacity {
        Some(c) => parse_capacity(&mut fields, c).map(Some),
        None => Some(None),
    };
    check_dates(&mut fields, body.starts_on, body.ends_on);
    fields.finish()?;
    let (Some(name), Some(capacity)) = (name, capacity) else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let course = find_course(&state.db, course_key).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    let now = Utc::now();
    let row = batch::ActiveModel {
        id: Set(Uuid::now_v7()),
        course_id: Set(course.id),
        name: Set(name.as_ref().to_owned()),
        capacity: Set(capacity),
        starts_on: Set(body.starts_on),
        ends_on: Set(body.ends_on),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(to_wire(&row, 0))
}

/// Renames a batch, changes its capacity (not below its members) or dates: the caller's
/// right is checked first, then the fields (the dates against the stored ones).
pub async fn update(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &UpdateBatch,
) -> Result<Batch, ApiError> {
    let found = managed_batch(state, auth, id).await?;
    let mut fields = Fields::default();
    let mut update = batch::ActiveModel {
        id: Set(found.id),
        ..Default::default()
    };
    if let Some(n) = &body.name
        && let Some(n) = fields.take("name", Title::parse(n))
    {
        update.name = Set(n.as_ref().to_owned());
    }
    match body.capacity {
        Some(Some(c)) => {
            if let Some(c) = parse_capacity(&mut fields, c) {
                update.capacity = Set(Some(c));
            }
        }
        Some(None) => update.capacity = Set(None),
        None => {}
    }
    let starts = body.starts_on.unwrap_or(found.starts_on);
    let ends = body.ends_on.unwrap_or(found.ends_on);
    check_dates(&mut fields, starts, ends);
    update.starts_on = Set(starts);
    update.ends_on = Set(ends);
    fields.finish()?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_batch(&txn, found.id).await?;
    let members = member_count(&txn, found.id).await?;
    if let Some(Some(capacity)) = body.capacity
        && (capacity as u64) < members
    {
        return Err(ApiError::Unprocessable(format!(
            "capacity can't be {capacity}: the batch has {members} members; remove some first"
        )));
    }
    update.updated_at = Set(Utc::now());
    let row = update.update(&txn).await?;
    txn.commit().await?;
    Ok(to_wire(&row, members))
}

/// Deletes a batch; its members stay enrolled, in no batch, and their sockets check
/// their rooms after the commit. Returns the batch's id.
pub async fn delete(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<Uuid, ApiError> {
    let found = managed_batch(state, auth, id).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_batch(&txn, found.id).await?;
    let members: Vec<Uuid> = enrollment::Entity::find()
        .select_only()
        .column(enrollment::Column::StudentId)
        .filter(enrollment::Column::BatchId.eq(found.id))
        .into_tuple()
        .all(&txn)
        .await?;
    enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::BatchId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(enrollment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(enrollment::Column::BatchId.eq(found.id))
        .exec(&txn)
        .await?;
    batch::Entity::delete_by_id(found.id).exec(&txn).await?;
    txn.commit().await?;
    for student_id in members {
        state
            .realtime
            .course_access_changed(&state.db, student_id)
            .await;
    }
    Ok(found.id)
}

/// The batch's members, by name, with their progress.
pub async fn members(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<BatchMembers, ApiError> {
    let found = managed_batch(state, auth, id).await?;
    let rows = enrollment::Entity::find()
        .filter(enrollment::Column::BatchId.eq(found.id))
        .all(&state.db)
        .await?;
    let students = users_by_id(&state.db, rows.iter().map(|e| e.student_id)).await?;
    let mut members: Vec<BatchMember> = rows
        .iter()
        .filter_map(|e| {
            Some(BatchMember {
                enrollment_id: e.id,
                student: student_ref(students.get(&e.student_id)?),
                status: e.status,
                progress: e.progress_percent,
            })
        })
        .collect();
    members.sort_by(|a, b| {
        (&a.student.last_name, &a.student.first_name, a.student.id).cmp(&(
            &b.student.last_name,
            &b.student.first_name,
            b.student.id,
        ))
    });
    Ok(BatchMembers { members })
}

/// Seats an enrolled student in the batch: 409 naming `capacity` when full, naming
/// `studentId` when already in a batch of the course.
pub async fn add_member(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: &NewBatchMember,
) -> Result<BatchMember, ApiError> {
    let found = managed_batch(state, auth, id).await?;
    let student = crate::service::accounts::find_user(&state.db, body.student_id).await?;
    let enrollment = find_enrollment(&state.db, found.course_id, student.id)
        .await?
        .ok_or_else(not_enrolled)?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    let row = seat(&txn, &found, &enrollment).await?;
    txn.commit().await?;
    Ok(BatchMember {
        enrollment_id: row.id,
        student: student_ref(&student),
        status: row.status,
        progress: row.progress_percent,
    })
}

/// Takes a student out of the batch; they stay enrolled in the course. Returns the
/// batch's id.
pub async fn remove_member(
    state: &AppState,
    auth: &AuthUser,
    batch_id: Uuid,
    student_id: Uuid,
) -> Result<Uuid, ApiError> {
    let found = managed_batch(state, auth, batch_id).await?;
    let removed = enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::BatchId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(enrollment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(enrollment::Column::BatchId.eq(found.id))
        .filter(enrollment::Column::StudentId.eq(student_id))
        .exec(&state.db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(ApiError::NotFound(
            "This student is not in this batch".into(),
        ));
    }
    state
        .realtime
        .course_access_changed(&state.db, student_id)
        .await;
    Ok(found.id)
}
