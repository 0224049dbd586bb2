//! Planning a row of `enrollments.csv` against the loaded batch and the file so far:
//! its outcome, the fields it changes and the [`Write`] an apply makes. A plan run and
//! an apply run plan alike, which is why applying a plan's file gives exactly the plan.

use chrono::Utc;

use super::load::{Known, Person};
use super::{Parsed, SisRole, SisStatus, Write};
use crate::api::{
    CourseStatus, EnrollmentStatus, FieldError, ImportRow, Role, RowOutcome, StaffRole,
};
use crate::service::imports::{Planned, Run};
use crate::store::entity::course;

/// Plans one parsed row: its report and the write an apply makes of it.
pub(super) fn plan_row(run: &mut Run, known: &Known, line: u64, p: &Parsed) -> Planned<Write> {
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
    let current = before.map(|m| m.status);
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
        && course.status == CourseStatus::Archived
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
    let current: Option<StaffRole> = before.map(|s| s.role);
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
