//! A user's own notifications: listing them (newest first), the unread count, marking
//! them read, their preferences — and, for the WebSocket, the newest id and the replay
//! of what came after an id. A user sees only their own, and of those about a course's
//! content only the ones of courses (batches) they still belong to.

use std::collections::HashSet;

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Preferences, Visibility, parse_time_of_day, preferences, to_wire};
use crate::api::{
    self, MarkedRead, NotificationFilter, NotificationList, NotificationPreferences,
    NotificationType, PageQuery, Pagination, QuietHours, UnreadCount,
    UpdateNotificationPreferences,
};
use crate::domain::Fields;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::store::entity::{notification, notification_preference, user};

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
pub async fn list(
    state: &AppState,
    auth: &AuthUser,
    filter: NotificationFilter,
) -> Result<NotificationList, ApiError> {
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let mut query = mine(state, auth).await?;
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
    Ok(NotificationList {
        notifications: rows.iter().map(to_wire).collect(),
        unread_count: count_unread(state, auth).await?,
        pagination: Pagination::new(page, total),
    })
}

/// How many of the caller's notifications are unread.
pub async fn unread_count(state: &AppState, auth: &AuthUser) -> Result<UnreadCount, ApiError> {
    Ok(UnreadCount {
        unread_count: count_unread(state, auth).await?,
    })
}

/// Marks one of the caller's notifications read (again is a no-op); 404 for anyone
/// else's.
pub async fn mark_read(
    state: &AppState,
    auth: &AuthUser,
    id: i64,
) -> Result<api::Notification, ApiError> {
    let not_found = || ApiError::NotFound("Notification not found".into());
    let found = mine(state, auth)
        .await?
        .filter(notification::Column::Id.eq(id))
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
    Ok(to_wire(&row))
}

/// Marks every unread notification of the caller's read.
pub async fn mark_all_read(state: &AppState, auth: &AuthUser) -> Result<MarkedRead, ApiError> {
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
    Ok(MarkedRead {
        marked,
        unread_count: count_unread(state, auth).await?,
    })
}

/// The caller's preferences in their wire form (defaults until they set any).
pub async fn get_preferences(
    state: &AppState,
    auth: &AuthUser,
) -> Result<NotificationPreferences, ApiError> {
    Ok(preferences(&state.db, auth.id()).await?.to_wire())
}

/// Changes the caller's preferences (fields left out keep their value), stores them and
/// tells the caller's open sockets.
pub async fn update_preferences(
    state: &AppState,
    auth: &AuthUser,
    body: UpdateNotificationPreferences,
) -> Result<NotificationPreferences, ApiError> {
    let current = preferences(&state.db, auth.id()).await?;
    let mut fields = Fields::default();
    let muted = match &body.muted_types {
        Some(names) if names.len() > NotificationType::ALL.len() => {
            fields.push(
                "mutedTypes",
                format!(
                    "names each of the {} types at most once",
                    NotificationType::ALL.len()
                ),
            );
            HashSet::new()
        }
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
        muted_types: Set(wire.muted_types.clone().into()),
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
    Ok(wire)
}

/// The id of the user's newest notification (0 for none): where a socket that asks for
/// no replay starts.
pub async fn newest_id(state: &AppState, user_id: Uuid) -> Result<i64, ApiError> {
    let newest: Option<i64> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::Id)
        .limit(1)
        .into_tuple()
        .one(&state.db)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// A socket's replay of what a user may see, read a page at a time: what they may see
/// is computed once per replay.
pub struct Backlog {
    user_id: Uuid,
    visibility: Visibility,
}

impl Backlog {
    /// The replay for `user`.
    pub async fn of(state: &AppState, user: &user::Model) -> Result<Self, ApiError> {
        Ok(Self {
            user_id: user.id,
            visibility: Visibility::of(&state.db, user).await?,
        })
    }

    /// Up to `limit` of the user's notifications after `after`, in id order.
    pub async fn page(
        &self,
        state: &AppState,
        after: i64,
        limit: u64,
    ) -> Result<Vec<api::Notification>, ApiError> {
        let rows = notification::Entity::find()
            .filter(notification::Column::UserId.eq(self.user_id))
            .filter(notification::Column::Id.gt(after))
            .filter(self.visibility.condition())
            .order_by_asc(notification::Column::Id)
            .limit(limit)
            .all(&state.db)
            .await?;
        Ok(rows.iter().map(to_wire).collect())
    }
}
