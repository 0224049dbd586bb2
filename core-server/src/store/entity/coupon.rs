//! A discount code: a percentage or a fixed amount, for one course or any.

use sea_orm::entity::prelude::*;

pub use crate::api::CouponKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Upper-case.
    pub code: String,
    pub kind: CouponKind,
    /// PERCENT: 1–100; FIXED: minor units of `currency`.
    pub value: i64,
    pub currency: Option<String>,
    pub course_id: Option<Uuid>,
    pub created_by: Uuid,
    pub valid_from: Option<DateTimeUtc>,
    pub valid_until: Option<DateTimeUtc>,
    pub max_uses: Option<i64>,
    pub per_student_limit: i32,
    /// Uses held by CREATED and PAID orders.
    pub used: i64,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
