//! `edupro sections list|add|edit|move|delete`: a course's sections, kept at positions
//! 1..n by the server.

use clap::Subcommand;
use edupro_server::api::{NewSection, Section, UpdateSection};
use uuid::Uuid;

use super::Context;
use crate::error::Result;

/// `edupro sections …`.
#[derive(Debug, Subcommand)]
pub enum SectionsCommand {
    /// A course's sections in order, with their lesson counts.
    List {
        /// Course id or slug.
        course: String,
    },
    /// Add a section to a course: at the end, or at --position.
    Add {
        /// Course id or slug.
        course: String,
        /// What the section is called.
        #[arg(long)]
        title: String,
        /// 1-based; later sections move down.
        #[arg(long)]
        position: Option<i64>,
    },
    /// Rename a section.
    Edit {
        /// The section's id.
        section: Uuid,
        /// Its new title.
        #[arg(long)]
        title: String,
    },
    /// Move a section to another position (1-based) in its course.
    Move {
        /// The section's id.
        section: Uuid,
        /// 1-based; the sections between move by one.
        position: i64,
    },
    /// Delete a section with its lessons; later sections move up.
    Delete {
        /// The section's id.
        section: Uuid,
    },
}

const HEADERS: [&str; 4] = ["ID", "ORDER", "TITLE", "LESSONS"];

fn row(s: &Section) -> Vec<String> {
    vec![
        s.id.to_string(),
        s.order.to_string(),
        s.title.clone(),
        s.lessons.len().to_string(),
    ]
}

fn fields(s: &Section) -> Vec<(&'static str, String)> {
    vec![
        ("id", s.id.to_string()),
        ("order", s.order.to_string()),
        ("title", s.title.clone()),
        ("lessons", s.lessons.len().to_string()),
    ]
}

/// Runs `edupro sections …`.
pub async fn run(ctx: &Context, command: SectionsCommand) -> Result<()> {
    let client = ctx.client()?;
    let section = match command {
        SectionsCommand::List { course } => {
            let course = client.course(&course).await?;
            let sections = course.sections.unwrap_or_default();
            crate::output::print(ctx.out.list(&sections, &HEADERS, row)?)?;
            return Ok(());
        }
        SectionsCommand::Add {
            course,
            title,
            position,
        } => {
            client
                .create_section(&course, &NewSection { title, position })
                .await?
        }
        SectionsCommand::Edit { section, title } => {
            let body = UpdateSection {
                title: Some(title),
                position: None,
            };
            client.update_section(section, &body).await?
        }
        SectionsCommand::Move { section, position } => {
            let body = UpdateSection {
                title: None,
                position: Some(position),
            };
            client.update_section(section, &body).await?
        }
        SectionsCommand::Delete { section } => {
            let deleted = client.delete_section(section).await?;
            crate::output::print(
                ctx.out
                    .record(&deleted, &[("deleted", section.to_string())])?,
            )?;
            return Ok(());
        }
    };
    crate::output::print(ctx.out.record(&section, &fields(&section))?)?;
    Ok(())
}
