//! The audit log: logins, token reuse, 2FA failures, role changes, deactivations.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::store::entity::audit_event;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    LoginSucceeded,
    LoginFailed,
    RefreshTokenReused,
    TwoFactorFailed,
    TwoFactorEnabled,
    TwoFactorDisabled,
    PasswordChanged,
    PasswordReset,
    RoleChanged,
    UserDeactivated,
    UserReactivated,
    UserCreated,
    AccessTokenCreated,
    AccessTokenRevoked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "LOGIN_SUCCEEDED",
            Self::LoginFailed => "LOGIN_FAILED",
            Self::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Self::TwoFactorFailed => "TWO_FACTOR_FAILED",
            Self::TwoFactorEnabled => "TWO_FACTOR_ENABLED",
            Self::TwoFactorDisabled => "TWO_FACTOR_DISABLED",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::RoleChanged => "ROLE_CHANGED",
            Self::UserDeactivated => "USER_DEACTIVATED",
            Self::UserReactivated => "USER_REACTIVATED",
            Self::UserCreated => "USER_CREATED",
            Self::AccessTokenCreated => "ACCESS_TOKEN_CREATED",
            Self::AccessTokenRevoked => "ACCESS_TOKEN_REVOKED",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub actor: Option<Uuid>,
    pub subject: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub detail: Option<String>,
}

/// Appends an event; a failure to record is logged, never fatal to the request.
pub async fn record(db: &impl ConnectionTrait, action: Action, event: Event<'_>) {
    let now = Utc::now();
    let row = audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        action: Set(action.as_str().to_owned()),
        actor_id: Set(event.actor),
        subject_id: Set(event.subject),
        ip: Set(event.ip.map(str::to_owned)),
        detail: Set(event.detail),
        created_at: Set(now),
        updated_at: Set(now),
    };
    if let Err(err) = row.insert(db).await {
        tracing::error!(error = %err, action = action.as_str(), "could not record audit event");
    }
}
