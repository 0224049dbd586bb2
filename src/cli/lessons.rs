//! `edupro lessons list|show|add|edit|move|delete`: the lessons of a course's sections;
//! `move` reorders them within a section or moves one to another section.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use edupro_server::api::{Lesson, LessonSummary, LessonType, NewLesson, UpdateLesson};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::error::{ClientError, Result};

/// `edupro lessons …`.
#[derive(Debug, Subcommand)]
pub enum LessonsCommand {
    /// A course's lessons in outline order (staff also see unpublished ones).
    List {
        /// Course id or slug.
        course: String,
        /// Only this section's lessons.
        #[arg(long)]
        section: Option<Uuid>,
    },
    /// Show one lesson with its content.
    Show {
        /// The lesson's id.
        lesson: Uuid,
    },
    /// Add a lesson to a section: at the end, or at --position. Unpublished unless --publish.
    Add(AddArgs),
    /// Change a lesson's fields.
    Edit(EditArgs),
    /// Move a lesson to POSITION (1-based) in its section, or into --section.
    Move {
        /// The lesson's id.
        lesson: Uuid,
        /// 1-based position [default with --section: the end].
        #[arg(required_unless_present = "section")]
        position: Option<i64>,
        /// Another section of the same course.
        #[arg(long)]
        section: Option<Uuid>,
    },
    /// Delete a lesson; later lessons move up.
    Delete {
        /// The lesson's id.
        lesson: Uuid,
    },
}

/// Options of `lessons add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The section's id.
    pub section: Uuid,
    /// What the lesson is called.
    #[arg(long)]
    pub title: String,
    /// VIDEO, PDF, TEXT, QUIZ, ASSIGNMENT or LIVE_CLASS.
    #[arg(long = "type", default_value = "TEXT")]
    pub kind: LessonType,
    /// The lesson's text (or notes).
    #[arg(long, conflicts_with = "content_file")]
    pub content: Option<String>,
    /// Read the content from this file.
    #[arg(long, value_name = "FILE")]
    pub content_file: Option<PathBuf>,
    /// The video or document's URL.
    #[arg(long)]
    pub url: Option<String>,
    /// Minutes.
    #[arg(long)]
    pub duration: Option<i32>,
    /// Anyone may open it without enrolling.
    #[arg(long)]
    pub free_preview: bool,
    /// Publish it now.
    #[arg(long)]
    pub publish: bool,
    /// 1-based; later lessons move down.
    #[arg(long)]
    pub position: Option<i64>,
}

/// Options of `lessons edit`: only what is given changes.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The lesson's id.
    pub lesson: Uuid,
    /// A new title.
    #[arg(long)]
    pub title: Option<String>,
    /// VIDEO, PDF, TEXT, QUIZ, ASSIGNMENT or LIVE_CLASS.
    #[arg(long = "type")]
    pub kind: Option<LessonType>,
    /// New text (or notes).
    #[arg(long, conflicts_with_all = ["content_file", "no_content"])]
    pub content: Option<String>,
    /// Read the new content from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "no_content")]
    pub content_file: Option<PathBuf>,
    /// Remove the content.
    #[arg(long)]
    pub no_content: bool,
    /// A new video or document URL.
    #[arg(long, conflicts_with = "no_url")]
    pub url: Option<String>,
    /// Remove the URL.
    #[arg(long)]
    pub no_url: bool,
    /// Minutes.
    #[arg(long)]
    pub duration: Option<i32>,
    /// Whether anyone may open it without enrolling (true or false).
    #[arg(long, value_name = "BOOL")]
    pub free_preview: Option<bool>,
    /// Publish (true) or unpublish (false) it.
    #[arg(long, value_name = "BOOL")]
    pub published: Option<bool>,
}

/// A lesson of `lessons list`: where it sits, then its summary.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlineLesson {
    pub section_id: Uuid,
    pub section_order: i32,
    #[serde(flatten)]
    pub lesson: LessonSummary,
}

const HEADERS: [&str; 7] = ["ID", "POS", "TITLE", "TYPE", "MIN", "PUBLISHED", "PREVIEW"];

fn row(o: &OutlineLesson) -> Vec<String> {
    let l = &o.lesson;
    vec![
        l.id.to_string(),
        format!("{}.{}", o.section_order, l.order),
        l.title.clone(),
        l.r#type.to_string(),
        l.duration.to_string(),
        if l.is_published { "yes" } else { "no" }.into(),
        if l.is_free_preview { "yes" } else { "" }.into(),
    ]
}

fn fields(l: &Lesson) -> Vec<(&'static str, String)> {
    vec![
        ("id", l.id.to_string()),
        ("course", l.course_id.to_string()),
        ("section", l.section_id.to_string()),
        ("order", l.order.to_string()),
        ("title", l.title.clone()),
        ("type", l.r#type.to_string()),
        ("duration", format!("{} min", l.duration)),
        ("published", l.is_published.to_string()),
        ("free preview", l.is_free_preview.to_string()),
        ("url", l.url.clone().unwrap_or_default()),
        ("content", l.content.clone().unwrap_or_default()),
    ]
}

fn read_content(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", path.display())))
}

/// Runs `edupro lessons …`.
pub async fn run(ctx: &Context, command: LessonsCommand) -> Result<()> {
    let client = ctx.client()?;
    let lesson: Lesson = match command {
        LessonsCommand::List { course, section } => {
            let course = client.course(&course).await?;
            let sections = course.sections.unwrap_or_default();
            if let Some(wanted) = section
                && !sections.iter().any(|s| s.id == wanted)
            {
                return Err(ClientError::Api {
                    status: 404,
                    message: format!("section {wanted} is not in course {}", course.slug),
                    errors: Vec::new(),
                });
            }
            let lessons: Vec<OutlineLesson> = sections
                .into_iter()
                .filter(|s| section.is_none_or(|id| id == s.id))
                .flat_map(|s| {
                    let (section_id, section_order) = (s.id, s.order);
                    s.lessons.into_iter().map(move |lesson| OutlineLesson {
                        section_id,
                        section_order,
                        lesson,
                    })
                })
                .collect();
            crate::output::print(ctx.out.list(&lessons, &HEADERS, row)?)?;
            return Ok(());
        }
        LessonsCommand::Show { lesson } => client.lesson(lesson).await?,
        LessonsCommand::Add(args) => {
            let content = match &args.content_file {
                Some(path) => Some(read_content(path)?),
                None => args.content,
            };
            let body = NewLesson {
                title: args.title,
                r#type: args.kind,
                content,
                url: args.url,
                duration: args.duration,
                is_free_preview: Some(args.free_preview),
                is_published: Some(args.publish),
                position: args.position,
            };
            client.create_lesson(args.section, &body).await?
        }
        LessonsCommand::Edit(args) => {
            let content = match (&args.content_file, args.content, args.no_content) {
                (Some(path), _, _) => Some(Some(read_content(path)?)),
                (None, Some(text), _) => Some(Some(text)),
                (None, None, true) => Some(None),
                (None, None, false) => None,
            };
            let body = UpdateLesson {
                title: args.title,
                r#type: args.kind,
                content,
                url: match (args.url, args.no_url) {
                    (Some(u), _) => Some(Some(u)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                duration: args.duration,
                is_free_preview: args.free_preview,
                is_published: args.published,
                position: None,
                section_id: None,
            };
            if body == UpdateLesson::default() {
                return Err(ClientError::Usage(
                    "nothing to change: give at least one option (see `edupro lessons edit --help`)"
                        .into(),
                ));
            }
            client.update_lesson(args.lesson, &body).await?
        }
        LessonsCommand::Move {
            lesson,
            position,
            section,
        } => {
            let body = UpdateLesson {
                position,
                section_id: section,
                ..UpdateLesson::default()
            };
            client.update_lesson(lesson, &body).await?
        }
        LessonsCommand::Delete { lesson } => {
            let deleted = client.delete_lesson(lesson).await?;
            crate::output::print(
                ctx.out
                    .record(&deleted, &[("deleted", lesson.to_string())])?,
            )?;
            return Ok(());
        }
    };
    crate::output::print(ctx.out.record(&lesson, &fields(&lesson))?)?;
    Ok(())
}
