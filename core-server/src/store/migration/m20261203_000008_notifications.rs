//! Notifications (rows first, pushes second), each user's notification preferences, and
//! the cursor of the consumer that turns domain events into notifications.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{cascade, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `id` is assigned by the consumer under its cursor's lock (one global sequence,
        // so increasing per user too, and in commit order): it is the clients' `since`.
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .if_not_exists()
                    .col(big_integer(Notifications::Id).primary_key())
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 48))
                    .col(string_len(Notifications::Title, 255))
                    .col(text(Notifications::Message))
                    .col(json(Notifications::Data))
                    .col(string_len_null(Notifications::ActionUrl, 512))
                    .col(boolean(Notifications::IsRead))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(uuid_null(Notifications::CourseId))
                    .col(uuid_null(Notifications::BatchId))
                    .col(big_integer(Notifications::EventSeq))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone(Notifications::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Notifications::Table,
                        Notifications::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Notifications::Table,
            "idx_notifications_user_id_id",
            [Notifications::UserId, Notifications::Id],
        )
        .await?;
        index(
            manager,
            Notifications::Table,
            "idx_notifications_user_id_is_read",
            [Notifications::UserId, Notifications::IsRead],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationPreferences::Table)
                    .if_not_exists()
                    .col(uuid(NotificationPreferences::UserId).primary_key())
                    .col(json(NotificationPreferences::MutedTypes))
                    .col(string_len_null(NotificationPreferences::QuietStart, 5))
                    .col(string_len_null(NotificationPreferences::QuietEnd, 5))
                    .col(string_len(NotificationPreferences::TimeZone, 64))
                    .col(timestamp_with_time_zone(NotificationPreferences::CreatedAt))
                    .col(timestamp_with_time_zone(NotificationPreferences::UpdatedAt))
                    .foreign_key(&mut cascade(
                        NotificationPreferences::Table,
                        NotificationPreferences::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationCursor::Table)
                    .if_not_exists()
                    .col(string_len(NotificationCursor::Name, 32).primary_key())
                    .col(big_integer(NotificationCursor::EventSeq))
                    .col(big_integer(NotificationCursor::LastNotificationId))
                    .col(timestamp_with_time_zone(NotificationCursor::CreatedAt))
                    .col(timestamp_with_time_zone(NotificationCursor::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Start after the events that already exist: they happened before notifications
        // did, and a first start must not flood every inbox with history.
        let db = manager.get_connection();
        let now = chrono::Utc::now();
        let insert = Query::insert()
            .into_table(NotificationCursor::Table)
            .columns([
                NotificationCursor::Name,
                NotificationCursor::EventSeq,
                NotificationCursor::LastNotificationId,
                NotificationCursor::CreatedAt,
                NotificationCursor::UpdatedAt,
            ])
            .select_from(
                Query::select()
                    .expr(Expr::val("notifications"))
                    .expr(Expr::expr(Func::coalesce([
                        Expr::col(DomainEvents::Seq).max(),
                        Expr::val(0i64),
                    ])))
                    .expr(Expr::val(0i64))
                    .expr(Expr::val(now))
                    .expr(Expr::val(now))
                    .from(DomainEvents::Table)
                    .to_owned(),
            )
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        db.execute(&insert).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            NotificationCursor::Table.into_iden(),
            NotificationPreferences::Table.into_iden(),
            Notifications::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    /// The notification's type (`CLASS_SCHEDULED`…); `type` is a keyword in Rust.
    #[sea_orm(iden = "type")]
    Kind,
    Title,
    Message,
    Data,
    ActionUrl,
    IsRead,
    ReadAt,
    /// Set when the notification is about a course's content: delivery and replay check
    /// that the user still belongs to the course (and batch).
    CourseId,
    BatchId,
    EventSeq,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    UserId,
    MutedTypes,
    QuietStart,
    QuietEnd,
    TimeZone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationCursor {
    Table,
    Name,
    EventSeq,
    LastNotificationId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DomainEvents {
    Table,
    Seq,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
