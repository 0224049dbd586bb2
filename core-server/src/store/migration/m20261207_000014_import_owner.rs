//! Which server process runs an import. A run stays RUNNING while its owner is alive
//! (the owner refreshes `updated_at`); a run whose owner stopped heartbeating is marked
//! INTERRUPTED by any live instance, so a crash never leaves a run RUNNING for ever.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::uuid_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportRuns::Table)
                    .add_column(uuid_null(ImportRuns::OwnerInstance))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportRuns::Table)
                    .drop_column(ImportRuns::OwnerInstance)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ImportRuns {
    Table,
    OwnerInstance,
}
