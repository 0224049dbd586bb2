//! `/api/v1/courses/{id}/batches` and `/api/v1/batches/{id}`: batches (cohorts) of a
//! course and their members, for its staff and admins. A student sits in at most one
//! batch of a course (`enrollments.batch_id`). Seating a member runs under the batch's
//! lock (its row, written first), so a capacity holds however many join at once.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::enrollments::{enrollment_status, find_enrollment, student_ref, users_by_id};
use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, Batch, BatchList, BatchMember, BatchMembers, NewBatch, NewBatchMember, UpdateBatch,
};
use crate::auth::AuthUser;
use crate::catalogue::{self, find_course};
use crate::domain::{Fields, Title};
use crate::entity::{batch, enrollment};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_batches)
        .service(create_batch)
        .service(update_batch)
        .service(delete_batch)
        .service(list_members)
        .service(add_member)
        .service(remove_member);
}

/// The largest capacity a batch may have.
const MAX_CAPACITY: i32 = 100_000;

/// A batch by id, or 404.
pub async fn find_batch(db: &impl ConnectionTrait, id: Uuid) -> Result<batch::Model, ApiError> {
    batch::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Batch not found".into()))
}

/// Takes the batch's lock for the rest of the transaction (an UPDATE of its row, first)
/// and reads it again under the lock. 404 if it is gone.
async fn lock_batch(db: &impl ConnectionTrait, id: Uuid) -> Result<batch::Model, ApiError> {
    let touched = batch::Entity::update_many()
        .col_expr(batch::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(batch::Column::Id.eq(id))
        .exec(db)
        .await?;
    if touched.rows_affected == 0 {
        return Err(ApiError::NotFound("Batch not found".into()));
    }
    find_batch(db, id).await
}

async fn member_count(db: &impl ConnectionTrait, batch_id: Uuid) -> Result<u64, ApiError> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::BatchId.eq(batch_id))
        .count(db)
        .await?)
}

/// Seats `enrollment` in `batch` inside the caller's transaction: 409 naming `studentId`
/// when already in a batch of the course, naming `capacity` when the batch is full.
pub async fn seat(
    txn: &impl ConnectionTrait,
    batch: &batch::Model,
    enrollment: &enrollment::Model,
) -> Result<enrollment::Model, ApiError> {
    let batch = lock_batch(txn, batch.id).await?;
    let current = enrollment::Entity::find_by_id(enrollment.id)
        .one(txn)
        .await?
        .ok_or_else(not_enrolled)?;
    if !enrollment_status(&current).grants_access() {
        return Err(not_enrolled());
    }
    match current.batch_id {
        Some(id) if id == batch.id => {
            return Err(ApiError::Conflict {
                field: Some("studentId".into()),
                message: "This student is already in this batch".into(),
            });
        }
        Some(_) => {
            return Err(ApiError::Conflict {
                field: Some("studentId".into()),
                message: "This student is already in another batch of this course; remove them from it first".into(),
            });
        }
        None => {}
    }
    if let Some(capacity) = batch.capacity
        && member_count(txn, batch.id).await? >= capacity as u64
    {
        return Err(ApiError::Conflict {
            field: Some("capacity".into()),
            message: format!("Batch \"{}\" is full (capacity {capacity})", batch.name),
        });
    }
    Ok(enrollment::ActiveModel {
        id: Set(current.id),
        batch_id: Set(Some(batch.id)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(txn)
    .await?)
}

fn not_enrolled() -> ApiError {
    ApiError::Unprocessable(
        "Only students enrolled in the batch's course can join it; enroll them first".into(),
    )
}

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

fn name_taken() -> ApiError {
    ApiError::Conflict {
        field: Some("name".into()),
        message: "This course already has a batch with this name".into(),
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
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug")),
    responses(
        (status = 200, description = "The batches", body = ApiResponse<BatchList>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
    )
)]
#[get("/courses/{id}/batches")]
pub async fn list_batches(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let course = find_course(&state.db, &id).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
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
    Ok(ok(BatchList { batches }))
}

/// Creates a batch of the course (its staff and admins). Names are unique per course.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Course id or slug")),
    request_body = NewBatch,
    responses(
        (status = 201, description = "Created", body = ApiResponse<Batch>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 409, description = "Name taken in this course", body = crate::api::ErrorBody),
    )
)]
#[post("/courses/{id}/batches")]
pub async fn create_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    Json(body): Json<NewBatch>,
) -> Result<HttpResponse, ApiError> {
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
    let course = find_course(&state.db, &id).await?;
    catalogue::access(&state.db, Some(&auth), course.id)
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
    .await
    // The only unique key a new row can break is (course, name).
    .map_err(|err| {
        catalogue::conflict(
            err,
            "name",
            "This course already has a batch with this name",
        )
    })?;
    Ok(created(to_wire(&row, 0)))
}

/// Renames a batch, changes its capacity (not below its members) or dates.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = UpdateBatch,
    responses(
        (status = 200, description = "Updated", body = ApiResponse<Batch>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
        (status = 409, description = "Name taken in this course", body = crate::api::ErrorBody),
        (status = 422, description = "Capacity below the current members", body = crate::api::ErrorBody),
    )
)]
#[patch("/batches/{id}")]
pub async fn update_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateBatch>,
) -> Result<HttpResponse, ApiError> {
    let found = managed_batch(&state, &auth, *id).await?;
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
    let txn = crate::db::begin_write(&state.db).await?;
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
    let row = update.update(&txn).await.map_err(|err| {
        if matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ) {
            name_taken()
        } else {
            err.into()
        }
    })?;
    txn.commit().await?;
    Ok(ok(to_wire(&row, members)))
}

/// Deletes a batch; its members stay enrolled, in no batch.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses(
        (status = 200, description = "Deleted", body = ApiResponse<crate::api::Deleted>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
    )
)]
#[delete("/batches/{id}")]
pub async fn delete_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = managed_batch(&state, &auth, *id).await?;
    let txn = crate::db::begin_write(&state.db).await?;
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
    Ok(ok_with("Batch deleted", json!({ "id": found.id })))
}

/// The batch's members, by name, with their progress.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The members", body = ApiResponse<BatchMembers>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
    )
)]
#[get("/batches/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = managed_batch(&state, &auth, *id).await?;
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
                status: enrollment_status(e),
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
    Ok(ok(BatchMembers { members }))
}

/// Seats an enrolled student in the batch (its course's staff and admins). A full batch
/// is a 409 naming `capacity`; a student already in a batch of the course, naming
/// `studentId`.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = NewBatchMember,
    responses(
        (status = 201, description = "Added", body = ApiResponse<BatchMember>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch", body = crate::api::ErrorBody),
        (status = 409, description = "Full, or already in a batch of the course", body = crate::api::ErrorBody),
        (status = 422, description = "The student is not enrolled in the course", body = crate::api::ErrorBody),
    )
)]
#[post("/batches/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    Json(body): Json<NewBatchMember>,
) -> Result<HttpResponse, ApiError> {
    let found = managed_batch(&state, &auth, *id).await?;
    let student = crate::accounts::find_user(&state.db, body.student_id).await?;
    let enrollment = find_enrollment(&state.db, found.course_id, student.id)
        .await?
        .ok_or_else(not_enrolled)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = seat(&txn, &found, &enrollment).await?;
    txn.commit().await?;
    Ok(created(BatchMember {
        enrollment_id: row.id,
        student: student_ref(&student),
        status: enrollment_status(&row),
        progress: row.progress_percent,
    }))
}

/// Takes a student out of the batch; they stay enrolled in the course.
#[utoipa::path(
    tag = "batches",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Batch id"),
        ("student_id" = Uuid, Path, description = "The student's user id"),
    ),
    responses(
        (status = 200, description = "Removed", body = ApiResponse<crate::api::MemberRemoved>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such batch, or the student is not in it", body = crate::api::ErrorBody),
    )
)]
#[delete("/batches/{id}/members/{student_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (batch_id, student_id) = path.into_inner();
    let found = managed_batch(&state, &auth, batch_id).await?;
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
    Ok(ok_with(
        "Removed from the batch",
        json!({ "studentId": student_id, "batchId": found.id }),
    ))
}
