//! The catalogue's listing index: `GET /courses` for anonymous callers and students is
//! `WHERE status = 'PUBLISHED' ORDER BY created_at DESC, id DESC LIMIT n`. With an
//! index on `status` alone every published course was read and sorted per request; with
//! `(status, created_at, id)` the first page is the index's first rows.

use sea_orm_migration::prelude::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_courses_status_created_at_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            Courses::Table,
            NAME,
            [Courses::Status, Courses::CreatedAt, Courses::Id],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Courses::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Status,
    CreatedAt,
    Id,
}
