//! Outgoing webhooks: the endpoints admins register, the durable outbox of deliveries
//! (one row per event and endpoint, written with the consumer's cursor advance), and
//! every attempt. The consumer's cursor is a row of `notification_cursor` named
//! `webhooks`, started after the events that already exist.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, integer_null, json, string_len,
    string_len_null, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid, uuid_null,
};

use super::{cascade, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(WebhookEndpoints::Table)
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(string_len_null(WebhookEndpoints::Description, 200))
                    .col(string_len(WebhookEndpoints::Secret, 100))
                    .col(json(WebhookEndpoints::Events))
                    .col(boolean(WebhookEndpoints::Active))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::DisabledAt))
                    .col(text_null(WebhookEndpoints::DisabledReason))
                    .col(integer(WebhookEndpoints::ConsecutiveFailures).default(0))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::FailingSince,
                    ))
                    .col(uuid_null(WebhookEndpoints::CreatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(big_integer_null(WebhookDeliveries::EventSeq))
                    .col(uuid_null(WebhookDeliveries::EventId))
                    .col(string_len(WebhookDeliveries::EventType, 64))
                    .col(text(WebhookDeliveries::Body))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer(WebhookDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::NextAttemptAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookDeliveries::GiveUpAt))
                    .col(uuid_null(WebhookDeliveries::ClaimedBy))
                    .col(uuid_null(WebhookDeliveries::ClaimToken))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::LeaseUntil))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .foreign_key(&mut cascade(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::EndpointId,
                        WebhookEndpoints::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            WebhookDeliveries::Table,
            "idx_webhook_deliveries_due",
            [WebhookDeliveries::Status, WebhookDeliveries::NextAttemptAt],
        )
        .await?;
        index(
            manager,
            WebhookDeliveries::Table,
            "idx_webhook_deliveries_endpoint",
            [WebhookDeliveries::EndpointId, WebhookDeliveries::CreatedAt],
        )
        .await?;
        manager
            .create_table(
                table(WebhookAttempts::Table)
                    .col(uuid(WebhookAttempts::DeliveryId))
                    .col(integer(WebhookAttempts::Attempt))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(text_null(WebhookAttempts::Error))
                    .col(big_integer(WebhookAttempts::LatencyMs))
                    .col(timestamp_with_time_zone(WebhookAttempts::At))
                    .foreign_key(&mut cascade(
                        WebhookAttempts::Table,
                        WebhookAttempts::DeliveryId,
                        WebhookDeliveries::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            WebhookAttempts::Table,
            "idx_webhook_attempts_delivery",
            [WebhookAttempts::DeliveryId, WebhookAttempts::Attempt],
        )
        .await?;
        // The consumer starts after the events that already exist: endpoints registered
        // from now on receive what happens from now on.
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
                    .expr(Expr::val("webhooks"))
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
        manager.get_connection().execute(&insert).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute(
                &Query::delete()
                    .from_table(NotificationCursor::Table)
                    .and_where(Expr::col(NotificationCursor::Name).eq("webhooks"))
                    .to_owned(),
            )
            .await?;
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Url,
    Description,
    /// `whsec_` + base64 of 32 random bytes; the HMAC key is the decoded bytes.
    Secret,
    /// A JSON list of event type names (`*`: all).
    Events,
    Active,
    DisabledAt,
    DisabledReason,
    /// Failed attempts since the last 2xx.
    ConsecutiveFailures,
    /// The first failed attempt since the last 2xx.
    FailingSince,
    CreatedBy,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    EndpointId,
    /// The domain event's `seq` (none for a test ping).
    EventSeq,
    EventId,
    EventType,
    /// The JSON body exactly as signed and sent on every attempt.
    Body,
    /// PENDING, DELIVERED or FAILED.
    Status,
    Attempts,
    NextAttemptAt,
    /// Retries stop after this (the retry window from creation or a resend).
    GiveUpAt,
    /// The instance delivering it, until `lease_until`.
    ClaimedBy,
    /// The claim that took it (one UPDATE claims a batch).
    ClaimToken,
    LeaseUntil,
    LastStatusCode,
    LastError,
    DeliveredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    DeliveryId,
    Attempt,
    StatusCode,
    Error,
    LatencyMs,
    At,
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
