//! Bulk import: the NDJSON lines `POST /imports/{kind}` streams back (one per row, then a
//! summary), and the recorded runs of `GET /imports`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldError, Pagination};

/// What a file imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Users,
    Courses,
    Enrollments,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Courses => "courses",
            Self::Enrollments => "enrollments",
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "users" => Ok(Self::Users),
            "courses" => Ok(Self::Courses),
            "enrollments" => Ok(Self::Enrollments),
            _ => Err(format!(
                "`{s}` is not an import kind; use users, courses or enrollments"
            )),
        }
    }
}

/// `plan` reports what would happen and writes nothing; `apply` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    #[default]
    Plan,
    Apply,
}

impl ImportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Apply => "apply",
        }
    }
}

impl FromStr for ImportMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plan" => Ok(Self::Plan),
            "apply" => Ok(Self::Apply),
            _ => Err(format!("`{s}` is not an import mode; use plan or apply")),
        }
    }
}

/// What happened (or, in a plan, would happen) to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RowOutcome {
    Create,
    Update,
    Unchanged,
    Error,
    /// Not looked at: `maxErrors` was reached in this row's batch or before it.
    Skipped,
}

impl RowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Unchanged => "unchanged",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }
}

/// One row's outcome. `line` is the file's line number where the row starts (the
/// header is line 1 of a CSV file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportRow {
    pub line: u64,
    /// The row's external id (`user_id`, `course_id`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub outcome: RowOutcome,
    /// The fields an update changes (file column names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportCounts {
    pub total: u64,
    pub create: u64,
    pub update: u64,
    pub unchanged: u64,
    pub error: u64,
    pub skipped: u64,
}

impl ImportCounts {
    /// Counts one row.
    pub fn add(&mut self, outcome: RowOutcome) {
        self.total += 1;
        match outcome {
            RowOutcome::Create => self.create += 1,
            RowOutcome::Update => self.update += 1,
            RowOutcome::Unchanged => self.unchanged += 1,
            RowOutcome::Error => self.error += 1,
            RowOutcome::Skipped => self.skipped += 1,
        }
    }
}

/// The last line of an import answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// The recorded run (`GET /imports/{id}`, `POST /imports/{id}/revert`).
    pub import_id: Uuid,
    pub kind: ImportKind,
    pub mode: ImportMode,
    pub counts: ImportCounts,
    /// `maxErrors` was reached; the rest of the file was skipped.
    pub stopped: bool,
    /// A problem with the file as a whole that ended the import early (a body over the
    /// limit, a broken upload). Rows already answered stand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_error: Option<String>,
}

/// One line of the NDJSON answer of `POST /imports/{kind}`: a `row` per input row, in
/// file order, then exactly one `summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ImportLine {
    Row(ImportRow),
    Summary(ImportSummary),
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportStatus {
    /// Still reading the file.
    Running,
    /// A plan: nothing was written.
    Planned,
    /// Written (possibly with failed rows).
    Applied,
    /// Ended by a file error; the batches before it were written.
    Failed,
    /// Undone by `POST /imports/{id}/revert`.
    Reverted,
    /// Its server stopped (a crash, a kill) before the file was read to the end. The
    /// batches written before it stay, with their before-images: it can be reverted, or
    /// the file imported again (rows already written report `unchanged`).
    Interrupted,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Planned => "PLANNED",
            Self::Applied => "APPLIED",
            Self::Failed => "FAILED",
            Self::Reverted => "REVERTED",
            Self::Interrupted => "INTERRUPTED",
        }
    }
}

impl FromStr for ImportStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Running,
            Self::Planned,
            Self::Applied,
            Self::Failed,
            Self::Reverted,
            Self::Interrupted,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| format!("`{s}` is not an import status"))
    }
}

/// A recorded import run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportRun {
    pub id: Uuid,
    pub kind: ImportKind,
    pub mode: ImportMode,
    pub status: ImportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The admin who ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    pub counts: ImportCounts,
    pub stopped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_at: Option<DateTime<Utc>>,
}

/// A page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportRunList {
    pub imports: Vec<ImportRun>,
    pub pagination: Pagination,
}

/// What `POST /imports/{id}/revert` undid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevertedImport {
    pub run: ImportRun,
    /// Rows created by the run that were deleted.
    pub deleted: u64,
    /// Rows created by the run that are referenced elsewhere, so were deactivated
    /// (users) or archived (courses) instead of deleted.
    pub deactivated: u64,
    /// Rows updated by the run, restored to their before-image.
    pub restored: u64,
}
