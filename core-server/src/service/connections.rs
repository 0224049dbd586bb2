//! What a live WebSocket connection asks of the services besides its traffic: whether
//! the credential it was opened with still holds. (Its notification replay is
//! [`crate::service::notifications::inbox`]; its rooms' chat is [`crate::service::chat`].)

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::{AuthUser, secrets};
use crate::store::entity::{access_token, session, user};

/// What a connection's authentication rests on, so it can be checked again later.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An access token: its session (if any) and the user's token version then.
    Session {
        session_id: Option<Uuid>,
        token_version: i32,
    },
    /// A personal access token, by hash.
    Token { hash: String },
}

impl Credential {
    /// The credential behind `auth`, who authenticated with the bearer `token`.
    pub fn of(auth: &AuthUser, token: &str) -> Self {
        if token.starts_with(secrets::PAT_PREFIX) {
            Self::Token {
                hash: secrets::token_hash(token),
            }
        } else {
            Self::Session {
                session_id: auth.session_id,
                token_version: auth.user.token_version,
            }
        }
    }
}

/// Whether the credential still holds: the user active, the session not revoked (nor
/// the token version bumped), or the personal access token not revoked or expired. An
/// access token's own 15-minute expiry does not end a socket: its session does.
pub async fn still_valid(
    state: &AppState,
    user_id: Uuid,
    credential: &Credential,
) -> Result<bool, ApiError> {
    let now = Utc::now();
    let Some(user) = user::Entity::find_by_id(user_id).one(&state.db).await? else {
        return Ok(false);
    };
    if !user.is_active {
        return Ok(false);
    }
    match credential {
        Credential::Session {
            session_id,
            token_version,
        } => {
            if user.token_version != *token_version {
                return Ok(false);
            }
            let Some(sid) = session_id else {
                return Ok(true);
            };
            Ok(session::Entity::find_by_id(*sid)
                .filter(session::Column::RevokedAt.is_null())
                .filter(session::Column::ExpiresAt.gt(now))
                .one(&state.db)
                .await?
                .is_some())
        }
        Credential::Token { hash } => Ok(access_token::Entity::find()
            .filter(access_token::Column::TokenHash.eq(hash.as_str()))
            .filter(access_token::Column::RevokedAt.is_null())
            .one(&state.db)
            .await?
            .is_some_and(|t| t.expires_at.is_none_or(|at| at > now))),
    }
}
