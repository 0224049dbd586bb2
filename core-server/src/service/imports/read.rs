//! Reading an import file: [`Splitter`] cuts the body into records (CSV quoting aware,
//! [`MAX_LINE_BYTES`] per record at most) a chunk at a time, a header is checked against
//! a kind's [`Columns`], and [`to_row`] turns a record into a [`Row`] of values by column.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use crate::api::FieldError;

/// The longest record (line) accepted.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

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
