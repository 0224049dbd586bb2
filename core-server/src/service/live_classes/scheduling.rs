//! Placing live classes in time: scheduling one class or a weekly series, changing
//! or cancelling one occurrence or a series. Each runs as one transaction under the
//! scheduling lock ([`lock_schedule`]), checks clashes, and writes its domain event
//! with its rows; the event is announced after the commit.
//!
//! The request's fields are checked here, not in the handler: a change's checks read
//! the stored class (its platform, its meeting fields) and come after the caller's
//! right to change it, as they always have.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::recurrence::WeeklyRule;
use super::{
    Outcome, Slot, audience, check_clash, clash_error, lock_schedule, platform_of, status_of,
    visible, wire_one,
};
use crate::api::{
    CourseStatus, LiveClassCreated, LiveClassStatus, LiveClassesChanged, LivePlatform,
    NewLiveClass, Role, SeriesScope, UpdateLiveClass,
};
use crate::domain::events::{DomainEvent, LiveClassChange};
use crate::domain::{Fields, Title, WebUrl};
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::catalogue::{self, find_course};
use crate::service::enrollments::find_batch;
use crate::service::events::{self, StoredEvent};
use crate::service::live_classes;
use crate::store::entity::{live_class, user};

const MAX_DURATION: i32 = 600;
const MAX_CAPACITY: i32 = 100_000;
const MAX_REMINDER: i32 = 7 * 24 * 60;
const DEFAULT_REMINDER: i32 = 15;
const MAX_DESCRIPTION: usize = 5_000;
const MAX_MEETING_FIELD: usize = 200;

fn parse_description(fields: &mut Fields, raw: Option<&str>) -> Option<String> {
    let text = raw.map(str::trim).filter(|s| !s.is_empty())?;
    if text.chars().count() > MAX_DESCRIPTION {
        fields.push(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        );
        return None;
    }
    Some(text.to_owned())
}

fn check_duration(fields: &mut Fields, minutes: i32) {
    if !(1..=MAX_DURATION).contains(&minutes) {
        fields.push(
            "duration",
            format!("must be between 1 and {MAX_DURATION} minutes"),
        );
    }
}

fn check_capacity(fields: &mut Fields, capacity: Option<i32>) {
    if let Some(c) = capacity
        && !(1..=MAX_CAPACITY).contains(&c)
    {
        fields.push(
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}, or null for no limit"),
        );
    }
}

fn check_reminder(fields: &mut Fields, minutes: i32) {
    if !(0..=MAX_REMINDER).contains(&minutes) {
        fields.push(
            "reminderMinutes",
            format!("must be between 0 and {MAX_REMINDER}"),
        );
    }
}

fn meeting_field(fields: &mut Fields, name: &str, raw: Option<&str>) -> Option<String> {
    let text = raw.map(str::trim).filter(|s| !s.is_empty())?;
    if text.chars().count() > MAX_MEETING_FIELD || text.chars().any(char::is_control) {
        fields.push(
            name,
            format!("must be at most {MAX_MEETING_FIELD} characters, without control characters"),
        );
        return None;
    }
    Some(text.to_owned())
}

/// The meeting fields for `platform`: an external platform needs an http(s)
/// `meetingUrl`; BUILTIN takes none (its room is in our hub).
fn check_meeting(
    fields: &mut Fields,
    platform: LivePlatform,
    url: Option<&str>,
    id: Option<String>,
    password: Option<String>,
) -> (Option<String>, Option<String>, Option<String>) {
    let url = url.map(str::trim).filter(|s| !s.is_empty());
    match platform {
        LivePlatform::Builtin => {
            if url.is_some() {
                fields.push(
                    "meetingUrl",
                    "must be empty for a BUILTIN class (it uses the hub's room)",
                );
            }
            (None, id, password)
        }
        _ => match url {
            None => {
                fields.push("meetingUrl", format!("is required for a {platform} class"));
                (None, id, password)
            }
            Some(u) => (
                fields
                    .take("meetingUrl", WebUrl::parse(u))
                    .map(|u| u.as_ref().to_owned()),
                id,
                password,
            ),
        },
    }
}

fn check_start(fields: &mut Fields, at: DateTime<Utc>) {
    if at < Utc::now() - Duration::minutes(5) {
        fields.push("scheduledAt", "must not be in the past");
    }
}

/// `host_id` may host a class of `course_id`: a TEACHER on its staff, or the calling
/// admin themselves. 400 naming `hostId` otherwise.
async fn check_host(
    db: &impl ConnectionTrait,
    auth: &AuthUser,
    course_id: Uuid,
    host_id: Uuid,
) -> Result<(), ApiError> {
    if host_id == auth.id() && auth.is_admin() {
        return Ok(());
    }
    let bad = || ApiError::field("hostId", "must be a teacher on this course's staff");
    let host = user::Entity::find_by_id(host_id)
        .one(db)
        .await?
        .ok_or_else(bad)?;
    if !host.is_active || host.role != Role::Teacher {
        return Err(bad());
    }
    catalogue::staff_role(db, course_id, host_id)
        .await?
        .map(|_| ())
        .ok_or_else(bad)
}

/// Schedules a class for a course or one of its batches, or a weekly series with
/// `recurrence`: the whole series or nothing. A clash is a 409 naming the other class.
pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    body: NewLiveClass,
) -> Result<LiveClassCreated, ApiError> {
    let mut fields = Fields::default();
    let title = fields.take("title", Title::parse(&body.title));
    let description = parse_description(&mut fields, body.description.as_deref());
    check_start(&mut fields, body.scheduled_at);
    check_duration(&mut fields, body.duration);
    check_capacity(&mut fields, body.capacity);
    let reminder = body.reminder_minutes.unwrap_or(DEFAULT_REMINDER);
    check_reminder(&mut fields, reminder);
    let platform = body.platform.unwrap_or(LivePlatform::Builtin);
    let meeting_id = meeting_field(&mut fields, "meetingId", body.meeting_id.as_deref());
    let password = meeting_field(
        &mut fields,
        "meetingPassword",
        body.meeting_password.as_deref(),
    );
    let (meeting_url, meeting_id, password) = check_meeting(
        &mut fields,
        platform,
        body.meeting_url.as_deref(),
        meeting_id,
        password,
    );
    let starts = match &body.recurrence {
        None => Some(vec![body.scheduled_at]),
        Some(raw) => match WeeklyRule::parse(raw) {
            Ok(rule) => match rule.expand(body.scheduled_at) {
                Ok(starts) => Some(starts),
                Err((field, message)) => {
                    fields.push(field, message);
                    None
                }
            },
            Err(errors) => {
                for (field, message) in errors {
                    fields.push(field, message);
                }
                None
            }
        },
    };
    fields.finish()?;
    let (Some(title), Some(starts)) = (title, starts) else {
        return Err(anyhow::anyhow!("fields parsed without values").into());
    };
    let course = find_course(&state.db, &body.course_id.to_string()).await?;
    catalogue::access(&state.db, Some(auth), course.id)
        .await?
        .require_edit()?;
    if catalogue::status_of(&course) == CourseStatus::Archived {
        return Err(ApiError::Unprocessable(
            "This course is archived; publish it again to schedule classes".into(),
        ));
    }
    if let Some(batch_id) = body.batch_id {
        match find_batch(&state.db, batch_id).await {
            Ok(b) if b.course_id == course.id => {}
            _ => return Err(ApiError::field("batchId", "is not a batch of this course")),
        }
    }
    let host_id = body.host_id.unwrap_or(auth.id());
    check_host(&state.db, auth, course.id, host_id).await?;

    let series_id = body.recurrence.as_ref().map(|_| Uuid::now_v7());
    let duration = Duration::minutes(i64::from(body.duration));
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_schedule(&txn, course.id, &[host_id]).await?;
    let mut rows = Vec::with_capacity(starts.len());
    for start in starts {
        let slot = Slot {
            course_id: course.id,
            batch_id: body.batch_id,
            host_id,
            start,
            end: start + duration,
        };
        check_clash(&txn, &slot, &[]).await?;
        let now = Utc::now();
        let row = live_class::ActiveModel {
            id: Set(Uuid::now_v7()),
            course_id: Set(course.id),
            batch_id: Set(body.batch_id),
            series_id: Set(series_id),
            host_id: Set(host_id),
            title: Set(title.as_ref().to_owned()),
            description: Set(description.clone()),
            scheduled_at: Set(start),
            ends_at: Set(slot.end),
            duration_minutes: Set(body.duration),
            capacity: Set(body.capacity),
            platform: Set(platform),
            meeting_url: Set(meeting_url.clone()),
            meeting_id: Set(meeting_id.clone()),
            meeting_password: Set(password.clone()),
            status: Set(LiveClassStatus::Scheduled),
            started_at: Set(None),
            ended_at: Set(None),
            cancelled_at: Set(None),
            reminder_minutes: Set(reminder),
            remind_at: Set(start - Duration::minutes(i64::from(reminder))),
            reminder_sent_at: Set(None),
            sequence: Set(0),
            created_by: Set(auth.id()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        rows.push(row);
    }
    let Some(first) = rows.first() else {
        return Err(anyhow::anyhow!("a schedule without occurrences").into());
    };
    let event = DomainEvent::LiveClassScheduled(LiveClassChange {
        occurrences: series_id.map(|_| rows.len() as u64),
        ..live_classes::change(first, Some(auth.id()))
    });
    let stored = events::publish(&txn, event).await?;
    txn.commit().await?;
    state.events.announce([stored]);
    let audience = audience(&state.db, auth).await?;
    let mut classes = live_classes::to_wire_many(&state.db, &rows, &audience).await?;
    let class = classes.remove(0);
    let occurrences = if series_id.is_some() {
        let mut all = vec![class.clone()];
        all.extend(classes);
        all
    } else {
        Vec::new()
    };
    Ok(LiveClassCreated { class, occurrences })
}

/// The scheduled classes a change or cancellation of `class` covers, per `scope`.
async fn targets(
    db: &impl ConnectionTrait,
    class: &live_class::Model,
    scope: SeriesScope,
) -> Result<Vec<live_class::Model>, ApiError> {
    let Some(series_id) = class.series_id else {
        return Ok(vec![class.clone()]);
    };
    let mut query = live_class::Entity::find()
        .filter(live_class::Column::SeriesId.eq(series_id))
        .filter(live_class::Column::Status.eq(LiveClassStatus::Scheduled.as_str()));
    match scope {
        SeriesScope::Occurrence => return Ok(vec![class.clone()]),
        SeriesScope::Following => {
            query = query.filter(live_class::Column::ScheduledAt.gte(class.scheduled_at));
        }
        SeriesScope::Series => {}
    }
    let mut rows = query
        .order_by_asc(live_class::Column::ScheduledAt)
        .all(db)
        .await?;
    if !rows.iter().any(|r| r.id == class.id) {
        rows.insert(0, class.clone());
    }
    Ok(rows)
}

/// 422 unless the class is scheduled, naming `what` was asked of it.
pub(super) fn require_scheduled(class: &live_class::Model, what: &str) -> Result<(), ApiError> {
    match status_of(class) {
        LiveClassStatus::Scheduled => Ok(()),
        LiveClassStatus::Live => Err(ApiError::Unprocessable(format!(
            "This class is live; {what} is only for a scheduled class (end it instead)"
        ))),
        LiveClassStatus::Completed => Err(ApiError::Unprocessable(format!(
            "This class has ended; {what} is only for a scheduled class"
        ))),
        LiveClassStatus::Cancelled => Err(ApiError::Unprocessable(format!(
            "This class is cancelled; {what} is only for a scheduled class"
        ))),
    }
}

/// Changes a scheduled class, or with `scope` the later / all not-yet-started
/// occurrences of its series; a time change is checked for clashes and re-arms reminders.
pub async fn update(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    scope: SeriesScope,
    body: UpdateLiveClass,
) -> Result<LiveClassesChanged, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    catalogue::access(&state.db, Some(auth), class.course_id)
        .await?
        .require_edit()?;
    require_scheduled(&class, "a change")?;
    let mut fields = Fields::default();
    let title = body
        .title
        .as_deref()
        .and_then(|t| fields.take("title", Title::parse(t)));
    let description = body
        .description
        .as_ref()
        .map(|d| parse_description(&mut fields, d.as_deref()));
    if let Some(at) = body.scheduled_at {
        check_start(&mut fields, at);
    }
    if let Some(d) = body.duration {
        check_duration(&mut fields, d);
    }
    if let Some(c) = body.capacity {
        check_capacity(&mut fields, c);
    }
    if let Some(r) = body.reminder_minutes {
        check_reminder(&mut fields, r);
    }
    let platform = body.platform.unwrap_or(platform_of(&class));
    let meeting_id = match &body.meeting_id {
        Some(v) => meeting_field(&mut fields, "meetingId", v.as_deref()),
        None => class.meeting_id.clone(),
    };
    let password = match &body.meeting_password {
        Some(v) => meeting_field(&mut fields, "meetingPassword", v.as_deref()),
        None => class.meeting_password.clone(),
    };
    let url = match &body.meeting_url {
        Some(v) => v.clone(),
        None if platform == LivePlatform::Builtin => None,
        None => class.meeting_url.clone(),
    };
    let (meeting_url, meeting_id, password) =
        check_meeting(&mut fields, platform, url.as_deref(), meeting_id, password);
    fields.finish()?;
    if let Some(host_id) = body.host_id {
        check_host(&state.db, auth, class.course_id, host_id).await?;
    }
    let offset = body.scheduled_at.map(|at| at - class.scheduled_at);

    let txn = crate::store::db::begin_write(&state.db).await?;
    let before = targets(&txn, &class, scope).await?;
    let mut hosts: Vec<Uuid> = before.iter().map(|c| c.host_id).collect();
    hosts.extend(body.host_id);
    lock_schedule(&txn, class.course_id, &hosts).await?;
    // Read again under the lock: a concurrent change may have moved or cancelled them.
    let mut current = Vec::with_capacity(before.len());
    for c in &before {
        let c = live_classes::find(&txn, c.id).await?;
        if c.id == class.id {
            require_scheduled(&c, "a change")?;
        }
        if status_of(&c) == LiveClassStatus::Scheduled {
            current.push(c);
        }
    }
    let ids: Vec<Uuid> = current.iter().map(|c| c.id).collect();
    let mut updated = Vec::with_capacity(current.len());
    let mut slots: Vec<(Slot, live_class::Model)> = Vec::new();
    let now = Utc::now();
    for c in &current {
        let start = c.scheduled_at + offset.unwrap_or_default();
        let minutes = body.duration.unwrap_or(c.duration_minutes);
        let end = start + Duration::minutes(i64::from(minutes));
        let host_id = body.host_id.unwrap_or(c.host_id);
        let reminder = body.reminder_minutes.unwrap_or(c.reminder_minutes);
        let slot = Slot {
            course_id: c.course_id,
            batch_id: c.batch_id,
            host_id,
            start,
            end,
        };
        let moved = start != c.scheduled_at || end != c.ends_at || host_id != c.host_id;
        if moved {
            check_clash(&txn, &slot, &ids).await?;
            for (other, other_row) in &slots {
                if let Some(reason) = slot.clash_reason(other) {
                    return Err(clash_error(&slot, other_row, reason));
                }
            }
        }
        let mut row = live_class::ActiveModel {
            id: Set(c.id),
            scheduled_at: Set(start),
            ends_at: Set(end),
            duration_minutes: Set(minutes),
            host_id: Set(host_id),
            reminder_minutes: Set(reminder),
            remind_at: Set(start - Duration::minutes(i64::from(reminder))),
            platform: Set(platform),
            meeting_url: Set(meeting_url.clone()),
            meeting_id: Set(meeting_id.clone()),
            meeting_password: Set(password.clone()),
            sequence: Set(c.sequence + 1),
            updated_at: Set(now),
            ..Default::default()
        };
        if start != c.scheduled_at {
            row.reminder_sent_at = Set(None);
        }
        if let Some(t) = &title {
            row.title = Set(t.as_ref().to_owned());
        }
        if let Some(d) = &description {
            row.description = Set(d.clone());
        }
        if let Some(cap) = body.capacity {
            row.capacity = Set(cap);
        }
        let saved = row.update(&txn).await?;
        slots.push((Slot::from(&saved), saved.clone()));
        updated.push((c.clone(), saved));
    }
    let mut stored: Vec<StoredEvent> = Vec::new();
    if let Some((old, new)) = updated
        .iter()
        .find(|(old, new)| old.scheduled_at != new.scheduled_at || old.ends_at != new.ends_at)
    {
        let event = DomainEvent::LiveClassRescheduled(LiveClassChange {
            previous_scheduled_at: Some(old.scheduled_at),
            occurrences: (updated.len() > 1).then_some(updated.len() as u64),
            ..live_classes::change(new, Some(auth.id()))
        });
        stored.push(events::publish(&txn, event).await?);
    }
    txn.commit().await?;
    state.events.announce(stored);
    let rows: Vec<live_class::Model> = updated.into_iter().map(|(_, new)| new).collect();
    Ok(LiveClassesChanged {
        classes: live_classes::to_wire_many(&state.db, &rows, &audience).await?,
    })
}

/// Cancels a scheduled class, or with `scope` the later / all not-yet-started
/// occurrences of its series; a cancelled class again is [`Outcome::Already`].
pub async fn cancel(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    scope: SeriesScope,
) -> Result<Outcome<LiveClassesChanged>, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    catalogue::access(&state.db, Some(auth), class.course_id)
        .await?
        .require_edit()?;
    if status_of(&class) == LiveClassStatus::Cancelled && scope == SeriesScope::Occurrence {
        return Ok(Outcome::Already(LiveClassesChanged {
            classes: vec![wire_one(&state.db, &class, &audience).await?],
        }));
    }
    let txn = crate::store::db::begin_write(&state.db).await?;
    lock_schedule(&txn, class.course_id, &[]).await?;
    let class = live_classes::find(&txn, class.id).await?;
    if !(status_of(&class) == LiveClassStatus::Cancelled && scope != SeriesScope::Occurrence) {
        require_scheduled(&class, "cancelling")?;
    }
    let now = Utc::now();
    let mut rows = Vec::new();
    for c in targets(&txn, &class, scope).await? {
        if status_of(&c) != LiveClassStatus::Scheduled {
            continue;
        }
        rows.push(
            live_class::ActiveModel {
                id: Set(c.id),
                status: Set(LiveClassStatus::Cancelled),
                cancelled_at: Set(Some(now)),
                sequence: Set(c.sequence + 1),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?,
        );
    }
    let mut stored = Vec::new();
    if let Some(first) = rows.first() {
        let event = DomainEvent::LiveClassCancelled(LiveClassChange {
            occurrences: (rows.len() > 1).then_some(rows.len() as u64),
            ..live_classes::change(first, Some(auth.id()))
        });
        stored.push(events::publish(&txn, event).await?);
    }
    txn.commit().await?;
    state.events.announce(stored);
    Ok(Outcome::Done(LiveClassesChanged {
        classes: live_classes::to_wire_many(&state.db, &rows, &audience).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_platforms_need_an_http_meeting_url_and_builtin_takes_none() {
        let mut fields = Fields::default();
        check_meeting(&mut fields, LivePlatform::Zoom, None, None, None);
        check_meeting(
            &mut fields,
            LivePlatform::Builtin,
            Some("https://x.test"),
            None,
            None,
        );
        check_meeting(
            &mut fields,
            LivePlatform::Custom,
            Some("ftp://x.test"),
            None,
            None,
        );
        let err = fields.finish().unwrap_err();
        let ApiError::Validation(errors) = err else {
            panic!("validation error expected")
        };
        assert_eq!(errors.len(), 3);
        assert!(errors.iter().all(|e| e.field == "meetingUrl"));
    }
}
