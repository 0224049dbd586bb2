//! The development mail outbox as admins read it: what [`crate::platform::mail`] kept
//! instead of sending, for trying sign-up and password flows without SMTP.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::api::{OutboxEntry, OutboxList, PageQuery, Pagination};
use crate::error::ApiError;
use crate::store::entity::outbox_message;

/// One page of kept mail, newest first; only to `recipient` (case-insensitive) if given.
pub async fn list(
    db: &impl ConnectionTrait,
    page: PageQuery,
    recipient: Option<&str>,
) -> Result<OutboxList, ApiError> {
    let mut query = outbox_message::Entity::find();
    if let Some(recipient) = recipient {
        query = query.filter(outbox_message::Column::Recipient.eq(recipient.trim().to_lowercase()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(outbox_message::Column::CreatedAt)
        .order_by_desc(outbox_message::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(db)
        .await?;
    Ok(OutboxList {
        messages: rows
            .into_iter()
            .map(|m| OutboxEntry {
                id: m.id,
                recipient: m.recipient,
                subject: m.subject,
                body: m.body,
                created_at: m.created_at,
            })
            .collect(),
        pagination: Pagination::new(page, total),
    })
}
