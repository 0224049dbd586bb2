//! The catalogue: categories (a tree), courses, course staff, sections, lessons and
//! reviews. Money is stored in minor units (cents, paise) as BIGINT with an ISO currency.

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
                table(Categories::Table)
                    .col(uuid_null(Categories::ParentId))
                    .col(string_len(Categories::Name, 100))
                    .col(string_len_uniq(Categories::Slug, 120))
                    .foreign_key(&mut cascade(
                        Categories::Table,
                        Categories::ParentId,
                        Categories::Table,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table(Courses::Table)
                    .col(string_len(Courses::Title, 200))
                    .col(string_len_uniq(Courses::Slug, 120))
                    .col(text(Courses::Description))
                    .col(uuid_null(Courses::CategoryId))
                    .col(string_len(Courses::Level, 16))
                    .col(string_len(Courses::Language, 16))
                    .col(big_integer(Courses::Price))
                    .col(big_integer_null(Courses::DiscountedPrice))
                    .col(big_integer(Courses::EffectivePrice))
                    .col(string_len(Courses::Currency, 3))
                    .col(boolean(Courses::IsFree))
                    .col(json(Courses::Tags))
                    .col(string_null(Courses::ThumbnailUrl))
                    .col(string_len(Courses::Status, 16))
                    .col(timestamp_with_time_zone_null(Courses::PublishedAt))
                    .col(uuid(Courses::CreatedBy))
                    .col(
                        ColumnDef::new(Courses::ExternalId)
                            .string_len(128)
                            .null()
                            .unique_key(),
                    )
                    .col(double(Courses::RatingAvg))
                    .col(integer(Courses::RatingCount))
                    .col(integer(Courses::TotalStudents))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Courses::Table, Courses::CategoryId)
                            .to(Categories::Table, Common::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Courses::Table, Courses::CreatedBy)
                            .to(Users::Table, Common::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_courses_status", Courses::Status.into_iden()),
            ("idx_courses_category", Courses::CategoryId.into_iden()),
            ("idx_courses_created_by", Courses::CreatedBy.into_iden()),
            ("idx_courses_created_at", Common::CreatedAt.into_iden()),
            (
                "idx_courses_effective_price",
                Courses::EffectivePrice.into_iden(),
            ),
        ] {
            index(manager, Courses::Table, name, [column]).await?;
        }

        manager
            .create_table(
                table(CourseStaff::Table)
                    .col(uuid(CourseStaff::CourseId))
                    .col(uuid(CourseStaff::UserId))
                    .col(string_len(CourseStaff::Role, 16))
                    .foreign_key(&mut cascade(
                        CourseStaff::Table,
                        CourseStaff::CourseId,
                        Courses::Table,
                    ))
                    .foreign_key(&mut cascade(
                        CourseStaff::Table,
                        CourseStaff::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            CourseStaff::Table,
            "uq_course_staff_pair",
            [CourseStaff::CourseId, CourseStaff::UserId],
        )
        .await?;
        index(
            manager,
            CourseStaff::Table,
            "idx_course_staff_user",
            [CourseStaff::UserId],
        )
        .await?;

        manager
            .create_table(
                table(Sections::Table)
                    .col(uuid(Sections::CourseId))
                    .col(string_len(Sections::Title, 200))
                    .col(integer(Sections::Position))
                    .foreign_key(&mut cascade(
                        Sections::Table,
                        Sections::CourseId,
                        Courses::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Sections::Table,
            "idx_sections_course_position",
            [Sections::CourseId, Sections::Position],
        )
        .await?;

        manager
            .create_table(
                table(Lessons::Table)
                    .col(uuid(Lessons::SectionId))
                    .col(uuid(Lessons::CourseId))
                    .col(string_len(Lessons::Title, 200))
                    .col(string_len(Lessons::Type, 16))
                    .col(text_null(Lessons::Content))
                    .col(string_null(Lessons::Url))
                    .col(integer(Lessons::DurationMinutes))
                    .col(boolean(Lessons::IsFreePreview))
                    .col(boolean(Lessons::IsPublished))
                    .col(integer(Lessons::Position))
                    .foreign_key(&mut cascade(
                        Lessons::Table,
                        Lessons::SectionId,
                        Sections::Table,
                    ))
                    .foreign_key(&mut cascade(
                        Lessons::Table,
                        Lessons::CourseId,
                        Courses::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Lessons::Table,
            "idx_lessons_section_position",
            [Lessons::SectionId, Lessons::Position],
        )
        .await?;
        index(
            manager,
            Lessons::Table,
            "idx_lessons_course",
            [Lessons::CourseId],
        )
        .await?;

        manager
            .create_table(
                table(Reviews::Table)
                    .col(uuid(Reviews::CourseId))
                    .col(uuid(Reviews::StudentId))
                    .col(integer(Reviews::Rating))
                    .col(text_null(Reviews::Comment))
                    .foreign_key(&mut cascade(
                        Reviews::Table,
                        Reviews::CourseId,
                        Courses::Table,
                    ))
                    .foreign_key(&mut cascade(
                        Reviews::Table,
                        Reviews::StudentId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            Reviews::Table,
            "uq_reviews_pair",
            [Reviews::CourseId, Reviews::StudentId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Reviews::Table.into_iden(),
            Lessons::Table.into_iden(),
            Sections::Table.into_iden(),
            CourseStaff::Table.into_iden(),
            Courses::Table.into_iden(),
            Categories::Table.into_iden(),
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
}

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    ParentId,
    Name,
    Slug,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Title,
    Slug,
    Description,
    CategoryId,
    Level,
    Language,
    Price,
    DiscountedPrice,
    /// What a buyer pays: 0 when free, else the discounted price or the price. Kept on
    /// every write so price filters and sorts are one indexed column.
    EffectivePrice,
    Currency,
    IsFree,
    Tags,
    ThumbnailUrl,
    Status,
    PublishedAt,
    CreatedBy,
    ExternalId,
    RatingAvg,
    RatingCount,
    TotalStudents,
}

#[derive(DeriveIden)]
enum CourseStaff {
    Table,
    CourseId,
    UserId,
    Role,
}

#[derive(DeriveIden)]
enum Sections {
    Table,
    CourseId,
    Title,
    Position,
}

#[derive(DeriveIden)]
enum Lessons {
    Table,
    SectionId,
    CourseId,
    Title,
    Type,
    Content,
    Url,
    DurationMinutes,
    IsFreePreview,
    IsPublished,
    Position,
}

#[derive(DeriveIden)]
enum Reviews {
    Table,
    CourseId,
    StudentId,
    Rating,
    Comment,
}
