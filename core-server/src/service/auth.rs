//! Authentication: password hashing, JWT access tokens, opaque refresh and personal
//! access tokens, TOTP, rate limits, and the `AuthUser` caller every protected route
//! acts as.

pub mod cache;
pub mod caller;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod totp;

pub use caller::AuthUser;

use uuid::Uuid;

use crate::platform::state::AppState;

/// After a committed change that may end a user's credentials (logout, password change
/// or reset, role change, deactivation, revoked tokens): their cached sessions are
/// forgotten here and on every other instance, and their sockets recheck.
pub async fn credentials_changed(state: &AppState, user_id: Uuid) {
    state.sessions.forget_user(user_id);
    state.realtime.credentials_changed(&state.db, user_id).await;
}

/// After a committed change to a user's row that is not about credentials (names,
/// XP, two-factor settings, a verified email, the last sign-in): requests see it at
/// once, here and on every other instance.
pub async fn user_changed(state: &AppState, user_id: Uuid) {
    state.sessions.forget_user(user_id);
    state
        .realtime
        .tell_others(&state.db, "user", Some(user_id))
        .await;
}

/// After a committed change to many users at once (an import or its revert).
pub async fn users_changed(state: &AppState) {
    state.sessions.forget_all();
    state.realtime.tell_others(&state.db, "users", None).await;
}
