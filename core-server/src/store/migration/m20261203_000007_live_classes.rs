//! Live classes: scheduled sessions of a course (or one of its batches), their
//! attendance, and the per-user tokens of the iCalendar feed.
//!
//! `ends_at` (start + duration) and `remind_at` (start − reminder minutes) are stored so
//! the clash check and the reminder scheduler are plain indexed range queries on both
//! databases.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{cascade, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(LiveClasses::Table)
                    .col(uuid(LiveClasses::CourseId))
                    .col(uuid_null(LiveClasses::BatchId))
                    .col(uuid_null(LiveClasses::SeriesId))
                    .col(uuid(LiveClasses::HostId))
                    .col(string_len(LiveClasses::Title, 200))
                    .col(text_null(LiveClasses::Description))
                    .col(timestamp_with_time_zone(LiveClasses::ScheduledAt))
                    .col(timestamp_with_time_zone(LiveClasses::EndsAt))
                    .col(integer(LiveClasses::DurationMinutes))
                    .col(integer_null(LiveClasses::Capacity))
                    .col(string_len(LiveClasses::Platform, 16))
                    .col(string_len_null(LiveClasses::MeetingUrl, 2048))
                    .col(string_len_null(LiveClasses::MeetingId, 200))
                    .col(string_len_null(LiveClasses::MeetingPassword, 200))
                    .col(string_len(LiveClasses::Status, 16))
                    .col(timestamp_with_time_zone_null(LiveClasses::StartedAt))
                    .col(timestamp_with_time_zone_null(LiveClasses::EndedAt))
                    .col(timestamp_with_time_zone_null(LiveClasses::CancelledAt))
                    .col(integer(LiveClasses::ReminderMinutes))
                    .col(timestamp_with_time_zone(LiveClasses::RemindAt))
                    .col(timestamp_with_time_zone_null(LiveClasses::ReminderSentAt))
                    .col(integer(LiveClasses::Sequence))
                    .col(uuid(LiveClasses::CreatedBy))
                    .foreign_key(&mut cascade(
                        LiveClasses::Table,
                        LiveClasses::CourseId,
                        Courses::Table,
                    ))
                    .foreign_key(&mut cascade(
                        LiveClasses::Table,
                        LiveClasses::BatchId,
                        Batches::Table,
                    ))
                    .foreign_key(&mut cascade(
                        LiveClasses::Table,
                        LiveClasses::HostId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            LiveClasses::Table,
            "idx_live_classes_course_scheduled",
            [LiveClasses::CourseId, LiveClasses::ScheduledAt],
        )
        .await?;
        index(
            manager,
            LiveClasses::Table,
            "idx_live_classes_host_scheduled",
            [LiveClasses::HostId, LiveClasses::ScheduledAt],
        )
        .await?;
        index(
            manager,
            LiveClasses::Table,
            "idx_live_classes_series",
            [LiveClasses::SeriesId],
        )
        .await?;
        index(
            manager,
            LiveClasses::Table,
            "idx_live_classes_remind_at",
            [LiveClasses::RemindAt],
        )
        .await?;

        manager
            .create_table(
                table(LiveClassAttendance::Table)
                    .col(uuid(LiveClassAttendance::LiveClassId))
                    .col(uuid(LiveClassAttendance::UserId))
                    .col(timestamp_with_time_zone(LiveClassAttendance::FirstJoinedAt))
                    .col(timestamp_with_time_zone_null(LiveClassAttendance::InSince))
                    .col(timestamp_with_time_zone_null(LiveClassAttendance::LeftAt))
                    .col(big_integer(LiveClassAttendance::SecondsPresent))
                    .col(integer(LiveClassAttendance::Joins))
                    .foreign_key(&mut cascade(
                        LiveClassAttendance::Table,
                        LiveClassAttendance::LiveClassId,
                        LiveClasses::Table,
                    ))
                    .foreign_key(&mut cascade(
                        LiveClassAttendance::Table,
                        LiveClassAttendance::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_live_class_attendance_pair")
                    .table(LiveClassAttendance::Table)
                    .col(LiveClassAttendance::LiveClassId)
                    .col(LiveClassAttendance::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarFeedTokens::Table)
                    .if_not_exists()
                    .col(uuid(CalendarFeedTokens::UserId).primary_key())
                    .col(string_len_uniq(CalendarFeedTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(CalendarFeedTokens::CreatedAt))
                    .col(timestamp_with_time_zone(CalendarFeedTokens::UpdatedAt))
                    .foreign_key(&mut cascade(
                        CalendarFeedTokens::Table,
                        CalendarFeedTokens::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            CalendarFeedTokens::Table.into_iden(),
            LiveClassAttendance::Table.into_iden(),
            LiveClasses::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LiveClasses {
    Table,
    CourseId,
    /// Set when the class is for one batch (cohort) of the course.
    BatchId,
    /// Occurrences of one weekly series share it.
    SeriesId,
    HostId,
    Title,
    Description,
    ScheduledAt,
    EndsAt,
    DurationMinutes,
    /// Students who may join (distinct); `NULL` is unlimited.
    Capacity,
    /// BUILTIN (a room in our hub), ZOOM, GOOGLE_MEET or CUSTOM.
    Platform,
    MeetingUrl,
    MeetingId,
    MeetingPassword,
    /// SCHEDULED, LIVE, COMPLETED or CANCELLED.
    Status,
    StartedAt,
    EndedAt,
    CancelledAt,
    ReminderMinutes,
    RemindAt,
    /// Set, once, in the transaction that publishes `live_class.starting_soon`.
    ReminderSentAt,
    /// iCalendar SEQUENCE: bumped on every change calendar apps must pick up.
    Sequence,
    CreatedBy,
}

#[derive(DeriveIden)]
enum LiveClassAttendance {
    Table,
    LiveClassId,
    UserId,
    FirstJoinedAt,
    /// When the current stay began; `NULL` while the student is out.
    InSince,
    LeftAt,
    SecondsPresent,
    Joins,
}

#[derive(DeriveIden)]
enum CalendarFeedTokens {
    Table,
    UserId,
    /// SHA-256 of the feed token (the token itself is shown once).
    TokenHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
