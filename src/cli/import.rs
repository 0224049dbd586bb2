//! `edupro import users|courses|enrollments FILE`, `import list`, `import revert ID`.
//!
//! The file is streamed to the server in one request, 64 KiB at a time, and the
//! server's NDJSON answer is read line by line as it arrives: memory stays constant
//! whatever the file's size. On a terminal, stderr shows the rows the server has
//! processed (of the file's lines) with rows/s; stdout gets the summary, and stderr
//! the failed rows. `--verbose` adds every row; piped, a dry run lists each change
//! (`line N<TAB>create<TAB>KEY`) for scripts; `--json` is the server's NDJSON answer
//! unchanged: one object per row, then the summary.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use edupro_server::api::{
    ImportKind, ImportLine, ImportMode, ImportRow, ImportRun, ImportRunList, ImportStatus,
    ImportSummary, RowOutcome,
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
    /// List every row (created, updated, unchanged), not only the failed ones.
    #[arg(long, short)]
    pub verbose: bool,
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

/// The rows a file holds, roughly (its lines, less a CSV's header): the progress bar's
/// length. A quoted value spanning lines makes it a little long; the bar's end is the
/// server's summary, not this count.
fn rows_in(path: &Path) -> u64 {
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let buf = match std::io::BufRead::fill_buf(&mut reader) {
            Ok([]) | Err(_) => break,
            Ok(buf) => buf,
        };
        lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[buf.len() - 1];
        let n = buf.len();
        std::io::BufRead::consume(&mut reader, n);
    }
    if last != b'\n' {
        lines += 1;
    }
    match content_type(path) {
        "text/csv" => lines.saturating_sub(1),
        _ => lines,
    }
}

/// The progress bar: rows processed by the server, of the file's, with rows/s.
fn progress(rows: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {human_pos}/{human_len} rows  {per_sec:.dim}  ETA {eta} {msg}",
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
    let client = ctx.client()?;
    let bar = progress(rows_in(&args.file), ctx.out.quiet);
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
            crate::api::file_body(file),
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
    let every_row = if json {
        Listing::None
    } else if args.verbose {
        Listing::Every
    } else if args.dry_run && !std::io::stdout().is_terminal() {
        Listing::Changes
    } else {
        Listing::None
    };
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
                    if rows > bar.length().unwrap_or(0) {
                        bar.set_length(rows);
                    }
                    bar.inc(1);
                    if row.outcome == RowOutcome::Error || every_row != Listing::None {
                        bar.suspend(|| report_row(&row, every_row, &mut out));
                    }
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
        writeln!(out, "{}", summary_text(&summary, args.dry_run))?;
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

/// Which rows go to stdout besides the failed ones (always on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    None,
    /// Creates and updates (a piped dry run: the plan, for scripts).
    Changes,
    /// Every row (`--verbose`).
    Every,
}

/// A failed row's lines for stderr: one per problem, naming the row's key.
fn error_lines(row: &ImportRow) -> Vec<String> {
    let at = match row.key.as_deref() {
        Some(key) => format!("line {} ({key})", row.line),
        None => format!("line {}", row.line),
    };
    row.errors
        .iter()
        .map(|e| format!("{at}: {}: {}", e.field, e.message))
        .collect()
}

/// A row's line for stdout, as `listing` wants it (`None` for no line).
fn row_line(row: &ImportRow, listing: Listing) -> Option<String> {
    let key = row.key.as_deref().unwrap_or("");
    let outcome = match (row.outcome, listing) {
        (_, Listing::None) | (RowOutcome::Error, _) => return None,
        (RowOutcome::Create, _) => "create",
        (RowOutcome::Update, _) => "update",
        (RowOutcome::Unchanged, Listing::Every) => "unchanged",
        (RowOutcome::Skipped, Listing::Every) => "skipped",
        _ => return None,
    };
    let mut line = format!("line {}\t{outcome}\t{key}", row.line);
    if row.outcome == RowOutcome::Update {
        line.push('\t');
        line.push_str(&row.changes.join(","));
    }
    Some(line)
}

fn report_row(row: &ImportRow, listing: Listing, out: &mut impl Write) {
    if row.outcome == RowOutcome::Error {
        for line in error_lines(row) {
            crate::output::eprint_line(&line);
        }
    } else if let Some(line) = row_line(row, listing) {
        let _ = writeln!(out, "{line}");
    }
}

/// What happened, in words: what was (or would be) written, what failed, and how to
/// go on.
fn summary_text(summary: &ImportSummary, dry_run: bool) -> String {
    let c = &summary.counts;
    let rows = |n: u64| {
        if n == 1 {
            "1 row".to_owned()
        } else {
            format!("{n} rows")
        }
    };
    let mut parts = Vec::new();
    let (create, update) = if dry_run {
        ("to create", "to update")
    } else {
        ("created", "updated")
    };
    for (n, what) in [
        (c.create, create),
        (c.update, update),
        (c.unchanged, "unchanged"),
        (c.error, if dry_run { "failing" } else { "failed" }),
        (c.skipped, "skipped after --max-errors"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let changes = c.create + c.update;
    let mut text = if c.total == 0 {
        "The file has no rows; nothing written.".to_owned()
    } else if changes == 0 && c.error == 0 && c.skipped == 0 {
        format!("{}: all unchanged; nothing written.", rows(c.total))
    } else if dry_run {
        format!(
            "Plan for {}: {}. Nothing was written; run again without --dry-run to apply.",
            rows(c.total),
            parts.join(", ")
        )
    } else if changes == 0 {
        format!("{}: {}; nothing written.", rows(c.total), parts.join(", "))
    } else {
        format!(
            "Imported {}: {}. To undo: edupro import revert {}",
            rows(c.total),
            parts.join(", "),
            summary.import_id
        )
    };
    if c.error > 0 && !dry_run {
        text.push_str(if c.error == 1 {
            "\nThe failed row wrote nothing; fix it and import the file again (rows already in stay unchanged)."
        } else {
            "\nThe failed rows wrote nothing; fix them and import the file again (rows already in stay unchanged)."
        });
    }
    text
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

const HEADERS: [&str; 10] = [
    "ID",
    "KIND",
    "STATUS",
    "FILE",
    "CREATED",
    "UPDATED",
    "UNCHANGED",
    "FAILED",
    "REVERT",
    "WHEN",
];

/// Whether `revert` can still undo a run, and why not.
fn revertible(r: &ImportRun) -> &'static str {
    match (r.mode, r.status) {
        (ImportMode::Plan, _) => "no (plan)",
        (_, ImportStatus::Reverted) => "no (reverted)",
        (_, ImportStatus::Running) => "no (running)",
        _ if r.counts.create + r.counts.update == 0 => "no (nothing written)",
        _ => "yes",
    }
}

fn row(r: &ImportRun, zone: crate::when::Zone) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.kind.to_string(),
        r.status.as_str().to_owned(),
        r.file_name.clone().unwrap_or_default(),
        r.counts.create.to_string(),
        r.counts.update.to_string(),
        r.counts.unchanged.to_string(),
        r.counts.error.to_string(),
        revertible(r).to_owned(),
        zone.format(r.created_at),
    ]
}

async fn list(ctx: &Context, limit: Option<u64>) -> Result<()> {
    let client = ctx.client()?;
    let runs =
        super::paging::all_pages::<ImportRunList, _, _>(limit, |at| client.imports(at)).await?;
    crate::output::print(ctx.out.list(&runs, &HEADERS, |r| row(r, ctx.zone))?)?;
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
            ctx.zone.format_with_zone(run.created_at),
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

#[cfg(test)]
mod tests {
    use edupro_server::api::{FieldError, ImportCounts};

    use super::*;

    fn summary(counts: [u64; 6], stopped: bool) -> ImportSummary {
        let [create, update, unchanged, error, skipped, _] = counts;
        ImportSummary {
            import_id: uuid::Uuid::from_u128(0x1234),
            kind: ImportKind::Users,
            mode: ImportMode::Apply,
            counts: ImportCounts {
                total: create + update + unchanged + error + skipped,
                create,
                update,
                unchanged,
                error,
                skipped,
            },
            stopped,
            file_error: None,
        }
    }

    #[test]
    fn summaries_say_what_happened_and_how_to_go_on() {
        let cases = [
            (
                "re-run, nothing new",
                summary([0, 0, 1000, 0, 0, 0], false),
                false,
            ),
            ("applied", summary([3, 2, 995, 0, 0, 0], false), false),
            (
                "applied with failures",
                summary([3, 0, 995, 2, 0, 0], false),
                false,
            ),
            ("only failures", summary([0, 0, 998, 2, 0, 0], false), false),
            ("one failure", summary([0, 1, 0, 1, 0, 0], false), false),
            (
                "stopped at --max-errors",
                summary([10, 0, 0, 5, 85, 0], true),
                false,
            ),
            ("plan", summary([3, 2, 995, 4, 0, 0], false), true),
            (
                "plan, nothing to do",
                summary([0, 0, 1, 0, 0, 0], false),
                true,
            ),
            ("empty file", summary([0, 0, 0, 0, 0, 0], false), false),
        ];
        let text: String = cases
            .iter()
            .map(|(what, s, dry_run)| format!("[{what}]\n{}\n", summary_text(s, *dry_run)))
            .collect();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn failed_rows_name_their_key_and_rows_are_listed_as_asked() {
        let failed = ImportRow {
            line: 7,
            key: Some("u7".into()),
            outcome: RowOutcome::Error,
            changes: Vec::new(),
            errors: vec![
                FieldError::new("email", "must be an email address like name@school.edu"),
                FieldError::new("last_name", "is required"),
            ],
        };
        let unreadable = ImportRow {
            key: None,
            errors: vec![FieldError::new("line", "has 3 columns; the header has 6")],
            ..failed.clone()
        };
        let update = ImportRow {
            line: 8,
            key: Some("u8".into()),
            outcome: RowOutcome::Update,
            changes: vec!["first_name".into(), "role".into()],
            errors: Vec::new(),
        };
        let unchanged = ImportRow {
            outcome: RowOutcome::Unchanged,
            changes: Vec::new(),
            ..update.clone()
        };
        let mut text = [error_lines(&failed), error_lines(&unreadable)]
            .concat()
            .join("\n");
        for listing in [Listing::None, Listing::Changes, Listing::Every] {
            for row in [&update, &unchanged] {
                text.push_str(&format!(
                    "\n{listing:?}: {}",
                    row_line(row, listing).unwrap_or_else(|| "(nothing)".into())
                ));
            }
        }
        insta::assert_snapshot!(text);
    }

    #[test]
    fn the_bar_counts_the_files_rows() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let csv = dir.path().join("users.csv");
        std::fs::write(&csv, "user_id,email\nu1,a@x.test\nu2,b@x.test").expect("write");
        assert_eq!(rows_in(&csv), 2);
        let ndjson = dir.path().join("users.ndjson");
        std::fs::write(&ndjson, "{}\n{}\n{}\n").expect("write");
        assert_eq!(rows_in(&ndjson), 3);
    }

    #[test]
    fn import_list_says_whether_a_run_can_still_be_reverted() {
        let mut run = ImportRun {
            id: uuid::Uuid::from_u128(1),
            kind: ImportKind::Users,
            mode: ImportMode::Apply,
            status: ImportStatus::Applied,
            file_name: None,
            actor_id: None,
            counts: summary([1, 0, 0, 0, 0, 0], false).counts,
            stopped: false,
            file_error: None,
            created_at: chrono::DateTime::from_timestamp(0, 0).expect("a time"),
            reverted_at: None,
        };
        assert_eq!(revertible(&run), "yes");
        run.status = ImportStatus::Interrupted;
        assert_eq!(revertible(&run), "yes");
        run.status = ImportStatus::Reverted;
        assert_eq!(revertible(&run), "no (reverted)");
        run.status = ImportStatus::Running;
        assert_eq!(revertible(&run), "no (running)");
        run.status = ImportStatus::Planned;
        run.mode = ImportMode::Plan;
        assert_eq!(revertible(&run), "no (plan)");
    }
}
