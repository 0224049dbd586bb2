//! Accounts and access: users, sessions and refresh tokens, one-time codes, the mail
//! outbox, the audit log, personal access tokens, 2FA recovery codes, parent links.

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
                table(Users::Table)
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string_len_null(Users::Phone, 32))
                    .col(string_null(Users::PasswordHash))
                    .col(string_len(Users::FirstName, 100))
                    .col(string_len(Users::LastName, 100))
                    .col(string_len(Users::Role, 16))
                    .col(string_null(Users::Avatar))
                    .col(text_null(Users::Bio))
                    .col(json_null(Users::Profile))
                    .col(boolean(Users::IsEmailVerified))
                    .col(boolean(Users::IsPhoneVerified))
                    .col(boolean(Users::IsActive))
                    .col(timestamp_with_time_zone_null(Users::LastLogin))
                    .col(string_len_uniq(Users::ReferralCode, 16))
                    .col(integer(Users::TokenVersion))
                    .col(string_null(Users::TotpSecret))
                    .col(boolean(Users::TotpEnabled))
                    .col(big_integer_null(Users::TotpLastStep))
                    .col(
                        ColumnDef::new(Users::ExternalId)
                            .string_len(128)
                            .null()
                            .unique_key(),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, Users::Table, "idx_users_role", [Users::Role]).await?;

        manager
            .create_table(
                table(Sessions::Table)
                    .col(uuid(Sessions::UserId))
                    .col(string_null(Sessions::UserAgent))
                    .col(string_len_null(Sessions::Ip, 64))
                    .col(timestamp_with_time_zone(Sessions::LastUsedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::RevokedReason, 32))
                    .foreign_key(&mut cascade(
                        Sessions::Table,
                        Sessions::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Sessions::Table,
            "idx_sessions_user",
            [Sessions::UserId],
        )
        .await?;

        manager
            .create_table(
                table(RefreshTokens::Table)
                    .col(uuid(RefreshTokens::SessionId))
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .foreign_key(&mut cascade(
                        RefreshTokens::Table,
                        RefreshTokens::SessionId,
                        Sessions::Table,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table(OneTimeCodes::Table)
                    .col(uuid(OneTimeCodes::UserId))
                    .col(string_len(OneTimeCodes::Purpose, 32))
                    .col(string_len(OneTimeCodes::CodeHash, 64))
                    .col(integer(OneTimeCodes::Attempts))
                    .col(timestamp_with_time_zone(OneTimeCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OneTimeCodes::UsedAt))
                    .foreign_key(&mut cascade(
                        OneTimeCodes::Table,
                        OneTimeCodes::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            OneTimeCodes::Table,
            "idx_one_time_codes_user_purpose",
            [OneTimeCodes::UserId, OneTimeCodes::Purpose],
        )
        .await?;

        manager
            .create_table(
                table(OutboxMessages::Table)
                    .col(string_len(OutboxMessages::Recipient, 254))
                    .col(string(OutboxMessages::Subject))
                    .col(text(OutboxMessages::Body))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table(AuditEvents::Table)
                    .col(string_len(AuditEvents::Action, 48))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(uuid_null(AuditEvents::SubjectId))
                    .col(string_len_null(AuditEvents::Ip, 64))
                    .col(text_null(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            AuditEvents::Table,
            "idx_audit_events_created",
            [AuditEvents::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                table(AccessTokens::Table)
                    .col(uuid(AccessTokens::UserId))
                    .col(string_len(AccessTokens::Name, 100))
                    .col(string_len_uniq(AccessTokens::TokenHash, 64))
                    .col(string_len(AccessTokens::Scopes, 64))
                    .col(timestamp_with_time_zone_null(AccessTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccessTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AccessTokens::RevokedAt))
                    .foreign_key(&mut cascade(
                        AccessTokens::Table,
                        AccessTokens::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            AccessTokens::Table,
            "idx_access_tokens_user",
            [AccessTokens::UserId],
        )
        .await?;

        manager
            .create_table(
                table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .foreign_key(&mut cascade(
                        RecoveryCodes::Table,
                        RecoveryCodes::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            RecoveryCodes::Table,
            "idx_recovery_codes_user",
            [RecoveryCodes::UserId],
        )
        .await?;

        manager
            .create_table(
                table(ParentLinks::Table)
                    .col(uuid(ParentLinks::ParentId))
                    .col(uuid(ParentLinks::ChildId))
                    .foreign_key(&mut cascade(
                        ParentLinks::Table,
                        ParentLinks::ParentId,
                        Users::Table,
                    ))
                    .foreign_key(&mut cascade(
                        ParentLinks::Table,
                        ParentLinks::ChildId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_parent_links_pair")
                    .table(ParentLinks::Table)
                    .col(ParentLinks::ParentId)
                    .col(ParentLinks::ChildId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ParentLinks::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            AccessTokens::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            OutboxMessages::Table.into_iden(),
            OneTimeCodes::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Email,
    Phone,
    PasswordHash,
    FirstName,
    LastName,
    Role,
    Avatar,
    Bio,
    Profile,
    IsEmailVerified,
    IsPhoneVerified,
    IsActive,
    LastLogin,
    ReferralCode,
    TokenVersion,
    TotpSecret,
    TotpEnabled,
    TotpLastStep,
    ExternalId,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserId,
    UserAgent,
    Ip,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    SessionId,
    TokenHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    UserId,
    Purpose,
    CodeHash,
    Attempts,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Recipient,
    Subject,
    Body,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Action,
    ActorId,
    SubjectId,
    Ip,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    UserId,
    Name,
    TokenHash,
    Scopes,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    UserId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum ParentLinks {
    Table,
    ParentId,
    ChildId,
}
