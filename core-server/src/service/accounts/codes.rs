//! One-time codes: issued and mailed (one at a time or a whole import's worth, the mail
//! queued in the codes' transaction), redeemed with a limited number of tries; email verification.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api;
use crate::error::ApiError;
use crate::platform::mail::Mail;
use crate::platform::state::AppState;
use crate::service::accounts::to_wire;
use crate::service::auth::secrets;
use crate::service::outbox::{self, Queued};
use crate::store::entity::{one_time_code, user};

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

/// Which of `users` hold a live code for `purpose`: unused, unexpired, tries left.
pub async fn holding_live_codes(
    db: &impl ConnectionTrait,
    users: impl IntoIterator<Item = Uuid>,
    purpose: CodePurpose,
) -> Result<HashSet<Uuid>, ApiError> {
    let users: Vec<Uuid> = users.into_iter().collect();
    let now = Utc::now();
    let mut live = HashSet::new();
    for chunk in users.chunks(500) {
        let holders: Vec<Uuid> = one_time_code::Entity::find()
            .select_only()
            .column(one_time_code::Column::UserId)
            .filter(one_time_code::Column::UserId.is_in(chunk.iter().copied()))
            .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_code::Column::UsedAt.is_null())
            .filter(one_time_code::Column::ExpiresAt.gt(now))
            .filter(one_time_code::Column::Attempts.lt(OTP_MAX_ATTEMPTS))
            .into_tuple()
            .all(db)
            .await?;
        live.extend(holders);
    }
    Ok(live)
}

/// Mails a code for `purpose` to `user`, valid [`OTP_TTL_MINUTES`]: the code and its
/// mail commit together.
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

/// Who a code is mailed to.
#[derive(Debug, Clone, Copy)]
pub struct Addressee<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub first_name: &'a str,
}

impl<'a> From<&'a user::Model> for Addressee<'a> {
    fn from(user: &'a user::Model) -> Self {
        Self {
            id: user.id,
            email: &user.email,
            first_name: &user.first_name,
        }
    }
}

/// Issues a set-password code, valid [`INVITE_TTL_HOURS`], to each of `to` — accounts
/// an admin or an import made without a password — and queues its mail, on `db`: the
/// caller's transaction, the one that writes the accounts, so an account never commits
/// without its invitation.
pub async fn invite(
    db: &impl ConnectionTrait,
    state: &AppState,
    to: &[Addressee<'_>],
) -> Result<Queued, ApiError> {
    issue_codes(
        db,
        state,
        to,
        CodePurpose::ResetPassword,
        Duration::hours(INVITE_TTL_HOURS),
    )
    .await
}

/// Issues a code for `purpose` to each of `users` (replacing any live one) and queues
/// their mail, all in one transaction, then wakes the mail drainer.
pub async fn send_codes(
    state: &AppState,
    users: &[user::Model],
    purpose: CodePurpose,
    ttl: Duration,
) -> Result<(), ApiError> {
    if users.is_empty() {
        return Ok(());
    }
    let to: Vec<Addressee<'_>> = users.iter().map(Addressee::from).collect();
    let txn = crate::store::db::begin_write(&state.db).await?;
    let queued = issue_codes(&txn, state, &to, purpose, ttl).await?;
    txn.commit().await?;
    queued.wake(&state.mailer);
    Ok(())
}

/// Issues a code for `purpose` to each of `to` (replacing any live one) and queues the
/// mails that carry them, on `db` (the caller's transaction): an import of thousands of
/// accounts costs a few statements per batch, not three per account. The codes appear
/// in the mails' bodies only, never in logs.
pub async fn issue_codes(
    db: &impl ConnectionTrait,
    state: &AppState,
    to: &[Addressee<'_>],
    purpose: CodePurpose,
    ttl: Duration,
) -> Result<Queued, ApiError> {
    if to.is_empty() {
        return Ok(Queued::default());
    }
    let now = Utc::now();
    let codes: Vec<String> = to.iter().map(|_| secrets::new_otp()).collect();
    for chunk in to.chunks(500) {
        one_time_code::Entity::update_many()
            .col_expr(one_time_code::Column::UsedAt, Expr::value(now))
            .filter(one_time_code::Column::UserId.is_in(chunk.iter().map(|u| u.id)))
            .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_code::Column::UsedAt.is_null())
            .exec(db)
            .await?;
    }
    let rows: Vec<one_time_code::ActiveModel> = to
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
            .exec_without_returning(db)
            .await?;
    }
    let (subject, what) = match purpose {
        CodePurpose::VerifyEmail => ("Verify your EduPro+ email", "verify your email address"),
        CodePurpose::ResetPassword => ("Set your EduPro+ password", "set a new password"),
    };
    let expiry = if ttl.num_minutes() % 60 == 0 && ttl.num_hours() > 1 {
        format!("{} hours", ttl.num_hours())
    } else {
        format!("{} minutes", ttl.num_minutes())
    };
    let messages = to.iter().zip(codes).map(|(user, code)| Mail {
        to: user.email.to_owned(),
        subject: subject.to_owned(),
        body: format!(
            "Hello {},\n\nYour code to {what} is {code}.\nIt expires in {expiry} and works once.\n\nIf you did not ask for it, ignore this message.\n",
            user.first_name
        ),
    });
    Ok(outbox::enqueue(db, &state.mailer, messages.collect()).await?)
}

/// Confirms a user's email with the mailed code; answers the updated user.
pub async fn verify_email(
    state: &AppState,
    user_id: Uuid,
    otp: &str,
) -> Result<api::User, ApiError> {
    redeem_code(state, user_id, CodePurpose::VerifyEmail, otp).await?;
    let user = mark_email_verified(&state.db, user_id).await?;
    crate::service::auth::user_changed(state, user_id).await;
    Ok(to_wire(&user))
}

/// Marks a user's email verified: by a redeemed code, or for the first admin, whose
/// address the operator typed at the server's command line.
pub async fn mark_email_verified(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<user::Model, ApiError> {
    Ok(user::ActiveModel {
        id: Set(user_id),
        is_email_verified: Set(true),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?)
}

/// Mails `user` a fresh verification code (the previous one stops working); false,
/// and nothing sent, when the email is verified already.
pub async fn resend_verification(state: &AppState, user: &user::Model) -> Result<bool, ApiError> {
    if user.is_email_verified {
        return Ok(false);
    }
    send_code(state, user, CodePurpose::VerifyEmail).await?;
    Ok(true)
}
