//! `/api/v1/auth/*`: sign-up, sign-in with optional TOTP, token refresh, sign-out,
//! passwords, email verification, sessions, 2FA enrolment and personal access tokens.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with, user_agent};
use crate::accounts::{self, CodePurpose, NewAccount, SignIn};
use crate::api::{
    AccessTokenInfo, AccessTokenList, ApiResponse, AuthSession, ChangePassword, CreatedAccessToken,
    CreatedUser, ForgotPassword, Login, LoginOutcome, MfaChallenge, NewAccessToken, RecoveryCodes,
    RefreshRequest, Register, ResetPassword, Role, SessionInfo, SessionList, TokenPair, TokenScope,
    TotpCode, TotpEnrollment, User, VerifyEmail, VerifyMfa,
};
use crate::audit::{self, Action};
use crate::auth::extract::{client_ip, parse_scopes};
use crate::auth::rate_limit::{self, Bucket};
use crate::auth::{AuthUser, jwt, password, secrets, totp};
use crate::domain::{Email, Fields, Password};
use crate::entity::{access_token, recovery_code, session, user};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(verify_mfa)
        .service(me)
        .service(refresh_token)
        .service(logout)
        .service(change_password)
        .service(forgot_password)
        .service(reset_password)
        .service(verify_email)
        .service(resend_otp)
        .service(list_sessions)
        .service(delete_session)
        .service(enroll_totp)
        .service(confirm_totp)
        .service(disable_totp)
        .service(create_access_token)
        .service(list_access_tokens)
        .service(revoke_access_token);
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("Invalid credentials".into())
}

/// Creates an account (STUDENT by default; TEACHER or PARENT on request; ADMIN only when
/// an admin asks) and signs it in. A verification code is mailed to the address.
#[utoipa::path(
    tag = "auth",
    request_body = Register,
    responses(
        (status = 201, description = "Registered and signed in; or, for an ADMIN account an admin registers, the account and its 2FA secret", body = ApiResponse<crate::api::Registered>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "ADMIN asked for without an admin's token", body = crate::api::ErrorBody),
        (status = 409, description = "Email already registered", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<AuthUser>,
    Json(body): Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let role = body.role.unwrap_or(Role::Student);
    let account = NewAccount::parse(
        &body.email,
        Some(&body.password),
        &body.first_name,
        &body.last_name,
        body.phone.as_deref(),
        role,
    )?;
    let by_admin = caller.as_ref().is_some_and(AuthUser::is_admin);
    if role == Role::Admin && !by_admin {
        return Err(ApiError::Forbidden(
            "Only an admin can register an ADMIN account".into(),
        ));
    }
    let (user, totp_secret) = accounts::create(&state.db, account).await?;
    accounts::send_code(&state, &user, CodePurpose::VerifyEmail).await?;
    if let Some(secret) = totp_secret {
        // A new admin signs in with 2FA from the start; the admin who made them passes
        // the secret on. Nobody is signed in here.
        let admin = caller.as_ref().map(AuthUser::id);
        audit::record(
            &state.db,
            Action::UserCreated,
            audit::Event {
                actor: admin,
                subject: Some(user.id),
                ip: Some(&client_ip(&req)),
                detail: Some("role ADMIN".into()),
            },
        )
        .await;
        let two_factor = enrollment_with_recovery(&state, &user, secret).await?;
        return Ok(created(CreatedUser {
            user: accounts::to_wire(&user),
            two_factor: Some(two_factor),
        }));
    }
    let session = accounts::start_session(
        &state,
        &user,
        user_agent(&req),
        &client_ip(&req),
        SignIn::Registered,
    )
    .await?;
    Ok(created(session))
}

/// Signs in with email and password. Accounts with 2FA get a challenge to answer at
/// `POST /auth/2fa/verify` instead of tokens.
#[utoipa::path(
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in, or a 2FA challenge", body = ApiResponse<LoginOutcome>),
        (status = 401, description = "Invalid credentials", body = crate::api::ErrorBody),
        (status = 403, description = "Account deactivated", body = crate::api::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    rate_limit::limit_ip(&req, Bucket::Login)?;
    let email = Email::parse(&body.email).map_err(|m| ApiError::field("email", m))?;
    rate_limit::limit_account(&req, Bucket::Login, email.as_ref())?;
    let user = accounts::find_by_email(&state.db, &email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(SecretString::from(body.password), stored).await?;
    let Some(user) = user.filter(|_| matches) else {
        audit::record(
            &state.db,
            Action::LoginFailed,
            audit::Event {
                ip: Some(&ip),
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
        return Ok(ok(LoginOutcome::MfaRequired(MfaChallenge {
            mfa_required: true,
            challenge_token: state.keys.mfa_challenge(user.id, user.token_version)?,
            expires_in: jwt::MFA_TTL_SECS,
        })));
    }
    let session =
        accounts::start_session(&state, &user, user_agent(&req), &ip, SignIn::Password).await?;
    Ok(ok_with(
        "Login successful",
        LoginOutcome::Session(Box::new(session)),
    ))
}

/// Completes a 2FA login with a TOTP code (or a recovery code).
#[utoipa::path(
    tag = "auth",
    request_body = VerifyMfa,
    responses(
        (status = 200, description = "Signed in", body = ApiResponse<AuthSession>),
        (status = 401, description = "Wrong or reused code, or expired challenge", body = crate::api::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/2fa/verify")]
pub async fn verify_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<VerifyMfa>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    rate_limit::limit_ip(&req, Bucket::Mfa)?;
    let expired = || {
        ApiError::Unauthorized(
            "The sign-in challenge is invalid or has expired; log in again".into(),
        )
    };
    let claims = state
        .keys
        .verify(&body.challenge_token, jwt::MFA_AUDIENCE)
        .ok_or_else(expired)?;
    rate_limit::limit_account(&req, Bucket::Mfa, &claims.sub.to_string())?;
    let user = accounts::find_user(&state.db, claims.sub).await?;
    if !user.is_active || user.token_version != claims.ver || !user.totp_enabled {
        return Err(expired());
    }
    if !check_second_factor(&state, &user, &body.code).await? {
        audit::record(
            &state.db,
            Action::TwoFactorFailed,
            audit::Event {
                subject: Some(user.id),
                ip: Some(&ip),
                ..Default::default()
            },
        )
        .await;
        return Err(ApiError::Unauthorized("Invalid two-factor code".into()));
    }
    let session =
        accounts::start_session(&state, &user, user_agent(&req), &ip, SignIn::TwoFactor).await?;
    Ok(ok_with("Login successful", session))
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

/// The signed-in user, with their role's profile.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = ApiResponse<User>),
        (status = 401, description = "Not signed in", body = crate::api::ErrorBody),
    )
)]
#[get("/auth/me")]
pub async fn me(auth: AuthUser) -> HttpResponse {
    ok(accounts::to_wire(&auth.user))
}

/// Trades a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one ends its session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = ApiResponse<TokenPair>),
        (status = 401, description = "Invalid, spent or expired refresh token", body = crate::api::ErrorBody),
        (status = 429, description = "Too many refreshes", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/refresh-token")]
pub async fn refresh_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    rate_limit::limit_ip(&req, Bucket::Refresh)?;
    Ok(ok(accounts::rotate_refresh(
        &state,
        &body.refresh_token,
        &ip,
    )
    .await?))
}

/// Ends the current session: its access and refresh tokens stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Signed out", body = ApiResponse<crate::api::Empty>))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    if let Some(sid) = auth.session_id {
        accounts::revoke_session(&state.db, sid, "LOGOUT").await?;
    }
    state
        .realtime
        .credentials_changed(&state.db, auth.id())
        .await;
    Ok(ok_with("Logged out", json!({})))
}

/// Changes the password. Other sessions end; this one continues with the new access
/// token in the answer.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Changed", body = ApiResponse<crate::api::PasswordChanged>),
        (status = 400, description = "Wrong current password or weak new one", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/change-password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    Json(body): Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let Some(sid) = auth.session_id else {
        return Err(ApiError::Forbidden(
            "Change your password from a signed-in session, not with an access token".into(),
        ));
    };
    let new_password =
        Password::parse(&body.new_password).map_err(|m| ApiError::field("newPassword", m))?;
    let matches = password::verify(
        SecretString::from(body.old_password),
        auth.user.password_hash.clone(),
    )
    .await?;
    if !matches {
        return Err(ApiError::field(
            "oldPassword",
            "Current password is incorrect",
        ));
    }
    let hash = password::hash(SecretString::from(new_password.expose().to_owned())).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(auth.id()),
        password_hash: Set(Some(hash)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    accounts::bump_token_version(&txn, auth.id()).await?;
    accounts::revoke_sessions(&txn, auth.id(), Some(sid), "PASSWORD_CHANGED").await?;
    accounts::revoke_access_tokens(&txn, auth.id()).await?;
    txn.commit().await?;
    state
        .realtime
        .credentials_changed(&state.db, auth.id())
        .await;
    audit::record(
        &state.db,
        Action::PasswordChanged,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(auth.id()),
            ip: Some(&client_ip(&req)),
            ..Default::default()
        },
    )
    .await;
    let user = accounts::find_user(&state.db, auth.id()).await?;
    Ok(ok_with(
        "Password changed; other sessions were signed out",
        json!({
            "accessToken": state.keys.access_token(user.id, user.token_version, sid)?,
            "expiresIn": jwt::ACCESS_TTL_SECS,
        }),
    ))
}

/// Mails a password-reset code if the account exists. The answer never says whether it
/// does, and takes the same time either way (the work happens after answering).
#[utoipa::path(
    tag = "auth",
    request_body = ForgotPassword,
    responses(
        (status = 200, description = "Always, whether or not the email is registered", body = ApiResponse<crate::api::Empty>),
        (status = 429, description = "Too many requests", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/forgot-password")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<ForgotPassword>,
) -> Result<HttpResponse, ApiError> {
    rate_limit::limit_ip(&req, Bucket::Otp)?;
    let email = Email::parse(&body.email).map_err(|m| ApiError::field("email", m))?;
    rate_limit::limit_account(&req, Bucket::Otp, email.as_ref())?;
    let state = state.into_inner();
    tokio::spawn(async move {
        let outcome = async {
            if let Some(user) = accounts::find_by_email(&state.db, &email).await?
                && user.is_active
            {
                accounts::send_code(&state, &user, CodePurpose::ResetPassword).await?;
            }
            Ok::<_, ApiError>(())
        }
        .await;
        if let Err(err) = outcome {
            tracing::error!(error = ?err, "forgot-password: could not send the code");
        }
    });
    Ok(ok_with(
        "If an account exists for that email, a code to reset the password has been sent",
        json!({}),
    ))
}

/// Sets a new password with a mailed code. Every session ends; sign in again.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPassword,
    responses(
        (status = 200, description = "Password set", body = ApiResponse<crate::api::Empty>),
        (status = 400, description = "Invalid or expired OTP, or weak password", body = crate::api::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    rate_limit::limit_ip(&req, Bucket::Otp)?;
    let mut fields = Fields::default();
    let email = fields.take("email", Email::parse(&body.email));
    let new_password = fields.take("newPassword", Password::parse(&body.new_password));
    fields.finish()?;
    let (Some(email), Some(new_password)) = (email, new_password) else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    rate_limit::limit_account(&req, Bucket::Otp, email.as_ref())?;
    let Some(user) = accounts::find_by_email(&state.db, &email).await? else {
        return Err(ApiError::BadRequest("Invalid or expired OTP".into()));
    };
    accounts::redeem_code(&state, user.id, CodePurpose::ResetPassword, &body.otp).await?;
    let hash = password::hash(SecretString::from(new_password.expose().to_owned())).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(user.id),
        password_hash: Set(Some(hash)),
        is_email_verified: Set(true),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    accounts::bump_token_version(&txn, user.id).await?;
    accounts::revoke_sessions(&txn, user.id, None, "PASSWORD_RESET").await?;
    accounts::revoke_access_tokens(&txn, user.id).await?;
    txn.commit().await?;
    state.realtime.credentials_changed(&state.db, user.id).await;
    audit::record(
        &state.db,
        Action::PasswordReset,
        audit::Event {
            subject: Some(user.id),
            ip: Some(&ip),
            ..Default::default()
        },
    )
    .await;
    Ok(ok_with(
        "Password has been reset; log in with the new password",
        json!({}),
    ))
}

/// Confirms the caller's email with the mailed code.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = VerifyEmail,
    responses(
        (status = 200, description = "Email verified", body = ApiResponse<User>),
        (status = 400, description = "Invalid or expired OTP", body = crate::api::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    Json(body): Json<VerifyEmail>,
) -> Result<HttpResponse, ApiError> {
    rate_limit::limit_ip(&req, Bucket::Otp)?;
    rate_limit::limit_account(&req, Bucket::Otp, &auth.id().to_string())?;
    accounts::redeem_code(&state, auth.id(), CodePurpose::VerifyEmail, &body.otp).await?;
    let user = user::ActiveModel {
        id: Set(auth.id()),
        is_email_verified: Set(true),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    Ok(ok_with("Email verified", accounts::to_wire(&user)))
}

/// Mails a fresh email-verification code (the previous one stops working).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Code sent", body = ApiResponse<crate::api::Empty>), (status = 429, description = "Too many requests"))
)]
#[post("/auth/resend-otp")]
pub async fn resend_otp(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    rate_limit::limit_ip(&req, Bucket::Otp)?;
    rate_limit::limit_account(&req, Bucket::Otp, &auth.id().to_string())?;
    if auth.user.is_email_verified {
        return Ok(ok_with("Email is already verified", json!({})));
    }
    accounts::send_code(&state, &auth.user, CodePurpose::VerifyEmail).await?;
    Ok(ok_with("A new code has been sent", json!({})))
}

/// The caller's signed-in devices.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Active sessions, newest first", body = ApiResponse<SessionList>))
)]
#[get("/auth/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(auth.id()))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::LastUsedAt)
        .all(&state.db)
        .await?;
    let sessions = rows
        .into_iter()
        .map(|s| SessionInfo {
            current: Some(s.id) == auth.session_id,
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
        })
        .collect();
    Ok(ok(SessionList { sessions }))
}

/// Signs one of the caller's devices out.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "Session ended", body = ApiResponse<crate::api::Empty>), (status = 404, description = "No such session of yours"))
)]
#[delete("/auth/sessions/{id}")]
pub async fn delete_session(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = session::Entity::find_by_id(id)
        .filter(session::Column::UserId.eq(auth.id()))
        .one(&state.db)
        .await?;
    if found.is_none() {
        return Err(ApiError::NotFound("Session not found".into()));
    }
    accounts::revoke_session(&state.db, id, "SIGNED_OUT_REMOTELY").await?;
    state
        .realtime
        .credentials_changed(&state.db, auth.id())
        .await;
    Ok(ok_with("Session ended", json!({})))
}

/// Starts 2FA enrolment: a new secret to add to an authenticator app, then confirm.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Secret and otpauth URI", body = ApiResponse<TotpEnrollment>),
        (status = 409, description = "2FA is already on", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/2fa/enroll")]
pub async fn enroll_totp(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    require_session(&auth)?;
    if auth.user.totp_enabled {
        return Err(ApiError::Conflict {
            field: None,
            message: "Two-factor authentication is already enabled".into(),
        });
    }
    let secret = totp::new_secret();
    user::ActiveModel {
        id: Set(auth.id()),
        totp_secret: Set(Some(secret.clone())),
        totp_last_step: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    Ok(ok(TotpEnrollment {
        otpauth_uri: totp::otpauth_uri(&secret, &auth.user.email),
        secret,
        recovery_codes: Vec::new(),
    }))
}

/// Turns 2FA on with a code from the app; answers the 10 single-use recovery codes.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, description = "2FA on", body = ApiResponse<RecoveryCodes>),
        (status = 400, description = "Wrong code, or no enrolment started", body = crate::api::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/2fa/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    Json(body): Json<TotpCode>,
) -> Result<HttpResponse, ApiError> {
    require_session(&auth)?;
    rate_limit::limit_account(&req, Bucket::Mfa, &auth.id().to_string())?;
    if auth.user.totp_enabled {
        return Err(ApiError::Conflict {
            field: None,
            message: "Two-factor authentication is already enabled".into(),
        });
    }
    let Some(secret) = auth.user.totp_secret.as_deref() else {
        return Err(ApiError::BadRequest(
            "Start with POST /api/v1/auth/2fa/enroll".into(),
        ));
    };
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let Some(step) = totp::verify(secret, &body.code, now, None) else {
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
        .filter(user::Column::Id.eq(auth.id()))
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
    let codes = replace_recovery_codes(&state, auth.id()).await?;
    audit::record(
        &state.db,
        Action::TwoFactorEnabled,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(auth.id()),
            ip: Some(&client_ip(&req)),
            ..Default::default()
        },
    )
    .await;
    Ok(ok_with(
        "Two-factor authentication is on; keep the recovery codes somewhere safe",
        RecoveryCodes {
            recovery_codes: codes,
        },
    ))
}

/// Turns 2FA off with a current code (or a recovery code). Admins can't: it is
/// mandatory for them.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, description = "2FA off", body = ApiResponse<crate::api::Empty>),
        (status = 401, description = "Wrong code", body = crate::api::ErrorBody),
        (status = 422, description = "Mandatory for admins", body = crate::api::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/2fa/disable")]
pub async fn disable_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    Json(body): Json<TotpCode>,
) -> Result<HttpResponse, ApiError> {
    require_session(&auth)?;
    rate_limit::limit_account(&req, Bucket::Mfa, &auth.id().to_string())?;
    if auth.role() == Role::Admin {
        return Err(ApiError::Unprocessable(
            "Two-factor authentication is mandatory for admins".into(),
        ));
    }
    if !auth.user.totp_enabled {
        return Ok(ok_with(
            "Two-factor authentication is already off",
            json!({}),
        ));
    }
    let ip = client_ip(&req);
    if !check_second_factor(&state, &auth.user, &body.code).await? {
        audit::record(
            &state.db,
            Action::TwoFactorFailed,
            audit::Event {
                subject: Some(auth.id()),
                ip: Some(&ip),
                detail: Some("disabling 2FA".into()),
                ..Default::default()
            },
        )
        .await;
        return Err(ApiError::Unauthorized("Invalid two-factor code".into()));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    user::ActiveModel {
        id: Set(auth.id()),
        totp_enabled: Set(false),
        totp_secret: Set(None),
        totp_last_step: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(auth.id()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    audit::record(
        &state.db,
        Action::TwoFactorDisabled,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(auth.id()),
            ip: Some(&ip),
            ..Default::default()
        },
    )
    .await;
    Ok(ok_with("Two-factor authentication is off", json!({})))
}

fn require_session(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.session_id.is_some() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Sign in with a password for this; access tokens can't manage credentials".into(),
        ))
    }
}

/// Ten new recovery codes for `user_id`, replacing any old ones. Returns them in clear.
pub async fn replace_recovery_codes(
    state: &AppState,
    user_id: Uuid,
) -> Result<Vec<String>, ApiError> {
    let codes: Vec<String> = (0..10).map(|_| secrets::new_recovery_code()).collect();
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
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

/// Creates a personal access token for scripts and CI. The token is in this answer only.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = NewAccessToken,
    responses(
        (status = 201, description = "Created; copy the token now", body = ApiResponse<CreatedAccessToken>),
        (status = 400, description = "Invalid name, scopes or expiry", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/tokens")]
pub async fn create_access_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    Json(body): Json<NewAccessToken>,
) -> Result<HttpResponse, ApiError> {
    require_session(&auth)?;
    let mut fields = Fields::default();
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        fields.push("name", "must be 1 to 100 characters");
    }
    let mut scopes = body.scopes.clone();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        fields.push("scopes", "name at least one of read, write, admin");
    }
    if scopes.contains(&TokenScope::Admin) && auth.role() != Role::Admin {
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
    let token = secrets::new_token(secrets::PAT_PREFIX);
    let now = Utc::now();
    let stored = access_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(auth.id()),
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
            actor: Some(auth.id()),
            subject: Some(auth.id()),
            ip: Some(&client_ip(&req)),
            detail: Some(format!("token {} ({})", stored.name, stored.scopes)),
        },
    )
    .await;
    Ok(created(CreatedAccessToken {
        token,
        info: token_info(&stored),
    }))
}

/// The caller's live personal access tokens (never their secrets).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "Tokens, newest first", body = ApiResponse<AccessTokenList>))
)]
#[get("/auth/tokens")]
pub async fn list_access_tokens(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let tokens = access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(auth.id()))
        .filter(access_token::Column::RevokedAt.is_null())
        .order_by_desc(access_token::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(ok(AccessTokenList {
        tokens: tokens.iter().map(token_info).collect(),
    }))
}

/// Revokes one of the caller's personal access tokens.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 200, description = "Revoked", body = ApiResponse<crate::api::Empty>), (status = 404, description = "No such token of yours"))
)]
#[delete("/auth/tokens/{id}")]
pub async fn revoke_access_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let revoked = access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(access_token::Column::Id.eq(id))
        .filter(access_token::Column::UserId.eq(auth.id()))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    if revoked.rows_affected == 0 {
        return Err(ApiError::NotFound("Access token not found".into()));
    }
    state
        .realtime
        .credentials_changed(&state.db, auth.id())
        .await;
    audit::record(
        &state.db,
        Action::AccessTokenRevoked,
        audit::Event {
            actor: Some(auth.id()),
            subject: Some(auth.id()),
            ip: Some(&client_ip(&req)),
            detail: Some(format!("token {id}")),
        },
    )
    .await;
    Ok(ok_with("Access token revoked", json!({})))
}
