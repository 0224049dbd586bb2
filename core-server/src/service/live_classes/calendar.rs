//! The calendar side of live classes: the per-user feed token and the iCalendar
//! (RFC 5545) feed it opens, for calendar apps to subscribe to.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Audience, ics};
use crate::api::{CalendarFeed, LiveClassStatus, LivePlatform};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::{AuthUser, secrets};
use crate::service::live_classes;
use crate::store::entity::{calendar_feed_token, live_class, user};

/// How far back the calendar feed reaches.
const FEED_PAST_DAYS: i64 = 30;
const FEED_LIMIT: u64 = 1_000;
/// The prefix of calendar feed tokens.
const FEED_PREFIX: &str = "edupro_cal_";

/// Creates (or replaces) the caller's feed token, answered once; an old one stops
/// working.
pub async fn create_token(state: &AppState, auth: &AuthUser) -> Result<CalendarFeed, ApiError> {
    let token = secrets::new_token(FEED_PREFIX);
    let now = Utc::now();
    let txn = crate::store::db::begin_write(&state.db).await?;
    calendar_feed_token::Entity::delete_by_id(auth.id())
        .exec(&txn)
        .await?;
    calendar_feed_token::ActiveModel {
        user_id: Set(auth.id()),
        token_hash: Set(secrets::token_hash(&token)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let url = format!(
        "{}/live-classes/calendar.ics?token={token}",
        crate::api::API_PREFIX
    );
    Ok(CalendarFeed { token, url })
}

/// Revokes the caller's feed token; whether there was one.
pub async fn revoke_token(state: &AppState, auth: &AuthUser) -> Result<bool, ApiError> {
    let gone = calendar_feed_token::Entity::delete_by_id(auth.id())
        .exec(&state.db)
        .await?;
    Ok(gone.rows_affected > 0)
}

/// The feed `token` opens, as iCalendar text: its owner's classes from
/// [`FEED_PAST_DAYS`] back on. 401 for a missing or unknown token or an inactive owner.
pub async fn feed(state: &AppState, token: Option<&str>) -> Result<String, ApiError> {
    let unauthorized = || ApiError::Unauthorized("Missing or unknown calendar feed token".into());
    let token = token.ok_or_else(unauthorized)?;
    let row = calendar_feed_token::Entity::find()
        .filter(calendar_feed_token::Column::TokenHash.eq(secrets::token_hash(token)))
        .one(&state.db)
        .await?
        .ok_or_else(unauthorized)?;
    let owner = user::Entity::find_by_id(row.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(unauthorized)?;
    let audience = Audience::of_user(&state.db, &owner).await?;
    let rows = live_class::Entity::find()
        .filter(audience.condition())
        .filter(live_class::Column::EndsAt.gt(Utc::now() - Duration::days(FEED_PAST_DAYS)))
        .order_by_asc(live_class::Column::ScheduledAt)
        .limit(FEED_LIMIT)
        .all(&state.db)
        .await?;
    let classes = live_classes::to_wire_many(&state.db, &rows, &audience).await?;
    let stamp = Utc::now();
    let events: Vec<ics::IcsEvent> = rows
        .iter()
        .zip(&classes)
        .map(|(row, c)| ics::IcsEvent {
            uid: format!("{}@edupro", c.id),
            stamp,
            start: c.scheduled_at,
            end: c.ends_at,
            summary: format!("{} ({})", c.title, c.course.title),
            description: c.description.clone(),
            location: match c.platform {
                LivePlatform::Builtin => Some("EduPro+ live room".to_owned()),
                _ => c.meeting_link.clone(),
            },
            url: c.meeting_link.clone(),
            cancelled: c.status == LiveClassStatus::Cancelled,
            sequence: row.sequence,
        })
        .collect();
    Ok(ics::calendar(
        &format!(
            "EduPro+ classes of {} {}",
            owner.first_name, owner.last_name
        ),
        &events,
    ))
}
