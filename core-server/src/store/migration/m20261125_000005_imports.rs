//! Bulk-import runs and the before-image of every row they wrote, so a run can be undone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{cascade, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(ImportRuns::Table)
                    .col(string_len(ImportRuns::Kind, 16))
                    .col(string_len(ImportRuns::Mode, 8))
                    .col(string_len(ImportRuns::Status, 16))
                    .col(string_len_null(ImportRuns::FileName, 255))
                    .col(uuid_null(ImportRuns::ActorId))
                    .col(big_integer(ImportRuns::TotalRows))
                    .col(big_integer(ImportRuns::Created))
                    .col(big_integer(ImportRuns::Updated))
                    .col(big_integer(ImportRuns::Unchanged))
                    .col(big_integer(ImportRuns::Failed))
                    .col(big_integer(ImportRuns::Skipped))
                    .col(boolean(ImportRuns::Stopped))
                    .col(text_null(ImportRuns::FileError))
                    .col(timestamp_with_time_zone_null(ImportRuns::RevertedAt))
                    .col(uuid_null(ImportRuns::RevertedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_import_runs_created_at")
                    .table(ImportRuns::Table)
                    .col(Alias::new("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table(ImportChanges::Table)
                    .col(uuid(ImportChanges::RunId))
                    .col(big_integer(ImportChanges::Line))
                    .col(string_len(ImportChanges::Key, 255))
                    .col(uuid(ImportChanges::EntityId))
                    .col(string_len(ImportChanges::Action, 8))
                    .col(json_null(ImportChanges::Before))
                    .foreign_key(&mut cascade(
                        ImportChanges::Table,
                        ImportChanges::RunId,
                        ImportRuns::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_import_changes_run_id")
                    .table(ImportChanges::Table)
                    .col(ImportChanges::RunId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ImportChanges::Table.into_iden(),
            ImportRuns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ImportRuns {
    Table,
    Kind,
    Mode,
    Status,
    FileName,
    ActorId,
    TotalRows,
    Created,
    Updated,
    Unchanged,
    Failed,
    Skipped,
    Stopped,
    FileError,
    RevertedAt,
    RevertedBy,
}

#[derive(DeriveIden)]
enum ImportChanges {
    Table,
    RunId,
    Line,
    Key,
    EntityId,
    Action,
    Before,
}
