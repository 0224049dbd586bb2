//! An order: a student's intent to buy a course at a price, at one gateway.

use sea_orm::entity::prelude::*;

pub use crate::api::{GatewayKind, OrderStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub student_id: Uuid,
    pub course_id: Uuid,
    pub coupon_id: Option<Uuid>,
    pub gateway: GatewayKind,
    pub gateway_order_id: String,
    pub list_price: i64,
    pub discount: i64,
    pub amount: i64,
    pub currency: String,
    pub status: OrderStatus,
    /// `student:course` while CREATED (unique), NULL after.
    pub open_key: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
