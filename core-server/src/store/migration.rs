//! Schema migrations, run at every start. Append-only: a released migration is never
//! edited; a change of schema is a new file.

mod m20261125_000001_accounts;
mod m20261125_000002_catalogue;
mod m20261125_000003_enrollments;
mod m20261125_000004_idempotency;
mod m20261125_000005_imports;
mod m20261203_000007_live_classes;
mod m20261203_000008_notifications;
mod m20261203_000009_tests;
mod m20261203_000010_chat;
mod m20261203_000013_course_listing;
mod m20261207_000014_import_owner;
mod m20261207_000015_mail_queue;
mod m20261207_000016_doubts;
mod m20261207_000017_xp;
mod m20261207_000018_payments;
mod m20261207_000019_webhooks;
mod m20261208_000020_activity;

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{timestamp_with_time_zone, uuid};

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_catalogue::Migration),
            Box::new(m20261125_000003_enrollments::Migration),
            Box::new(m20261125_000004_idempotency::Migration),
            Box::new(m20261125_000005_imports::Migration),
            Box::new(m20261203_000007_live_classes::Migration),
            Box::new(m20261203_000008_notifications::Migration),
            Box::new(m20261203_000009_tests::Migration),
            Box::new(m20261203_000010_chat::Migration),
            Box::new(m20261203_000013_course_listing::Migration),
            Box::new(m20261207_000014_import_owner::Migration),
            Box::new(m20261207_000015_mail_queue::Migration),
            Box::new(m20261207_000016_doubts::Migration),
            Box::new(m20261207_000017_xp::Migration),
            Box::new(m20261207_000018_payments::Migration),
            Box::new(m20261207_000019_webhooks::Migration),
            Box::new(m20261208_000020_activity::Migration),
        ]
    }
}

/// A table with the columns every table has: a UUIDv7 `id` and UTC `created_at`,
/// `updated_at` (set by the application, so both databases store the same values).
fn table<T: IntoIden + 'static>(name: T) -> TableCreateStatement {
    Table::create()
        .table(name)
        .if_not_exists()
        .col(uuid(Common::Id).primary_key())
        .col(timestamp_with_time_zone(Common::CreatedAt))
        .col(timestamp_with_time_zone(Common::UpdatedAt))
        .take()
}

/// A foreign key from `from_table.column` to `to_table.id` that deletes with its parent.
fn cascade(
    from_table: impl IntoIden,
    column: impl IntoIden,
    to_table: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, column)
        .to(to_table, Common::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// A (non-unique) index `name` on `table(columns…)`.
async fn index<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).to_owned();
    for column in columns {
        index.col(column);
    }
    manager.create_index(index).await
}

#[derive(DeriveIden)]
enum Common {
    Id,
    CreatedAt,
    UpdatedAt,
}
