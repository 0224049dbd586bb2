//! The mail outbox becomes a durable queue: a message is written in the transaction of
//! what it announces (an account, a code) and delivered later by the drainer, with
//! retries, leases between instances and a record of each attempt. Rows written before
//! (the development outbox) are KEPT: they were never meant to be delivered.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, string_len, text_null, timestamp_with_time_zone_null, uuid_null,
};

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            string_len(OutboxMessages::Status, 16)
                .default("KEPT")
                .to_owned(),
            integer(OutboxMessages::Attempts).default(0).to_owned(),
            timestamp_with_time_zone_null(OutboxMessages::NextAttemptAt),
            uuid_null(OutboxMessages::ClaimedBy),
            timestamp_with_time_zone_null(OutboxMessages::LeaseUntil),
            text_null(OutboxMessages::LastError),
            timestamp_with_time_zone_null(OutboxMessages::SentAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(OutboxMessages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        index(
            manager,
            OutboxMessages::Table,
            "idx_outbox_messages_due",
            [OutboxMessages::Status, OutboxMessages::NextAttemptAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_outbox_messages_due")
                    .table(OutboxMessages::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            OutboxMessages::Status,
            OutboxMessages::Attempts,
            OutboxMessages::NextAttemptAt,
            OutboxMessages::ClaimedBy,
            OutboxMessages::LeaseUntil,
            OutboxMessages::LastError,
            OutboxMessages::SentAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OutboxMessages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedBy,
    LeaseUntil,
    LastError,
    SentAt,
}
