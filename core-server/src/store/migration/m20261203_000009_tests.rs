//! Tests, their questions, students' attempts and answers. Marks are hundredths in
//! BIGINT so sums are exact on both databases.

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
                table(Tests::Table)
                    .col(uuid(Tests::CourseId))
                    .col(uuid_null(Tests::BatchId))
                    .col(string_len(Tests::Title, 200))
                    .col(string_len(Tests::TestType, 16))
                    .col(string_len(Tests::Status, 16))
                    .col(text_null(Tests::Instructions))
                    .col(integer_null(Tests::DurationMinutes))
                    .col(big_integer(Tests::PassingMarks))
                    .col(big_integer(Tests::TotalMarks))
                    .col(timestamp_with_time_zone_null(Tests::AvailableFrom))
                    .col(timestamp_with_time_zone_null(Tests::AvailableUntil))
                    .col(integer(Tests::AttemptsAllowed))
                    .col(boolean(Tests::ShuffleQuestions))
                    .col(boolean(Tests::ShuffleOptions))
                    .col(string_len(Tests::MultipleSelectScoring, 16))
                    .col(boolean(Tests::AllowNegativeTotal))
                    .col(boolean(Tests::ShowResults))
                    .col(string_len(Tests::ShowAnswers, 16))
                    .col(timestamp_with_time_zone_null(Tests::PublishedAt))
                    .col(uuid(Tests::CreatedBy))
                    .foreign_key(&mut cascade(Tests::Table, Tests::CourseId, Courses::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tests::Table, Tests::BatchId)
                            .to(Batches::Table, Common::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, Tests::Table, "idx_tests_course", [Tests::CourseId]).await?;

        manager
            .create_table(
                table(TestQuestions::Table)
                    .col(uuid(TestQuestions::TestId))
                    .col(big_integer(TestQuestions::Position))
                    .col(string_len(TestQuestions::QuestionType, 16))
                    .col(text(TestQuestions::QuestionText))
                    .col(big_integer(TestQuestions::Marks))
                    .col(big_integer(TestQuestions::NegativeMarks))
                    .col(text_null(TestQuestions::Explanation))
                    .col(json(TestQuestions::Options))
                    .col(json(TestQuestions::AcceptedAnswers))
                    .col(double_null(TestQuestions::NumericTolerance))
                    .foreign_key(&mut cascade(
                        TestQuestions::Table,
                        TestQuestions::TestId,
                        Tests::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            TestQuestions::Table,
            "idx_test_questions_test",
            [TestQuestions::TestId, TestQuestions::Position],
        )
        .await?;

        manager
            .create_table(
                table(TestAttempts::Table)
                    .col(uuid(TestAttempts::TestId))
                    .col(uuid(TestAttempts::CourseId))
                    .col(uuid(TestAttempts::StudentId))
                    .col(integer(TestAttempts::Number))
                    .col(string_len(TestAttempts::Status, 16))
                    .col(timestamp_with_time_zone(TestAttempts::StartedAt))
                    .col(timestamp_with_time_zone_null(TestAttempts::Deadline))
                    .col(timestamp_with_time_zone_null(TestAttempts::SubmittedAt))
                    .col(boolean(TestAttempts::AutoSubmitted))
                    .col(big_integer_null(TestAttempts::RawScore))
                    .col(big_integer_null(TestAttempts::Score))
                    .col(integer(TestAttempts::PendingAnswers))
                    .col(timestamp_with_time_zone_null(TestAttempts::GradedAt))
                    .col(big_integer_null(TestAttempts::TimeSpentSeconds))
                    .col(json(TestAttempts::Layout))
                    .foreign_key(&mut cascade(
                        TestAttempts::Table,
                        TestAttempts::TestId,
                        Tests::Table,
                    ))
                    .foreign_key(&mut cascade(
                        TestAttempts::Table,
                        TestAttempts::StudentId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_test_attempts_number")
                    .table(TestAttempts::Table)
                    .col(TestAttempts::TestId)
                    .col(TestAttempts::StudentId)
                    .col(TestAttempts::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            TestAttempts::Table,
            "idx_test_attempts_open",
            [TestAttempts::Status, TestAttempts::Deadline],
        )
        .await?;
        index(
            manager,
            TestAttempts::Table,
            "idx_test_attempts_course",
            [TestAttempts::CourseId, TestAttempts::StudentId],
        )
        .await?;

        manager
            .create_table(
                table(AttemptAnswers::Table)
                    .col(uuid(AttemptAnswers::AttemptId))
                    .col(uuid(AttemptAnswers::QuestionId))
                    .col(uuid(AttemptAnswers::TestId))
                    .col(text(AttemptAnswers::SelectedOptions))
                    .col(text_null(AttemptAnswers::AnswerText))
                    .col(big_integer_null(AttemptAnswers::Marks))
                    .col(string_len_null(AttemptAnswers::Outcome, 16))
                    .col(text_null(AttemptAnswers::Feedback))
                    .col(uuid_null(AttemptAnswers::GradedBy))
                    .col(timestamp_with_time_zone_null(AttemptAnswers::GradedAt))
                    .foreign_key(&mut cascade(
                        AttemptAnswers::Table,
                        AttemptAnswers::AttemptId,
                        TestAttempts::Table,
                    ))
                    .foreign_key(&mut cascade(
                        AttemptAnswers::Table,
                        AttemptAnswers::QuestionId,
                        TestQuestions::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_attempt_answers_pair")
                    .table(AttemptAnswers::Table)
                    .col(AttemptAnswers::AttemptId)
                    .col(AttemptAnswers::QuestionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            AttemptAnswers::Table,
            "idx_attempt_answers_question",
            [AttemptAnswers::QuestionId],
        )
        .await?;
        index(
            manager,
            AttemptAnswers::Table,
            "idx_attempt_answers_outcome",
            [AttemptAnswers::Outcome, AttemptAnswers::TestId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AttemptAnswers::Table.into_iden(),
            TestAttempts::Table.into_iden(),
            TestQuestions::Table.into_iden(),
            Tests::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Common {
    Id,
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
enum Batches {
    Table,
}

#[derive(DeriveIden)]
enum Tests {
    Table,
    CourseId,
    BatchId,
    Title,
    TestType,
    Status,
    Instructions,
    DurationMinutes,
    PassingMarks,
    TotalMarks,
    AvailableFrom,
    AvailableUntil,
    AttemptsAllowed,
    ShuffleQuestions,
    ShuffleOptions,
    MultipleSelectScoring,
    AllowNegativeTotal,
    ShowResults,
    ShowAnswers,
    PublishedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum TestQuestions {
    Table,
    TestId,
    Position,
    QuestionType,
    QuestionText,
    Marks,
    NegativeMarks,
    Explanation,
    Options,
    AcceptedAnswers,
    NumericTolerance,
}

#[derive(DeriveIden)]
enum TestAttempts {
    Table,
    TestId,
    CourseId,
    StudentId,
    Number,
    Status,
    StartedAt,
    Deadline,
    SubmittedAt,
    AutoSubmitted,
    RawScore,
    Score,
    PendingAnswers,
    GradedAt,
    TimeSpentSeconds,
    Layout,
}

#[derive(DeriveIden)]
enum AttemptAnswers {
    Table,
    AttemptId,
    QuestionId,
    TestId,
    SelectedOptions,
    AnswerText,
    Marks,
    Outcome,
    Feedback,
    GradedBy,
    GradedAt,
}
