//! A mail in the outbox: queued for SMTP delivery (PENDING, then SENT or FAILED), or
//! kept for reading in development (KEPT).

use sea_orm::entity::prelude::*;

pub use crate::api::MailStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: MailStatus,
    /// Delivery attempts begun (counted when a drainer claims the message).
    pub attempts: i32,
    /// When a PENDING message is next due.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// The instance delivering it, until `lease_until`.
    pub claimed_by: Option<Uuid>,
    pub lease_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
