//! Rooms: named `kind:id` (`live_class:0193…`). The hub keeps who is in which room
//! (presence) without knowing what a room is; which kinds exist and who may enter them
//! is decided above it, where the WebSocket endpoint registers each kind's check.

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use crate::error::ApiError;

/// What a user may do in a room they entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomAccess {
    pub can_chat: bool,
}

/// The answer of a kind's check.
pub type Check<'a> = Pin<Box<dyn Future<Output = Result<Option<RoomAccess>, ApiError>> + 'a>>;

/// The room of a live class.
pub fn live_class_room(id: Uuid) -> String {
    format!("live_class:{id}")
}

/// `kind:id` split, when well formed.
pub fn parse(room: &str) -> Option<(&str, Uuid)> {
    let (kind, id) = room.split_once(':')?;
    Some((kind, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_are_a_kind_and_a_uuid() {
        let id = Uuid::now_v7();
        assert_eq!(parse(&live_class_room(id)), Some(("live_class", id)));
        assert_eq!(parse("live_class"), None);
        assert_eq!(parse("live_class:42"), None);
    }
}
