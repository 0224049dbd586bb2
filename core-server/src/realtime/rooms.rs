//! Rooms: named `kind:id` (`live_class:0193…`), each kind with the check that decides
//! who may enter. The hub keeps who is in which room (presence) without knowing what a
//! room is; a kind is wired by adding it to [`KINDS`].

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use crate::entity::user;
use crate::error::ApiError;
use crate::state::AppState;

/// What a user may do in a room they entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomAccess {
    pub can_chat: bool,
}

/// The answer of a kind's check.
pub type Check<'a> = Pin<Box<dyn Future<Output = Result<Option<RoomAccess>, ApiError>> + 'a>>;

/// A kind of room.
pub struct RoomKind {
    /// The part before `:` in a room's name.
    pub prefix: &'static str,
    /// `Some(access)` when `user` may enter the room of this kind with `id`; `None` when
    /// not (or when it does not exist: the two are not told apart).
    pub authorize: for<'a> fn(&'a AppState, &'a user::Model, Uuid) -> Check<'a>,
}

/// Every kind of room.
pub const KINDS: &[RoomKind] = &[RoomKind {
    prefix: "live_class",
    authorize: crate::live_classes::room_access,
}];

/// The room of a live class.
pub fn live_class_room(id: Uuid) -> String {
    format!("live_class:{id}")
}

/// Why a user can't enter a room.
#[derive(Debug)]
pub enum RoomRefusal {
    /// No such kind, no such id, or not allowed: one answer, so nothing leaks.
    NotFound,
    Failed(ApiError),
}

/// `kind:id` split, when well formed.
pub fn parse(room: &str) -> Option<(&str, Uuid)> {
    let (kind, id) = room.split_once(':')?;
    Some((kind, id.parse().ok()?))
}

/// Whether `user` may enter `room`, and with what rights.
pub async fn authorize(
    state: &AppState,
    user: &user::Model,
    room: &str,
) -> Result<RoomAccess, RoomRefusal> {
    let (prefix, id) = parse(room).ok_or(RoomRefusal::NotFound)?;
    let kind = KINDS
        .iter()
        .find(|k| k.prefix == prefix)
        .ok_or(RoomRefusal::NotFound)?;
    match (kind.authorize)(state, user, id).await {
        Ok(Some(access)) => Ok(access),
        Ok(None) => Err(RoomRefusal::NotFound),
        Err(err) => Err(RoomRefusal::Failed(err)),
    }
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
