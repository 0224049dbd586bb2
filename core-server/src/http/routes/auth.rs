//! `/api/v1/auth/*`: sign-up, sign-in with optional TOTP, token refresh, sign-out,
//! passwords, email verification, sessions, 2FA enrolment and personal access tokens.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with, user_agent};
use crate::api::{
    AccessTokenList, ApiResponse, AuthSession, ChangePassword, CreatedAccessToken, ForgotPassword,
    Login, LoginOutcome, NewAccessToken, RecoveryCodes, RefreshRequest, Register, ResetPassword,
    Role, SessionList, TokenPair, TotpCode, TotpEnrollment, User, VerifyEmail, VerifyMfa,
};
use crate::domain::{Email, Fields, Password};
use crate::error::ApiError;
use crate::http::auth::client_ip;
use crate::http::extract::Json;
use crate::http::rate_limit;
use crate::platform::state::AppState;
use crate::service::accounts::sessions;
use crate::service::accounts::tokens::{self, TokenRequest};
use crate::service::accounts::users::{self, Registered};
use crate::service::accounts::{self, NewAccount, codes, passwords, two_factor};
use crate::service::auth::rate_limit::Bucket;
use crate::service::auth::{AuthUser, jwt};

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
        (status = 429, description = "Too many sign-ups from this address", body = crate::api::ErrorBody),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<AuthUser>,
    Json(body): Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let by_admin = caller.as_ref().is_some_and(AuthUser::is_admin);
    if !by_admin {
        // Sign-ups cost an argon2 hash and make an account: limited per address like
        // sign-ins.
        rate_limit::limit_ip(&req, Bucket::Register)?;
    }
    let role = body.role.unwrap_or(Role::Student);
    let account = NewAccount::parse(
        &body.email,
        Some(&body.password),
        &body.first_name,
        &body.last_name,
        body.phone.as_deref(),
        role,
    )?;
    if role == Role::Admin && !by_admin {
        return Err(ApiError::Forbidden(
            "Only an admin can register an ADMIN account".into(),
        ));
    }
    let admin = caller.as_ref().map(AuthUser::id);
    let registered =
        users::register(&state, account, admin, user_agent(&req), &client_ip(&req)).await?;
    Ok(match registered {
        Registered::Admin(created_user) => created(created_user),
        Registered::SignedIn(session) => created(session),
    })
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
    let password = SecretString::from(body.password);
    let outcome = sessions::login(&state, &email, password, user_agent(&req), &ip).await?;
    Ok(match outcome {
        LoginOutcome::MfaRequired(_) => ok(outcome),
        LoginOutcome::Session(_) => ok_with("Login successful", outcome),
    })
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
    let challenge = two_factor::read_challenge(&state, &body.challenge_token)?;
    rate_limit::limit_account(&req, Bucket::Mfa, &challenge.sub.to_string())?;
    let session =
        two_factor::complete_sign_in(&state, &challenge, &body.code, user_agent(&req), &ip).await?;
    Ok(ok_with("Login successful", session))
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
    sessions::logout(&state, &auth).await?;
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
    let old_password = SecretString::from(body.old_password);
    let access_token = passwords::change(
        &state,
        &auth,
        sid,
        old_password,
        new_password,
        &client_ip(&req),
    )
    .await?;
    Ok(ok_with(
        "Password changed; other sessions were signed out",
        json!({
            "accessToken": access_token,
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
    passwords::send_reset_code_later(state.into_inner(), email);
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
    passwords::reset(&state, &email, &body.otp, new_password, &ip).await?;
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
    let user = codes::verify_email(&state, auth.id(), &body.otp).await?;
    Ok(ok_with("Email verified", user))
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
    if codes::resend_verification(&state, &auth.user).await? {
        Ok(ok_with("A new code has been sent", json!({})))
    } else {
        Ok(ok_with("Email is already verified", json!({})))
    }
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
    Ok(ok(sessions::list_sessions(&state, &auth).await?))
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
    sessions::end_session(&state, &auth, id.into_inner()).await?;
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
    Ok(ok(two_factor::enroll(&state, &auth.user).await?))
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
    let codes = two_factor::confirm(&state, &auth.user, &body.code, &client_ip(&req)).await?;
    Ok(ok_with(
        "Two-factor authentication is on; keep the recovery codes somewhere safe",
        codes,
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
    if two_factor::disable(&state, &auth.user, &body.code, &client_ip(&req)).await? {
        Ok(ok_with("Two-factor authentication is off", json!({})))
    } else {
        Ok(ok_with(
            "Two-factor authentication is already off",
            json!({}),
        ))
    }
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
    let request = TokenRequest::parse(&body, auth.role())?;
    Ok(created(
        tokens::create(&state, &auth, request, &client_ip(&req)).await?,
    ))
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
    Ok(ok(tokens::list(&state, auth.id()).await?))
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
    tokens::revoke(&state, &auth, id.into_inner(), &client_ip(&req)).await?;
    Ok(ok_with("Access token revoked", json!({})))
}
