//! Passwords: changing one from a session, and forgetting one (a mailed code, then a
//! reset). Either way every other credential of the account stops working.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use secrecy::SecretString;
use uuid::Uuid;

use crate::domain::{Email, Password};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::{
    CodePurpose, bump_token_version, find_by_email, find_user, redeem_code, revoke_access_tokens,
    revoke_sessions, send_code,
};
use crate::service::audit::{self, Action};
use crate::service::auth::{AuthUser, password};
use crate::store::entity::user;

/// Changes the caller's password when `old_password` is right. Their other sessions and
/// access tokens end; answers a new access token for `session`, which continues.
pub async fn change(
    state: &AppState,
    caller: &AuthUser,
    session: Uuid,
    old_password: SecretString,
    new_password: Password,
    ip: &str,
) -> Result<String, ApiError> {
    let matches = password::verify(old_password, caller.user.password_hash.clone()).await?;
    if !matches {
        return Err(ApiError::field(
            "oldPassword",
            "Current password is incorrect",
        ));
    }
    let hash = password::hash(SecretString::from(new_password.expose().to_owned())).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(caller.id()),
        password_hash: Set(Some(hash)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    bump_token_version(&txn, caller.id()).await?;
    revoke_sessions(&txn, caller.id(), Some(session), "PASSWORD_CHANGED").await?;
    revoke_access_tokens(&txn, caller.id()).await?;
    txn.commit().await?;
    crate::service::auth::credentials_changed(state, caller.id()).await;
    audit::record(
        &state.db,
        Action::PasswordChanged,
        audit::Event {
            actor: Some(caller.id()),
            subject: Some(caller.id()),
            ip: Some(ip),
            ..Default::default()
        },
    )
    .await;
    let user = find_user(&state.db, caller.id()).await?;
    Ok(state
        .keys
        .access_token(user.id, user.token_version, session)?)
}

/// Mails a reset code to `email` if an active account has it — in the background, so
/// the caller answers at once and in the same time whether or not it exists.
pub fn send_reset_code_later(state: Arc<AppState>, email: Email) {
    tokio::spawn(async move {
        let outcome = async {
            if let Some(user) = find_by_email(&state.db, &email).await?
                && user.is_active
            {
                send_code(&state, &user, CodePurpose::ResetPassword).await?;
            }
            Ok::<_, ApiError>(())
        }
        .await;
        if let Err(err) = outcome {
            tracing::error!(error = ?err, "forgot-password: could not send the code");
        }
    });
}

/// Sets a new password with a mailed code (which also proves the email). Every session
/// and access token ends.
pub async fn reset(
    state: &AppState,
    email: &Email,
    otp: &str,
    new_password: Password,
    ip: &str,
) -> Result<(), ApiError> {
    let Some(user) = find_by_email(&state.db, email).await? else {
        return Err(ApiError::BadRequest("Invalid or expired OTP".into()));
    };
    redeem_code(state, user.id, CodePurpose::ResetPassword, otp).await?;
    let hash = password::hash(SecretString::from(new_password.expose().to_owned())).await?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(user.id),
        password_hash: Set(Some(hash)),
        is_email_verified: Set(true),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    bump_token_version(&txn, user.id).await?;
    revoke_sessions(&txn, user.id, None, "PASSWORD_RESET").await?;
    revoke_access_tokens(&txn, user.id).await?;
    txn.commit().await?;
    crate::service::auth::credentials_changed(state, user.id).await;
    audit::record(
        &state.db,
        Action::PasswordReset,
        audit::Event {
            subject: Some(user.id),
            ip: Some(ip),
            ..Default::default()
        },
    )
    .await;
    Ok(())
}
