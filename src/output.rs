//! Rendering: a table on a terminal, tab-separated lines when piped, `--json` and
//! `--csv` always. Decided once, from the flags and whether stdout is a terminal.
//! [`json`]: `--json FIELDS` and `--jq EXPR`.

pub mod json;

use std::io::{IsTerminal, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ClientError;
pub use json::{JsonOptions, fields_of};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table with headers (stdout is a terminal).
    Table,
    /// Tab-separated rows without headers (stdout is piped), like `gh`.
    Plain,
    Json,
    Csv,
}

/// Printing decisions for one run.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    pub quiet: bool,
    pub color: bool,
    /// The fields and jq expression of `--json FIELDS` / `--jq EXPR`.
    pub json: JsonOptions,
}

impl Output {
    /// Resolves the format from flags and the terminal, and colour from `--no-color`/`NO_COLOR`.
    /// `json` is `Some` with `--json` or `--jq`.
    pub fn new(json: Option<JsonOptions>, csv: bool, quiet: bool, no_color: bool) -> Self {
        let tty = std::io::stdout().is_terminal();
        let format = if json.is_some() {
            Format::Json
        } else if csv {
            Format::Csv
        } else if tty {
            Format::Table
        } else {
            Format::Plain
        };
        let color = tty && !no_color && std::env::var_os("NO_COLOR").is_none();
        Self {
            format,
            quiet,
            color,
            json: json.unwrap_or_default(),
        }
    }

    /// Renders a list: `items` as JSON (an array, or what `--json FIELDS` and `--jq`
    /// make of it), or `row(item)` under `headers` otherwise.
    pub fn list<T: Serialize + DeserializeOwned>(
        &self,
        items: &[T],
        headers: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) -> Result<String, ClientError> {
        let rows = || -> Vec<Vec<String>> { items.iter().map(&row).collect() };
        match self.format {
            Format::Json => self.json.render(to_value(&items)?, fields_of::<T>(), true),
            Format::Csv => Ok(csv_text(headers, &rows())?),
            Format::Plain => Ok(rows()
                .iter()
                .map(|r| format!("{}\n", r.join("\t")))
                .collect()),
            Format::Table => {
                let rows = rows();
                if rows.is_empty() {
                    return Ok("(none)\n".to_owned());
                }
                Ok(format!("{}\n", table(headers, &rows, self.color)))
            }
        }
    }

    /// Renders one record: JSON (with `--json FIELDS` and `--jq` applied), or
    /// `field: value` lines.
    pub fn record<T: Serialize + DeserializeOwned>(
        &self,
        item: &T,
        fields: &[(&str, String)],
    ) -> Result<String, ClientError> {
        match self.format {
            Format::Json => self.json(item),
            Format::Csv => {
                let headers: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
                Ok(csv_text(
                    &headers,
                    &[fields.iter().map(|(_, v)| v.clone()).collect()],
                )?)
            }
            Format::Plain | Format::Table => {
                let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                Ok(fields
                    .iter()
                    .map(|(k, v)| format!("{k:<width$}  {v}\n"))
                    .collect())
            }
        }
    }

    /// `value` as pretty JSON, through `--json FIELDS` and `--jq`: for commands whose
    /// JSON is not a list or a record of a table (a gradebook, a new token).
    pub fn json<T: Serialize + DeserializeOwned>(&self, value: &T) -> Result<String, ClientError> {
        self.json.render(to_value(value)?, fields_of::<T>(), true)
    }

    /// `value` as one line of NDJSON (`watch --json`), through `--json FIELDS` and
    /// `--jq`; ends with a newline unless jq printed nothing.
    pub fn json_line<T: Serialize + DeserializeOwned>(
        &self,
        value: &T,
    ) -> Result<String, ClientError> {
        self.json.render(to_value(value)?, fields_of::<T>(), false)
    }

    /// A human message (not data) on stderr, unless `--quiet` or printing JSON/CSV.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprint_line(text);
        }
    }
}

/// "1 enrolled student" / "3 enrolled students": who a publish or an archive notifies.
pub fn enrolled_students(n: i64) -> String {
    if n == 1 {
        "1 enrolled student".to_owned()
    } else {
        format!("{n} enrolled students")
    }
}

/// Writes `text` to stdout and flushes it. The one way the client prints data
/// (`print!` is denied crate-wide): a reader that went away (`edupro users list | head
/// -2`) comes back as an `io::ErrorKind::BrokenPipe` error, which `cli::run` turns
/// into a quiet exit instead of `print!`'s panic.
pub fn print(text: impl AsRef<str>) -> std::io::Result<()> {
    print_bytes(text.as_ref().as_bytes())
}

/// [`print`] for bytes (a man page, a completion script).
pub fn print_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}

/// One line on stderr. Errors are ignored: a closed stderr must not turn a message
/// into a panic (`eprintln!` would), and there is nowhere left to report it.
pub fn eprint_line(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

fn to_value(value: &impl Serialize) -> Result<serde_json::Value, ClientError> {
    Ok(serde_json::to_value(value).map_err(anyhow::Error::from)?)
}

fn table(headers: &[&str], rows: &[Vec<String>], color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.to_vec());
    if !color {
        table.force_no_tty();
    }
    for row in rows {
        table.add_row(row.clone());
    }
    table
}

/// CSV with a header row. Cells starting with `= + - @` (or tab/CR) get a leading `'`
/// so a spreadsheet never runs them as formulas.
pub fn csv_text(headers: &[&str], rows: &[Vec<String>]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers)?;
    for row in rows {
        writer.write_record(row.iter().map(|cell| escape_formula(cell)))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn escape_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_look_like_formulas_are_escaped() {
        let text = csv_text(
            &["name"],
            &[
                vec!["=HYPERLINK(\"x\")".into()],
                vec!["Ada".into()],
                vec!["-3".into()],
            ],
        )
        .unwrap();
        assert_eq!(text, "name\n\"'=HYPERLINK(\"\"x\"\")\"\nAda\n'-3\n");
    }

    #[test]
    fn plain_output_is_tab_separated_without_headers() {
        let out = Output {
            format: Format::Plain,
            quiet: false,
            color: false,
            json: JsonOptions::default(),
        };
        let text = out
            .list(&[1, 2], &["n"], |n| vec![n.to_string(), "x".into()])
            .unwrap();
        assert_eq!(text, "1\tx\n2\tx\n");
    }

    #[test]
    fn student_counts_read_as_english() {
        assert_eq!(enrolled_students(0), "0 enrolled students");
        assert_eq!(enrolled_students(1), "1 enrolled student");
        assert_eq!(enrolled_students(42), "42 enrolled students");
    }

    #[test]
    fn an_empty_table_says_so() {
        let out = Output {
            format: Format::Table,
            quiet: false,
            color: false,
            json: JsonOptions::default(),
        };
        assert_eq!(out.list::<u8>(&[], &["n"], |_| vec![]).unwrap(), "(none)\n");
    }
}
