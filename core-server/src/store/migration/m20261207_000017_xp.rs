//! XP as a ledger: one row per award and cause (`lesson:<id>`, `test-pass:<id>`, …), so
//! a retry, a regrade or a re-import never awards twice, and a leaderboard is one
//! grouped query over it. Students who hide from leaderboards are listed apart.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, string_len, timestamp_with_time_zone, uuid, uuid_null};

use super::{cascade, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(XpAwards::Table)
                    .col(uuid(XpAwards::UserId))
                    .col(string_len(XpAwards::Cause, 120))
                    .col(string_len(XpAwards::Kind, 32))
                    .col(integer(XpAwards::Points))
                    .col(uuid_null(XpAwards::CourseId))
                    .col(timestamp_with_time_zone(XpAwards::AwardedAt))
                    .foreign_key(&mut cascade(
                        XpAwards::Table,
                        XpAwards::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_xp_awards_user_cause")
                    .table(XpAwards::Table)
                    .col(XpAwards::UserId)
                    .col(XpAwards::Cause)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            XpAwards::Table,
            "idx_xp_awards_course_awarded",
            [XpAwards::CourseId, XpAwards::AwardedAt],
        )
        .await?;
        index(
            manager,
            XpAwards::Table,
            "idx_xp_awards_awarded",
            [XpAwards::AwardedAt],
        )
        .await?;
        manager
            .create_table(
                table(LeaderboardOptOuts::Table)
                    .col(uuid(LeaderboardOptOuts::UserId).unique_key())
                    .foreign_key(&mut cascade(
                        LeaderboardOptOuts::Table,
                        LeaderboardOptOuts::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LeaderboardOptOuts::Table.into_iden(),
            XpAwards::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum XpAwards {
    Table,
    UserId,
    /// What earned it, once per user: `lesson:<id>`, `course:<id>`, `test-pass:<id>`,
    /// `test-perfect:<id>`, `answer-accepted:<id>`, `class:<id>`, `day:<YYYY-MM-DD>`.
    Cause,
    /// The rule (`LESSON_COMPLETED`, …).
    Kind,
    Points,
    /// The course it counts for on a course's leaderboard (none for a daily streak).
    CourseId,
    AwardedAt,
}

#[derive(DeriveIden)]
enum LeaderboardOptOuts {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
