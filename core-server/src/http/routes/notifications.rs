//! `/api/v1/notifications`: the caller's notifications (newest first), marking them
//! read, the unread count, and their preferences. A user sees only their own, and of
//! those about a course's content only the ones of courses (batches) they still belong
//! to; anyone else's id is a 404.

use std::collections::HashSet;

use actix_web::{HttpResponse, get, patch, put, web};
use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{ok, ok_with};
use crate::api::{
    ApiResponse, MarkedRead, Notification, NotificationFilter, NotificationList,
    NotificationPreferences, NotificationType, PageQuery, Pagination, QuietHours, UnreadCount,
    UpdateNotificationPreferences,
};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::http::extract::Json;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::notifications::{
    Preferences, Visibility, parse_time_of_day, preferences, to_wire,
};
use crate::store::entity::{notification, notification_preference};

/// Registers every route of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_notifications)
        .service(unread_count)
        .service(mark_all_read)
        .service(get_preferences)
        .service(update_preferences)
        .service(mark_read);
}

/// The caller's visible notifications, as a query.
async fn mine(
    state: &AppState,
    auth: &AuthUser,
) -> Result<sea_orm::Select<notification::Entity>, ApiError> {
    let visibility = Visibility::of(&state.db, &auth.user).await?;
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(auth.id()))
        .filter(visibility.condition()))
}

async fn count_unread(state: &AppState, auth: &AuthUser) -> Result<u64, ApiError> {
    Ok(mine(state, auth)
        .await?
        .filter(notification::Column::IsRead.eq(false))
        .count(&state.db)
        .await?)
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationFilter),
    responses(
        (status = 200, description = "The caller's notifications", body = ApiResponse<NotificationList>),
        (status = 401, description = "Not signed in", body = crate::api::ErrorBody),
    )
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: web::Query<NotificationFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = mine(&state, &auth).await?;
    if filter.unread_only == Some(true) {
        query = query.filter(notification::Column::IsRead.eq(false));
    }
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_desc(notification::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(ok(NotificationList {
        notifications: rows.iter().map(to_wire).collect(),
        unread_count: count_unread(&state, &auth).await?,
        pagination: Pagination::new(page, total),
    }))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unread count", body = ApiResponse<UnreadCount>),
    )
)]
#[get("/notifications/unread-count")]
pub async fn unread_count(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(UnreadCount {
        unread_count: count_unread(&state, &auth).await?,
    }))
}

/// Marks one of the caller's notifications read (again is a no-op 200).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notification id")),
    responses(
        (status = 200, description = "Marked read", body = ApiResponse<Notification>),
        (status = 404, description = "No such notification of the caller's", body = crate::api::ErrorBody),
    )
)]
#[patch("/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound("Notification not found".into());
    let found = mine(&state, &auth)
        .await?
        .filter(notification::Column::Id.eq(*id))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let now = Utc::now();
    if !found.is_read {
        notification::Entity::update_many()
            .col_expr(notification::Column::IsRead, Expr::value(true))
            .col_expr(notification::Column::ReadAt, Expr::value(now))
            .col_expr(notification::Column::UpdatedAt, Expr::value(now))
            .filter(notification::Column::Id.eq(found.id))
            .filter(notification::Column::UserId.eq(auth.id()))
            .exec(&state.db)
            .await?;
    }
    let row = notification::Entity::find_by_id(found.id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    Ok(ok_with("Notification marked as read", to_wire(&row)))
}

/// Marks every unread notification of the caller's read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were marked", body = ApiResponse<MarkedRead>),
    )
)]
#[patch("/notifications/read-all")]
pub async fn mark_all_read(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let visibility = Visibility::of(&state.db, &auth.user).await?;
    let marked = notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(auth.id()))
        .filter(notification::Column::IsRead.eq(false))
        .filter(visibility.condition())
        .exec(&state.db)
        .await?
        .rows_affected;
    Ok(ok_with(
        "All notifications marked as read",
        MarkedRead {
            marked,
            unread_count: count_unread(&state, &auth).await?,
        },
    ))
}

/// The caller's notification preferences (defaults until they set any).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The preferences", body = ApiResponse<NotificationPreferences>),
    )
)]
#[get("/notifications/preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(preferences(&state.db, auth.id()).await?.to_wire()))
}

/// Changes the caller's preferences: muted types (no notification is made), quiet
/// hours (stored but not pushed until they end; `null` turns them off) and time zone.
/// Fields left out keep their value.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = UpdateNotificationPreferences,
    responses(
        (status = 200, description = "The new preferences", body = ApiResponse<NotificationPreferences>),
        (status = 400, description = "An unknown type, a bad time or time zone", body = crate::api::ErrorBody),
    )
)]
#[put("/notifications/preferences")]
pub async fn update_preferences(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<UpdateNotificationPreferences>,
) -> Result<HttpResponse, ApiError> {
    let current = preferences(&state.db, auth.id()).await?;
    let mut fields = Fields::default();
    let muted = match &body.muted_types {
        Some(names) => {
            let mut muted = HashSet::new();
            for (i, name) in names.iter().enumerate() {
                if let Some(t) = fields.take(
                    &format!("mutedTypes[{i}]"),
                    name.parse::<NotificationType>(),
                ) {
                    muted.insert(t);
                }
            }
            muted
        }
        None => current.muted.clone(),
    };
    let quiet = match &body.quiet_hours {
        Some(Some(QuietHours { start, end })) => {
            let time = |field: &str, text: &str, fields: &mut Fields| {
                fields.take(
                    field,
                    parse_time_of_day(text)
                        .ok_or_else(|| "must be a time of day as HH:MM (24-hour)".to_owned()),
                )
            };
            let s = time("quietHours.start", start, &mut fields);
            let e = time("quietHours.end", end, &mut fields);
            if let (Some(s), Some(e)) = (s, e)
                && s == e
            {
                fields.push("quietHours.end", "must differ from quietHours.start");
            }
            s.zip(e)
        }
        Some(None) => None,
        None => current.quiet,
    };
    let time_zone = match &body.time_zone {
        Some(name) => fields
            .take(
                "timeZone",
                name.parse::<Tz>().map_err(|_| {
                    "must be an IANA time zone such as Asia/Kolkata or UTC".to_owned()
                }),
            )
            .unwrap_or(current.time_zone),
        None => current.time_zone,
    };
    fields.finish()?;
    let prefs = Preferences {
        muted,
        quiet,
        time_zone,
    };
    let wire = prefs.to_wire();
    let now = Utc::now();
    notification_preference::Entity::insert(notification_preference::ActiveModel {
        user_id: Set(auth.id()),
        muted_types: Set(json!(wire.muted_types)),
        quiet_start: Set(wire.quiet_hours.as_ref().map(|q| q.start.clone())),
        quiet_end: Set(wire.quiet_hours.as_ref().map(|q| q.end.clone())),
        time_zone: Set(wire.time_zone.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(notification_preference::Column::UserId)
            .update_columns([
                notification_preference::Column::MutedTypes,
                notification_preference::Column::QuietStart,
                notification_preference::Column::QuietEnd,
                notification_preference::Column::TimeZone,
                notification_preference::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&state.db)
    .await?;
    state
        .realtime
        .preferences_changed(&state.db, auth.id())
        .await;
    Ok(ok_with("Notification preferences saved", wire))
}
