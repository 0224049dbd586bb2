//! Sessions: sign-in, the refresh-token family each session is, rotation
//! with reuse detection, sign-out and the caller's list of signed-in devices.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use secrecy::SecretString;

use crate::api::{AuthSession, LoginOutcome, MfaChallenge, SessionInfo, SessionList, TokenPair};
use crate::domain::Email;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::{find_by_email, find_user, to_wire};
use crate::service::audit::{self, Action};
use crate::service::auth::{AuthUser, jwt, password, secrets};
use crate::store::entity::{refresh_token, session, user};

/// Sessions (refresh-token families) last 30 days from sign-in.
pub const SESSION_TTL_DAYS: i64 = 30;

/// How a session began, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// Registration signs the new account in; not a login to audit.
    Registered,
    /// Email and password.
    Password,
    /// Email, password and a second factor.
    TwoFactor,
}

/// Signs `user` in: a new session with its first refresh token, an access token, and
/// (for logins) the audit entry — all in one transaction, one commit.
pub async fn start_session(
    state: &AppState,
    user: &user::Model,
    user_agent: Option<String>,
    ip: &str,
    how: SignIn,
) -> Result<AuthSession, ApiError> {
    let now = Utc::now();
    let session_id = Uuid::now_v7();
    let refresh = secrets::new_token(secrets::REFRESH_PREFIX);
    let txn = crate::store::db::begin_write(&state.db).await?;
    session::ActiveModel {
        id: Set(session_id),
        user_id: Set(user.id),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(255).collect())),
        ip: Set(Some(ip.to_owned())),
        last_used_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_TTL_DAYS)),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    insert_refresh_token(&txn, session_id, &refresh).await?;
    let user = user::ActiveModel {
        id: Set(user.id),
        last_login: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    crate::service::analytics::activity::record(
        &txn,
        &[crate::service::analytics::activity::NewActivity::new(
            user.id,
            session_id,
            crate::api::ActivityKind::SignIn,
            now,
        )],
    )
    .await?;
    if how != SignIn::Registered {
        audit::record(
            &txn,
            Action::LoginSucceeded,
            audit::Event {
                subject: Some(user.id),
                ip: Some(ip),
                detail: (how == SignIn::TwoFactor).then(|| "with 2FA".to_owned()),
                ..Default::default()
            },
        )
        .await;
    }
    txn.commit().await?;
    crate::service::auth::user_changed(state, user.id).await;
    Ok(AuthSession {
        access_token: state
            .keys
            .access_token(user.id, user.token_version, session_id)?,
        refresh_token: refresh,
        expires_in: jwt::ACCESS_TTL_SECS,
        user: to_wire(&user),
    })
}

async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    token: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(secrets::token_hash(token)),
        used_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn invalid_refresh() -> ApiError {
    ApiError::Unauthorized("Invalid or expired refresh token. Please login again.".into())
}

/// Spends a refresh token and issues the next pair. Presenting a spent token (a thief,
/// or a race) revokes the whole family: the session ends for everyone holding it.
pub async fn rotate_refresh(
    state: &AppState,
    token: &str,
    ip: &str,
) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(secrets::token_hash(token)))
        .one(&state.db)
        .await?
    else {
        return Err(invalid_refresh());
    };
    let session = session::Entity::find_by_id(stored.session_id)
        .one(&state.db)
        .await?
        .ok_or_else(invalid_refresh)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(invalid_refresh());
    }
    state
        .limiter
        .check_account(
            crate::service::auth::rate_limit::Bucket::Refresh,
            &session.user_id.to_string(),
        )
        .map_err(|(_, err)| err)?;
    let user = find_user(&state.db, session.user_id).await?;
    if !user.is_active {
        return Err(invalid_refresh());
    }
    // Spend it and issue the next one in one transaction: a crash in between can't
    // leave the client holding a spent token. Of concurrent presentations exactly one
    // spends it (the conditional update); the others see a spent token.
    let next = secrets::new_token(secrets::REFRESH_PREFIX);
    let txn = crate::store::db::begin_write(&state.db).await?;
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .col_expr(refresh_token::Column::UpdatedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        txn.rollback().await?;
        revoke_session(&state.db, session.id, "REFRESH_REUSE").await?;
        crate::service::auth::credentials_changed(state, session.user_id).await;
        audit::record(
            &state.db,
            Action::RefreshTokenReused,
            audit::Event {
                subject: Some(session.user_id),
                ip: Some(ip),
                detail: Some(format!("session {} revoked", session.id)),
                ..Default::default()
            },
        )
        .await;
        return Err(invalid_refresh());
    }
    insert_refresh_token(&txn, session.id, &next).await?;
    session::ActiveModel {
        id: Set(session.id),
        last_used_at: Set(now),
        ip: Set(Some(ip.to_owned())),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(TokenPair {
        access_token: state
            .keys
            .access_token(user.id, user.token_version, session.id)?,
        refresh_token: next,
        expires_in: jwt::ACCESS_TTL_SECS,
    })
}

/// Ends one session.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    id: Uuid,
    reason: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .col_expr(session::Column::UpdatedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user but `keep`.
pub async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .col_expr(session::Column::UpdatedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    update.exec(db).await?;
    Ok(())
}

/// Makes every access token issued so far stop working at once.
pub async fn bump_token_version(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("Invalid credentials".into())
}

/// Checks email and password: a session, or for an account with 2FA a challenge to
/// answer with a code. A failure is audited and says nothing about which part was wrong.
pub async fn login(
    state: &AppState,
    email: &Email,
    given: SecretString,
    user_agent: Option<String>,
    ip: &str,
) -> Result<LoginOutcome, ApiError> {
    let user = find_by_email(&state.db, email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(given, stored).await?;
    let Some(user) = user.filter(|_| matches) else {
        audit::record(
            &state.db,
            Action::LoginFailed,
            audit::Event {
                ip: Some(ip),
                detail: Some(format!("email {}", email.as_ref())),
                ..Default::default()
            },
        )
        .await;
        return Err(invalid_credentials());
    };
    if !user.is_active {
        return Err(ApiError::Forbidden(
            "This account is deactivated; contact your school's administrator".into(),
        ));
    }
    if user.totp_enabled {
        return Ok(LoginOutcome::MfaRequired(MfaChallenge {
            mfa_required: true,
            challenge_token: state.keys.mfa_challenge(user.id, user.token_version)?,
            expires_in: jwt::MFA_TTL_SECS,
        }));
    }
    let session = start_session(state, &user, user_agent, ip, SignIn::Password).await?;
    Ok(LoginOutcome::Session(Box::new(session)))
}

/// Ends the caller's session (a personal access token has none) and drops their live
/// connections' credentials.
pub async fn logout(state: &AppState, caller: &AuthUser) -> Result<(), ApiError> {
    if let Some(sid) = caller.session_id {
        revoke_session(&state.db, sid, "LOGOUT").await?;
    }
    crate::service::auth::credentials_changed(state, caller.id()).await;
    Ok(())
}

/// The caller's live sessions, most recently used first; theirs is marked current.
pub async fn list_sessions(state: &AppState, caller: &AuthUser) -> Result<SessionList, ApiError> {
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(caller.id()))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::LastUsedAt)
        .all(&state.db)
        .await?;
    let sessions = rows
        .into_iter()
        .map(|s| SessionInfo {
            current: Some(s.id) == caller.session_id,
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
        })
        .collect();
    Ok(SessionList { sessions })
}

/// Signs one of the caller's devices out; 404 for a session that isn't theirs.
pub async fn end_session(state: &AppState, caller: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    let found = session::Entity::find_by_id(id)
        .filter(session::Column::UserId.eq(caller.id()))
        .one(&state.db)
        .await?;
    if found.is_none() {
        return Err(ApiError::NotFound("Session not found".into()));
    }
    revoke_session(&state.db, id, "SIGNED_OUT_REMOTELY").await?;
    crate::service::auth::credentials_changed(state, caller.id()).await;
    Ok(())
}
