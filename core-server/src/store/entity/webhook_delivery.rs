//! The webhook outbox: one delivery of one event to one endpoint, PENDING until a 2xx
//! answer (DELIVERED) or the end of its retry window (FAILED).

use sea_orm::entity::prelude::*;

pub use crate::api::WebhookDeliveryStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Also the `webhook-id` header: the same on every attempt.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The domain event's `seq`; none for a test ping.
    pub event_seq: Option<i64>,
    pub event_id: Option<Uuid>,
    pub event_type: String,
    /// The JSON body exactly as signed and sent.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: WebhookDeliveryStatus,
    /// Attempts begun (counted when a drainer claims it).
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// No retry is scheduled after this.
    pub give_up_at: DateTimeUtc,
    /// The instance delivering it, until `lease_until`.
    pub claimed_by: Option<Uuid>,
    /// The claim (one UPDATE claims a batch) that holds it.
    pub claim_token: Option<Uuid>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
