//! A captured payment of an order, and how much of it was refunded.

use sea_orm::entity::prelude::*;

pub use crate::api::{GatewayKind, PaymentStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub gateway_payment_id: String,
    pub gateway: GatewayKind,
    pub student_id: Uuid,
    pub course_id: Uuid,
    pub enrollment_id: Option<Uuid>,
    pub amount: i64,
    /// Held by PENDING and PROCESSED refunds.
    pub refunded: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub paid_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
