//! Bulk import (Canvas SIS CSV or JSON lines) of users and courses, keyed by their
//! external id.
//!
//! The body is read as a stream: [`Splitter`] cuts it into records (CSV quoting aware,
//! 64 KiB per record at most) without ever holding more than one batch. Each batch is
//! planned against the database and the file so far (duplicate keys, emails, slugs), then
//! — in `apply` mode — written in one transaction together with the before-image of
//! every row it changes, so [`revert`] can undo the run. `plan` runs the very same code
//! without the writes, which is why applying a plan's file gives exactly the plan.
//!
//! Per kind: [`users`], [`courses`] and [`enrollments`].
//!
//! Reading the file is [`read`]; the runs' records, before-images and revert are
//! [`runs`]; this module is the batch pipeline between them.

pub mod courses;
pub mod enrollments;
pub mod lease;
pub mod read;
pub mod runs;
pub mod users;

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::api::{
    FieldError, ImportCounts, ImportKind, ImportLine, ImportMode, ImportRow, RowOutcome,
};
use crate::error::ApiError;
use crate::platform::state::AppState;

pub use read::{
    Columns, Format, Header, MAX_LINE_BYTES, RawRecord, Row, Splitter, csv_fields, to_row,
};
pub use runs::{
    RevertOutcome, change, find_run, finish_run, get_run, list_runs, record_changes, revert,
    run_to_wire, start_run,
};

/// Rows written per transaction unless `batch` says otherwise.
pub const DEFAULT_BATCH: usize = 500;
/// The largest `batch` accepted.
pub const MAX_BATCH: usize = 5000;

/// What the file so far has claimed, so duplicates within one file are caught across
/// batches, and a plan sees what an apply would have written.
#[derive(Debug, Default)]
pub struct FileState {
    /// External id → the line that first used it.
    pub keys: HashMap<String, u64>,
    /// Another unique value (email, slug) → the line that first used it.
    pub uniques: HashMap<String, u64>,
    /// Unique values given up by rows that changed them, free for later rows.
    pub released: HashSet<String>,
    /// Seats of batches taken (or, when negative, freed) by rows not yet stored.
    pub seats: HashMap<Uuid, i64>,
}

impl FileState {
    /// Records `key` for `line`, or the error naming the line that had it first.
    pub fn claim_key(&mut self, field: &str, key: &str, line: u64) -> Result<(), FieldError> {
        if let Some(first) = self.keys.get(key) {
            return Err(FieldError::new(
                field,
                format!("`{key}` appears twice in this file (first on line {first})"),
            ));
        }
        self.keys.insert(key.to_owned(), line);
        Ok(())
    }

    /// Records a unique value for `line`, or the error naming the line that had it first.
    pub fn claim_unique(&mut self, field: &str, value: &str, line: u64) -> Result<(), FieldError> {
        if let Some(first) = self.uniques.get(value) {
            return Err(FieldError::new(
                field,
                format!("`{value}` appears twice in this file (first on line {first})"),
            ));
        }
        self.uniques.insert(value.to_owned(), line);
        Ok(())
    }
}

/// A row that failed: the key that names it in the report (its raw key column, when
/// the line could be read that far) and its errors.
pub type RowErrors = (Option<String>, Vec<FieldError>);

/// `record` read as a row and parsed by `parse`; on failure, the errors with the key
/// `key` finds in the row, so that every row error names its row.
pub fn read_record<P>(
    format: Format,
    columns: &Columns,
    header: Option<&Header>,
    record: &RawRecord,
    key: impl Fn(&Row) -> Option<String>,
    parse: impl Fn(&Row) -> Result<P, Vec<FieldError>>,
) -> Result<P, RowErrors> {
    let row = to_row(format, columns, header, record).map_err(|errors| (None, errors))?;
    parse(&row).map_err(|errors| (key(&row), errors))
}

/// A row's plan: its report line, and the write it needs (none for unchanged or error).
#[derive(Debug)]
pub struct Planned<W> {
    pub report: ImportRow,
    pub write: Option<W>,
}

impl<W> Planned<W> {
    pub fn error(line: u64, key: Option<String>, errors: Vec<FieldError>) -> Self {
        Self {
            report: ImportRow {
                line,
                key,
                outcome: RowOutcome::Error,
                changes: Vec::new(),
                errors,
            },
            write: None,
        }
    }
}

/// Everything a run needs while it reads the file.
pub struct Run {
    pub id: Uuid,
    pub kind: ImportKind,
    pub mode: ImportMode,
    pub actor: Uuid,
    pub max_errors: Option<u64>,
    pub counts: ImportCounts,
    pub stopped: bool,
    pub file: FileState,
}

/// Plans and (in apply mode) writes one batch; returns its report lines in file order.
pub async fn process_batch(
    state: &AppState,
    run: &mut Run,
    header: Option<&Header>,
    format: Format,
    records: Vec<RawRecord>,
) -> Result<Vec<ImportRow>, ApiError> {
    if run.stopped {
        return Ok(records
            .iter()
            .map(|r| skipped(r.line))
            .inspect(|r| run.counts.add(r.outcome))
            .collect());
    }
    let reports = match run.kind {
        ImportKind::Users => users::process(state, run, header, format, records).await?,
        ImportKind::Courses => courses::process(state, run, header, format, records).await?,
        ImportKind::Enrollments => {
            enrollments::process(state, run, header, format, records).await?
        }
    };
    for r in &reports {
        run.counts.add(r.outcome);
    }
    lease::progress(state, run).await?;
    Ok(reports)
}

fn skipped(line: u64) -> ImportRow {
    ImportRow {
        line,
        key: None,
        outcome: RowOutcome::Skipped,
        changes: Vec::new(),
        errors: Vec::new(),
    }
}

/// Applies `maxErrors` to a planned batch: if the limit is reached in it, the batch is not
/// written — the rows up to the failing one keep their outcome only when they are errors,
/// every other row of it (and every later row) is skipped. Returns whether to write.
pub fn enforce_max_errors<W>(run: &mut Run, planned: &mut [Planned<W>]) -> bool {
    let Some(max) = run.max_errors else {
        return true;
    };
    let before = run.counts.error;
    let mut errors = before;
    let mut stop_at = None;
    for (i, p) in planned.iter().enumerate() {
        if p.report.outcome == RowOutcome::Error {
            errors += 1;
            if errors >= max {
                stop_at = Some(i);
                break;
            }
        }
    }
    let Some(stop_at) = stop_at else {
        return true;
    };
    run.stopped = true;
    for (i, p) in planned.iter_mut().enumerate() {
        if i > stop_at || p.report.outcome != RowOutcome::Error {
            p.report.outcome = RowOutcome::Skipped;
            p.report.changes.clear();
            p.report.errors.clear();
        }
        p.write = None;
    }
    false
}

/// Serialises one answer line.
pub fn line_bytes(line: &ImportLine) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
