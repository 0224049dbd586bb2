//! Personal access tokens for scripts and CI: created (the secret shown once), listed,
//! revoked one by one, or all at once when the account's credentials change.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use crate::api::{
    AccessTokenInfo, AccessTokenList, CreatedAccessToken, NewAccessToken, Role, TokenScope,
};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::audit::{self, Action};
use crate::service::auth::caller::parse_scopes;
use crate::service::auth::{AuthUser, secrets};
use crate::store::entity::access_token;

/// As many scopes as there are (read, write, admin): a longer list is refused unread.
const MAX_SCOPES: usize = 3;

/// A parsed request for a personal access token.
pub struct TokenRequest {
    name: String,
    scopes: Vec<TokenScope>,
    days: u32,
}

impl TokenRequest {
    /// Checks name (1 to 100 characters, no control characters), scopes (at least one; `admin` only for an
    /// admin) and expiry (1 to 366 days, 90 by default), reporting every bad field.
    pub fn parse(body: &NewAccessToken, role: Role) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let name = body.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            fields.push("name", "must be 1 to 100 characters");
        } else if name.chars().any(char::is_control) {
            fields.push("name", "must not contain control characters");
        }
        let scopes = if body.scopes.len() > MAX_SCOPES {
            fields.push("scopes", "name each of read, write, admin at most once");
            Vec::new()
        } else {
            let mut scopes = body.scopes.clone();
            scopes.sort();
            scopes.dedup();
            if scopes.is_empty() {
                fields.push("scopes", "name at least one of read, write, admin");
            }
            scopes
        };
        if scopes.contains(&TokenScope::Admin) && role != Role::Admin {
            fields.push(
                "scopes",
                "only admins can create tokens with the admin scope",
            );
        }
        let days = body.expires_in_days.unwrap_or(90);
        if !(1..=366).contains(&days) {
            fields.push("expiresInDays", "must be between 1 and 366");
        }
        fields.finish()?;
        Ok(Self { name, scopes, days })
    }
}

fn token_info(t: &access_token::Model) -> AccessTokenInfo {
    AccessTokenInfo {
        id: t.id,
        name: t.name.clone(),
        scopes: parse_scopes(&t.scopes),
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
    }
}

/// Creates a token for the caller (audited); its secret is in this answer only.
pub async fn create(
    state: &AppState,
    caller: &AuthUser,
    request: TokenRequest,
    ip: &str,
) -> Result<CreatedAccessToken, ApiError> {
    let TokenRequest { name, scopes, days } = request;
    let token = secrets::new_token(secrets::PAT_PREFIX);
    let now = Utc::now();
    let stored = access_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(caller.id()),
        name: Set(name),
        token_hash: Set(secrets::token_hash(&token)),
        scopes: Set(scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")),
        expires_at: Set(Some(now + Duration::days(i64::from(days)))),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    audit::record(
        &state.db,
        Action::AccessTokenCreated,
        audit::Event {
            actor: Some(caller.id()),
            subject: Some(caller.id()),
            ip: Some(ip),
            detail: Some(format!("token {} ({})", stored.name, stored.scopes)),
        },
    )
    .await;
    Ok(CreatedAccessToken {
        token,
        info: token_info(&stored),
    })
}

/// The user's live tokens, newest first (never their secrets).
pub async fn list(state: &AppState, user_id: Uuid) -> Result<AccessTokenList, ApiError> {
    let tokens = access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(user_id))
        .filter(access_token::Column::RevokedAt.is_null())
        .order_by_desc(access_token::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(AccessTokenList {
        tokens: tokens.iter().map(token_info).collect(),
    })
}

/// Revokes one of the caller's tokens (audited); 404 for one that isn't theirs or is
/// revoked already.
pub async fn revoke(
    state: &AppState,
    caller: &AuthUser,
    id: Uuid,
    ip: &str,
) -> Result<(), ApiError> {
    let revoked = access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(access_token::Column::Id.eq(id))
        .filter(access_token::Column::UserId.eq(caller.id()))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    if revoked.rows_affected == 0 {
        return Err(ApiError::NotFound("Access token not found".into()));
    }
    crate::service::auth::credentials_changed(state, caller.id()).await;
    audit::record(
        &state.db,
        Action::AccessTokenRevoked,
        audit::Event {
            actor: Some(caller.id()),
            subject: Some(caller.id()),
            ip: Some(ip),
            detail: Some(format!("token {id}")),
        },
    )
    .await;
    Ok(())
}

/// Revokes every live personal access token of a user (password reset or change,
/// deactivation): a token minted by whoever held the account must not outlive it.
pub async fn revoke_access_tokens(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    let now = Utc::now();
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(now))
        .col_expr(access_token::Column::UpdatedAt, Expr::value(now))
        .filter(access_token::Column::UserId.eq(user_id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
