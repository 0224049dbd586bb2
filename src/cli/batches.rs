//! `edupro batches list|create|edit|delete|members|add-member|remove-member`: a course's
//! cohorts (its staff and admins).

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use edupro_server::api::{Batch, BatchMember, NewBatch, NewBatchMember, UpdateBatch};

use super::Context;
use crate::error::{ClientError, Result};

/// `edupro batches …`.
#[derive(Debug, Subcommand)]
pub enum BatchesCommand {
    /// A course's batches by name, with their member counts.
    List {
        /// The course: id, slug or SIS course_id.
        course: String,
    },
    /// Create a batch of a course (names are unique per course).
    Create {
        /// The course: id, slug or SIS course_id.
        course: String,
        /// What the batch is called, e.g. Morning.
        #[arg(long)]
        name: String,
        /// Seats [default: unlimited].
        #[arg(long)]
        capacity: Option<i32>,
        /// YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        starts_on: Option<NaiveDate>,
        /// YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        ends_on: Option<NaiveDate>,
    },
    /// Change a batch's name, capacity or dates.
    Edit(EditArgs),
    /// Delete a batch; its members stay enrolled, in no batch.
    Delete {
        /// The batch: id, or COURSE/NAME.
        batch: String,
    },
    /// A batch's members by name, with their progress.
    Members {
        /// The batch: id, or COURSE/NAME.
        batch: String,
    },
    /// Seat an enrolled student in the batch.
    AddMember {
        /// The batch: id, or COURSE/NAME.
        batch: String,
        /// The student: id, email or SIS user_id.
        student: String,
    },
    /// Take a student out of the batch; they stay enrolled.
    RemoveMember {
        /// The batch: id, or COURSE/NAME.
        batch: String,
        /// The student: id, email or SIS user_id.
        student: String,
    },
}

/// Options of `batches edit`: only what is given changes.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The batch: id, or COURSE/NAME.
    pub batch: String,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// Seats.
    #[arg(long, conflicts_with = "unlimited")]
    pub capacity: Option<i32>,
    /// Remove the capacity limit.
    #[arg(long)]
    pub unlimited: bool,
    /// First day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub starts_on: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub ends_on: Option<NaiveDate>,
}

const HEADERS: [&str; 6] = ["ID", "NAME", "MEMBERS", "CAPACITY", "STARTS", "ENDS"];

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn row(b: &Batch) -> Vec<String> {
    vec![
        b.id.to_string(),
        b.name.clone(),
        b.members.to_string(),
        b.capacity.map(|c| c.to_string()).unwrap_or_default(),
        date(b.starts_on),
        date(b.ends_on),
    ]
}

fn fields(b: &Batch) -> Vec<(&'static str, String)> {
    vec![
        ("id", b.id.to_string()),
        ("course", b.course_id.to_string()),
        ("name", b.name.clone()),
        ("members", b.members.to_string()),
        (
            "capacity",
            b.capacity
                .map_or_else(|| "unlimited".into(), |c| c.to_string()),
        ),
        ("starts on", date(b.starts_on)),
        ("ends on", date(b.ends_on)),
    ]
}

const MEMBERS: [&str; 5] = ["STUDENT", "NAME", "EMAIL", "STATUS", "PROGRESS"];

fn member_row(m: &BatchMember) -> Vec<String> {
    vec![
        m.student.id.to_string(),
        format!("{} {}", m.student.first_name, m.student.last_name),
        m.student.email.clone(),
        m.status.to_string(),
        format!("{}%", m.progress),
    ]
}

/// Runs `edupro batches …`.
pub async fn run(ctx: &Context, command: BatchesCommand) -> Result<()> {
    let client = ctx.client()?;
    let batch: Batch = match command {
        BatchesCommand::List { course } => {
            let list = client.batches(&course).await?;
            crate::output::print(ctx.out.list(&list.batches, &HEADERS, row)?)?;
            return Ok(());
        }
        BatchesCommand::Create {
            course,
            name,
            capacity,
            starts_on,
            ends_on,
        } => {
            let body = NewBatch {
                name,
                capacity,
                starts_on,
                ends_on,
            };
            client.create_batch(&course, &body).await?
        }
        BatchesCommand::Edit(args) => {
            let body = UpdateBatch {
                name: args.name,
                capacity: match (args.capacity, args.unlimited) {
                    (Some(c), _) => Some(Some(c)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                starts_on: args.starts_on.map(Some),
                ends_on: args.ends_on.map(Some),
            };
            if body == UpdateBatch::default() {
                return Err(ClientError::Usage(
                    "nothing to change: give at least one option (see `edupro batches edit --help`)"
                        .into(),
                ));
            }
            let batch = super::keys::batch(&client, &args.batch).await?;
            client.update_batch(batch, &body).await?
        }
        BatchesCommand::Delete { batch } => {
            let batch = super::keys::batch(&client, &batch).await?;
            let deleted = client.delete_batch(batch).await?;
            crate::output::print(
                ctx.out
                    .record(&deleted, &[("deleted", batch.to_string())])?,
            )?;
            return Ok(());
        }
        BatchesCommand::Members { batch } => {
            let batch = super::keys::batch(&client, &batch).await?;
            let list = client.batch_members(batch).await?;
            crate::output::print(ctx.out.list(&list.members, &MEMBERS, member_row)?)?;
            return Ok(());
        }
        BatchesCommand::AddMember { batch, student } => {
            let batch = super::keys::batch(&client, &batch).await?;
            let student = super::keys::user(&client, &student).await?;
            let body = NewBatchMember {
                student_id: student,
            };
            let added: BatchMember = client.add_batch_member(batch, &body).await?;
            let m = &added;
            let fields: Vec<(&str, String)> = ["student", "name", "email", "status", "progress"]
                .into_iter()
                .zip(member_row(m))
                .chain([("batch", batch.to_string())])
                .collect();
            crate::output::print(ctx.out.record(m, &fields)?)?;
            return Ok(());
        }
        BatchesCommand::RemoveMember { batch, student } => {
            let batch = super::keys::batch(&client, &batch).await?;
            let student = super::keys::user(&client, &student).await?;
            let removed = client.remove_batch_member(batch, student).await?;
            crate::output::print(ctx.out.record(
                &removed,
                &[
                    ("removed", student.to_string()),
                    ("batch", batch.to_string()),
                ],
            )?)?;
            return Ok(());
        }
    };
    crate::output::print(ctx.out.record(&batch, &fields(&batch))?)?;
    Ok(())
}
