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
//!
//! A batch is [`load`]ed (the courses, users, enrollments, staff and batches its rows
//! name, in a few queries), each row [`plan`]ned against that and the file so far, and in
//! apply mode the plans' writes [`apply`]ed in one transaction; [`revert_change`] undoes
//! a run's rows.

mod apply;
mod load;
mod plan;
mod revert;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use revert::revert_change;

use super::{Columns, Format, Header, Planned, RawRecord, Row, Run};
use crate::api::{EnrollmentStatus, FieldError, ImportMode, ImportRow, StaffRole};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::store::entity::{course_staff, enrollment};

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

/// Plans one batch and, in apply mode, writes it in one transaction.
pub async fn process(
    state: &AppState,
    run: &mut Run,
    header: Option<&Header>,
    format: Format,
    records: Vec<RawRecord>,
) -> Result<Vec<ImportRow>, ApiError> {
    let rows: Vec<(u64, Result<Parsed, super::RowErrors>)> = records
        .iter()
        .map(|r| {
            (
                r.line,
                super::read_record(
                    format,
                    &COLUMNS,
                    header,
                    r,
                    |row| {
                        Some(format!(
                            "{}/{}",
                            row.get("course_id").unwrap_or("-"),
                            row.get("user_id").unwrap_or("-")
                        ))
                    },
                    parse,
                ),
            )
        })
        .collect();
    let valid: Vec<&Parsed> = rows.iter().filter_map(|(_, p)| p.as_ref().ok()).collect();
    let known = load::load(state, &valid).await?;

    let mut planned = Vec::with_capacity(rows.len());
    for (line, parsed) in rows {
        match parsed {
            Ok(p) => planned.push(plan::plan_row(run, &known, line, &p)),
            Err((key, errors)) => planned.push(Planned::error(line, key, errors)),
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
        apply::apply(state, run, writes).await?;
        // What this batch seated is stored now; later batches count it from the database.
        run.file.seats.clear();
    }
    Ok(planned.into_iter().map(|p| p.report).collect())
}
