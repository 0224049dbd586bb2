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
    /// A quote opened in this record and never closed: the record was ended before the
    /// next line that reads as a row of its own (or at the end of the file).
    pub unclosed_quote: bool,
}

/// Cuts a byte stream into records, a chunk at a time.
///
/// A quoted CSV value may span lines. A quote that is never closed would swallow the
/// rows after it, so when a quoted value is open at the start of a line and that line
/// reads on its own as a whole row (the header's number of columns, its quotes
/// balanced), the quote is taken as unclosed: the record ends before that line and
/// the line is read as the next row.
#[derive(Debug)]
pub struct Splitter {
    format: Format,
    /// The current record's bytes so far, then whatever follows it.
    buf: Vec<u8>,
    /// Where the next unread physical line starts in `buf` (always a line start).
    scanned: usize,
    /// Inside a quoted value at `scanned`.
    in_quotes: bool,
    /// The line `buf[0]` is on.
    start_line: u64,
    /// The line at `buf[scanned]`.
    line: u64,
    /// Dropping the rest of an over-long line.
    skipping: bool,
    at_start: bool,
    /// The header's number of columns, once the first CSV record is out.
    width: Option<usize>,
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
            width: None,
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
                    unclosed_quote: false,
                });
                // Resume at the next physical line, whatever the quoting said: the
                // scan took every whole line, so that is past the end of `buf`.
                self.in_quotes = false;
                self.buf.clear();
                self.scanned = 0;
                self.skipping = true;
            }
        }
    }

    /// Reads the whole physical lines in `buf` after `scanned`, emitting each record
    /// that ends; `buf` keeps the unfinished record (and any partial line).
    fn scan(&mut self, out: &mut VecDeque<RawRecord>) {
        let mut record_start = 0;
        while let Some(newline) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            let line_end = self.scanned + newline;
            if self.format == Format::Csv {
                let line = self.scanned..line_end;
                if self.in_quotes && self.reads_as_a_row(&self.buf[line.clone()]) {
                    // The open quote was never closed: the record ends before this line.
                    self.emit(record_start, self.scanned - 1, true, out);
                    record_start = self.scanned;
                    self.start_line = self.line;
                    self.in_quotes = false;
                }
                let quotes = self.buf[line].iter().filter(|&&b| b == b'"').count();
                if quotes % 2 == 1 {
                    self.in_quotes = !self.in_quotes;
                }
            }
            self.line += 1;
            self.scanned = line_end + 1;
            if !self.in_quotes {
                self.emit(record_start, line_end, false, out);
                record_start = self.scanned;
                self.start_line = self.line;
            }
        }
        if record_start > 0 {
            self.buf.drain(..record_start);
            self.scanned -= record_start;
        }
    }

    /// Whether `line` alone is a whole row: the header's width, its quotes balanced.
    fn reads_as_a_row(&self, line: &[u8]) -> bool {
        let Some(width) = self.width.filter(|&w| w > 1) else {
            return false;
        };
        line.iter().filter(|&&b| b == b'"').count() % 2 == 0
            && csv_fields(line.strip_suffix(b"\r").unwrap_or(line))
                .is_ok_and(|fields| fields.len() == width)
    }

    fn emit(
        &mut self,
        from: usize,
        to: usize,
        unclosed_quote: bool,
        out: &mut VecDeque<RawRecord>,
    ) {
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
                unclosed_quote: false,
            });
            return;
        }
        if self.format == Format::Csv && self.width.is_none() {
            self.width = Some(csv_fields(bytes).map_or(0, |f| f.len()));
        }
        out.push_back(RawRecord {
            line: self.start_line,
            bytes: bytes.to_vec(),
            too_long: false,
            unclosed_quote,
        });
    }

    /// The body ended: the last record, if it had no final newline; a quote still open
    /// there was never closed.
    pub fn finish(&mut self, out: &mut VecDeque<RawRecord>) {
        if self.at_start {
            self.at_start = false;
            let rest = std::mem::take(&mut self.buf);
            self.push(&rest, out);
        }
        if !self.skipping && !self.buf.is_empty() {
            if self.buf.last() != Some(&b'\n') {
                self.buf.push(b'\n');
                self.scan(out);
            }
            if !self.buf.is_empty() {
                let end = self.buf.len().saturating_sub(1);
                self.emit(0, end, self.in_quotes, out);
            }
        }
        self.in_quotes = false;
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
        let is_known = |raw: &String| {
            self.known
                .contains(&raw.trim().to_ascii_lowercase().as_str())
        };
        if !fields.iter().any(is_known) {
            // Not one column name: a wrong delimiter, or no header row at all.
            let separator = match fields {
                [one] => [';', '\t', '|'].into_iter().find(|d| one.contains(*d)),
                _ => None,
            };
            let message = match separator {
                Some(d) => format!(
                    "line 1 reads as one column: the file looks {}-separated; imports read commas (save it as \"CSV, comma-delimited\")",
                    if d == '\t' {
                        "tab".to_owned()
                    } else {
                        format!("`{d}`")
                    }
                ),
                None => format!(
                    "line 1 names none of the columns this import reads ({}): is the header row missing, or is this another kind of file?",
                    self.known.join(",")
                ),
            };
            return Err(vec![FieldError::new("header", message)]);
        }
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
    if record.unclosed_quote {
        return Err(vec![FieldError::new(
            "line",
            "has a quote (\") that is never closed; close it, or double a quote inside a quoted value (\"\")",
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
    fn an_unclosed_quote_ends_its_record_before_the_next_row_and_is_flagged() {
        let mut s = Splitter::new(Format::Csv);
        let mut out = VecDeque::new();
        s.push(
            b"id,name,role\n1,\"Ann,student\n2,Bob,teacher\n3,\"Cy, Jr\",student\n4,\"multi\nline\",ta\n5,\"Eve",
            &mut out,
        );
        s.finish(&mut out);
        let got: Vec<(u64, String, bool)> = out
            .into_iter()
            .map(|r| {
                (
                    r.line,
                    String::from_utf8_lossy(&r.bytes).into_owned(),
                    r.unclosed_quote,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "id,name,role".into(), false),
                (2, "1,\"Ann,student".into(), true),
                (3, "2,Bob,teacher".into(), false),
                (4, "3,\"Cy, Jr\",student".into(), false),
                (5, "4,\"multi\nline\",ta".into(), false),
                (7, "5,\"Eve".into(), true),
            ]
        );
        let columns = Columns {
            known: &["id", "name", "role"],
            required: &[],
        };
        let record = RawRecord {
            line: 2,
            bytes: b"1,\"Ann,student".to_vec(),
            too_long: false,
            unclosed_quote: true,
        };
        let errors = to_row(Format::Csv, &columns, None, &record).unwrap_err();
        assert!(errors[0].message.contains("never closed"), "{errors:?}");
    }

    #[test]
    fn a_missing_header_or_a_wrong_delimiter_is_named_as_such() {
        let columns = Columns {
            known: &["user_id", "email"],
            required: &[&["email"]],
        };
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let errors = columns.header(&strings(&["u1", "ann@x.test"])).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].message.contains("is the header row missing,"),
            "{errors:?}"
        );
        let errors = columns.header(&strings(&["user_id;email"])).unwrap_err();
        assert!(
            errors[0].message.contains("looks `;`-separated"),
            "{errors:?}"
        );
        let errors = columns.header(&strings(&["user_id\temail"])).unwrap_err();
        assert!(
            errors[0].message.contains("looks tab-separated"),
            "{errors:?}"
        );
        // One known column: the others are named one by one, as before.
        let errors = columns
            .header(&strings(&["email", "nickname"]))
            .unwrap_err();
        assert!(
            errors[0].message.contains("unknown column `nickname`"),
            "{errors:?}"
        );
    }

    #[test]
    fn non_utf8_fields_are_named() {
        let err = csv_fields(b"a,\xff").unwrap_err();
        assert!(err.message.contains("UTF-8"), "{err:?}");
    }
}
