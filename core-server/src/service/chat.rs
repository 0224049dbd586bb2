//! Room chat: messages are rows first (`chat_messages`), pushes second, so a joiner
//! gets the latest ones and anyone in the room can page back through the history.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::api::ChatMessage;
use crate::store::entity::{chat_message, user};

/// Messages a joiner receives.
pub const ON_JOIN: u64 = 50;
/// The most messages one `history` answer holds.
pub const MAX_PAGE: u64 = 200;
/// The longest message, in characters.
pub const MAX_TEXT: usize = 2_000;

fn to_wire(m: chat_message::Model) -> ChatMessage {
    ChatMessage {
        id: m.id,
        room: m.room,
        user_id: m.user_id,
        author: m.author,
        text: m.body,
        created_at: m.created_at,
    }
}

/// The text of a message, trimmed: 1–2000 characters.
pub fn parse_text(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("a chat message needs text".into());
    }
    if text.chars().count() > MAX_TEXT {
        return Err(format!("a chat message is at most {MAX_TEXT} characters"));
    }
    Ok(text.to_owned())
}

/// Stores a message by `author` in `room`.
pub async fn post(
    db: &impl ConnectionTrait,
    room: &str,
    author: &user::Model,
    text: String,
) -> Result<ChatMessage, DbErr> {
    let now = Utc::now();
    let row = chat_message::ActiveModel {
        id: NotSet,
        room: Set(room.to_owned()),
        user_id: Set(author.id),
        author: Set(format!("{} {}", author.first_name, author.last_name)),
        body: Set(text),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(to_wire(row))
}

/// Up to `limit` messages of `room` before message `before` (all, without it), newest
/// first.
pub async fn history(
    db: &impl ConnectionTrait,
    room: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<ChatMessage>, DbErr> {
    let mut query = chat_message::Entity::find().filter(chat_message::Column::Room.eq(room));
    if let Some(before) = before {
        query = query.filter(chat_message::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(chat_message::Column::Id)
        .limit(limit.clamp(1, MAX_PAGE))
        .all(db)
        .await?
        .into_iter()
        .map(to_wire)
        .collect())
}

/// The latest messages of `room`, oldest first (as `joined` carries them).
pub async fn latest(db: &impl ConnectionTrait, room: &str) -> Result<Vec<ChatMessage>, DbErr> {
    let mut messages = history(db, room, None, ON_JOIN).await?;
    messages.reverse();
    Ok(messages)
}
