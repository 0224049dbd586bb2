//! The audit log: logins, token reuse, 2FA failures, role changes, deactivations —
//! recorded by the account services, read by admins.

use chrono::Utc;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::api::{AuditEntry, AuditList, PageQuery, Pagination};
use crate::error::ApiError;
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
    /// A payment's checkout signature did not verify.
    PaymentSignatureRejected,
    /// An incoming gateway webhook's signature did not verify.
    GatewayWebhookRejected,
    RefundIssued,
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
            Self::PaymentSignatureRejected => "PAYMENT_SIGNATURE_REJECTED",
            Self::GatewayWebhookRejected => "GATEWAY_WEBHOOK_REJECTED",
            Self::RefundIssued => "REFUND_ISSUED",
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

/// One page of the log, newest first: of one `action` (case-insensitive) and by or
/// about `user`, when given.
pub async fn list(
    db: &impl ConnectionTrait,
    page: PageQuery,
    action: Option<&str>,
    user: Option<Uuid>,
) -> Result<AuditList, ApiError> {
    let mut query = audit_event::Entity::find();
    if let Some(action) = action {
        query = query.filter(audit_event::Column::Action.eq(action.trim().to_uppercase()));
    }
    if let Some(user) = user {
        query = query.filter(
            audit_event::Column::ActorId
                .eq(user)
                .or(audit_event::Column::SubjectId.eq(user)),
        );
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(audit_event::Column::CreatedAt)
        .order_by_desc(audit_event::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(db)
        .await?;
    Ok(AuditList {
        events: rows
            .into_iter()
            .map(|e| AuditEntry {
                id: e.id,
                action: e.action,
                actor_id: e.actor_id,
                subject_id: e.subject_id,
                ip: e.ip,
                detail: e.detail,
                created_at: e.created_at,
            })
            .collect(),
        pagination: Pagination::new(page, total),
    })
}
