//! `/api/v1/admin/*`: the audit log, and the development mail outbox.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use uuid::Uuid;

use super::ok;
use crate::api::{ApiResponse, AuditList, OutboxList, PageQuery};
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::platform::config::Environment;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::{audit, outbox};

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
    filter: Query<AuditFilter>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let events = audit::list(&state.db, page, filter.action.as_deref(), filter.user_id).await?;
    Ok(ok(events))
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
    filter: Query<OutboxFilter>,
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
    Ok(ok(outbox::list(
        &state.db,
        page,
        filter.recipient.as_deref(),
    )
    .await?))
}
