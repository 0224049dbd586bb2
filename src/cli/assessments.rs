//! `edupro tests list|show|create|export|publish|results|gradebook`: a course's tests
//! for its teachers. A test is one JSON or TOML file (`export` writes it, `create
//! --from` reads it), so tests live in version control like any other document.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use edupro_server::api::{AttemptSummary, Test};

use super::Context;
use crate::api;
use crate::error::{ClientError, Result};
use crate::output::Format;

/// `edupro tests …`.
#[derive(Debug, Subcommand)]
pub enum TestsCommand {
    /// List the tests you teach or take (all pages).
    List {
        /// Only this course's tests (id, slug or SIS course_id).
        #[arg(long)]
        course: Option<String>,
    },
    /// Show a test (with its questions and keys, for its staff).
    Show {
        /// The test: id, or COURSE/TITLE.
        test: String,
    },
    /// Create a draft test in a course from a JSON or TOML file (`.toml` is TOML).
    Create {
        /// The test document, as `edupro tests export` writes it.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The course (id, slug or SIS course_id).
        #[arg(long)]
        course: String,
    },
    /// Print a test as one document (to import elsewhere).
    Export {
        /// The test: id, or COURSE/TITLE.
        test: String,
        /// The document's format.
        #[arg(long, value_enum, default_value = "json")]
        format: DocumentFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Publish a draft test; its students are notified.
    Publish {
        /// The test: id, or COURSE/TITLE.
        test: String,
    },
    /// Attempts and scores of a test (yours, for a student).
    Results {
        /// The test: id, or COURSE/TITLE.
        test: String,
    },
    /// A course's gradebook: students × published tests (`--csv` for a spreadsheet).
    Gradebook {
        /// The course (id, slug or SIS course_id).
        course: String,
    },
}

/// How a test document is written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DocumentFormat {
    Json,
    Toml,
}

const HEADERS: [&str; 8] = [
    "ID",
    "TITLE",
    "TYPE",
    "STATUS",
    "QUESTIONS",
    "MARKS",
    "PASS",
    "UNTIL",
];

fn row(t: &Test, zone: crate::when::Zone) -> Vec<String> {
    vec![
        t.id.to_string(),
        t.title.clone(),
        t.test_type.to_string(),
        t.status.to_string(),
        t.total_questions.to_string(),
        t.total_marks.to_string(),
        t.passing_marks.to_string(),
        t.available_until
            .map(|u| zone.format(u))
            .unwrap_or_default(),
    ]
}

fn fields(t: &Test) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("id", t.id.to_string()),
        ("title", t.title.clone()),
        ("type", t.test_type.to_string()),
        ("status", t.status.to_string()),
        ("course", t.course_id.to_string()),
        (
            "batch",
            t.batch_id.map(|b| b.to_string()).unwrap_or_default(),
        ),
        ("questions", t.total_questions.to_string()),
        ("total marks", t.total_marks.to_string()),
        ("passing marks", t.passing_marks.to_string()),
        (
            "duration",
            t.duration_minutes
                .map(|d| format!("{d} min"))
                .unwrap_or_else(|| "none".into()),
        ),
        ("attempts allowed", t.attempts_allowed.to_string()),
        ("shows answers", t.show_answers.to_string()),
    ];
    for q in t.questions.iter().flatten() {
        f.push((
            "question",
            format!(
                "{}. [{}, {}] {}",
                q.order, q.question_type, q.marks, q.question_text
            ),
        ));
    }
    f
}

const RESULT_HEADERS: [&str; 8] = [
    "ATTEMPT", "STUDENT", "NO", "STATUS", "SCORE", "PERCENT", "PASSED", "RANK",
];

fn result_row(a: &AttemptSummary) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        a.id.to_string(),
        a.student
            .as_ref()
            .map(|s| format!("{} {}", s.first_name, s.last_name))
            .unwrap_or_default(),
        a.number.to_string(),
        a.status.to_string(),
        opt(a.score.map(|s| s.to_string())),
        opt(a.percentage.map(|p| format!("{p}%"))),
        opt(a.passed.map(|p| if p { "yes" } else { "no" }.to_owned())),
        opt(a.rank.map(|r| r.to_string())),
    ]
}

/// Runs `edupro tests …`.
pub async fn run(ctx: &Context, command: TestsCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        TestsCommand::List { course } => {
            let mut tests = Vec::new();
            let mut page = 1;
            loop {
                let list = client
                    .tests(course.as_deref(), api::page(page, 100))
                    .await?;
                tests.extend(list.tests);
                if !list.pagination.has_next {
                    break;
                }
                page += 1;
            }
            crate::output::print(ctx.out.list(&tests, &HEADERS, |t| row(t, ctx.zone))?)?;
        }
        TestsCommand::Show { test } => {
            let id = super::keys::test(&client, &test).await?;
            let test = client.test(id).await?;
            crate::output::print(ctx.out.record(&test, &fields(&test))?)?;
        }
        TestsCommand::Create { from, course } => {
            let text = std::fs::read(&from)
                .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", from.display())))?;
            let toml = from
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
            let format = if toml {
                api::DocumentFormat::Toml
            } else {
                api::DocumentFormat::Json
            };
            let c = client.upload_test(&course, format, text).await?;
            crate::output::print(ctx.out.record(
                &c,
                &[
                    ("id", c.id.to_string()),
                    ("title", c.title.clone()),
                    ("status", c.status.to_string()),
                ],
            )?)?;
        }
        TestsCommand::Export {
            test,
            format,
            output,
        } => {
            let id = super::keys::test(&client, &test).await?;
            let format = match format {
                DocumentFormat::Json => api::DocumentFormat::Json,
                DocumentFormat::Toml => api::DocumentFormat::Toml,
            };
            let mut text = client.export_test(id, format).await?;
            if format == api::DocumentFormat::Json
                && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
            {
                text = format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or(text));
            }
            match output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| {
                        ClientError::Other(anyhow::anyhow!("writing {}: {e}", path.display()))
                    })?;
                    ctx.out.note(&format!("wrote {}", path.display()));
                }
                None => crate::output::print(text)?,
            }
        }
        TestsCommand::Publish { test } => {
            let id = super::keys::test(&client, &test).await?;
            let test = client.publish_test(id).await?;
            crate::output::print(ctx.out.record(&test, &fields(&test))?)?;
        }
        TestsCommand::Results { test } => {
            let id = super::keys::test(&client, &test).await?;
            let list = client.attempts(id).await?;
            crate::output::print(ctx.out.list(&list.attempts, &RESULT_HEADERS, result_row)?)?;
        }
        TestsCommand::Gradebook { course } => {
            if matches!(ctx.out.format, Format::Csv) {
                // The server's CSV, formula-like cells already escaped.
                let text = client.gradebook_csv(&course).await?;
                crate::output::print(text)?;
                return Ok(());
            }
            let book = client.gradebook(&course).await?;
            let mut headers: Vec<&str> = vec!["STUDENT", "EMAIL"];
            headers.extend(book.tests.iter().map(|t| t.title.as_str()));
            let rows: Vec<Vec<String>> = book
                .rows
                .iter()
                .map(|r| {
                    let mut cells = vec![
                        format!("{} {}", r.student.first_name, r.student.last_name),
                        r.student.email.clone(),
                    ];
                    cells.extend(
                        r.scores
                            .iter()
                            .map(|s| s.map(|s| s.to_string()).unwrap_or_else(|| "-".into())),
                    );
                    cells
                })
                .collect();
            if matches!(ctx.out.format, Format::Json) {
                crate::output::print(ctx.out.json(&book)?)?;
            } else {
                crate::output::print(ctx.out.list(&rows, &headers, Clone::clone)?)?;
            }
        }
    }
    Ok(())
}
