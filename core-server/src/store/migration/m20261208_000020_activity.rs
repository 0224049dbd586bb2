//! Activity and analytics: the append-only activity log (one row per thing a user did:
//! signed in, spent time on a lesson, submitted a test…), the daily roll-ups dashboards
//! read instead of it, and two cursors in `notification_cursor`: `activity` (domain
//! events turned into activity, started after the events that exist) and `rollup` (the
//! last activity id the roll-ups have read).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, date, integer, integer_null, string_len, timestamp_with_time_zone,
    uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Narrow on purpose: a school writes millions of these. No foreign keys: the log
        // outlives what it mentions and an insert checks nothing but its key.
        manager
            .create_table(
                Table::create()
                    .table(Activity::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Activity::Id))
                    .col(uuid(Activity::UserId))
                    .col(uuid(Activity::Key))
                    .col(string_len(Activity::Kind, 24))
                    .col(uuid_null(Activity::CourseId))
                    .col(uuid_null(Activity::LessonId))
                    .col(integer(Activity::Seconds).default(0))
                    .col(integer_null(Activity::Score))
                    .col(timestamp_with_time_zone(Activity::OccurredAt))
                    .col(timestamp_with_time_zone(Activity::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_activity_user_key")
                    .table(Activity::Table)
                    .col(Activity::UserId)
                    .col(Activity::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_occurred")
                    .table(Activity::Table)
                    .col(Activity::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_user_kind")
                    .table(Activity::Table)
                    .col(Activity::UserId)
                    .col(Activity::Kind)
                    .col(Activity::OccurredAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DailyStats::Table)
                    .if_not_exists()
                    .col(date(DailyStats::Day))
                    .col(string_len(DailyStats::Scope, 16))
                    .col(uuid(DailyStats::Subject))
                    .col(uuid(DailyStats::Object))
                    .col(string_len(DailyStats::Metric, 24))
                    .col(big_integer(DailyStats::Value))
                    .primary_key(
                        Index::create()
                            .col(DailyStats::Day)
                            .col(DailyStats::Scope)
                            .col(DailyStats::Subject)
                            .col(DailyStats::Object)
                            .col(DailyStats::Metric),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_daily_stats_subject")
                    .table(DailyStats::Table)
                    .col(DailyStats::Scope)
                    .col(DailyStats::Subject)
                    .col(DailyStats::Metric)
                    .col(DailyStats::Day)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_daily_stats_object")
                    .table(DailyStats::Table)
                    .col(DailyStats::Scope)
                    .col(DailyStats::Object)
                    .col(DailyStats::Metric)
                    .col(DailyStats::Day)
                    .col(DailyStats::Subject)
                    .col(DailyStats::Value)
                    .to_owned(),
            )
            .await?;

        // Reads the dashboards make that the older tables had no index for: a lesson's
        // completions (the funnel), a student's attempts (their dashboard).
        manager
            .create_index(
                Index::create()
                    .name("idx_lesson_progress_lesson")
                    .table(LessonProgress::Table)
                    .col(LessonProgress::LessonId)
                    .col(LessonProgress::Completed)
                    .col(LessonProgress::EnrollmentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_test_attempts_student")
                    .table(TestAttempts::Table)
                    .col(TestAttempts::StudentId)
                    .to_owned(),
            )
            .await?;

        let now = chrono::Utc::now();
        for (name, from_events) in [("activity", true), ("rollup", false)] {
            let insert = Query::insert()
                .into_table(NotificationCursor::Table)
                .columns([
                    NotificationCursor::Name,
                    NotificationCursor::EventSeq,
                    NotificationCursor::LastNotificationId,
                    NotificationCursor::CreatedAt,
                    NotificationCursor::UpdatedAt,
                ])
                .values_panic([
                    Expr::val(name),
                    Expr::val(0i64),
                    Expr::val(0i64),
                    Expr::val(now),
                    Expr::val(now),
                ])
                .to_owned();
            manager.get_connection().execute(&insert).await?;
            if from_events {
                let advance = Query::update()
                    .table(NotificationCursor::Table)
                    .value(
                        NotificationCursor::EventSeq,
                        Expr::expr(
                            Query::select()
                                .expr(Func::coalesce([
                                    Expr::col(DomainEvents::Seq).max(),
                                    Expr::val(0i64),
                                ]))
                                .from(DomainEvents::Table)
                                .take(),
                        ),
                    )
                    .and_where(Expr::col(NotificationCursor::Name).eq(name))
                    .to_owned();
                manager.get_connection().execute(&advance).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute(
                &Query::delete()
                    .from_table(NotificationCursor::Table)
                    .and_where(Expr::col(NotificationCursor::Name).is_in(["activity", "rollup"]))
                    .to_owned(),
            )
            .await?;
        for (table, index) in [
            (TestAttempts::Table.into_iden(), "idx_test_attempts_student"),
            (
                LessonProgress::Table.into_iden(),
                "idx_lesson_progress_lesson",
            ),
        ] {
            manager
                .drop_index(Index::drop().name(index).table(table).to_owned())
                .await?;
        }
        for table in [DailyStats::Table.into_iden(), Activity::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Activity {
    Table,
    Id,
    UserId,
    /// Unique per user: the heartbeat's or imported row's id, the domain event's id, the
    /// session's id, so a retry never counts twice.
    Key,
    /// An `ActivityKind`.
    Kind,
    CourseId,
    LessonId,
    Seconds,
    /// A test's score in percent.
    Score,
    OccurredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DailyStats {
    Table,
    /// The UTC day.
    Day,
    /// SCHOOL, COURSE, LESSON, STUDENT or USER.
    Scope,
    /// The course, lesson, student or user (nil for the school).
    Subject,
    /// The lesson's course, or the student's course (nil when none).
    Object,
    Metric,
    Value,
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
enum LessonProgress {
    Table,
    LessonId,
    Completed,
    EnrollmentId,
}

#[derive(DeriveIden)]
enum TestAttempts {
    Table,
    StudentId,
}
