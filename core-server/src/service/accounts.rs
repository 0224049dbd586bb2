//! Accounts: creating users and their wire form, and — one module per seam — sessions
//! (sign-up, sign-in, refresh, sign-out), one-time codes, passwords, two-factor
//! authentication, personal access tokens and the admin's user directory. The routes of
//! `/auth`, `/users` and the `create-admin` command call these.

pub mod codes;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
pub mod users;

use chrono::Utc;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use secrecy::SecretString;
use uuid::Uuid;

use crate::api::{self, Role};
use crate::domain::{Email, Password, PersonName, Phone};
use crate::error::ApiError;
use crate::service::auth::password;
use crate::store::entity::user;

pub use codes::{
    Addressee, CodePurpose, INVITE_TTL_HOURS, OTP_MAX_ATTEMPTS, OTP_TTL_MINUTES,
    holding_live_codes, invite, issue_code, issue_codes, redeem_code, send_code, send_codes,
};
pub use sessions::{
    SESSION_TTL_DAYS, SignIn, bump_token_version, revoke_session, revoke_sessions, rotate_refresh,
    start_session,
};
pub use tokens::revoke_access_tokens;

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
    let role = m.role;
    let profile = m.profile.clone().unwrap_or(serde_json::Value::Null);
    let (mut student, mut teacher, mut parent) = (None, None, None);
    match role {
        Role::Student => {
            let mut p: api::StudentProfile = serde_json::from_value(profile).unwrap_or_default();
            // A student who has earned nothing yet is on level 1, not 0.
            p.level = p.level.max(crate::domain::xp::level_for(p.total_xp));
            student = Some(p);
        }
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

fn referral_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()]))
        .collect()
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
        return Err(email_taken());
    }
    let mut new = new;
    let password_hash = hash_password(new.password.take()).await?;
    insert_account(db, new, password_hash).await
}

fn email_taken() -> ApiError {
    ApiError::Conflict {
        field: Some("email".into()),
        message: "User with this email already exists".into(),
    }
}

/// Hashes a new account's password (off the async workers), before any transaction:
/// a transaction should not hold SQLite's write lock while argon2 runs.
pub async fn hash_password(password: Option<Password>) -> Result<Option<String>, ApiError> {
    match password {
        Some(p) => Ok(Some(
            password::hash(SecretString::from(p.expose().to_owned())).await?,
        )),
        None => Ok(None),
    }
}

/// [`create`] with the password already hashed (`new.password` is ignored), for a
/// caller that writes the account in its own transaction.
pub async fn insert_account(
    db: &impl ConnectionTrait,
    new: NewAccount,
    password_hash: Option<String>,
) -> Result<(user::Model, Option<String>), ApiError> {
    if find_by_email(db, &new.email).await?.is_some() {
        return Err(email_taken());
    }
    let totp_secret = (new.role == Role::Admin).then(crate::service::auth::totp::new_secret);
    let now = Utc::now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_ref().to_owned()),
        phone: Set(new.phone.map(|p| p.as_ref().to_owned())),
        password_hash: Set(password_hash),
        first_name: Set(new.first_name.as_ref().to_owned()),
        last_name: Set(new.last_name.as_ref().to_owned()),
        role: Set(new.role),
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
    .await?;
    Ok((model, totp_secret))
}
