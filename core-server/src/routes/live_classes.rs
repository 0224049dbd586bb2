//! `/api/v1/live-classes`: scheduling (one class or a weekly series), changing or
//! cancelling one occurrence or a series, start and end by the host, joining with
//! attendance, the attendance report, and the per-user iCalendar feed.
//!
//! Placing a class in time runs under the scheduling lock (see [`crate::live_classes`]),
//! so clash detection holds under concurrent requests. Every change writes its domain
//! event in its transaction; the notification consumer tells the students.

use std::collections::HashSet;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{created, ok, ok_with};
use crate::api::{
    ApiResponse, AttendanceEntry, AttendanceReport, CalendarFeed, CalendarQuery, CourseStatus,
    JoinDetails, LiveClass, LiveClassCreated, LiveClassFilter, LiveClassList, LiveClassStatus,
    LiveClassesChanged, LivePlatform, NewLiveClass, PageQuery, Pagination, Role, ScopeQuery,
    SeriesScope, UpdateLiveClass,
};
use crate::auth::{AuthUser, secrets};
use crate::catalogue::{self, find_course};
use crate::domain::{Fields, Title, WebUrl};
use crate::entity::{calendar_feed_token, enrollment, live_class, live_class_attendance, user};
use crate::error::ApiError;
use crate::events::{self, EventKind, StoredEvent};
use crate::extract::Json;
use crate::live_classes::recurrence::WeeklyRule;
use crate::live_classes::{
    self, Audience, JOIN_EARLY_MINUTES, Slot, check_clash, clash_error, ics, lock_class,
    lock_schedule, not_found, platform_of, status_of,
};
use crate::routes::batches::find_batch;
use crate::routes::enrollments::{student_ref, users_by_id};
use crate::state::AppState;

/// Registers every route of this file (fixed paths before `{id}`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(calendar_feed)
        .service(create_calendar_token)
        .service(revoke_calendar_token)
        .service(list_live_classes)
        .service(create_live_class)
        .service(get_live_class)
        .service(update_live_class)
        .service(cancel_live_class)
        .service(start_live_class)
        .service(end_live_class)
        .service(join_live_class)
        .service(leave_live_class)
        .service(attendance_report);
}

const MAX_DURATION: i32 = 600;
const MAX_CAPACITY: i32 = 100_000;
const MAX_REMINDER: i32 = 7 * 24 * 60;
const DEFAULT_REMINDER: i32 = 15;
const MAX_DESCRIPTION: usize = 5_000;
const MAX_MEETING_FIELD: usize = 200;
/// How early a host may start a class.
const START_EARLY_MINUTES: i64 = 60;
/// How far back the calendar feed reaches.
const FEED_PAST_DAYS: i64 = 30;
const FEED_LIMIT: u64 = 1_000;
/// The prefix of calendar feed tokens.
const FEED_PREFIX: &str = "edupro_cal_";

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
    if !host.is_active || crate::accounts::role_of(&host) != Role::Teacher {
        return Err(bad());
    }
    catalogue::staff_role(db, course_id, host_id)
        .await?
        .map(|_| ())
        .ok_or_else(bad)
}

async fn audience(db: &impl ConnectionTrait, auth: &AuthUser) -> Result<Audience, ApiError> {
    Ok(Audience::of(db, auth.id(), auth.is_admin()).await?)
}

/// The class if the caller may see it (404 otherwise, so existence doesn't leak).
async fn visible(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(live_class::Model, Audience), ApiError> {
    let class = live_classes::find(&state.db, id).await?;
    let audience = audience(&state.db, auth).await?;
    if !audience.sees(&class) {
        return Err(not_found());
    }
    Ok((class, audience))
}

fn forbidden_unless(allowed: bool, message: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(message.to_owned()))
    }
}

async fn wire_one(
    db: &impl ConnectionTrait,
    class: &live_class::Model,
    audience: &Audience,
) -> Result<LiveClass, ApiError> {
    let mut list = live_classes::to_wire_many(db, std::slice::from_ref(class), audience).await?;
    list.pop()
        .ok_or_else(|| anyhow::anyhow!("class vanished while serialising").into())
}

/// Lists the live classes the caller may see, earliest first: students the classes of
/// their courses (and batches), staff those of the courses they teach, admins all.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(LiveClassFilter),
    responses(
        (status = 200, description = "A page of classes", body = ApiResponse<LiveClassList>),
        (status = 400, description = "Unknown status or bad dates", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes")]
pub async fn list_live_classes(
    state: web::Data<AppState>,
    auth: AuthUser,
    filter: web::Query<LiveClassFilter>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_inner();
    let mut fields = Fields::default();
    let status = filter
        .status
        .as_deref()
        .and_then(|s| fields.take("status", s.parse::<LiveClassStatus>()));
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        fields.push("to", "must not be before from");
    }
    fields.finish()?;
    let audience = audience(&state.db, &auth).await?;
    let mut query = live_class::Entity::find().filter(audience.condition());
    if let Some(status) = status {
        query = query.filter(live_class::Column::Status.eq(status.as_str()));
    }
    if let Some(course_id) = filter.course_id {
        query = query.filter(live_class::Column::CourseId.eq(course_id));
    }
    if let Some(batch_id) = filter.batch_id {
        query = query.filter(live_class::Column::BatchId.eq(batch_id));
    }
    if let Some(series_id) = filter.series_id {
        query = query.filter(live_class::Column::SeriesId.eq(series_id));
    }
    if let Some(from) = filter.from {
        query = query.filter(live_class::Column::EndsAt.gt(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(live_class::Column::ScheduledAt.lt(to));
    }
    let page = PageQuery {
        page: filter.page,
        limit: filter.limit,
    };
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(live_class::Column::ScheduledAt)
        .order_by_asc(live_class::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(&state.db)
        .await?;
    Ok(ok(LiveClassList {
        classes: live_classes::to_wire_many(&state.db, &rows, &audience).await?,
        pagination: Pagination::new(page, total),
    }))
}

/// Schedules a class for a course or one of its batches (its staff and admins), or a
/// weekly series with `recurrence`. A clash with a class of the same host, or of the
/// same students, is a 409 naming that class; a series is created whole or not at all.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    request_body = NewLiveClass,
    responses(
        (status = 201, description = "Scheduled", body = ApiResponse<LiveClassCreated>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such course", body = crate::api::ErrorBody),
        (status = 409, description = "Clashes with another class", body = crate::api::ErrorBody),
        (status = 422, description = "The course is archived", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes")]
pub async fn create_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    Json(body): Json<NewLiveClass>,
) -> Result<HttpResponse, ApiError> {
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
    catalogue::access(&state.db, Some(&auth), course.id)
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
    check_host(&state.db, &auth, course.id, host_id).await?;

    let series_id = body.recurrence.as_ref().map(|_| Uuid::now_v7());
    let duration = Duration::minutes(i64::from(body.duration));
    let txn = crate::db::begin_write(&state.db).await?;
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
            platform: Set(platform.as_str().to_owned()),
            meeting_url: Set(meeting_url.clone()),
            meeting_id: Set(meeting_id.clone()),
            meeting_password: Set(password.clone()),
            status: Set(LiveClassStatus::Scheduled.as_str().to_owned()),
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
    let mut event = live_classes::event(EventKind::LiveClassScheduled, first, Some(auth.id()));
    if series_id.is_some() {
        event.payload["occurrences"] = json!(rows.len());
    }
    let stored = events::publish(&txn, event).await?;
    txn.commit().await?;
    state.events.announce([stored]);
    let audience = audience(&state.db, &auth).await?;
    let mut classes = live_classes::to_wire_many(&state.db, &rows, &audience).await?;
    let class = classes.remove(0);
    let occurrences = if series_id.is_some() {
        let mut all = vec![class.clone()];
        all.extend(classes);
        all
    } else {
        Vec::new()
    };
    Ok(created(LiveClassCreated { class, occurrences }))
}

/// One class, for those who may see it.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "The class", body = ApiResponse<LiveClass>),
        (status = 404, description = "No such class that you may see", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes/{id}")]
pub async fn get_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    Ok(ok(wire_one(&state.db, &class, &audience).await?))
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

fn require_scheduled(class: &live_class::Model, what: &str) -> Result<(), ApiError> {
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

/// Changes a scheduled class (its staff and admins): `scope=following` or `series`
/// applies the change to later or all not-yet-started occurrences of its series (a new
/// `scheduledAt` moves each by the same offset). A time change is checked for clashes,
/// re-arms the reminder and notifies the students (`live_class.rescheduled`).
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id"), ScopeQuery),
    request_body = UpdateLiveClass,
    responses(
        (status = 200, description = "Changed", body = ApiResponse<LiveClassesChanged>),
        (status = 400, description = "Invalid fields", body = crate::api::ErrorBody),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 409, description = "Clashes with another class", body = crate::api::ErrorBody),
        (status = 422, description = "Not a scheduled class", body = crate::api::ErrorBody),
    )
)]
#[patch("/live-classes/{id}")]
pub async fn update_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    scope: web::Query<ScopeQuery>,
    Json(body): Json<UpdateLiveClass>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    catalogue::access(&state.db, Some(&auth), class.course_id)
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
        check_host(&state.db, &auth, class.course_id, host_id).await?;
    }
    let offset = body.scheduled_at.map(|at| at - class.scheduled_at);
    let scope = scope.scope.unwrap_or_default();

    let txn = crate::db::begin_write(&state.db).await?;
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
            platform: Set(platform.as_str().to_owned()),
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
        let mut event = live_classes::event(EventKind::LiveClassRescheduled, new, Some(auth.id()));
        event.payload["previousScheduledAt"] = json!(
            old.scheduled_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        if updated.len() > 1 {
            event.payload["occurrences"] = json!(updated.len());
        }
        stored.push(events::publish(&txn, event).await?);
    }
    txn.commit().await?;
    state.events.announce(stored);
    let rows: Vec<live_class::Model> = updated.into_iter().map(|(_, new)| new).collect();
    Ok(ok(LiveClassesChanged {
        classes: live_classes::to_wire_many(&state.db, &rows, &audience).await?,
    }))
}

/// Cancels a scheduled class (its staff and admins), or with `scope=following` /
/// `series` the later / all not-yet-started occurrences of its series. Students are
/// notified; the classes stay listed as CANCELLED (and in calendar feeds). Cancelling a
/// cancelled class is a no-op.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id"), ScopeQuery),
    responses(
        (status = 200, description = "Cancelled", body = ApiResponse<LiveClassesChanged>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "The class is live or over", body = crate::api::ErrorBody),
    )
)]
#[delete("/live-classes/{id}")]
pub async fn cancel_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    scope: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    catalogue::access(&state.db, Some(&auth), class.course_id)
        .await?
        .require_edit()?;
    let scope = scope.scope.unwrap_or_default();
    if status_of(&class) == LiveClassStatus::Cancelled && scope == SeriesScope::Occurrence {
        return Ok(ok_with(
            "Already cancelled",
            LiveClassesChanged {
                classes: vec![wire_one(&state.db, &class, &audience).await?],
            },
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
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
                status: Set(LiveClassStatus::Cancelled.as_str().to_owned()),
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
        let mut event = live_classes::event(EventKind::LiveClassCancelled, first, Some(auth.id()));
        if rows.len() > 1 {
            event.payload["occurrences"] = json!(rows.len());
        }
        stored.push(events::publish(&txn, event).await?);
    }
    txn.commit().await?;
    state.events.announce(stored);
    Ok(ok_with(
        "Cancelled",
        LiveClassesChanged {
            classes: live_classes::to_wire_many(&state.db, &rows, &audience).await?,
        },
    ))
}

/// Starts the class (its host only): LIVE now, students notified, the room told.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "Live", body = ApiResponse<LiveClass>),
        (status = 403, description = "Not the host", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "Cancelled, over, or too early", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/start")]
pub async fn start_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    forbidden_unless(
        class.host_id == auth.id(),
        "Only the host can start this class",
    )?;
    let txn = crate::db::begin_write(&state.db).await?;
    let class = lock_class(&txn, class.id).await?;
    match status_of(&class) {
        LiveClassStatus::Live => {
            txn.commit().await?;
            return Ok(ok_with(
                "Already live",
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
        status: Set(LiveClassStatus::Live.as_str().to_owned()),
        started_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let stored = events::publish(
        &txn,
        live_classes::event(EventKind::LiveClassStarted, &row, Some(auth.id())),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([stored]);
    Ok(ok(wire_one(&state.db, &row, &audience).await?))
}

/// Ends a live class (its host only): COMPLETED, open attendances closed at the end.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "Ended", body = ApiResponse<LiveClass>),
        (status = 403, description = "Not the host", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "Not live", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/end")]
pub async fn end_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    forbidden_unless(
        class.host_id == auth.id(),
        "Only the host can end this class",
    )?;
    let txn = crate::db::begin_write(&state.db).await?;
    let class = lock_class(&txn, class.id).await?;
    match status_of(&class) {
        LiveClassStatus::Live => {}
        LiveClassStatus::Completed => {
            txn.commit().await?;
            return Ok(ok_with(
                "Already ended",
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
        status: Set(LiveClassStatus::Completed.as_str().to_owned()),
        ended_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let stored = events::publish(
        &txn,
        live_classes::event(EventKind::LiveClassEnded, &row, Some(auth.id())),
    )
    .await?;
    txn.commit().await?;
    state.events.announce([stored]);
    Ok(ok(wire_one(&state.db, &row, &audience).await?))
}

/// Ends a student's current stay at `at`: its seconds added, `left_at` set.
async fn close_stay(
    txn: &impl ConnectionTrait,
    a: &live_class_attendance::Model,
    at: DateTime<Utc>,
) -> Result<live_class_attendance::Model, ApiError> {
    let Some(since) = a.in_since else {
        return Ok(a.clone());
    };
    let seconds = (at - since).num_seconds().max(0);
    Ok(live_class_attendance::ActiveModel {
        id: Set(a.id),
        in_since: Set(None),
        left_at: Set(Some(at)),
        seconds_present: Set(a.seconds_present + seconds),
        updated_at: Set(at),
        ..Default::default()
    }
    .update(txn)
    .await?)
}

fn join_details(class: &live_class::Model, recorded: bool) -> JoinDetails {
    let platform = platform_of(class);
    JoinDetails {
        live_class_id: class.id,
        platform,
        meeting_link: class.meeting_url.clone(),
        meeting_id: class.meeting_id.clone(),
        password: class.meeting_password.clone(),
        room: (platform == LivePlatform::Builtin)
            .then(|| crate::realtime::rooms::live_class_room(class.id)),
        start_time: class.scheduled_at,
        end_time: class.ends_at,
        status: status_of(class),
        attendance_recorded: recorded,
    }
}

/// Joins a class: for its enrolled students (the batch's, for a batch's class) from
/// 15 minutes before the start until it ends, within its capacity (409 when full; a
/// student who was in before may always return). Records attendance and answers the
/// join details. Staff and admins get the details without attendance.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "How to join", body = ApiResponse<JoinDetails>),
        (status = 404, description = "No such class that you may join", body = crate::api::ErrorBody),
        (status = 409, description = "The class is full", body = crate::api::ErrorBody),
        (status = 422, description = "Not open (too early, over or cancelled)", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/join")]
pub async fn join_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    if !audience.attends(&class) {
        return Ok(ok(join_details(&class, false)));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let class = lock_class(&txn, class.id).await?;
    let now = Utc::now();
    match status_of(&class) {
        LiveClassStatus::Live => {}
        LiveClassStatus::Scheduled => {
            let opens = class.scheduled_at - Duration::minutes(JOIN_EARLY_MINUTES);
            if now < opens {
                return Err(ApiError::Unprocessable(format!(
                    "This class opens for joining at {}",
                    opens.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )));
            }
            if now >= class.ends_at {
                return Err(ApiError::Unprocessable("This class is over".into()));
            }
        }
        LiveClassStatus::Completed => {
            return Err(ApiError::Unprocessable("This class has ended".into()));
        }
        LiveClassStatus::Cancelled => {
            return Err(ApiError::Unprocessable("This class is cancelled".into()));
        }
    }
    let existing = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .filter(live_class_attendance::Column::UserId.eq(auth.id()))
        .one(&txn)
        .await?;
    match existing {
        Some(a) if a.in_since.is_some() => {}
        Some(a) => {
            live_class_attendance::ActiveModel {
                id: Set(a.id),
                in_since: Set(Some(now)),
                left_at: Set(None),
                joins: Set(a.joins + 1),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
        None => {
            if let Some(capacity) = class.capacity {
                let admitted = live_class_attendance::Entity::find()
                    .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
                    .count(&txn)
                    .await?;
                if admitted >= capacity as u64 {
                    return Err(ApiError::Conflict {
                        field: Some("capacity".into()),
                        message: format!("This class is full (capacity {capacity})"),
                    });
                }
            }
            live_class_attendance::ActiveModel {
                id: Set(Uuid::now_v7()),
                live_class_id: Set(class.id),
                user_id: Set(auth.id()),
                first_joined_at: Set(now),
                in_since: Set(Some(now)),
                left_at: Set(None),
                seconds_present: Set(0),
                joins: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(ok(join_details(&class, true)))
}

/// Leaves a class the student joined: the stay's minutes are recorded.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "Left; the minutes present so far", body = ApiResponse<crate::api::LeftClass>),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
        (status = 422, description = "Never joined", body = crate::api::ErrorBody),
    )
)]
#[post("/live-classes/{id}/leave")]
pub async fn leave_live_class(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (class, _) = visible(&state, &auth, *id).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    lock_class(&txn, class.id).await?;
    let Some(a) = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .filter(live_class_attendance::Column::UserId.eq(auth.id()))
        .one(&txn)
        .await?
    else {
        return Err(ApiError::Unprocessable(
            "You have not joined this class".into(),
        ));
    };
    let a = close_stay(&txn, &a, Utc::now()).await?;
    txn.commit().await?;
    Ok(ok_with(
        "Left the class",
        json!({ "liveClassId": class.id, "minutes": a.seconds_present / 60 }),
    ))
}

/// Who attended (with minutes) and who was expected but never joined (its staff and
/// admins).
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Live class id")),
    responses(
        (status = 200, description = "The report", body = ApiResponse<AttendanceReport>),
        (status = 403, description = "Not staff of this course", body = crate::api::ErrorBody),
        (status = 404, description = "No such class", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes/{id}/attendance")]
pub async fn attendance_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (class, audience) = visible(&state, &auth, *id).await?;
    forbidden_unless(
        audience.manages(&class),
        "Only this course's staff or an admin can see attendance",
    )?;
    let mut expected_query = crate::notifications::enrolled_students(class.course_id);
    if let Some(batch_id) = class.batch_id {
        expected_query = expected_query.filter(enrollment::Column::BatchId.eq(batch_id));
    }
    let expected: Vec<Uuid> = expected_query.into_tuple().all(&state.db).await?;
    let rows = live_class_attendance::Entity::find()
        .filter(live_class_attendance::Column::LiveClassId.eq(class.id))
        .all(&state.db)
        .await?;
    let joined: HashSet<Uuid> = rows.iter().map(|a| a.user_id).collect();
    let people = users_by_id(
        &state.db,
        expected.iter().copied().chain(joined.iter().copied()),
    )
    .await?;
    let until = class.ended_at.unwrap_or_else(Utc::now).min(Utc::now());
    let mut present: Vec<AttendanceEntry> = rows
        .iter()
        .filter_map(|a| {
            let open = a
                .in_since
                .map(|s| (until - s).num_seconds().max(0))
                .unwrap_or(0);
            Some(AttendanceEntry {
                student: student_ref(people.get(&a.user_id)?),
                first_joined_at: a.first_joined_at,
                left_at: a.left_at,
                minutes: (a.seconds_present + open) / 60,
                joins: a.joins,
                present_now: a.in_since.is_some(),
            })
        })
        .collect();
    present.sort_by(|a, b| {
        (&a.student.last_name, &a.student.first_name, a.student.id).cmp(&(
            &b.student.last_name,
            &b.student.first_name,
            b.student.id,
        ))
    });
    let mut absent: Vec<_> = expected
        .iter()
        .filter(|id| !joined.contains(id))
        .filter_map(|id| people.get(id).map(student_ref))
        .collect();
    absent.sort_by(|a, b| {
        (&a.last_name, &a.first_name, a.id).cmp(&(&b.last_name, &b.first_name, b.id))
    });
    Ok(ok(AttendanceReport {
        live_class_id: class.id,
        expected: expected.len() as i64,
        present,
        absent,
    }))
}

/// Creates (or replaces) the caller's calendar feed token and answers it once. The
/// token opens only the feed; an old one stops working.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new feed token", body = ApiResponse<CalendarFeed>),
    )
)]
#[post("/live-classes/calendar-token")]
pub async fn create_calendar_token(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let token = secrets::new_token(FEED_PREFIX);
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
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
    Ok(created(CalendarFeed { token, url }))
}

/// Revokes the caller's calendar feed token.
#[utoipa::path(
    tag = "live-classes",
    security(("bearer" = [])),
    responses((status = 200, description = "Revoked (or there was none)", body = ApiResponse<crate::api::CalendarTokenRevoked>))
)]
#[delete("/live-classes/calendar-token")]
pub async fn revoke_calendar_token(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let gone = calendar_feed_token::Entity::delete_by_id(auth.id())
        .exec(&state.db)
        .await?;
    Ok(ok_with(
        "Calendar feed token revoked",
        json!({ "revoked": gone.rows_affected > 0 }),
    ))
}

/// The caller's live classes as an iCalendar (RFC 5545) feed, for calendar apps to
/// subscribe to: authenticated by the feed token in `?token=` (from
/// `POST /live-classes/calendar-token`), never an access token. Classes from 30 days
/// back on; cancelled ones as `STATUS:CANCELLED`.
#[utoipa::path(
    tag = "live-classes",
    params(CalendarQuery),
    responses(
        (status = 200, description = "text/calendar", content_type = "text/calendar", body = String),
        (status = 401, description = "Missing or unknown feed token", body = crate::api::ErrorBody),
    )
)]
#[get("/live-classes/calendar.ics")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    query: web::Query<CalendarQuery>,
) -> Result<HttpResponse, ApiError> {
    let unauthorized = || ApiError::Unauthorized("Missing or unknown calendar feed token".into());
    let token = query.token.as_deref().ok_or_else(unauthorized)?;
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
    let body = ics::calendar(
        &format!(
            "EduPro+ classes of {} {}",
            owner.first_name, owner.last_name
        ),
        &events,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(body))
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
