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

pub mod courses;
pub mod enrollments;
pub mod users;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::Value;
use uuid::Uuid;

use crate::api::{
    FieldError, ImportCounts, ImportKind, ImportLine, ImportMode, ImportRow, ImportRun,
    ImportStatus, RevertedImport, RowOutcome,
};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::catalogue;
use crate::service::enrollments::recount_students;
use crate::store::entity::{import_change, import_run};

/// The longest record (line) accepted.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Rows written per transaction unless `batch` says otherwise.
pub const DEFAULT_BATCH: usize = 500;
/// The largest `batch` accepted.
pub const MAX_BATCH: usize = 5000;

/// How the body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/csv`: a header line, then one record per line (quoted fields may span lines).
    Csv,
    /// `application/x-ndjson`: one JSON object per line, keyed by the CSV column names.
    Ndjson,
}

/// One record cut from the body.
#[derive(Debug)]
pub struct RawRecord {
    /// The line the record starts on (1-based).
    pub line: u64,
    pub bytes: Vec<u8>,
    /// Longer than [`MAX_LINE_BYTES`]; `bytes` is empty.
    pub too_long: bool,
}

/// Cuts a byte stream into records, a chunk at a time.
#[derive(Debug)]
pub struct Splitter {
    format: Format,
    buf: Vec<u8>,
    /// How far `buf` has been scanned.
    scanned: usize,
    in_quotes: bool,
    /// The line `buf[0]` is on.
    start_line: u64,
    /// The line at `buf[scanned]`.
    line: u64,
    /// Dropping the rest of an over-long line.
    skipping: bool,
    at_start: bool,
}

impl Splitter {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            buf: Vec::new(),
            scanned: 0,
            in_quotes: false,
            start_line: 1,
            line: 1,
            skipping: false,
            at_start: true,
        }
    }

    /// Feeds a chunk; complete records are pushed to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut VecDeque<RawRecord>) {
        if self.at_start {
            // A UTF-8 byte order mark (Excel writes one) is not part of the header.
            let bom = [0xEF, 0xBB, 0xBF];
            if self.buf.len() + chunk.len() < 3 && bom.starts_with(&[&self.buf[..], chunk].concat())
            {
                self.buf.extend_from_slice(chunk);
                return;
            }
            let mut joined = std::mem::take(&mut self.buf);
            joined.extend_from_slice(chunk);
            self.at_start = false;
            let rest = joined.strip_prefix(&bom[..]).unwrap_or(&joined).to_vec();
            return self.push(&rest, out);
        }
        while !chunk.is_empty() {
            if self.skipping {
                match chunk.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.skipping = false;
                        self.line += 1;
                        self.start_line = self.line;
                        chunk = &chunk[i + 1..];
                    }
                    None => return,
                }
                continue;
            }
            let room = MAX_LINE_BYTES + 2 - self.buf.len().min(MAX_LINE_BYTES + 2);
            let take = chunk.len().min(room.max(1));
            self.buf.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            self.scan(out);
            if self.buf.len() > MAX_LINE_BYTES + 1 {
                out.push_back(RawRecord {
                    line: self.start_line,
                    bytes: Vec::new(),
                    too_long: true,
                });
                // Resume at the next physical line, whatever the quoting said.
                let newline = self.buf[self.scanned..].iter().position(|&b| b == b'\n');
                self.in_quotes = false;
                match newline {
                    Some(i) => {
                        let rest = self.buf.split_off(self.scanned + i + 1);
                        self.buf = rest;
                        self.line += 1;
                        self.start_line = self.line;
                        self.scanned = 0;
                        self.scan(out);
                    }
                    None => {
                        self.buf.clear();
                        self.scanned = 0;
                        self.skipping = true;
                    }
                }
            }
        }
    }

    fn scan(&mut self, out: &mut VecDeque<RawRecord>) {
        let mut record_start = 0;
        let mut i = self.scanned;
        while i < self.buf.len() {
            match self.buf[i] {
                b'"' if self.format == Format::Csv => self.in_quotes = !self.in_quotes,
                b'\n' => {
                    self.line += 1;
                    if !self.in_quotes {
                        self.emit(record_start, i, out);
                        record_start = i + 1;
                        self.start_line = self.line;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if record_start > 0 {
            self.buf.drain(..record_start);
        }
        self.scanned = self.buf.len();
    }

    fn emit(&self, from: usize, to: usize, out: &mut VecDeque<RawRecord>) {
        let mut bytes = &self.buf[from..to];
        if let Some(stripped) = bytes.strip_suffix(b"\r") {
            bytes = stripped;
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if bytes.len() > MAX_LINE_BYTES {
            out.push_back(RawRecord {
                line: self.start_line,
                bytes: Vec::new(),
                too_long: true,
            });
            return;
        }
        out.push_back(RawRecord {
            line: self.start_line,
            bytes: bytes.to_vec(),
            too_long: false,
        });
    }

    /// The body ended: the last record, if it had no final newline.
    pub fn finish(&mut self, out: &mut VecDeque<RawRecord>) {
        if self.at_start {
            self.at_start = false;
            let rest = std::mem::take(&mut self.buf);
            self.push(&rest, out);
        }
        if !self.skipping && !self.buf.is_empty() {
            let end = self.buf.len();
            self.emit(0, end, out);
        }
        self.buf.clear();
        self.scanned = 0;
    }
}

/// The CSV fields of one record, checked to be UTF-8.
pub fn csv_fields(bytes: &[u8]) -> Result<Vec<String>, FieldError> {
    if let Err(err) = std::str::from_utf8(bytes) {
        return Err(FieldError::new(
            "line",
            format!(
                "is not valid UTF-8 (at byte {}); save the file as UTF-8",
                err.valid_up_to() + 1
            ),
        ));
    }
    // One CSV parser per thread, reset per record: building one (its state machine
    // and buffers) cost more than parsing the record itself.
    thread_local! {
        static PARSER: std::cell::RefCell<csv_core::Reader> =
            std::cell::RefCell::new(csv_core::Reader::new());
    }
    PARSER.with_borrow_mut(|parser| {
        parser.reset();
        let mut fields = Vec::new();
        let mut output = vec![0u8; bytes.len() + 1];
        let mut ends = vec![0usize; bytes.len() + 2];
        let mut input = bytes;
        let (mut out_len, mut end_len) = (0, 0);
        loop {
            let (result, read, written, ended) =
                parser.read_record(input, &mut output[out_len..], &mut ends[end_len..]);
            input = &input[read..];
            out_len += written;
            end_len += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty => continue,
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
                // Sized so neither fills: a record has at most as many fields (and
                // bytes) as it has bytes, plus one.
                csv_core::ReadRecordResult::OutputFull
                | csv_core::ReadRecordResult::OutputEndsFull => {
                    return Err(FieldError::new("line", "is not valid CSV"));
                }
            }
        }
        let mut start = 0;
        for &end in &ends[..end_len] {
            // Each field is a slice of UTF-8 input without its quotes: still UTF-8.
            fields.push(String::from_utf8_lossy(&output[start..end]).into_owned());
            start = end;
        }
        Ok(fields)
    })
}

/// The columns a kind knows, and which it needs.
pub struct Columns {
    pub known: &'static [&'static str],
    /// Each inner list needs one of its columns (`email` or `login_id`).
    pub required: &'static [&'static [&'static str]],
}

/// A CSV header, mapped to known column names.
#[derive(Debug, Clone)]
pub struct Header(pub Vec<&'static str>);

impl Columns {
    /// Checks a header line: every column known, none twice, every required one there.
    pub fn header(&self, fields: &[String]) -> Result<Header, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut names = Vec::new();
        for (i, raw) in fields.iter().enumerate() {
            let name = raw.trim().to_ascii_lowercase();
            match self.known.iter().find(|k| **k == name) {
                Some(k) if names.contains(k) => errors.push(FieldError::new(
                    "header",
                    format!("column `{k}` appears twice"),
                )),
                Some(k) => names.push(*k),
                None => errors.push(FieldError::new(
                    "header",
                    format!(
                        "unknown column `{}` (column {}); known columns: {}",
                        raw.trim(),
                        i + 1,
                        self.known.join(", ")
                    ),
                )),
            }
        }
        for group in self.required {
            if !group.iter().any(|c| names.contains(c)) {
                errors.push(FieldError::new(
                    "header",
                    format!("missing column `{}`", group.join("` or `")),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Header(names))
        } else {
            Err(errors)
        }
    }
}

/// One input row: its line and its values by column name (trimmed; empty means absent).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub values: HashMap<&'static str, String>,
}

impl Row {
    /// The value of `column`, `None` when absent or blank.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.values
            .get(column)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Turns a record into a row (or the row's errors).
pub fn to_row(
    format: Format,
    columns: &Columns,
    header: Option<&Header>,
    record: &RawRecord,
) -> Result<Row, Vec<FieldError>> {
    if record.too_long {
        return Err(vec![FieldError::new(
            "line",
            format!("is longer than {} KiB", MAX_LINE_BYTES / 1024),
        )]);
    }
    match (format, header) {
        (Format::Csv, Some(header)) => {
            let fields = csv_fields(&record.bytes).map_err(|e| vec![e])?;
            if fields.len() != header.0.len() {
                return Err(vec![FieldError::new(
                    "line",
                    format!(
                        "has {} columns; the header has {}",
                        fields.len(),
                        header.0.len()
                    ),
                )]);
            }
            Ok(Row {
                line: record.line,
                values: header.0.iter().copied().zip(fields).collect(),
            })
        }
        _ => {
            let text = std::str::from_utf8(&record.bytes).map_err(|e| {
                vec![FieldError::new(
                    "line",
                    format!(
                        "is not valid UTF-8 (at byte {}); save the file as UTF-8",
                        e.valid_up_to() + 1
                    ),
                )]
            })?;
            let object: serde_json::Map<String, Value> =
                serde_json::from_str(text).map_err(|e| {
                    vec![FieldError::new(
                        "line",
                        format!("is not a JSON object: {e}"),
                    )]
                })?;
            let mut values = HashMap::new();
            let mut errors = Vec::new();
            for (key, value) in object {
                let Some(name) = columns.known.iter().find(|k| **k == key) else {
                    errors.push(FieldError::new(
                        key,
                        format!("unknown field; known fields: {}", columns.known.join(", ")),
                    ));
                    continue;
                };
                let text = match value {
                    Value::Null => String::new(),
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        errors.push(FieldError::new(
                            *name,
                            format!("must be a string, not {other}"),
                        ));
                        continue;
                    }
                };
                values.insert(*name, text);
            }
            for group in columns.required {
                if !group
                    .iter()
                    .any(|c| values.get(c).is_some_and(|v| !v.trim().is_empty()))
                {
                    errors.push(FieldError::new(group[0], "is required"));
                }
            }
            if errors.is_empty() {
                Ok(Row {
                    line: record.line,
                    values,
                })
            } else {
                Err(errors)
            }
        }
    }
}

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

/// Starts a run's record (status RUNNING).
pub async fn start_run(
    state: &AppState,
    kind: ImportKind,
    mode: ImportMode,
    actor: Uuid,
    file_name: Option<String>,
    max_errors: Option<u64>,
) -> Result<Run, ApiError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    import_run::ActiveModel {
        id: Set(id),
        kind: Set(kind.as_str().to_owned()),
        mode: Set(mode.as_str().to_owned()),
        status: Set(ImportStatus::Running.as_str().to_owned()),
        file_name: Set(file_name),
        actor_id: Set(Some(actor)),
        total_rows: Set(0),
        created: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        failed: Set(0),
        skipped: Set(0),
        stopped: Set(false),
        file_error: Set(None),
        reverted_at: Set(None),
        reverted_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(Run {
        id,
        kind,
        mode,
        actor,
        max_errors,
        counts: ImportCounts::default(),
        stopped: false,
        file: FileState::default(),
    })
}

/// Closes a run's record with its counts and publishes `import.finished` in the same
/// transaction, so the admin hears of every run that ended, and only of those.
pub async fn finish_run(
    state: &AppState,
    run: &Run,
    file_error: Option<&str>,
) -> Result<(), ApiError> {
    let status = match (run.mode, file_error) {
        (_, Some(_)) => ImportStatus::Failed,
        (ImportMode::Plan, None) => ImportStatus::Planned,
        (ImportMode::Apply, None) => ImportStatus::Applied,
    };
    let c = run.counts;
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let txn = crate::store::db::begin_write(&state.db).await?;
    import_run::ActiveModel {
        id: Set(run.id),
        status: Set(status.as_str().to_owned()),
        total_rows: Set(as_i64(c.total)),
        created: Set(as_i64(c.create)),
        updated: Set(as_i64(c.update)),
        unchanged: Set(as_i64(c.unchanged)),
        failed: Set(as_i64(c.error)),
        skipped: Set(as_i64(c.skipped)),
        stopped: Set(run.stopped),
        file_error: Set(file_error.map(str::to_owned)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let event = crate::service::events::publish(
        &txn,
        crate::service::events::Event {
            kind: crate::service::events::EventKind::ImportFinished,
            payload: serde_json::json!({
                "importId": run.id,
                "kind": run.kind,
                "mode": run.mode,
                "status": status,
                "actorId": run.actor,
                "counts": {
                    "total": c.total,
                    "created": c.create,
                    "updated": c.update,
                    "unchanged": c.unchanged,
                    "failed": c.error,
                    "skipped": c.skipped,
                },
                "stopped": run.stopped,
                "fileError": file_error,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    state.events.announce([event]);
    Ok(())
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

/// Records what an applied row changed, in the batch's transaction.
pub async fn record_changes(
    txn: &DatabaseTransaction,
    changes: Vec<import_change::ActiveModel>,
) -> Result<(), ApiError> {
    for chunk in changes.chunks(1000) {
        import_change::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A change row for `entity_id`.
pub fn change(
    run: &Run,
    line: u64,
    key: &str,
    entity_id: Uuid,
    before: Option<Value>,
) -> import_change::ActiveModel {
    let now = Utc::now();
    import_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        run_id: Set(run.id),
        line: Set(i64::try_from(line).unwrap_or(i64::MAX)),
        key: Set(key.to_owned()),
        entity_id: Set(entity_id),
        action: Set(if before.is_some() { "UPDATE" } else { "CREATE" }.to_owned()),
        before: Set(before),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A run as the API shows it.
pub fn run_to_wire(m: &import_run::Model) -> ImportRun {
    let as_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
    ImportRun {
        id: m.id,
        kind: m.kind.parse().unwrap_or(ImportKind::Users),
        mode: if m.mode == "apply" {
            ImportMode::Apply
        } else {
            ImportMode::Plan
        },
        status: m.status.parse().unwrap_or(ImportStatus::Failed),
        file_name: m.file_name.clone(),
        actor_id: m.actor_id,
        counts: ImportCounts {
            total: as_u64(m.total_rows),
            create: as_u64(m.created),
            update: as_u64(m.updated),
            unchanged: as_u64(m.unchanged),
            error: as_u64(m.failed),
            skipped: as_u64(m.skipped),
        },
        stopped: m.stopped,
        file_error: m.file_error.clone(),
        created_at: m.created_at,
        reverted_at: m.reverted_at,
    }
}

/// Finds a run, or 404.
pub async fn find_run(db: &impl ConnectionTrait, id: Uuid) -> Result<import_run::Model, ApiError> {
    import_run::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("Import not found".into()))
}

/// Undoes an applied run in one transaction: created rows are deleted (or deactivated
/// when something else now refers to them), updated rows get their before-image back.
pub async fn revert(state: &AppState, id: Uuid, actor: Uuid) -> Result<RevertedImport, ApiError> {
    let txn = crate::store::db::begin_write(&state.db).await?;
    let run = find_run(&txn, id).await?;
    if run.mode != "apply" {
        return Err(ApiError::Unprocessable(
            "This import was a plan; it wrote nothing to revert".into(),
        ));
    }
    // Claim the run first: of two concurrent reverts exactly one gets past this.
    let now = Utc::now();
    let claimed = import_run::Entity::update_many()
        .col_expr(
            import_run::Column::Status,
            sea_orm::sea_query::Expr::value(ImportStatus::Reverted.as_str()),
        )
        .col_expr(
            import_run::Column::RevertedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            import_run::Column::RevertedBy,
            sea_orm::sea_query::Expr::value(actor),
        )
        .col_expr(
            import_run::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(import_run::Column::Id.eq(id))
        .filter(import_run::Column::RevertedAt.is_null())
        .filter(import_run::Column::Status.ne(ImportStatus::Running.as_str()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ApiError::Conflict {
            field: Some("status".into()),
            message: if run.reverted_at.is_some() {
                "This import was already reverted".into()
            } else {
                "This import is still running".into()
            },
        });
    }
    let changes = import_change::Entity::find()
        .filter(import_change::Column::RunId.eq(id))
        .order_by_desc(import_change::Column::Line)
        .all(&txn)
        .await?;
    let mut outcome = RevertOutcome::default();
    let kind: ImportKind = run.kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    for change in &changes {
        match kind {
            ImportKind::Users => users::revert_change(&txn, change, &mut outcome).await?,
            ImportKind::Courses => courses::revert_change(&txn, change, &mut outcome).await?,
            ImportKind::Enrollments => {
                enrollments::revert_change(&txn, change, &mut outcome).await?
            }
        }
    }
    if !outcome.recount.is_empty() {
        catalogue::lock_courses(&txn, &outcome.recount).await?;
        for course_id in &outcome.recount {
            recount_students(&txn, *course_id).await?;
        }
    }
    txn.commit().await?;
    let run = find_run(&state.db, id).await?;
    Ok(RevertedImport {
        run: run_to_wire(&run),
        deleted: outcome.deleted,
        deactivated: outcome.deactivated,
        restored: outcome.restored,
    })
}

/// Tally of a revert.
#[derive(Debug, Default)]
pub struct RevertOutcome {
    pub deleted: u64,
    pub deactivated: u64,
    pub restored: u64,
    /// Courses whose enrollments went with a deleted user: recounted, under their
    /// locks taken together in id order, once every change is undone.
    pub recount: BTreeSet<Uuid>,
}

/// Serialises one answer line.
pub fn line_bytes(line: &ImportLine) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(format: Format, chunks: &[&[u8]]) -> Vec<(u64, String, bool)> {
        let mut s = Splitter::new(format);
        let mut out = VecDeque::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        out.into_iter()
            .map(|r| {
                (
                    r.line,
                    String::from_utf8_lossy(&r.bytes).into_owned(),
                    r.too_long,
                )
            })
            .collect()
    }

    #[test]
    fn records_keep_their_starting_line_across_chunks_and_quoted_newlines() {
        let got = split(Format::Csv, &[b"\xEF\xBB\xBFa,b\r\n1,\"x", b"\ny\"\n\n2,z"]);
        assert_eq!(
            got,
            vec![
                (1, "a,b".into(), false),
                (2, "1,\"x\ny\"".into(), false),
                (5, "2,z".into(), false),
            ]
        );
    }

    #[test]
    fn an_over_long_line_is_reported_and_the_next_line_still_read() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let got = split(Format::Csv, &[b"h\n", &long, b"\"\nok\n"]);
        assert_eq!(got[0], (1, "h".into(), false));
        assert_eq!(got[1], (2, String::new(), true));
        assert_eq!(got[2], (3, "ok".into(), false));
    }

    #[test]
    fn non_utf8_fields_are_named() {
        let err = csv_fields(b"a,\xff").unwrap_err();
        assert!(err.message.contains("UTF-8"), "{err:?}");
    }
}
