//! One bulk-import run: who ran which file, in which mode, and what came of each row.

use sea_orm::entity::prelude::*;

pub use crate::api::{ImportKind, ImportMode, ImportStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `users` or `courses`.
    pub kind: ImportKind,
    /// `plan` or `apply`.
    pub mode: ImportMode,
    /// RUNNING, PLANNED, APPLIED, FAILED, REVERTED or INTERRUPTED.
    pub status: ImportStatus,
    pub file_name: Option<String>,
    pub actor_id: Option<Uuid>,
    pub total_rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub skipped: i64,
    /// `maxErrors` was reached and the rest of the file skipped.
    pub stopped: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub file_error: Option<String>,
    pub reverted_at: Option<DateTimeUtc>,
    pub reverted_by: Option<Uuid>,
    /// The server process running it (`Realtime::instance`); while RUNNING, the owner
    /// refreshes `updated_at` as its heartbeat.
    pub owner_instance: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
