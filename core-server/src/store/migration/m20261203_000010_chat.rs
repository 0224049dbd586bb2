//! Chat messages of real-time rooms (`live_class:<id>`): persisted before they are
//! pushed, so joiners get the latest ones and anyone may page back through history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{cascade, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatMessages::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ChatMessages::Id))
                    .col(string_len(ChatMessages::Room, 100))
                    .col(uuid(ChatMessages::UserId))
                    .col(string_len(ChatMessages::Author, 250))
                    .col(text(ChatMessages::Body))
                    .col(timestamp_with_time_zone(ChatMessages::CreatedAt))
                    .col(timestamp_with_time_zone(ChatMessages::UpdatedAt))
                    .foreign_key(&mut cascade(
                        ChatMessages::Table,
                        ChatMessages::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            ChatMessages::Table,
            "idx_chat_messages_room_id",
            [ChatMessages::Room, ChatMessages::Id],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ChatMessages::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ChatMessages {
    Table,
    Id,
    /// `kind:id`, as the hub names rooms.
    Room,
    UserId,
    /// The author's name when they wrote it.
    Author,
    Body,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
