//! Doubts: a course's questions (on the course or one lesson), their answers, and one
//! vote per person per post. Counts (`votes`, `answers`) are kept on the rows and
//! changed in the transaction that changes what they count.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, string_len, string_len_null, text, uuid, uuid_null,
};

use super::{cascade, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(Doubts::Table)
                    .col(uuid(Doubts::CourseId))
                    .col(uuid_null(Doubts::LessonId))
                    .col(uuid(Doubts::AuthorId))
                    .col(string_len(Doubts::Title, 200))
                    .col(text(Doubts::Body))
                    .col(string_len_null(Doubts::Link, 2000))
                    .col(string_len(Doubts::Status, 16))
                    .col(uuid_null(Doubts::AcceptedAnswerId))
                    .col(integer(Doubts::Votes).default(0))
                    .col(integer(Doubts::Answers).default(0))
                    .col(boolean(Doubts::Hidden).default(false))
                    .foreign_key(&mut cascade(
                        Doubts::Table,
                        Doubts::CourseId,
                        Courses::Table,
                    ))
                    .foreign_key(&mut cascade(Doubts::Table, Doubts::AuthorId, Users::Table))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Doubts::Table,
            "idx_doubts_course_created",
            [Doubts::CourseId, Doubts::CreatedAt],
        )
        .await?;
        index(
            manager,
            Doubts::Table,
            "idx_doubts_status_created",
            [Doubts::Status, Doubts::CreatedAt],
        )
        .await?;
        manager
            .create_table(
                table(DoubtAnswers::Table)
                    .col(uuid(DoubtAnswers::DoubtId))
                    .col(uuid(DoubtAnswers::AuthorId))
                    .col(text(DoubtAnswers::Body))
                    .col(integer(DoubtAnswers::Votes).default(0))
                    .col(boolean(DoubtAnswers::Hidden).default(false))
                    .foreign_key(&mut cascade(
                        DoubtAnswers::Table,
                        DoubtAnswers::DoubtId,
                        Doubts::Table,
                    ))
                    .foreign_key(&mut cascade(
                        DoubtAnswers::Table,
                        DoubtAnswers::AuthorId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            DoubtAnswers::Table,
            "idx_doubt_answers_doubt",
            [DoubtAnswers::DoubtId, DoubtAnswers::CreatedAt],
        )
        .await?;
        // A vote names a doubt or an answer (UUIDv7s never collide); one per person.
        manager
            .create_table(
                table(DoubtVotes::Table)
                    .col(uuid(DoubtVotes::TargetId))
                    .col(uuid(DoubtVotes::UserId))
                    .foreign_key(&mut cascade(
                        DoubtVotes::Table,
                        DoubtVotes::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_doubt_votes_target_user")
                    .table(DoubtVotes::Table)
                    .col(DoubtVotes::TargetId)
                    .col(DoubtVotes::UserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DoubtVotes::Table.into_iden(),
            DoubtAnswers::Table.into_iden(),
            Doubts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Doubts {
    Table,
    CourseId,
    LessonId,
    AuthorId,
    Title,
    Body,
    Link,
    /// OPEN, ANSWERED or RESOLVED.
    Status,
    AcceptedAnswerId,
    Votes,
    /// Answers not hidden.
    Answers,
    Hidden,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DoubtAnswers {
    Table,
    DoubtId,
    AuthorId,
    Body,
    Votes,
    Hidden,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DoubtVotes {
    Table,
    TargetId,
    UserId,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
