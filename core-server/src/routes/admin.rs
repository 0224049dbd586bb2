//! `/api/v1/admin/*`: the audit log, and the development mail outbox.

use actix_web::{HttpResponse, get, web};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use uuid::Uuid;

use super::ok;
use crate::api::{
    ApiResponse, AuditEntry, AuditList, OutboxEntry, OutboxList, PageQuery, Pagination,
};
use crate::auth::AuthUser;
use crate::config::Environment;
use crate::entity::{audit_event, outbox_message};
use crate::error::ApiError;
use crate::state::AppState;

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit).service(list_outbox);
}

/// Filters of `GET /admin/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    /// e.g. LOGIN_FAILED, ROLE_CHANGED.
    pub action: Option<String>,
    /// Events by or about this user.
    pub user_id: Option<Uuid>,
}

/// The audit log, newest first (admins only).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AuditFilter),
    responses(
        (status = 200, description = "A page of events", body = ApiResponse<AuditList>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
    )
)]
#[get("/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: web::Query<AuditFilter>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = audit_event::Entity::find();
    if let Some(action) = &filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.trim().to_uppercase()));
    }
    if let Some(user) = filter.user_id {
        query = query.filter(
            audit_event::Column::ActorId
                .eq(user)
                .or(audit_event::Column::SubjectId.eq(user)),
        );
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(audit_event::Column::CreatedAt)
        .order_by_desc(audit_event::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(ok(AuditList {
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
    }))
}

/// Filters of `GET /admin/outbox`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct OutboxFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    /// Only mail to this address.
    pub recipient: Option<String>,
}

/// Mail kept by the development outbox, newest first (admins only; not in production).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(OutboxFilter),
    responses(
        (status = 200, description = "A page of messages", body = ApiResponse<OutboxList>),
        (status = 403, description = "Not an admin", body = crate::api::ErrorBody),
        (status = 404, description = "In production", body = crate::api::ErrorBody),
    )
)]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: web::Query<OutboxFilter>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    if state.settings.environment == Environment::Production {
        return Err(ApiError::NotFound(
            "The mail outbox is a development tool and is off in production".into(),
        ));
    }
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = outbox_message::Entity::find();
    if let Some(recipient) = &filter.recipient {
        query = query.filter(outbox_message::Column::Recipient.eq(recipient.trim().to_lowercase()));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(outbox_message::Column::CreatedAt)
        .order_by_desc(outbox_message::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(ok(OutboxList {
        messages: rows
            .into_iter()
            .map(|m| OutboxEntry {
                id: m.id,
                recipient: m.recipient,
                subject: m.subject,
                body: m.body,
                created_at: m.created_at,
            })
            .collect(),
        pagination: Pagination::new(page, total),
    }))
}
