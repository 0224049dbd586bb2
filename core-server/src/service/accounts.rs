//! Account logic shared by the routes and the `create-admin` command: creating users,
//! starting and rotating sessions, one-time codes, and the wire form of a user.

use chrono::{Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::api::{self, AuthSession, Role, TokenPair};
use crate::domain::{Email, Password, PersonName, Phone};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::audit::{self, Action};
use crate::service::auth::{jwt, password, secrets};
use crate::store::entity::{one_time_code, refresh_token, session, user};

/// Sessions (refresh-token families) last 30 days from sign-in.
pub const SESSION_TTL_DAYS: i64 = 30;
/// One-time codes expire after 10 minutes.
pub const OTP_TTL_MINUTES: i64 = 10;
/// The set-password code of an account made for someone else (by an admin or an
/// import) lasts 72 hours: its owner reads the mail when they read it. Still 5 tries.
pub const INVITE_TTL_HOURS: i64 = 72;
/// A one-time code allows 5 tries.
pub const OTP_MAX_ATTEMPTS: i32 = 5;

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    VerifyEmail,
    ResetPassword,
}

impl CodePurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::ResetPassword => "RESET_PASSWORD",
        }
    }
}

/// A parsed request for a new account.
pub struct NewAccount {
    pub email: Email,
    pub password: Option<Password>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub phone: Option<Phone>,
    pub role: Role,
    pub external_id: Option<String>,
}

impl NewAccount {
    /// Parses the fields of a sign-up or an admin's new user, reporting every bad field
    /// at once (wire names: email, password, firstName, lastName, phone). An absent or
    /// blank phone is none; an absent password is allowed (the user is mailed a code).
    pub fn parse(
        email: &str,
        password: Option<&str>,
        first_name: &str,
        last_name: &str,
        phone: Option<&str>,
        role: Role,
    ) -> Result<Self, ApiError> {
        let mut fields = crate::domain::Fields::default();
        let email = fields.take("email", Email::parse(email));
        let password = match password {
            Some(p) => fields.take("password", Password::parse(p)).map(Some),
            None => Some(None),
        };
        let first_name = fields.take("firstName", PersonName::parse(first_name));
        let last_name = fields.take("lastName", PersonName::parse(last_name));
        let phone = match phone.filter(|p| !p.trim().is_empty()) {
            Some(p) => fields.take("phone", Phone::parse(p)).map(Some),
            None => Some(None),
        };
        fields.finish()?;
        match (email, password, first_name, last_name, phone) {
            (Some(email), Some(password), Some(first_name), Some(last_name), Some(phone)) => {
                Ok(Self {
                    email,
                    password,
                    first_name,
                    last_name,
                    phone,
                    role,
                    external_id: None,
                })
            }
            _ => Err(anyhow::anyhow!("fields parsed without values").into()),
        }
    }
}

/// The user as the API shows it.
pub fn to_wire(m: &user::Model) -> api::User {
    let role = m.role.parse().unwrap_or(Role::Student);
    let profile = m.profile.clone().unwrap_or(serde_json::Value::Null);
    let (mut student, mut teacher, mut parent) = (None, None, None);
    match role {
        Role::Student => student = Some(serde_json::from_value(profile).unwrap_or_default()),
        Role::Teacher => teacher = Some(serde_json::from_value(profile).unwrap_or_default()),
        Role::Parent => parent = Some(serde_json::from_value(profile).unwrap_or_default()),
        Role::Admin => {}
    }
    api::User {
        id: m.id,
        email: m.email.clone(),
        phone: m.phone.clone(),
        first_name: m.first_name.clone(),
        last_name: m.last_name.clone(),
        role,
        avatar: m.avatar.clone(),
        bio: m.bio.clone(),
        is_email_verified: m.is_email_verified,
        is_phone_verified: m.is_phone_verified,
        is_active: m.is_active,
        last_login: m.last_login,
        referral_code: m.referral_code.clone(),
        two_factor_enabled: m.totp_enabled,
        external_id: m.external_id.clone(),
        student_profile: student,
        teacher_profile: teacher,
        parent_profile: parent,
        created_at: m.created_at,
    }
}

/// The role of a stored user.
pub fn role_of(m: &user::Model) -> Role {
    m.role.parse().unwrap_or(Role::Student)
}

fn referral_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()]))
        .collect()
}

/// A unique-key violation on `users.email` becomes the contract's 409.
pub fn email_conflict(err: DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains("email") => {
            ApiError::Conflict {
                field: Some("email".into()),
                message: "User with this email already exists".into(),
            }
        }
        _ => err.into(),
    }
}

/// Finds a user by (already normalised) email.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_ref()))
        .one(db)
        .await?)
}

/// Finds a user by id, or 404 "User not found".
pub async fn find_user(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("User not found".into()))
}

/// Inserts a new user (hashing the password off the async workers). An ADMIN gets a
/// TOTP secret at once, since 2FA is mandatory for admins; it is returned with the user.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewAccount,
) -> Result<(user::Model, Option<String>), ApiError> {
    if find_by_email(db, &new.email).await?.is_some() {
        return Err(ApiError::Conflict {
            field: Some("email".into()),
            message: "User with this email already exists".into(),
        });
    }
    let password_hash = match new.password {
        Some(p) => Some(password::hash(SecretString::from(p.expose().to_owned())).await?),
        None => None,
    };
    let totp_secret = (new.role == Role::Admin).then(crate::service::auth::totp::new_secret);
    let now = Utc::now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_ref().to_owned()),
        phone: Set(new.phone.map(|p| p.as_ref().to_owned())),
        password_hash: Set(password_hash),
        first_name: Set(new.first_name.as_ref().to_owned()),
        last_name: Set(new.last_name.as_ref().to_owned()),
        role: Set(new.role.as_str().to_owned()),
        avatar: Set(None),
        bio: Set(None),
        profile: Set(None),
        is_email_verified: Set(false),
        is_phone_verified: Set(false),
        is_active: Set(true),
        last_login: Set(None),
        referral_code: Set(referral_code()),
        token_version: Set(0),
        totp_secret: Set(totp_secret.clone()),
        totp_enabled: Set(totp_secret.is_some()),
        totp_last_step: Set(None),
        external_id: Set(new.external_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(email_conflict)?;
    Ok((model, totp_secret))
}

/// Signs `user` in: a new session with its first refresh token, and an access token.
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

/// Revokes every live personal access token of a user (password reset or change,
/// deactivation): a token minted by whoever held the account must not outlive it.
pub async fn revoke_access_tokens(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    let now = Utc::now();
    crate::store::entity::access_token::Entity::update_many()
        .col_expr(
            crate::store::entity::access_token::Column::RevokedAt,
            Expr::value(now),
        )
        .col_expr(
            crate::store::entity::access_token::Column::UpdatedAt,
            Expr::value(now),
        )
        .filter(crate::store::entity::access_token::Column::UserId.eq(user_id))
        .filter(crate::store::entity::access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
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

/// Issues a 6-digit code for `purpose`, replacing any earlier one, and returns it.
pub async fn issue_code(
    state: &AppState,
    user_id: Uuid,
    purpose: CodePurpose,
) -> Result<String, ApiError> {
    let now = Utc::now();
    let code = secrets::new_otp();
    let txn = crate::store::db::begin_write(&state.db).await?;
    one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::UsedAt, Expr::value(now))
        .filter(one_time_code::Column::UserId.eq(user_id))
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    one_time_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        code_hash: Set(code_hash(state, user_id, purpose, &code)),
        attempts: Set(0),
        expires_at: Set(now + Duration::minutes(OTP_TTL_MINUTES)),
        used_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(code)
}

fn code_hash(state: &AppState, user_id: Uuid, purpose: CodePurpose, code: &str) -> String {
    secrets::code_hash(
        state.keys.code_key(),
        &format!("{user_id}:{}", purpose.as_str()),
        code,
    )
}

fn invalid_code() -> ApiError {
    ApiError::BadRequest("Invalid or expired OTP".into())
}

/// Spends the user's live code for `purpose` if `code` matches; each wrong try counts,
/// and after 5 the code is dead.
pub async fn redeem_code(
    state: &AppState,
    user_id: Uuid,
    purpose: CodePurpose,
    code: &str,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let Some(live) = one_time_code::Entity::find()
        .filter(one_time_code::Column::UserId.eq(user_id))
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::UsedAt.is_null())
        .filter(one_time_code::Column::ExpiresAt.gt(now))
        .filter(one_time_code::Column::Attempts.lt(OTP_MAX_ATTEMPTS))
        .one(&state.db)
        .await?
    else {
        return Err(invalid_code());
    };
    if live.code_hash != code_hash(state, user_id, purpose, code) {
        one_time_code::Entity::update_many()
            .col_expr(
                one_time_code::Column::Attempts,
                Expr::col(one_time_code::Column::Attempts).add(1),
            )
            .filter(one_time_code::Column::Id.eq(live.id))
            .exec(&state.db)
            .await?;
        return Err(invalid_code());
    }
    let spent = one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::UsedAt, Expr::value(now))
        .filter(one_time_code::Column::Id.eq(live.id))
        .filter(one_time_code::Column::UsedAt.is_null())
        .exec(&state.db)
        .await?;
    if spent.rows_affected == 1 {
        Ok(())
    } else {
        Err(invalid_code())
    }
}

/// Mails a code for `purpose` to `user`, valid [`OTP_TTL_MINUTES`].
pub async fn send_code(
    state: &AppState,
    user: &user::Model,
    purpose: CodePurpose,
) -> Result<(), ApiError> {
    send_codes(
        state,
        std::slice::from_ref(user),
        purpose,
        Duration::minutes(OTP_TTL_MINUTES),
    )
    .await
}

/// Mails a set-password code, valid [`INVITE_TTL_HOURS`], to each of `users`: accounts
/// an admin or an import made without a password.
pub async fn send_invites(state: &AppState, users: &[user::Model]) -> Result<(), ApiError> {
    send_codes(
        state,
        users,
        CodePurpose::ResetPassword,
        Duration::hours(INVITE_TTL_HOURS),
    )
    .await
}

/// Issues a code for `purpose` to each of `users` (replacing any live one) in one
/// transaction, then mails them together: an import of thousands of accounts costs a
/// few statements per batch, not three per account.
pub async fn send_codes(
    state: &AppState,
    users: &[user::Model],
    purpose: CodePurpose,
    ttl: Duration,
) -> Result<(), ApiError> {
    if users.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let codes: Vec<String> = users.iter().map(|_| secrets::new_otp()).collect();
    let txn = crate::store::db::begin_write(&state.db).await?;
    for chunk in users.chunks(500) {
        one_time_code::Entity::update_many()
            .col_expr(one_time_code::Column::UsedAt, Expr::value(now))
            .filter(one_time_code::Column::UserId.is_in(chunk.iter().map(|u| u.id)))
            .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_code::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
    }
    let rows: Vec<one_time_code::ActiveModel> = users
        .iter()
        .zip(&codes)
        .map(|(user, code)| one_time_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            purpose: Set(purpose.as_str().to_owned()),
            code_hash: Set(code_hash(state, user.id, purpose, code)),
            attempts: Set(0),
            expires_at: Set(now + ttl),
            used_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    for chunk in rows.chunks(500) {
        one_time_code::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    let (subject, what) = match purpose {
        CodePurpose::VerifyEmail => ("Verify your EduPro+ email", "verify your email address"),
        CodePurpose::ResetPassword => ("Set your EduPro+ password", "set a new password"),
    };
    let expiry = if ttl.num_minutes() % 60 == 0 && ttl.num_hours() > 1 {
        format!("{} hours", ttl.num_hours())
    } else {
        format!("{} minutes", ttl.num_minutes())
    };
    let messages = users.iter().zip(codes).map(|(user, code)| crate::platform::mail::Mail {
        to: user.email.clone(),
        subject: subject.to_owned(),
        body: format!(
            "Hello {},\n\nYour code to {what} is {code}.\nIt expires in {expiry} and works once.\n\nIf you did not ask for it, ignore this message.\n",
            user.first_name
        ),
    });
    state.mailer.send_all(messages.collect()).await?;
    Ok(())
}
