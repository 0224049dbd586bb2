//! One user's notification preferences: muted types and quiet hours in their time zone.

use crate::store::json::MutedTypes;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// A JSON array of notification types the user does not want.
    #[sea_orm(column_type = "Json")]
    pub muted_types: MutedTypes,
    /// `HH:MM`, local time in `time_zone`.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// An IANA time zone name (`Asia/Kolkata`).
    pub time_zone: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
