//! Two-factor authentication: the second step of a sign-in, enrolment (secret, confirm,
//! recovery codes), turning it off, and the enrolment a new admin starts with.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::api::{AuthSession, RecoveryCodes, TotpEnrollment};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::accounts::find_user;
use crate::service::accounts::sessions::{SignIn, start_session};
use crate::service::audit::{self, Action};
use crate::service::auth::jwt::{self, Claims};
use crate::service::auth::{secrets, totp};
use crate::store::entity::{recovery_code, user};

fn expired_challenge() -> ApiError {
    ApiError::Unauthorized("The sign-in challenge is invalid or has expired; log in again".into())
}

/// The claims of a sign-in challenge (the password step passed), or 401 when it is
/// forged or expired. No database: the caller rate-limits the account it names.
pub fn read_challenge(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    state
        .keys
        .verify(token, jwt::MFA_AUDIENCE)
        .ok_or_else(expired_challenge)
}

/// Completes a 2FA sign-in with a TOTP or recovery code: a session, or 401 (audited).
pub async fn complete_sign_in(
    state: &AppState,
    challenge: &Claims,
    code: &str,
    user_agent: Option<String>,
    ip: &str,
) -> Result<AuthSession, ApiError> {
    let user = find_user(&state.db, challenge.sub).await?;
    if !user.is_active || user.token_version != challenge.ver || !user.totp_enabled {
        return Err(expired_challenge());
    }
    if !check_second_factor(state, &user, code).await? {
        audit::record(
            &state.db,
            Action::TwoFactorFailed,
            audit::Event {
                subject: Some(user.id),
                ip: Some(ip),
                ..Default::default()
            },
        )
        .await;
        return Err(ApiError::Unauthorized("Invalid two-factor code".into()));
    }
    start_session(state, &user, user_agent, ip, SignIn::TwoFactor).await
}

/// A TOTP code valid now and not used before (its step is stored), or an unused
/// recovery code (spent).
async fn check_second_factor(
    state: &AppState,
    user: &user::Model,
    code: &str,
) -> Result<bool, ApiError> {
    let Some(secret) = user.totp_secret.as_deref() else {
        return Ok(false);
    };
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    if let Some(step) = totp::verify(secret, code, now, user.totp_last_step) {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        // Conditional update: two requests racing with the same code can't both win.
        let accepted = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(user.id))
            .filter(
                user::Column::TotpLastStep
                    .is_null()
                    .or(user::Column::TotpLastStep.lt(step)),
            )
            .exec(&state.db)
            .await?;
        crate::service::auth::user_changed(state, user.id).await;
        return Ok(accepted.rows_affected == 1);
    }
    let hash = secrets::code_hash(
        state.keys.code_key(),
        &format!("{}:RECOVERY", user.id),
        code,
    );
    let spent = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(Utc::now()))
        .filter(recovery_code::Column::UserId.eq(user.id))
        .filter(recovery_code::Column::CodeHash.eq(hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(spent.rows_affected == 1)
}

fn already_enabled() -> ApiError {
    ApiError::Conflict {
        field: None,
        message: "Two-factor authentication is already enabled".into(),
    }
}

/// Starts enrolment: a new secret for an authenticator app, stored until confirmed.
pub async fn enroll(state: &AppState, user: &user::Model) -> Result<TotpEnrollment, ApiError> {
    if user.totp_enabled {
        return Err(already_enabled());
    }
    let secret = totp::new_secret();
    user::ActiveModel {
        id: Set(user.id),
        totp_secret: Set(Some(secret.clone())),
        totp_last_step: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    crate::service::auth::user_changed(state, user.id).await;
    Ok(TotpEnrollment {
        otpauth_uri: totp::otpauth_uri(&secret, &user.email),
        secret,
        recovery_codes: Vec::new(),
    })
}

/// Turns 2FA on with a current code of the enrolled secret; answers 10 fresh recovery
/// codes (audited).
pub async fn confirm(
    state: &AppState,
    user: &user::Model,
    code: &str,
    ip: &str,
) -> Result<RecoveryCodes, ApiError> {
    if user.totp_enabled {
        return Err(already_enabled());
    }
    let Some(secret) = user.totp_secret.as_deref() else {
        return Err(ApiError::BadRequest(
            "Start with POST /api/v1/auth/2fa/enroll".into(),
        ));
    };
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let Some(step) = totp::verify(secret, code, now, None) else {
        return Err(ApiError::field(
            "code",
            "is not the current code of your authenticator app",
        ));
    };
    // Only the secret the code was checked against is switched on: a concurrent
    // re-enrolment must not leave 2FA on with a secret the user never saw.
    let enabled = user::Entity::update_many()
        .col_expr(user::Column::TotpEnabled, Expr::value(true))
        .col_expr(
            user::Column::TotpLastStep,
            Expr::value(i64::try_from(step).unwrap_or(i64::MAX)),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::TotpSecret.eq(secret))
        .filter(user::Column::TotpEnabled.eq(false))
        .exec(&state.db)
        .await?;
    if enabled.rows_affected != 1 {
        return Err(ApiError::Conflict {
            field: None,
            message: "Two-factor enrolment changed meanwhile; start again with POST /api/v1/auth/2fa/enroll".into(),
        });
    }
    crate::service::auth::user_changed(state, user.id).await;
    let codes = replace_recovery_codes(state, user.id).await?;
    audit::record(
        &state.db,
        Action::TwoFactorEnabled,
        audit::Event {
            actor: Some(user.id),
            subject: Some(user.id),
            ip: Some(ip),
            ..Default::default()
        },
    )
    .await;
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// Turns 2FA off with a current or recovery code: secret and recovery codes go in one
/// transaction. False when it was already off; 401 (audited) for a wrong code.
pub async fn disable(
    state: &AppState,
    user: &user::Model,
    code: &str,
    ip: &str,
) -> Result<bool, ApiError> {
    if !user.totp_enabled {
        return Ok(false);
    }
    if !check_second_factor(state, user, code).await? {
        audit::record(
            &state.db,
            Action::TwoFactorFailed,
            audit::Event {
                subject: Some(user.id),
                ip: Some(ip),
                detail: Some("disabling 2FA".into()),
                ..Default::default()
            },
        )
        .await;
        return Err(ApiError::Unauthorized("Invalid two-factor code".into()));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(user.id),
        totp_enabled: Set(false),
        totp_secret: Set(None),
        totp_last_step: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    crate::service::auth::user_changed(state, user.id).await;
    audit::record(
        &state.db,
        Action::TwoFactorDisabled,
        audit::Event {
            actor: Some(user.id),
            subject: Some(user.id),
            ip: Some(ip),
            ..Default::default()
        },
    )
    .await;
    Ok(true)
}

/// Ten new recovery codes for `user_id`, replacing any old ones. Returns them in clear.
pub async fn replace_recovery_codes(
    state: &AppState,
    user_id: Uuid,
) -> Result<Vec<String>, ApiError> {
    let codes: Vec<String> = (0..10).map(|_| secrets::new_recovery_code()).collect();
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    recovery_code::Entity::insert_many(codes.iter().map(|code| recovery_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        code_hash: Set(secrets::code_hash(
            state.keys.code_key(),
            &format!("{user_id}:RECOVERY"),
            code,
        )),
        used_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }))
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(codes)
}

/// The enrolment of a newly created admin: secret, URI and recovery codes.
pub async fn enrollment_with_recovery(
    state: &AppState,
    user: &user::Model,
    secret: String,
) -> Result<TotpEnrollment, ApiError> {
    Ok(TotpEnrollment {
        otpauth_uri: totp::otpauth_uri(&secret, &user.email),
        secret,
        recovery_codes: replace_recovery_codes(state, user.id).await?,
    })
}
