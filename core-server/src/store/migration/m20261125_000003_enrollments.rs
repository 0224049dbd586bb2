//! Enrollments and what hangs off them: per-lesson progress, batches (cohorts) of a
//! course, and the domain events every change of them (and of a course's status) writes.
//!
//! A student is in at most one batch of a course, so membership is
//! `enrollments.batch_id` (no join table): a seat is an enrollment row.

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
                table(Batches::Table)
                    .col(uuid(Batches::CourseId))
                    .col(string_len(Batches::Name, 200))
                    .col(integer_null(Batches::Capacity))
                    .col(date_null(Batches::StartsOn))
                    .col(date_null(Batches::EndsOn))
                    .foreign_key(&mut cascade(
                        Batches::Table,
                        Batches::CourseId,
                        Courses::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            Batches::Table,
            "uq_batches_course_name",
            [Batches::CourseId, Batches::Name],
        )
        .await?;

        manager
            .create_table(
                table(Enrollments::Table)
                    .col(uuid(Enrollments::CourseId))
                    .col(uuid(Enrollments::StudentId))
                    .col(string_len(Enrollments::Status, 16))
                    .col(timestamp_with_time_zone(Enrollments::EnrolledAt))
                    .col(timestamp_with_time_zone_null(Enrollments::CompletedAt))
                    .col(timestamp_with_time_zone_null(Enrollments::ExpiresAt))
                    .col(integer(Enrollments::ProgressPercent))
                    .col(timestamp_with_time_zone_null(Enrollments::LastAccessedAt))
                    .col(uuid_null(Enrollments::BatchId))
                    .foreign_key(&mut cascade(
                        Enrollments::Table,
                        Enrollments::CourseId,
                        Courses::Table,
                    ))
                    .foreign_key(&mut cascade(
                        Enrollments::Table,
                        Enrollments::StudentId,
                        Users::Table,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enrollments::Table, Enrollments::BatchId)
                            .to(Batches::Table, Common::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            Enrollments::Table,
            "uq_enrollments_pair",
            [Enrollments::CourseId, Enrollments::StudentId],
        )
        .await?;
        index(
            manager,
            Enrollments::Table,
            "idx_enrollments_student",
            [Enrollments::StudentId],
        )
        .await?;
        index(
            manager,
            Enrollments::Table,
            "idx_enrollments_course_status",
            [Enrollments::CourseId, Enrollments::Status],
        )
        .await?;
        index(
            manager,
            Enrollments::Table,
            "idx_enrollments_batch",
            [Enrollments::BatchId],
        )
        .await?;

        manager
            .create_table(
                table(LessonProgress::Table)
                    .col(uuid(LessonProgress::EnrollmentId))
                    .col(uuid(LessonProgress::LessonId))
                    .col(boolean(LessonProgress::Completed))
                    .col(timestamp_with_time_zone_null(LessonProgress::CompletedAt))
                    .col(big_integer(LessonProgress::TimeSpentSeconds))
                    .col(integer(LessonProgress::XpEarned))
                    .foreign_key(&mut cascade(
                        LessonProgress::Table,
                        LessonProgress::EnrollmentId,
                        Enrollments::Table,
                    ))
                    .foreign_key(&mut cascade(
                        LessonProgress::Table,
                        LessonProgress::LessonId,
                        Lessons::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            LessonProgress::Table,
            "uq_lesson_progress_pair",
            [LessonProgress::EnrollmentId, LessonProgress::LessonId],
        )
        .await?;

        // `seq` is the consumers' cursor: assigned in commit order (see `events.rs`).
        manager
            .create_table(
                Table::create()
                    .table(DomainEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DomainEvents::Seq))
                    .col(uuid_uniq(Common::Id))
                    .col(string_len(DomainEvents::Kind, 64))
                    .col(json(DomainEvents::Payload))
                    .col(timestamp_with_time_zone(Common::CreatedAt))
                    .col(timestamp_with_time_zone(Common::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            DomainEvents::Table,
            "idx_domain_events_kind",
            [DomainEvents::Kind],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DomainEvents::Table.into_iden(),
            LessonProgress::Table.into_iden(),
            Enrollments::Table.into_iden(),
            Batches::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn unique<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).unique().to_owned();
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

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
}

#[derive(DeriveIden)]
enum Lessons {
    Table,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    CourseId,
    Name,
    /// Seats; `NULL` is unlimited.
    Capacity,
    StartsOn,
    EndsOn,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    CourseId,
    StudentId,
    /// ACTIVE, COMPLETED, EXPIRED or CANCELLED.
    Status,
    EnrolledAt,
    CompletedAt,
    ExpiresAt,
    /// 0–100: completed published lessons over published lessons, rounded down.
    ProgressPercent,
    LastAccessedAt,
    BatchId,
}

#[derive(DeriveIden)]
enum LessonProgress {
    Table,
    EnrollmentId,
    LessonId,
    Completed,
    CompletedAt,
    TimeSpentSeconds,
    /// XP given for this lesson (once, on its first completion), so toggling can't farm.
    XpEarned,
}

#[derive(DeriveIden)]
enum DomainEvents {
    Table,
    Seq,
    Kind,
    Payload,
}
