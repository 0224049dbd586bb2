//! `enrollments.csv`: `course_id, user_id, role, status, batch`. `course_id` and
//! `user_id` are the external ids of a course and a user imported before (an unknown one
//! is a row error); a course and a user appear together once per file.
//!
//! - `role` `student` (a STUDENT) enrolls: `active` makes the enrollment current (a new
//!   one, or a CANCELLED or EXPIRED one again, COMPLETED if it was ever completed),
//!   `completed` marks it COMPLETED, `deleted` cancels it and `inactive` expires it (both
//!   take the student out of their batch; neither creates an enrollment). `batch` names a
//!   batch of the course to seat an active student in (moving them from another one); a
//!   full batch is a row error. A blank `batch` leaves the seat as it is.
//! - `role` `teacher` or `ta` (a TEACHER) puts the user on the course's staff as
//!   CO_TEACHER or TA when `active`, and takes them off otherwise. The OWNER is never
//!   changed by an import. `batch` is ignored for staff.
//!
//! Every write of a batch — enrollments, staff, the courses' student counts and the
//! domain events — commits in one transaction, under the locks of the courses it touches.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QuerySelect, Set, SqlErr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Columns, Format, Header, Planned, RawRecord, RevertOutcome, Row, Run};
use crate::api::{
    CourseStatus, EnrollmentStatus, FieldError, ImportMode, ImportRow, Role, RowOutcome, StaffRole,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::catalogue;
use crate::service::enrollments::recount_students;
use crate::service::events::{self, Event, EventKind};
use crate::store::entity::{
    batch, course, course_staff, enrollment, import_change, lesson_progress, user,
};

/// The columns of `enrollments.csv`.
pub const COLUMNS: Columns = Columns {
    known: &["course_id", "user_id", "role", "status", "batch"],
    required: &[&["course_id"], &["user_id"], &["role"]],
};

/// What a row asks the user to be in the course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SisRole {
    Student,
    Teacher,
    Ta,
}

/// Canvas's enrollment statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SisStatus {
    Active,
    Completed,
    Deleted,
    Inactive,
}

struct Parsed {
    course_key: String,
    user_key: String,
    role: SisRole,
    status: SisStatus,
    batch: Option<String>,
}

fn external_id(row: &Row, column: &'static str, errors: &mut Vec<FieldError>) -> Option<String> {
    match row.get(column) {
        Some(k) if k.chars().count() <= 255 => Some(k.to_owned()),
        Some(_) => {
            errors.push(FieldError::new(column, "is longer than 255 characters"));
            None
        }
        None => {
            errors.push(FieldError::new(column, "is required"));
            None
        }
    }
}

fn parse(row: &Row) -> Result<Parsed, Vec<FieldError>> {
    let mut errors = Vec::new();
    let course_key = external_id(row, "course_id", &mut errors);
    let user_key = external_id(row, "user_id", &mut errors);
    let role = match row.get("role").map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("student") => Some(SisRole::Student),
        Some("teacher") => Some(SisRole::Teacher),
        Some("ta") => Some(SisRole::Ta),
        Some(_) => {
            errors.push(FieldError::new(
                "role",
                format!(
                    "`{}` is not a role; use student, teacher or ta",
                    row.get("role").unwrap_or("")
                ),
            ));
            None
        }
        None => {
            errors.push(FieldError::new("role", "is required"));
            None
        }
    };
    let status = match row.get("status").map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("active") => Some(SisStatus::Active),
        Some("completed") => Some(SisStatus::Completed),
        Some("deleted") => Some(SisStatus::Deleted),
        Some("inactive") => Some(SisStatus::Inactive),
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                format!(
                    "`{}` is not a status; use active, completed, deleted or inactive",
                    row.get("status").unwrap_or("")
                ),
            ));
            None
        }
    };
    let batch = match row.get("batch") {
        Some(b) if b.chars().count() > 255 => {
            errors.push(FieldError::new("batch", "is longer than 255 characters"));
            None
        }
        other => other.map(str::to_owned),
    };
    match (course_key, user_key, role, status) {
        (Some(course_key), Some(user_key), Some(role), Some(status)) if errors.is_empty() => {
            Ok(Parsed {
                course_key,
                user_key,
                role,
                status,
                batch,
            })
        }
        _ => Err(errors),
    }
}

/// What an applied row writes.
#[derive(Debug)]
pub enum Write {
    Student {
        line: u64,
        course_id: Uuid,
        student_id: Uuid,
        before: Option<Box<enrollment::Model>>,
        status: EnrollmentStatus,
        completed_at: Option<DateTime<Utc>>,
        batch_id: Option<Uuid>,
    },
    Staff {
        line: u64,
        course_id: Uuid,
        user_id: Uuid,
        before: Option<Box<course_staff::Model>>,
        /// `None` takes the user off the staff.
        role: Option<StaffRole>,
    },
}

/// What a row needs of the user it names: a batch reads these three columns of a
/// thousand users, not their whole rows.
#[derive(Debug, FromQueryResult)]
struct Person {
    id: Uuid,
    external_id: Option<String>,
    role: String,
}

impl Person {
    fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Student)
    }
}

/// The database rows a batch's rows refer to.
struct Known {
    courses: HashMap<String, course::Model>,
    users: HashMap<String, Person>,
    enrollments: HashMap<(Uuid, Uuid), enrollment::Model>,
    staff: HashMap<(Uuid, Uuid), course_staff::Model>,
    /// (course, batch name) → the batch.
    batches: HashMap<(Uuid, String), batch::Model>,
    /// Seats taken per batch, as stored.
    seated: HashMap<Uuid, i64>,
}

async fn load(state: &AppState, rows: &[&Parsed]) -> Result<Known, ApiError> {
    let course_keys: BTreeSet<&str> = rows.iter().map(|p| p.course_key.as_str()).collect();
    let user_keys: BTreeSet<&str> = rows.iter().map(|p| p.user_key.as_str()).collect();
    let courses: HashMap<String, course::Model> = course::Entity::find()
        .filter(course::Column::ExternalId.is_in(course_keys))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|c| Some((c.external_id.clone()?, c)))
        .collect();
    let users: HashMap<String, Person> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::ExternalId)
        .column(user::Column::Role)
        .filter(user::Column::ExternalId.is_in(user_keys))
        .into_model::<Person>()
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|u| Some((u.external_id.clone()?, u)))
        .collect();
    let course_ids: Vec<Uuid> = courses.values().map(|c| c.id).collect();
    let user_ids: Vec<Uuid> = users.values().map(|u| u.id).collect();
    // By user only (their index), keeping the batch's courses here: with both lists
    // in the WHERE, SQLite walks every enrollment of every course of the batch — 44 ms
    // a batch of 1000 rows over 200 courses, against a few rows per user this way.
    let wanted: HashSet<Uuid> = course_ids.iter().copied().collect();
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::StudentId.is_in(user_ids.clone()))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|e| wanted.contains(&e.course_id))
        .map(|e| ((e.course_id, e.student_id), e))
        .collect();
    let staff = course_staff::Entity::find()
        .filter(course_staff::Column::UserId.is_in(user_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|s| wanted.contains(&s.course_id))
        .map(|s| ((s.course_id, s.user_id), s))
        .collect();
    let names: BTreeSet<&str> = rows.iter().filter_map(|p| p.batch.as_deref()).collect();
    let batches: HashMap<(Uuid, String), batch::Model> = if names.is_empty() {
        HashMap::new()
    } else {
        batch::Entity::find()
            .filter(batch::Column::CourseId.is_in(course_ids))
            .filter(batch::Column::Name.is_in(names))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|b| ((b.course_id, b.name.clone()), b))
            .collect()
    };
    let mut seated = HashMap::new();
    if !batches.is_empty() {
        let ids: Vec<Uuid> = batches.values().map(|b| b.id).collect();
        let counts: Vec<(Option<Uuid>, i64)> = enrollment::Entity::find()
            .select_only()
            .column(enrollment::Column::BatchId)
            .column_as(enrollment::Column::Id.count(), "seats")
            .filter(enrollment::Column::BatchId.is_in(ids))
            .group_by(enrollment::Column::BatchId)
            .into_tuple()
            .all(&state.db)
            .await?;
        seated.extend(counts.into_iter().filter_map(|(b, n)| Some((b?, n))));
    }
    Ok(Known {
        courses,
        users,
        enrollments,
        staff,
        batches,
        seated,
    })
}

/// Plans one batch and, in apply mode, writes it in one transaction.
pub async fn process(
    state: &AppState,
    run: &mut Run,
    header: Option<&Header>,
    format: Format,
    records: Vec<RawRecord>,
) -> Result<Vec<ImportRow>, ApiError> {
    let rows: Vec<(u64, Result<Parsed, Vec<FieldError>>)> = records
        .iter()
        .map(|r| {
            (
                r.line,
                super::to_row(format, &COLUMNS, header, r).and_then(|row| parse(&row)),
            )
        })
        .collect();
    let valid: Vec<&Parsed> = rows.iter().filter_map(|(_, p)| p.as_ref().ok()).collect();
    let known = load(state, &valid).await?;

    let mut planned = Vec::with_capacity(rows.len());
    for (line, parsed) in rows {
        match parsed {
            Ok(p) => planned.push(plan_row(run, &known, line, &p)),
            Err(errors) => planned.push(Planned::error(line, None, errors)),
        }
    }

    let write = super::enforce_max_errors(run, &mut planned);
    if write && run.mode == ImportMode::Apply {
        let writes: Vec<(String, Write)> = planned
            .iter_mut()
            .filter_map(|p| {
                let key = p.report.key.clone()?;
                p.write.take().map(|w| (key, w))
            })
            .collect();
        apply(state, run, writes).await?;
        // What this batch seated is stored now; later batches count it from the database.
        run.file.seats.clear();
    }
    Ok(planned.into_iter().map(|p| p.report).collect())
}

fn plan_row(run: &mut Run, known: &Known, line: u64, p: &Parsed) -> Planned<Write> {
    let key = format!("{}/{}", p.course_key, p.user_key);
    let mut errors = Vec::new();
    if let Err(e) = run.file.claim_key("user_id", &key, line) {
        errors.push(FieldError::new(
            "user_id",
            e.message.replacen(
                &format!("`{key}`"),
                &format!("user `{}` in course `{}`", p.user_key, p.course_key),
                1,
            ),
        ));
    }
    let course = known.courses.get(&p.course_key);
    if course.is_none() {
        errors.push(FieldError::new(
            "course_id",
            format!(
                "no course has the id `{}`; import it with courses.csv first",
                p.course_key
            ),
        ));
    }
    let user = known.users.get(&p.user_key);
    if user.is_none() {
        errors.push(FieldError::new(
            "user_id",
            format!(
                "no user has the id `{}`; import them with users.csv first",
                p.user_key
            ),
        ));
    }
    let (Some(course), Some(user)) = (course, user) else {
        return Planned::error(line, Some(key), errors);
    };
    let needed = if p.role == SisRole::Student {
        Role::Student
    } else {
        Role::Teacher
    };
    if user.role() != needed {
        errors.push(FieldError::new(
            "role",
            format!(
                "`{}` is a {}; only a {needed} can be enrolled as {}",
                p.user_key,
                user.role(),
                match p.role {
                    SisRole::Student => "student",
                    SisRole::Teacher => "teacher",
                    SisRole::Ta => "ta",
                }
            ),
        ));
    }
    if !errors.is_empty() {
        return Planned::error(line, Some(key), errors);
    }
    let planned = match p.role {
        SisRole::Student => plan_student(run, known, line, p, course, user),
        SisRole::Teacher | SisRole::Ta => plan_staff(known, line, p, course, user),
    };
    match planned {
        Ok((outcome, changes, write)) => Planned {
            report: ImportRow {
                line,
                key: Some(key),
                outcome,
                changes,
                errors: Vec::new(),
            },
            write,
        },
        Err(errors) => Planned::error(line, Some(key), errors),
    }
}

type RowPlan = (RowOutcome, Vec<String>, Option<Write>);

fn plan_student(
    run: &mut Run,
    known: &Known,
    line: u64,
    p: &Parsed,
    course: &course::Model,
    student: &Person,
) -> Result<RowPlan, Vec<FieldError>> {
    let before = known.enrollments.get(&(course.id, student.id));
    let current = before.map(crate::service::enrollments::enrollment_status);
    let now = Utc::now();
    let (status, completed_at) = match (p.status, before) {
        (SisStatus::Deleted | SisStatus::Inactive, None) => {
            // Nothing to take away.
            return Ok((RowOutcome::Unchanged, Vec::new(), None));
        }
        (SisStatus::Deleted, Some(e)) => (EnrollmentStatus::Cancelled, e.completed_at),
        (SisStatus::Inactive, Some(e)) => (EnrollmentStatus::Expired, e.completed_at),
        (SisStatus::Completed, e) => (
            EnrollmentStatus::Completed,
            e.and_then(|e| e.completed_at).or(Some(now)),
        ),
        (SisStatus::Active, None) => (EnrollmentStatus::Active, None),
        (SisStatus::Active, Some(e)) => {
            if current.is_some_and(EnrollmentStatus::grants_access) {
                (current.unwrap_or(EnrollmentStatus::Active), e.completed_at)
            } else if e.completed_at.is_some() {
                (EnrollmentStatus::Completed, e.completed_at)
            } else {
                (EnrollmentStatus::Active, None)
            }
        }
    };
    let opens = status.grants_access();
    if opens
        && !current.is_some_and(EnrollmentStatus::grants_access)
        && course.status == CourseStatus::Archived.as_str()
    {
        return Err(vec![FieldError::new(
            "course_id",
            format!(
                "course `{}` is archived and takes no new enrollments",
                p.course_key
            ),
        )]);
    }
    let old_batch = before.and_then(|e| e.batch_id);
    let batch_id = if !opens {
        None
    } else if let Some(name) = &p.batch {
        let Some(b) = known.batches.get(&(course.id, name.clone())) else {
            return Err(vec![FieldError::new(
                "batch",
                format!(
                    "course `{}` has no batch named `{name}`; create it first",
                    p.course_key
                ),
            )]);
        };
        if old_batch != Some(b.id)
            && let Some(capacity) = b.capacity
        {
            let taken = known.seated.get(&b.id).copied().unwrap_or(0)
                + run.file.seats.get(&b.id).copied().unwrap_or(0);
            if taken >= i64::from(capacity) {
                return Err(vec![FieldError::new(
                    "batch",
                    format!("batch `{name}` is full (capacity {capacity})"),
                )]);
            }
        }
        Some(b.id)
    } else {
        old_batch
    };
    if batch_id != old_batch {
        if let Some(old) = old_batch {
            *run.file.seats.entry(old).or_default() -= 1;
        }
        if let Some(new) = batch_id {
            *run.file.seats.entry(new).or_default() += 1;
        }
    }
    let mut changes = Vec::new();
    if current != Some(status) {
        changes.push("status".to_owned());
    }
    if batch_id != old_batch {
        changes.push("batch".to_owned());
    }
    if before.is_some_and(|e| e.completed_at != completed_at) && current == Some(status) {
        changes.push("completed_at".to_owned());
    }
    let outcome = match before {
        None => {
            changes.clear();
            RowOutcome::Create
        }
        Some(_) if changes.is_empty() => return Ok((RowOutcome::Unchanged, changes, None)),
        Some(_) => RowOutcome::Update,
    };
    let write = Write::Student {
        line,
        course_id: course.id,
        student_id: student.id,
        before: before.cloned().map(Box::new),
        status,
        completed_at,
        batch_id,
    };
    Ok((outcome, changes, Some(write)))
}

fn plan_staff(
    known: &Known,
    line: u64,
    p: &Parsed,
    course: &course::Model,
    teacher: &Person,
) -> Result<RowPlan, Vec<FieldError>> {
    let before = known.staff.get(&(course.id, teacher.id));
    let role = match p.role {
        SisRole::Ta => StaffRole::Ta,
        _ => StaffRole::CoTeacher,
    };
    let current: Option<StaffRole> = before.and_then(|s| s.role.parse().ok());
    let target = if p.status == SisStatus::Active {
        Some(role)
    } else {
        None
    };
    if current == Some(StaffRole::Owner) {
        if target.is_none() {
            return Err(vec![FieldError::new(
                "status",
                format!(
                    "`{}` owns course `{}`; an import can't take a course from its owner",
                    p.user_key, p.course_key
                ),
            )]);
        }
        // The owner stays the owner.
        return Ok((RowOutcome::Unchanged, Vec::new(), None));
    }
    if current == target {
        return Ok((RowOutcome::Unchanged, Vec::new(), None));
    }
    let (outcome, changes) = match (current, target) {
        (None, _) => (RowOutcome::Create, Vec::new()),
        (Some(_), Some(_)) => (RowOutcome::Update, vec!["role".to_owned()]),
        (Some(_), None) => (RowOutcome::Update, vec!["status".to_owned()]),
    };
    let write = Write::Staff {
        line,
        course_id: course.id,
        user_id: teacher.id,
        before: before.cloned().map(Box::new),
        role: target,
    };
    Ok((outcome, changes, Some(write)))
}

fn clash(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => changed_elsewhere(),
        _ => err.into(),
    }
}

/// An enrollment of the batch was made or changed by someone else between the plan of
/// the batch and its write.
fn changed_elsewhere() -> ApiError {
    ApiError::Conflict {
        field: Some("user_id".into()),
        message:
            "An enrollment of this batch was made or changed elsewhere while it was being written; run the import again"
                .into(),
    }
}

fn enrollment_image(e: &enrollment::Model) -> Value {
    json!({
        "type": "enrollment",
        "status": e.status,
        "completedAt": e.completed_at,
        "expiresAt": e.expires_at,
        "batchId": e.batch_id,
    })
}

fn staff_image(s: &course_staff::Model) -> Value {
    json!({
        "type": "staff",
        "courseId": s.course_id,
        "userId": s.user_id,
        "role": s.role,
        "createdAt": s.created_at,
    })
}

async fn apply(state: &AppState, run: &Run, writes: Vec<(String, Write)>) -> Result<(), ApiError> {
    if writes.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    // The locks of every course the batch touches, in one order, so a batch and a
    // concurrent enrollment (or another import) never deadlock.
    let courses: BTreeSet<Uuid> = writes
        .iter()
        .map(|(_, w)| match w {
            Write::Student { course_id, .. } | Write::Staff { course_id, .. } => *course_id,
        })
        .collect();
    // Each course's change in counted students (ACTIVE or COMPLETED), added to its
    // stored count by the statement that takes the locks: recounting every course of a
    // batch would read all of their enrollments again for each batch.
    let mut added: HashMap<Uuid, i32> = HashMap::new();
    for (_, write) in &writes {
        if let Write::Student {
            course_id,
            before,
            status,
            ..
        } = write
        {
            let counted = |s: Option<EnrollmentStatus>| {
                i32::from(s.is_some_and(EnrollmentStatus::grants_access))
            };
            let was = before
                .as_deref()
                .map(crate::service::enrollments::enrollment_status);
            *added.entry(*course_id).or_default() += counted(Some(*status)) - counted(was);
        }
    }
    catalogue::lock_courses_adding_students(&txn, &courses, &added).await?;
    let mut inserts = Vec::new();
    let mut staff_inserts = Vec::new();
    let mut changes = Vec::new();
    let mut to_publish: Vec<Event> = Vec::new();
    // Moved out of a batch or off a course's staff (cancellations announce themselves
    // through their event): their sockets check their rooms after the commit.
    let mut lost_access = Vec::new();
    for (key, write) in writes {
        match write {
            Write::Student {
                line,
                course_id,
                student_id,
                before,
                status,
                completed_at,
                batch_id,
            } => {
                let was = before
                    .as_deref()
                    .map(crate::service::enrollments::enrollment_status);
                let id = match &before {
                    None => {
                        let id = Uuid::now_v7();
                        inserts.push(enrollment::ActiveModel {
                            id: Set(id),
                            course_id: Set(course_id),
                            student_id: Set(student_id),
                            status: Set(status.as_str().to_owned()),
                            enrolled_at: Set(now),
                            completed_at: Set(completed_at),
                            expires_at: Set(None),
                            progress_percent: Set(0),
                            last_accessed_at: Set(None),
                            batch_id: Set(batch_id),
                            created_at: Set(now),
                            updated_at: Set(now),
                        });
                        changes.push(super::change(run, line, &key, id, None));
                        id
                    }
                    Some(e) => {
                        if e.batch_id.is_some() && e.batch_id != batch_id {
                            lost_access.push(student_id);
                        }
                        let reopened = status.grants_access()
                            && !was.is_some_and(EnrollmentStatus::grants_access);
                        let mut update = enrollment::Entity::update_many()
                            .col_expr(enrollment::Column::Status, Expr::value(status.as_str()))
                            .col_expr(enrollment::Column::CompletedAt, Expr::value(completed_at))
                            .col_expr(enrollment::Column::BatchId, Expr::value(batch_id))
                            .col_expr(enrollment::Column::UpdatedAt, Expr::value(now));
                        if reopened {
                            update = update
                                .col_expr(enrollment::Column::EnrolledAt, Expr::value(now))
                                .col_expr(
                                    enrollment::Column::ExpiresAt,
                                    Expr::value(Option::<DateTime<Utc>>::None),
                                );
                        }
                        // Only from the status this batch was planned on: the counts
                        // above (and the events) assume it.
                        let updated = update
                            .filter(enrollment::Column::Id.eq(e.id))
                            .filter(enrollment::Column::Status.eq(e.status.as_str()))
                            .exec(&txn)
                            .await?;
                        if updated.rows_affected == 0 {
                            return Err(changed_elsewhere());
                        }
                        changes.push(super::change(
                            run,
                            line,
                            &key,
                            e.id,
                            Some(enrollment_image(e)),
                        ));
                        e.id
                    }
                };
                let kind = match (was, status) {
                    (w, s)
                        if s.grants_access() && !w.is_some_and(EnrollmentStatus::grants_access) =>
                    {
                        Some(EventKind::CourseEnrolled)
                    }
                    (Some(w), EnrollmentStatus::Completed) if w != EnrollmentStatus::Completed => {
                        Some(EventKind::EnrollmentCompleted)
                    }
                    (Some(w), s) if w.grants_access() && !s.grants_access() => {
                        Some(EventKind::EnrollmentCancelled)
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    to_publish.push(Event::enrollment(
                        kind, id, course_id, student_id, run.actor,
                    ));
                }
            }
            Write::Staff {
                line,
                course_id,
                user_id,
                before,
                role,
            } => match (&before, role) {
                (None, Some(role)) => {
                    let id = Uuid::now_v7();
                    staff_inserts.push(course_staff::ActiveModel {
                        id: Set(id),
                        course_id: Set(course_id),
                        user_id: Set(user_id),
                        role: Set(role.as_str().to_owned()),
                        created_at: Set(now),
                        updated_at: Set(now),
                    });
                    changes.push(super::change(run, line, &key, id, None));
                }
                (Some(s), Some(role)) => {
                    course_staff::ActiveModel {
                        id: Set(s.id),
                        role: Set(role.as_str().to_owned()),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .update(&txn)
                    .await?;
                    changes.push(super::change(run, line, &key, s.id, Some(staff_image(s))));
                }
                (Some(s), None) => {
                    lost_access.push(user_id);
                    course_staff::Entity::delete_many()
                        .filter(course_staff::Column::Id.eq(s.id))
                        .filter(course_staff::Column::Role.ne(StaffRole::Owner.as_str()))
                        .exec(&txn)
                        .await?;
                    changes.push(super::change(run, line, &key, s.id, Some(staff_image(s))));
                }
                (None, None) => {}
            },
        }
    }
    for chunk in inserts.chunks(500) {
        enrollment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(clash)?;
    }
    for chunk in staff_inserts.chunks(1000) {
        course_staff::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .map_err(clash)?;
    }
    super::record_changes(&txn, changes).await?;
    let published = events::publish_all(&txn, to_publish).await?;
    txn.commit().await?;
    state.events.announce(published);
    for user_id in lost_access {
        state
            .realtime
            .course_access_changed(&state.db, user_id)
            .await;
    }
    Ok(())
}

/// Undoes one change of an enrollments run: a created enrollment is deleted (cancelled
/// when the student has made progress in it since), a created staff row deleted, an
/// updated enrollment or staff row restored (a removed staff row put back).
pub async fn revert_change(
    txn: &DatabaseTransaction,
    change: &import_change::Model,
    outcome: &mut RevertOutcome,
) -> Result<(), ApiError> {
    let kind = change
        .before
        .as_ref()
        .and_then(|b| b["type"].as_str().map(str::to_owned));
    let enrollment = match kind.as_deref() {
        Some("staff") => None,
        _ => {
            enrollment::Entity::find_by_id(change.entity_id)
                .one(txn)
                .await?
        }
    };
    if let Some(current) = enrollment {
        catalogue::lock_course(txn, current.course_id).await?;
        match &change.before {
            None => {
                let progress = lesson_progress::Entity::find()
                    .filter(lesson_progress::Column::EnrollmentId.eq(current.id))
                    .count(txn)
                    .await?;
                if progress == 0 && current.progress_percent == 0 {
                    enrollment::Entity::delete_by_id(current.id)
                        .exec(txn)
                        .await?;
                    outcome.deleted += 1;
                } else {
                    enrollment::ActiveModel {
                        id: Set(current.id),
                        status: Set(EnrollmentStatus::Cancelled.as_str().to_owned()),
                        batch_id: Set(None),
                        updated_at: Set(Utc::now()),
                        ..Default::default()
                    }
                    .update(txn)
                    .await?;
                    outcome.deactivated += 1;
                }
            }
            Some(before) => {
                let status = before["status"].as_str().map(str::to_owned);
                let Some(status) = status else {
                    return Err(bad_image(change));
                };
                let time = |k: &str| -> Option<DateTime<Utc>> {
                    serde_json::from_value(before[k].clone()).ok().flatten()
                };
                let batch_id: Option<Uuid> =
                    serde_json::from_value(before["batchId"].clone()).unwrap_or(None);
                enrollment::ActiveModel {
                    id: Set(current.id),
                    status: Set(status),
                    completed_at: Set(time("completedAt")),
                    expires_at: Set(time("expiresAt")),
                    batch_id: Set(batch_id),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                outcome.restored += 1;
            }
        }
        recount_students(txn, current.course_id).await?;
        return Ok(());
    }
    let staff = course_staff::Entity::find_by_id(change.entity_id)
        .one(txn)
        .await?;
    match (&change.before, staff) {
        (None, Some(s)) => {
            course_staff::Entity::delete_many()
                .filter(course_staff::Column::Id.eq(s.id))
                .filter(course_staff::Column::Role.ne(StaffRole::Owner.as_str()))
                .exec(txn)
                .await?;
            outcome.deleted += 1;
        }
        (Some(before), current) => {
            let Some(role) = before["role"].as_str().map(str::to_owned) else {
                return Err(bad_image(change));
            };
            match current {
                Some(s) => {
                    course_staff::ActiveModel {
                        id: Set(s.id),
                        role: Set(role),
                        updated_at: Set(Utc::now()),
                        ..Default::default()
                    }
                    .update(txn)
                    .await?;
                }
                None => {
                    let id = |k: &str| -> Option<Uuid> {
                        serde_json::from_value(before[k].clone()).ok()
                    };
                    let (Some(course_id), Some(user_id)) = (id("courseId"), id("userId")) else {
                        return Err(bad_image(change));
                    };
                    // Put back unless the user was added again by hand since.
                    let again = course_staff::Entity::find()
                        .filter(course_staff::Column::CourseId.eq(course_id))
                        .filter(course_staff::Column::UserId.eq(user_id))
                        .count(txn)
                        .await?;
                    let course_exists = course::Entity::find_by_id(course_id).count(txn).await?;
                    if again == 0 && course_exists == 1 {
                        let now = Utc::now();
                        course_staff::ActiveModel {
                            id: Set(change.entity_id),
                            course_id: Set(course_id),
                            user_id: Set(user_id),
                            role: Set(role),
                            created_at: Set(
                                serde_json::from_value(before["createdAt"].clone()).unwrap_or(now)
                            ),
                            updated_at: Set(now),
                        }
                        .insert(txn)
                        .await?;
                    }
                }
            }
            outcome.restored += 1;
        }
        (None, None) => {}
    }
    Ok(())
}

fn bad_image(change: &import_change::Model) -> ApiError {
    anyhow::anyhow!("import change {} has a bad before-image", change.id).into()
}
