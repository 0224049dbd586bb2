//! The kinds of room a WebSocket may enter, each with the service check that decides who
//! may; the hub itself knows rooms only by name.

use uuid::Uuid;

use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::realtime::rooms::{Check, RoomAccess, parse};
use crate::store::entity::user;

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
    authorize: crate::service::live_classes::room_access,
}];

/// Why a user can't enter a room.
#[derive(Debug)]
pub enum RoomRefusal {
    /// No such kind, no such id, or not allowed: one answer, so nothing leaks.
    NotFound,
    Failed(ApiError),
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
