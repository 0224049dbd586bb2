//! One student's attendance of one live class: when they first joined, whether they
//! are in now (`in_since`), and the seconds they were present over every stay.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_class_attendance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub live_class_id: Uuid,
    pub user_id: Uuid,
    pub first_joined_at: DateTimeUtc,
    pub in_since: Option<DateTimeUtc>,
    pub left_at: Option<DateTimeUtc>,
    pub seconds_present: i64,
    pub joins: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
