//! `edupro enrollments list|add|remove|my`: a course's roster (its staff and admins),
//! and a student's own courses.

use clap::Subcommand;
use edupro_server::api::{
    CourseEnrollment, CourseEnrollmentList, EnrollmentFilter, EnrollmentStatus, MyCourses,
    MyCoursesFilter, MyEnrollment, NewEnrollment, StaffEnrollment,
};

use super::Context;
use super::paging::all_pages;
use crate::error::Result;

/// `edupro enrollments …`.
#[derive(Debug, Subcommand)]
pub enum EnrollmentsCommand {
    /// A course's roster, oldest enrollment first (all pages unless --limit).
    List {
        /// The course: id, slug or SIS course_id.
        course: String,
        /// ACTIVE, COMPLETED, EXPIRED or CANCELLED.
        #[arg(long)]
        status: Option<EnrollmentStatus>,
        /// Only this batch's members (its id or name).
        #[arg(long, value_name = "BATCH")]
        batch: Option<String>,
        /// At most this many enrollments.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Enroll STUDENT (staff and admins), or yourself (students) without one.
    Add {
        /// The course: id, slug or SIS course_id.
        course: String,
        /// The student: id, email or SIS user_id.
        student: Option<String>,
        /// Seat them in this batch of the course too (its id or name).
        #[arg(long, value_name = "BATCH", requires = "student")]
        batch: Option<String>,
    },
    /// Remove a student from a course: the enrollment is CANCELLED, progress kept.
    Remove {
        /// The course: id, slug or SIS course_id.
        course: String,
        /// The student: id, email or SIS user_id.
        student: String,
    },
    /// Your own enrollments, most recent first (CANCELLED only with --status).
    My {
        /// ACTIVE, COMPLETED, EXPIRED or CANCELLED.
        #[arg(long)]
        status: Option<EnrollmentStatus>,
        /// At most this many enrollments.
        #[arg(long)]
        limit: Option<u64>,
    },
}

const ROSTER: [&str; 7] = [
    "STUDENT", "NAME", "EMAIL", "STATUS", "PROGRESS", "BATCH", "ENROLLED",
];

fn roster_row(e: &CourseEnrollment) -> Vec<String> {
    vec![
        e.student.id.to_string(),
        format!("{} {}", e.student.first_name, e.student.last_name),
        e.student.email.clone(),
        e.status.to_string(),
        format!("{}%", e.progress),
        e.batch_id.map(|b| b.to_string()).unwrap_or_default(),
        e.enrolled_at.format("%Y-%m-%d").to_string(),
    ]
}

const MINE: [&str; 6] = ["ID", "COURSE", "TITLE", "STATUS", "PROGRESS", "ENROLLED"];

fn my_row(e: &MyEnrollment) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.course.slug.clone(),
        e.course.title.clone(),
        e.status.to_string(),
        format!("{}%", e.progress),
        e.enrolled_at.format("%Y-%m-%d").to_string(),
    ]
}

/// Runs `edupro enrollments …`.
pub async fn run(ctx: &Context, command: EnrollmentsCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        EnrollmentsCommand::List {
            course,
            status,
            batch,
            limit,
        } => {
            let batch = match batch {
                Some(b) => Some(super::keys::batch_in(&client, &course, &b).await?),
                None => None,
            };
            let filter = EnrollmentFilter {
                status,
                batch,
                ..EnrollmentFilter::default()
            };
            let roster = all_pages::<CourseEnrollmentList, _, _>(limit, |at| {
                client.enrollments(&course, &filter, at)
            })
            .await?;
            crate::output::print(ctx.out.list(&roster, &ROSTER, roster_row)?)?;
        }
        EnrollmentsCommand::Add {
            course,
            student,
            batch,
        } => {
            let created = match student {
                Some(student) => {
                    let batch_id = match batch {
                        Some(b) => Some(super::keys::batch_in(&client, &course, &b).await?),
                        None => None,
                    };
                    let body = StaffEnrollment {
                        student_id: super::keys::user(&client, &student).await?,
                        batch_id,
                    };
                    client.enroll_student(&course, &body).await?
                }
                None => {
                    let body = NewEnrollment {
                        course_id: client.course(&course).await?.id,
                        payment_id: None,
                    };
                    client.enroll(&body).await?
                }
            };
            let e = &created;
            let fields = [
                ("enrollment", e.enrollment_id.to_string()),
                ("course", e.course_id.to_string()),
                ("student", e.student_id.to_string()),
                ("status", e.status.to_string()),
                ("progress", format!("{}%", e.progress)),
                (
                    "batch",
                    e.batch_id.map(|b| b.to_string()).unwrap_or_default(),
                ),
                ("enrolled", ctx.zone.format_with_zone(e.enrolled_at)),
            ];
            crate::output::print(ctx.out.record(e, &fields)?)?;
        }
        EnrollmentsCommand::Remove { course, student } => {
            let student = super::keys::user(&client, &student).await?;
            let removed: CourseEnrollment = client.unenroll(&course, student).await?;
            let e = &removed;
            let r = roster_row(e);
            let fields: Vec<(&str, String)> = [
                "student", "name", "email", "status", "progress", "batch", "enrolled",
            ]
            .into_iter()
            .zip(r)
            .collect();
            crate::output::print(ctx.out.record(e, &fields)?)?;
        }
        EnrollmentsCommand::My { status, limit } => {
            let filter = MyCoursesFilter {
                status,
                ..MyCoursesFilter::default()
            };
            let mine =
                all_pages::<MyCourses, _, _>(limit, |at| client.my_courses(&filter, at)).await?;
            crate::output::print(ctx.out.list(&mine, &MINE, my_row)?)?;
        }
    }
    Ok(())
}
