//! An endpoint admins registered to receive domain events (outgoing webhooks).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// `whsec_` + base64 of 32 random bytes; never logged, shown once.
    pub secret: String,
    /// A JSON list of event type names (`*`: every one).
    pub events: Json,
    pub active: bool,
    pub disabled_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last 2xx answer.
    pub consecutive_failures: i32,
    /// The first failed attempt since the last 2xx answer.
    pub failing_since: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
