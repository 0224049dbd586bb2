//! `edupro import users|courses|enrollments FILE`, `import list`, `import revert ID`.
//!
//! The file is streamed to the server in one request, 64 KiB at a time, and the
//! server's NDJSON answer is read line by line as it arrives: memory stays constant
//! whatever the file's size. Progress (bytes sent, rows answered) shows on stderr when
//! it is a terminal.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use edupro_server::api::{
    ImportKind, ImportLine, ImportMode, ImportRow, ImportRun, ImportRunList, ImportSummary,
    RowOutcome,
};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use crate::api::ImportOptions;
use crate::error::{ClientError, Result};
use crate::output::Format;

/// What every import prints; ends each kind's `--help`.
macro_rules! import_help {
    ($columns:literal, $examples:literal) => {
        concat!(
            $columns,
            "

Output:
  Failed rows go to stderr with their line number (and to --errors FILE); a dry
  run prints the plan on stdout, then a line of counts. Exit code 6 when a row
  failed. Safe to re-run: rows already as the file says are `unchanged`.
  With --json, stdout is NDJSON, one JSON object per line: a line per row
  ({\"type\":\"row\",\"line\":2,\"key\":\"u1\",\"outcome\":\"create\"}; outcome is
  create, update, unchanged, error or skipped; an error row has \"errors\"), then one
  summary line ({\"type\":\"summary\",\"counts\":{...},\"importId\":...}). --jq
  filters each line; --json takes no FIELDS here.

Examples:
",
            $examples
        )
    };
}

const USERS_HELP: &str = import_help!(
    "\
Columns of users.csv (a header line, any order; .ndjson/.jsonl lines use the same keys):
  user_id           required: the user's key in your school's system
  email | login_id  required: their email, which is their login
  first_name        required
  last_name         required
  role              student (default for a new user), teacher or parent; any case.
                    Imports never make admins: use `edupro users role`
  status            active (default for a new user), or suspended or deleted, which
                    deactivate the user
  password          set only on a user who has none yet; a new user without one is
                    mailed a code to set it",
    "  $ edupro import users users.csv --dry-run
  $ edupro import users users.csv --errors failed.csv --max-errors 100

  # Only the failed rows, as NDJSON
  $ edupro import users users.csv --json --jq 'select(.outcome == \"error\")'"
);

const COURSES_HELP: &str = import_help!(
    "\
Columns of courses.csv (a header line, any order; .ndjson/.jsonl lines use the same keys):
  course_id   required: the course's key in your school's system
  short_name  required: the course's slug
  long_name   required: its title
  status      active (default), or completed or deleted, which close the course",
    "  $ edupro import courses courses.csv --dry-run
  $ edupro import courses courses.csv --json | tail -1"
);

const ENROLLMENTS_HELP: &str = import_help!(
    "\
Columns of enrollments.csv (a header line, any order; .ndjson/.jsonl lines use the same keys):
  course_id  required: the course's key (course_id of courses.csv)
  user_id    required: the user's key (user_id of users.csv)
  role       required: student, teacher or ta; any case
  status     active (default), completed, inactive or deleted
  batch      the name of one of the course's batches",
    "  $ edupro import enrollments enrollments.csv --dry-run
  $ edupro import enrollments enrollments.csv --batch-size 500 --errors failed.csv

  # How many rows each outcome had
  $ edupro import enrollments enrollments.csv --json --jq 'select(.type == \"summary\") | .counts'"
);

/// `edupro import …`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import users.csv (user_id, login_id or email, first_name, last_name, role, status, password).
    #[command(after_help = USERS_HELP)]
    Users(FileArgs),
    /// Import courses.csv (course_id, short_name, long_name, status).
    #[command(after_help = COURSES_HELP)]
    Courses(FileArgs),
    /// Import enrollments.csv (course_id, user_id, role, status, batch).
    #[command(after_help = ENROLLMENTS_HELP)]
    Enrollments(FileArgs),
    /// Recorded import runs, newest first (all pages unless --limit).
    List {
        /// At most this many runs.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Undo an applied import: created rows removed, updated rows restored. Asks
    /// first (--yes to skip).
    Revert {
        /// The import's id (`edupro import list`).
        id: uuid::Uuid,
        #[command(flatten)]
        yes: super::confirm::YesArg,
    },
}

/// Options of `import users|courses|enrollments`.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// CSV with a header line, or JSON lines (.ndjson / .jsonl).
    pub file: PathBuf,
    /// Print the plan (what would be created, updated or fail) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write each failed row (line, key, field, message) to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Stop after this many failed rows (the rest are skipped).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_errors: Option<u64>,
    /// Rows per server transaction (1-5000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub batch_size: Option<u64>,
}

/// Runs an `import` command.
pub async fn run(ctx: &Context, cmd: ImportCommand) -> Result<()> {
    match cmd {
        ImportCommand::Users(args) => import_file(ctx, ImportKind::Users, args).await,
        ImportCommand::Courses(args) => import_file(ctx, ImportKind::Courses, args).await,
        ImportCommand::Enrollments(args) => import_file(ctx, ImportKind::Enrollments, args).await,
        ImportCommand::List { limit } => list(ctx, limit).await,
        ImportCommand::Revert { id, yes } => revert(ctx, id, yes).await,
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("ndjson" | "jsonl") => "application/x-ndjson",
        _ => "text/csv",
    }
}

fn progress(size: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

async fn import_file(ctx: &Context, kind: ImportKind, args: FileArgs) -> Result<()> {
    if ctx.out.json.fields.is_some() {
        // Rows and the summary have different fields: picking some would print
        // nulls; jq can choose by line type.
        return Err(ClientError::Usage(
            "import --json prints NDJSON (a line per row, then a summary line) and takes no FIELDS; \
             filter it with --jq instead, e.g. --jq 'select(.outcome == \"error\")'"
                .into(),
        ));
    }
    let file = std::fs::File::open(&args.file)
        .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", args.file.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let client = ctx.client()?;
    let bar = progress(size, ctx.out.quiet);
    let sent = bar.clone();
    let chunks = futures_util::stream::unfold(Some(file), move |file| {
        let sent = sent.clone();
        async move {
            let mut file = file?;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    sent.inc(n as u64);
                    Some((Ok::<_, std::io::Error>(buf), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    let options = ImportOptions {
        mode: if args.dry_run {
            ImportMode::Plan
        } else {
            ImportMode::Apply
        },
        max_errors: args.max_errors,
        file_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        batch: args.batch_size,
    };
    let response = client
        .import(
            kind,
            &options,
            content_type(&args.file),
            reqwest::Body::wrap_stream(chunks),
        )
        .await?;

    let mut errors_file = match &args.errors {
        Some(path) => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| {
                ClientError::Usage(format!("cannot write {}: {e}", path.display()))
            })?);
            writeln!(f, "line,key,field,message").map_err(anyhow::Error::from)?;
            Some(f)
        }
        None => None,
    };
    let json = ctx.out.format == Format::Json;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut rows = 0u64;
    let mut summary: Option<ImportSummary> = None;
    let mut pending = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| client.unreachable(e))?;
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let parsed: ImportLine = serde_json::from_slice(&line).map_err(|e| {
                anyhow::anyhow!("unexpected line in the server's import answer: {e}")
            })?;
            if json {
                write_json_line(ctx, &line, &mut out)?;
            }
            match parsed {
                ImportLine::Row(row) => {
                    rows += 1;
                    if rows.is_multiple_of(1000) {
                        bar.set_message(format!("{rows} rows"));
                    }
                    bar.suspend(|| report_row(&row, args.dry_run && !json, &mut out));
                    if let Some(f) = errors_file.as_mut() {
                        write_errors(f, &row)?;
                    }
                }
                ImportLine::Summary(s) => summary = Some(s),
            }
        }
    }
    bar.finish_and_clear();
    if let Some(mut f) = errors_file {
        f.flush().map_err(anyhow::Error::from)?;
    }
    let Some(summary) = summary else {
        return Err(anyhow::anyhow!(
            "the server's answer ended before its summary; run `edupro import list` to see how far it got"
        )
        .into());
    };
    let c = summary.counts;
    if !json {
        let verb = if args.dry_run { "would be" } else { "were" };
        writeln!(
            out,
            "{} rows: {} created, {} updated, {} unchanged, {} failed, {} skipped ({verb} written; import {})",
            c.total, c.create, c.update, c.unchanged, c.error, c.skipped, summary.import_id
        )?;
    }
    if let Some(problem) = &summary.file_error {
        return Err(ClientError::ImportFailedRows(format!(
            "the import stopped: {problem}"
        )));
    }
    if c.error > 0 {
        let stop = if summary.stopped {
            " (stopped at --max-errors)"
        } else {
            ""
        };
        return Err(ClientError::ImportFailedRows(format!(
            "{} of {} rows failed{stop}; see the lines above",
            c.error, c.total
        )));
    }
    Ok(())
}

/// One line of the server's NDJSON answer as it came, or through `--jq`.
fn write_json_line(ctx: &Context, line: &[u8], out: &mut impl Write) -> Result<()> {
    if ctx.out.json.jq.is_none() {
        out.write_all(line)?;
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(line).map_err(anyhow::Error::from)?;
    out.write_all(ctx.out.json.render(value, None, false)?.as_bytes())?;
    Ok(())
}

/// Errors on stderr with their line; in a dry run, each change on stdout.
fn report_row(row: &ImportRow, show_plan: bool, out: &mut impl Write) {
    let key = row.key.as_deref().unwrap_or("-");
    match row.outcome {
        RowOutcome::Error => {
            for e in &row.errors {
                crate::output::eprint_line(&format!(
                    "line {}: {key}: {}: {}",
                    row.line, e.field, e.message
                ));
            }
        }
        RowOutcome::Create if show_plan => {
            let _ = writeln!(out, "line {}\tcreate\t{key}", row.line);
        }
        RowOutcome::Update if show_plan => {
            let _ = writeln!(
                out,
                "line {}\tupdate\t{key}\t{}",
                row.line,
                row.changes.join(",")
            );
        }
        _ => {}
    }
}

fn write_errors(f: &mut impl Write, row: &ImportRow) -> Result<()> {
    if row.outcome != RowOutcome::Error {
        return Ok(());
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for e in &row.errors {
        w.write_record([
            row.line.to_string(),
            row.key.clone().unwrap_or_default(),
            e.field.clone(),
            e.message.clone(),
        ])
        .map_err(anyhow::Error::from)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    f.write_all(&bytes).map_err(anyhow::Error::from)?;
    Ok(())
}

const HEADERS: [&str; 8] = [
    "ID", "KIND", "MODE", "STATUS", "FILE", "ROWS", "FAILED", "CREATED",
];

fn row(r: &ImportRun) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.kind.to_string(),
        r.mode.as_str().to_owned(),
        r.status.as_str().to_owned(),
        r.file_name.clone().unwrap_or_default(),
        r.counts.total.to_string(),
        r.counts.error.to_string(),
        r.created_at.format("%Y-%m-%d %H:%M").to_string(),
    ]
}

async fn list(ctx: &Context, limit: Option<u64>) -> Result<()> {
    let client = ctx.client()?;
    let runs =
        super::paging::all_pages::<ImportRunList, _, _>(limit, |at| client.imports(at)).await?;
    crate::output::print(ctx.out.list(&runs, &HEADERS, row)?)?;
    Ok(())
}

async fn revert(ctx: &Context, id: uuid::Uuid, yes: super::confirm::YesArg) -> Result<()> {
    let client = ctx.client()?;
    if super::confirm::must_ask(yes, "revert the import")? {
        let run = client.import_run(id).await?;
        let c = &run.counts;
        super::confirm::ask(&format!(
            "Revert the {} import {}{} of {}? Its {} created row(s) are removed (deactivated or archived when in use) and {} updated row(s) restored.",
            run.kind,
            run.id,
            run.file_name
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default(),
            run.created_at.format("%Y-%m-%d %H:%M UTC"),
            c.create,
            c.update
        ))?;
    }
    let reverted = client.revert_import(id).await?;
    let r = &reverted;
    let fields = [
        ("import", r.run.id.to_string()),
        ("status", r.run.status.as_str().to_owned()),
        ("deleted", r.deleted.to_string()),
        ("deactivated", r.deactivated.to_string()),
        ("restored", r.restored.to_string()),
    ];
    crate::output::print(ctx.out.record(r, &fields)?)?;
    Ok(())
}
