//! Payments: coupons, orders (one open per student and course, held by the unique
//! `open_key`), captured payments (one per order and per gateway payment id), and
//! refunds. Money is whole minor units. The money tables keep no foreign keys to users
//! or courses: a financial record outlives what it names.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, integer, string_len, string_len_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use super::{index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table(Coupons::Table)
                    .col(string_len(Coupons::Code, 40).unique_key())
                    .col(string_len(Coupons::Kind, 16))
                    .col(big_integer(Coupons::Value))
                    .col(string_len_null(Coupons::Currency, 3))
                    .col(uuid_null(Coupons::CourseId))
                    .col(uuid(Coupons::CreatedBy))
                    .col(timestamp_with_time_zone_null(Coupons::ValidFrom))
                    .col(timestamp_with_time_zone_null(Coupons::ValidUntil))
                    .col(big_integer_null(Coupons::MaxUses))
                    .col(integer(Coupons::PerStudentLimit))
                    .col(big_integer(Coupons::Used).default(0))
                    .col(boolean(Coupons::Active).default(true))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Coupons::Table,
            "idx_coupons_course",
            [Coupons::CourseId],
        )
        .await?;
        manager
            .create_table(
                table(PaymentOrders::Table)
                    .col(uuid(PaymentOrders::StudentId))
                    .col(uuid(PaymentOrders::CourseId))
                    .col(uuid_null(PaymentOrders::CouponId))
                    .col(string_len(PaymentOrders::Gateway, 16))
                    .col(string_len(PaymentOrders::GatewayOrderId, 100).unique_key())
                    .col(big_integer(PaymentOrders::ListPrice))
                    .col(big_integer(PaymentOrders::Discount))
                    .col(big_integer(PaymentOrders::Amount))
                    .col(string_len(PaymentOrders::Currency, 3))
                    .col(string_len(PaymentOrders::Status, 16))
                    // `student:course` while CREATED, NULL after: one open order each.
                    .col(string_len_null(PaymentOrders::OpenKey, 80).unique_key())
                    .col(timestamp_with_time_zone(PaymentOrders::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            PaymentOrders::Table,
            "idx_payment_orders_status_expires",
            [PaymentOrders::Status, PaymentOrders::ExpiresAt],
        )
        .await?;
        index(
            manager,
            PaymentOrders::Table,
            "idx_payment_orders_coupon_student",
            [PaymentOrders::CouponId, PaymentOrders::StudentId],
        )
        .await?;
        manager
            .create_table(
                table(Payments::Table)
                    .col(uuid(Payments::OrderId).unique_key())
                    .col(string_len(Payments::GatewayPaymentId, 100).unique_key())
                    .col(string_len(Payments::Gateway, 16))
                    .col(uuid(Payments::StudentId))
                    .col(uuid(Payments::CourseId))
                    .col(uuid_null(Payments::EnrollmentId))
                    .col(big_integer(Payments::Amount))
                    .col(big_integer(Payments::Refunded).default(0))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len(Payments::Status, 24))
                    .col(timestamp_with_time_zone(Payments::PaidAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Payments::Table,
            "idx_payments_student_paid",
            [Payments::StudentId, Payments::PaidAt],
        )
        .await?;
        index(
            manager,
            Payments::Table,
            "idx_payments_course_paid",
            [Payments::CourseId, Payments::PaidAt],
        )
        .await?;
        index(
            manager,
            Payments::Table,
            "idx_payments_paid",
            [Payments::PaidAt],
        )
        .await?;
        manager
            .create_table(
                table(Refunds::Table)
                    .col(uuid(Refunds::PaymentId))
                    .col(big_integer(Refunds::Amount))
                    .col(string_len(Refunds::Reason, 500))
                    .col(string_len(Refunds::Status, 16))
                    .col(string_len_null(Refunds::GatewayRefundId, 100).unique_key())
                    .col(uuid_null(Refunds::ActorId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Refunds::Table, Refunds::PaymentId)
                            .to(Payments::Table, Payments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Refunds::Table,
            "idx_refunds_payment",
            [Refunds::PaymentId],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Refunds::Table.into_iden(),
            Payments::Table.into_iden(),
            PaymentOrders::Table.into_iden(),
            Coupons::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

fn big_integer_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}

#[derive(DeriveIden)]
enum Coupons {
    Table,
    Code,
    Kind,
    Value,
    Currency,
    CourseId,
    CreatedBy,
    ValidFrom,
    ValidUntil,
    MaxUses,
    PerStudentLimit,
    Used,
    Active,
}

#[derive(DeriveIden)]
enum PaymentOrders {
    Table,
    StudentId,
    CourseId,
    CouponId,
    Gateway,
    GatewayOrderId,
    ListPrice,
    Discount,
    Amount,
    Currency,
    Status,
    OpenKey,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    GatewayPaymentId,
    Gateway,
    StudentId,
    CourseId,
    EnrollmentId,
    Amount,
    Refunded,
    Currency,
    Status,
    PaidAt,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    PaymentId,
    Amount,
    Reason,
    Status,
    GatewayRefundId,
    ActorId,
}
