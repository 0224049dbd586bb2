//! A class's hour: its host starts it (LIVE, students notified, the room told) and
//! ends it (COMPLETED, open attendances closed). Both take the class's row lock first.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::attendance::close_stay;
use super::scheduling::require_scheduled;
use super::{Outcome, forbidden_unless, lock_class, status_of, visible, wire_one};
use crate::api::{LiveClass, LiveClassStatus};
use crate::domain::events::DomainEvent;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::events;
use crate::service::live_classes;
use crate::store::entity::{live_class, live_class_attendance};

/// How early a host may start a class.
const START_EARLY_MINUTES: i64 = 60;

/// Starts the class (its host only); a live class again is [`Outcome::Already`].
pub async fn start(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<Outcome<LiveClass>, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    forbidden_unless(
        class.host_id == auth.id(),
        "Only the host can start this class",
    )?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    let class = lock_class(&txn, class.id).await?;
    match status_of(&class) {
        LiveClassStatus::Live => {
            txn.commit().await?;
            return Ok(Outcome::Already(
                wire_one(&state.db, &class, &audience).await?,
            ));
        }
        LiveClassStatus::Scheduled => {}
        _ => require_scheduled(&class, "starting")?,
    }
    let now = Utc::now();
    let opens = class.scheduled_at - Duration::minutes(START_EARLY_MINUTES);
    if now < opens {
        return Err(ApiError::Unprocessable(format!(
            "This class can be started from {} ({START_EARLY_MINUTES} minutes before it begins)",
            opens.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    let row = live_class::ActiveModel {
        id: Set(class.id),
        status: Set(LiveClassStatus::Live),
        started_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let stored = events::publish(
        &txn,
        DomainEvent::LiveClassStarted(live_classes::change(&row, Some(auth.id()))),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([stored]);
    Ok(Outcome::Done(wire_one(&state.db, &row, &audience).await?))
}

/// Ends a live class (its host only), closing open attendances at the end; an ended
/// class again is [`Outcome::Already`].
pub async fn end(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<Outcome<LiveClass>, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    forbidden_unless(
        class.host_id == auth.id(),
        "Only the host can end this class",
    )?;
    let txn = crate::store::db::begin_write(&state.db).await?;
    let class = lock_class(&txn, class.id).await?;
    match status_of(&class) {
        LiveClassStatus::Live => {}
        LiveClassStatus::Completed => {
            txn.commit().await?;
            return Ok(Outcome::Already(
                wire_one(&state.db, &class, &audience).await?,
            ));
        }
        LiveClassStatus::Scheduled => {
            return Err(ApiError::Unprocessable(
                "This class has not started; start it first, or cancel it".into(),
            ));
        }
        LiveClassStatus::Cancelled => require_scheduled(&class, "ending")?,
    }
    let now = Utc::now();
    let open = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .filter(live_class_attendance::Column::InSince.is_not_null())
        .all(&txn)
        .await?;
    for a in open {
        close_stay(&txn, &a, now).await?;
    }
    let row = live_class::ActiveModel {
        id: Set(class.id),
        status: Set(LiveClassStatus::Completed),
        ended_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let stored = events::publish(
        &txn,
        DomainEvent::LiveClassEnded(live_classes::change(&row, Some(auth.id()))),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([stored]);
    Ok(Outcome::Done(wire_one(&state.db, &row, &audience).await?))
}
