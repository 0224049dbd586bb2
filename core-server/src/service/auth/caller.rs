//! `AuthUser`: the signed-in caller — a JWT access token (checked against the user's
//! token version and its session) or a personal access token (`edupro_pat_…`, looked
//! up by hash and limited by its scopes). The HTTP layer extracts it from
//! `Authorization: Bearer`; the WebSocket hub from an upgrade or an `auth` message.

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::api::{Role, TokenScope};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::{jwt, secrets};
use crate::store::entity::{access_token, session, user};

/// The authenticated caller of a request.
#[derive(Clone)]
pub struct AuthUser {
    pub user: user::Model,
    /// The session of a JWT; `None` for a personal access token.
    pub session_id: Option<Uuid>,
    /// The scopes of a personal access token; `None` for a full session.
    pub scopes: Option<Vec<TokenScope>>,
}

impl AuthUser {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
            && self
                .scopes
                .as_ref()
                .is_none_or(|s| s.contains(&TokenScope::Admin))
    }

    /// 403 unless the caller is an admin (with the `admin` scope, for a token).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else if self.role() == Role::Admin {
            Err(ApiError::MissingScope(TokenScope::Admin))
        } else {
            Err(forbidden())
        }
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }
}

/// The contract's 403 message.
pub fn forbidden() -> ApiError {
    ApiError::Forbidden("You don't have permission to access this resource".into())
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("Invalid or expired token. Please login again.".into())
}

/// The caller a bearer `token` stands for: an access token or a personal access token
/// (`safe_method`: whether the request only reads, for the PAT's scopes). The
/// WebSocket hub authenticates its upgrades and `auth` messages with this.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    safe_method: bool,
) -> Result<AuthUser, ApiError> {
    if token.starts_with(secrets::PAT_PREFIX) {
        authenticate_pat(state, token, safe_method).await
    } else {
        authenticate_jwt(state, token).await
    }
}

async fn authenticate_jwt(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    let claims = state
        .keys
        .verify(token, jwt::ACCESS_AUDIENCE)
        .ok_or_else(invalid_token)?;
    let now = Utc::now();
    let valid = |user: &user::Model| user.is_active && user.token_version == claims.ver;
    if let Some(sid) = claims.sid
        && let Some(cached) = state.sessions.get(sid)
        // The session must be the subject's own: a token pairing one user with
        // another's session is refused, whoever signed it.
        && cached.user.id == claims.sub
        && cached.expires_at > now
        && valid(&cached.user)
    {
        return Ok(AuthUser {
            user: cached.user,
            session_id: Some(sid),
            scopes: None,
        });
    }
    // Not known to be good: read it (and keep it if it is).
    let epoch = state.sessions.epoch();
    let user = user::Entity::find_by_id(claims.sub)
        .one(&state.db)
        .await?
        .filter(valid)
        .ok_or_else(invalid_token)?;
    if let Some(sid) = claims.sid {
        let live = session::Entity::find_by_id(sid)
            .filter(session::Column::UserId.eq(claims.sub))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&state.db)
            .await?
            .ok_or_else(invalid_token)?;
        state
            .sessions
            .put(epoch, sid, user.clone(), live.expires_at);
    }
    Ok(AuthUser {
        user,
        session_id: claims.sid,
        scopes: None,
    })
}

async fn authenticate_pat(
    state: &AppState,
    token: &str,
    safe_method: bool,
) -> Result<AuthUser, ApiError> {
    let now = Utc::now();
    let stored = access_token::Entity::find()
        .filter(access_token::Column::TokenHash.eq(secrets::token_hash(token)))
        .filter(access_token::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .filter(|t| t.expires_at.is_none_or(|at| at > now))
        .ok_or_else(invalid_token)?;
    let user = user::Entity::find_by_id(stored.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(invalid_token)?;
    let scopes = parse_scopes(&stored.scopes);
    // Scopes compose: changes need `write`; admin endpoints need `admin` (checked by
    // `require_admin`); an admin change needs both.
    if !safe_method && !scopes.contains(&TokenScope::Write) {
        return Err(ApiError::MissingScope(TokenScope::Write));
    }
    // Recording every use would make each request a write; once a minute is enough.
    if stored
        .last_used_at
        .is_none_or(|at| now - at > Duration::minutes(1))
    {
        access_token::Entity::update_many()
            .col_expr(
                access_token::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(access_token::Column::Id.eq(stored.id))
            .exec(&state.db)
            .await?;
    }
    Ok(AuthUser {
        user,
        session_id: None,
        scopes: Some(scopes),
    })
}

/// `read,write` → scopes; unknown words are ignored.
pub fn parse_scopes(stored: &str) -> Vec<TokenScope> {
    stored
        .split(',')
        .filter_map(|s| match s.trim() {
            "read" => Some(TokenScope::Read),
            "write" => Some(TokenScope::Write),
            "admin" => Some(TokenScope::Admin),
            _ => None,
        })
        .collect()
}
