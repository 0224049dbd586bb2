//! Notifications: made from domain events by one consumer, exactly once, for the right
//! recipients; what a user may see of them; and their preferences.
//!
//! The consumer follows `docs/ARCHITECTURE.md` "Consuming them": its cursor (the last
//! event `seq` handled) lives in `notification_cursor`; it reads `seq > cursor` at start,
//! on every announced event it has not handled yet, after a `Lagged`, and every poll
//! interval (events another instance published). Each batch runs in one transaction
//! that first writes the cursor row — its lock: on PostgreSQL a second instance's
//! consumer queues behind it and then finds the events handled; SQLite serialises
//! writers — then inserts the notifications with ids taken from the same row, and
//! advances the cursor. Events and notifications therefore commit together, once, and
//! notification ids are dense and increase in commit order.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Statement,
};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::api::{self, EnrollmentStatus, NotificationType, Role, ServerMessage};
use crate::entity::{
    course, course_staff, domain_event, enrollment, notification, notification_cursor,
    notification_preference, user,
};
use crate::events::EventKind;
use crate::state::AppState;

/// The cursor row's name.
const CURSOR: &str = "notifications";
/// Events handled per transaction.
const EVENT_BATCH: u64 = 100;
/// Keys per `IN (…)` list.
const IN_CHUNK: usize = 1_000;

/// The wire form of a stored notification.
pub fn to_wire(row: &notification::Model) -> api::Notification {
    api::Notification {
        id: row.id,
        kind: row.kind.parse().unwrap_or(NotificationType::Announcement),
        title: row.title.clone(),
        message: row.message.clone(),
        data: row.data.clone(),
        action_url: row.action_url.clone(),
        is_read: row.is_read,
        created_at: row.created_at,
    }
}

/// Notifications that differ only in id and recipient (an event's recipients who read
/// the same text): one to each of `users`, in order, with ids `first.id`, `first.id + 1`…
/// `first` is the first of them; the others are it with the next id and user.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub first: notification::Model,
    pub users: Vec<Uuid>,
}

impl Run {
    pub fn last_id(&self) -> i64 {
        self.first.id + self.users.len() as i64 - 1
    }

    /// Each notification of the run as `(id, user)`.
    pub fn each(&self) -> impl Iterator<Item = (i64, Uuid)> + '_ {
        (self.first.id..).zip(self.users.iter().copied())
    }

    /// Stored rows (ids ascending) as runs.
    pub fn group(rows: Vec<notification::Model>) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for row in rows {
            match runs.last_mut() {
                Some(run)
                    if row.id == run.last_id() + 1 && same_but_recipient(&run.first, &row) =>
                {
                    run.users.push(row.user_id);
                }
                _ => runs.push(Run {
                    users: vec![row.user_id],
                    first: row,
                }),
            }
        }
        runs
    }
}

/// Whether two rows differ only in their id and recipient.
fn same_but_recipient(a: &notification::Model, b: &notification::Model) -> bool {
    a.event_seq == b.event_seq
        && a.kind == b.kind
        && a.title == b.title
        && a.message == b.message
        && a.data == b.data
        && a.action_url == b.action_url
        && a.is_read == b.is_read
        && a.read_at == b.read_at
        && a.course_id == b.course_id
        && a.batch_id == b.batch_id
        && a.created_at == b.created_at
        && a.updated_at == b.updated_at
}

/// Enrolled students of a course (ACTIVE or COMPLETED, not expired), as a query of
/// their ids (`into_tuple::<Uuid>()`); callers may narrow it to a batch.
pub fn enrolled_students(course_id: Uuid) -> Select<enrollment::Entity> {
    enrollment::Entity::find()
        .select_only()
        .column(enrollment::Column::StudentId)
        .filter(enrollment::Column::CourseId.eq(course_id))
        .filter(enrollment::Column::Status.is_in([
            EnrollmentStatus::Active.as_str(),
            EnrollmentStatus::Completed.as_str(),
        ]))
        .filter(
            Condition::any()
                .add(enrollment::Column::ExpiresAt.is_null())
                .add(enrollment::Column::ExpiresAt.gt(Utc::now())),
        )
}

// ---------------------------------------------------------------------------------
// What a user may see

/// What a user may see of course-scoped notifications, computed once per request or
/// replay: the courses (and batches) they are enrolled in and the courses they staff.
pub struct Visibility {
    everything: bool,
    enrolled: Vec<Uuid>,
    batches: Vec<Uuid>,
    staff: Vec<Uuid>,
}

impl Visibility {
    pub async fn of(db: &impl ConnectionTrait, user: &user::Model) -> Result<Self, DbErr> {
        if crate::accounts::role_of(user) == Role::Admin {
            return Ok(Self {
                everything: true,
                enrolled: Vec::new(),
                batches: Vec::new(),
                staff: Vec::new(),
            });
        }
        let now = Utc::now();
        let enrollments = enrollment::Entity::find()
            .filter(enrollment::Column::StudentId.eq(user.id))
            .filter(enrollment::Column::Status.is_in([
                EnrollmentStatus::Active.as_str(),
                EnrollmentStatus::Completed.as_str(),
            ]))
            .all(db)
            .await?
            .into_iter()
            .filter(|e| e.expires_at.is_none_or(|at| at > now))
            .collect::<Vec<_>>();
        let staff = course_staff::Entity::find()
            .select_only()
            .column(course_staff::Column::CourseId)
            .filter(course_staff::Column::UserId.eq(user.id))
            .into_tuple()
            .all(db)
            .await?;
        Ok(Self {
            everything: false,
            enrolled: enrollments.iter().map(|e| e.course_id).collect(),
            batches: enrollments.iter().filter_map(|e| e.batch_id).collect(),
            staff,
        })
    }

    /// The rows of `notifications` the user may see.
    pub fn condition(&self) -> Condition {
        if self.everything {
            return Condition::all();
        }
        Condition::any()
            .add(notification::Column::CourseId.is_null())
            .add(notification::Column::CourseId.is_in(self.staff.clone()))
            .add(
                Condition::all()
                    .add(notification::Column::CourseId.is_in(self.enrolled.clone()))
                    .add(
                        Condition::any()
                            .add(notification::Column::BatchId.is_null())
                            .add(notification::Column::BatchId.is_in(self.batches.clone())),
                    ),
            )
    }
}

// ---------------------------------------------------------------------------------
// Preferences

/// A user's preferences, parsed.
#[derive(Debug, Clone)]
pub struct Preferences {
    pub muted: HashSet<NotificationType>,
    pub quiet: Option<(NaiveTime, NaiveTime)>,
    pub time_zone: Tz,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            muted: HashSet::new(),
            quiet: None,
            time_zone: Tz::UTC,
        }
    }
}

/// `HH:MM` as a time of day.
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

impl Preferences {
    pub fn from_row(row: &notification_preference::Model) -> Self {
        let muted = row
            .muted_types
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let quiet = match (&row.quiet_start, &row.quiet_end) {
            (Some(s), Some(e)) => parse_time_of_day(s).zip(parse_time_of_day(e)),
            _ => None,
        };
        Self {
            muted,
            quiet,
            time_zone: Tz::from_str(&row.time_zone).unwrap_or(Tz::UTC),
        }
    }

    /// Whether `now` falls in the quiet hours (local time; `start` after `end` spans
    /// midnight; equal times mean none).
    pub fn is_quiet(&self, now: DateTime<Utc>) -> bool {
        let Some((start, end)) = self.quiet else {
            return false;
        };
        let local = now.with_timezone(&self.time_zone).time();
        if start < end {
            start <= local && local < end
        } else if start > end {
            local >= start || local < end
        } else {
            false
        }
    }

    pub fn to_wire(&self) -> api::NotificationPreferences {
        let mut muted: Vec<NotificationType> = self.muted.iter().copied().collect();
        muted.sort_by_key(|t| t.as_str());
        api::NotificationPreferences {
            muted_types: muted,
            quiet_hours: self.quiet.map(|(s, e)| api::QuietHours {
                start: s.format("%H:%M").to_string(),
                end: e.format("%H:%M").to_string(),
            }),
            time_zone: self.time_zone.name().to_owned(),
        }
    }
}

/// The user's preferences (defaults when they never set any).
pub async fn preferences(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Preferences, DbErr> {
    Ok(notification_preference::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|row| Preferences::from_row(&row))
        .unwrap_or_default())
}

async fn preferences_of(
    db: &impl ConnectionTrait,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Preferences>, DbErr> {
    let mut found = HashMap::new();
    for chunk in users.chunks(IN_CHUNK) {
        for row in notification_preference::Entity::find()
            .filter(notification_preference::Column::UserId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            found.insert(row.user_id, Preferences::from_row(&row));
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------
// From events to notifications

/// Who a notification goes to.
enum Audience {
    User(Uuid),
    /// The course's enrolled students, or one batch's members.
    Course {
        course_id: Uuid,
        batch_id: Option<Uuid>,
    },
}

/// The text of a notification; class times are written in each recipient's zone.
enum Text {
    Fixed {
        title: String,
        message: String,
    },
    Class {
        what: ClassChange,
        title: String,
        at: DateTime<Utc>,
        previous: Option<DateTime<Utc>>,
        minutes: i64,
    },
}

#[derive(Clone, Copy)]
enum ClassChange {
    Scheduled,
    Rescheduled,
    Cancelled,
    StartingSoon,
    Started,
}

fn when(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

impl Text {
    fn render(&self, tz: Tz) -> (String, String) {
        match self {
            Self::Fixed { title, message } => (title.clone(), message.clone()),
            Self::Class {
                what,
                title,
                at,
                previous,
                minutes,
            } => {
                let at_text = when(*at, tz);
                match what {
                    ClassChange::Scheduled => (
                        format!("Class scheduled: {title}"),
                        format!("{title} is scheduled for {at_text} ({minutes} min)."),
                    ),
                    ClassChange::Rescheduled => (
                        format!("Class rescheduled: {title}"),
                        match previous {
                            Some(p) => format!(
                                "{title} moved from {} to {at_text} ({minutes} min).",
                                when(*p, tz)
                            ),
                            None => format!("{title} moved to {at_text} ({minutes} min)."),
                        },
                    ),
                    ClassChange::Cancelled => (
                        format!("Class cancelled: {title}"),
                        format!("{title} on {at_text} is cancelled."),
                    ),
                    ClassChange::StartingSoon => (
                        format!("Starting soon: {title}"),
                        format!("{title} starts at {at_text} ({minutes} min)."),
                    ),
                    ClassChange::Started => (
                        format!("Live now: {title}"),
                        format!("{title} has started; join now."),
                    ),
                }
            }
        }
    }
}

/// A notification to make from one event.
struct Plan {
    kind: NotificationType,
    audience: Audience,
    /// Set for news about a course's content: only its members see it, now and later.
    scope: Option<(Uuid, Option<Uuid>)>,
    /// Not sent to this user (the one who did it).
    exclude: Option<Uuid>,
    text: Text,
    data: Value,
    action_url: Option<String>,
}

fn uuid_at(payload: &Value, key: &str) -> Option<Uuid> {
    payload.get(key)?.as_str()?.parse().ok()
}

fn str_at<'a>(payload: &'a Value, key: &str) -> Option<&'a str> {
    payload.get(key)?.as_str()
}

fn time_at(payload: &Value, key: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(str_at(payload, key)?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The kinds of event whose notification names the course by its current title.
const TITLED_BY_COURSE: [&str; 3] = [
    "course.enrolled",
    "enrollment.cancelled",
    "enrollment.completed",
];

/// The titles of the courses the batch's enrollment events name, in one query.
async fn course_titles(
    db: &impl ConnectionTrait,
    events: &[domain_event::Model],
) -> Result<HashMap<Uuid, String>, DbErr> {
    let ids: HashSet<Uuid> = events
        .iter()
        .filter(|e| TITLED_BY_COURSE.contains(&e.kind.as_str()))
        .filter_map(|e| uuid_at(&e.payload, "courseId"))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .column(course::Column::Title)
        .filter(course::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A room message (class started, ended, cancelled) to push with the event.
pub struct RoomPush {
    pub room: String,
    pub message: ServerMessage,
}

/// The room events an event causes: a live class's state changes go to its room.
fn room_push(event: &domain_event::Model) -> Option<RoomPush> {
    let what = match event.kind.as_str() {
        "live_class.started" => "started",
        "live_class.ended" => "ended",
        "live_class.cancelled" => "cancelled",
        _ => return None,
    };
    let id = uuid_at(&event.payload, "liveClassId")?;
    let room = crate::realtime::rooms::live_class_room(id);
    Some(RoomPush {
        message: ServerMessage::RoomEvent {
            room: room.clone(),
            event: what.to_owned(),
            data: event.payload.clone(),
        },
        room,
    })
}

/// What notification (if any) `event` makes, given the titles of the courses the
/// batch's enrollment events name ([`course_titles`]). Unknown kinds make none.
fn plan(event: &domain_event::Model, titles: &HashMap<Uuid, String>) -> Option<Plan> {
    let p = &event.payload;
    let actor = uuid_at(p, "actorId");
    let plan = match event.kind.as_str() {
        kind @ ("course.enrolled" | "enrollment.cancelled" | "enrollment.completed") => {
            let (Some(course_id), Some(student)) =
                (uuid_at(p, "courseId"), uuid_at(p, "studentId"))
            else {
                return None;
            };
            let title = titles.get(&course_id)?;
            let by_self = actor == Some(student);
            let (kind, heading, message) = match kind {
                "course.enrolled" => (
                    NotificationType::Enrolled,
                    format!("Enrolled in {title}"),
                    if by_self {
                        format!("You enrolled in {title}.")
                    } else {
                        format!("You were enrolled in {title}.")
                    },
                ),
                "enrollment.cancelled" if by_self => return None,
                "enrollment.cancelled" => (
                    NotificationType::EnrollmentCancelled,
                    format!("Removed from {title}"),
                    format!("You were removed from {title}. Your progress is kept if you return."),
                ),
                _ => (
                    NotificationType::CourseCompleted,
                    format!("Course completed: {title}"),
                    format!("Congratulations: you completed every lesson of {title}."),
                ),
            };
            Plan {
                kind,
                audience: Audience::User(student),
                scope: None,
                exclude: None,
                text: Text::Fixed {
                    title: heading,
                    message,
                },
                data: p.clone(),
                action_url: Some(format!("/courses/{course_id}")),
            }
        }
        kind @ ("course.published" | "course.archived") => {
            let course_id = uuid_at(p, "courseId")?;
            let title = str_at(p, "title").unwrap_or("A course").to_owned();
            let (kind, heading, message) = if kind == "course.published" {
                (
                    NotificationType::CoursePublished,
                    format!("{title} is open"),
                    format!("{title} is published: its lessons are open to you."),
                )
            } else {
                (
                    NotificationType::CourseArchived,
                    format!("{title} was archived"),
                    format!("{title} was archived. You can still open its lessons."),
                )
            };
            Plan {
                kind,
                audience: Audience::Course {
                    course_id,
                    batch_id: None,
                },
                scope: Some((course_id, None)),
                exclude: actor,
                text: Text::Fixed {
                    title: heading,
                    message,
                },
                data: p.clone(),
                action_url: Some(format!("/courses/{course_id}")),
            }
        }
        "course.announcement" => {
            let course_id = uuid_at(p, "courseId")?;
            let batch_id = uuid_at(p, "batchId");
            Plan {
                kind: NotificationType::Announcement,
                audience: Audience::Course {
                    course_id,
                    batch_id,
                },
                scope: Some((course_id, batch_id)),
                exclude: actor,
                text: Text::Fixed {
                    title: str_at(p, "title").unwrap_or("Announcement").to_owned(),
                    message: str_at(p, "message").unwrap_or_default().to_owned(),
                },
                data: json!({
                    "announcementId": p.get("announcementId"),
                    "courseId": course_id,
                    "batchId": batch_id,
                    "actorId": actor,
                }),
                action_url: Some(format!("/courses/{course_id}")),
            }
        }
        kind @ ("live_class.scheduled"
        | "live_class.rescheduled"
        | "live_class.cancelled"
        | "live_class.starting_soon"
        | "live_class.started") => {
            let (Some(id), Some(course_id), Some(at)) = (
                uuid_at(p, "liveClassId"),
                uuid_at(p, "courseId"),
                time_at(p, "scheduledAt"),
            ) else {
                return None;
            };
            let batch_id = uuid_at(p, "batchId");
            let (kind, what) = match kind {
                "live_class.scheduled" => {
                    (NotificationType::ClassScheduled, ClassChange::Scheduled)
                }
                "live_class.rescheduled" => {
                    (NotificationType::ClassRescheduled, ClassChange::Rescheduled)
                }
                "live_class.cancelled" => {
                    (NotificationType::ClassCancelled, ClassChange::Cancelled)
                }
                "live_class.starting_soon" => (
                    NotificationType::ClassStartingSoon,
                    ClassChange::StartingSoon,
                ),
                _ => (NotificationType::ClassStarted, ClassChange::Started),
            };
            Plan {
                kind,
                audience: Audience::Course {
                    course_id,
                    batch_id,
                },
                scope: Some((course_id, batch_id)),
                exclude: actor,
                text: Text::Class {
                    what,
                    title: str_at(p, "title").unwrap_or("A live class").to_owned(),
                    at,
                    previous: time_at(p, "previousScheduledAt"),
                    minutes: p.get("duration").and_then(Value::as_i64).unwrap_or(0),
                },
                data: p.clone(),
                action_url: Some(format!("/live-classes/{id}")),
            }
        }
        "test.published" => {
            let (Some(test_id), Some(course_id)) = (uuid_at(p, "testId"), uuid_at(p, "courseId"))
            else {
                return None;
            };
            let batch_id = uuid_at(p, "batchId");
            let title = str_at(p, "title").unwrap_or("A test").to_owned();
            Plan {
                kind: NotificationType::TestPublished,
                audience: Audience::Course {
                    course_id,
                    batch_id,
                },
                scope: Some((course_id, batch_id)),
                exclude: actor,
                text: Text::Fixed {
                    title: format!("New test: {title}"),
                    message: format!("{title} is published; you can take it now."),
                },
                data: p.clone(),
                action_url: Some(format!("/tests/{test_id}")),
            }
        }
        "attempt.graded" => {
            let (Some(test_id), Some(student)) = (uuid_at(p, "testId"), uuid_at(p, "studentId"))
            else {
                return None;
            };
            let title = str_at(p, "title").unwrap_or("Your test").to_owned();
            Plan {
                kind: NotificationType::TestGraded,
                audience: Audience::User(student),
                scope: None,
                exclude: None,
                text: Text::Fixed {
                    title: format!("Graded: {title}"),
                    message: format!("Your attempt at {title} has been graded; see your result."),
                },
                data: p.clone(),
                action_url: Some(format!("/tests/{test_id}")),
            }
        }
        "import.finished" => {
            let (Some(import_id), Some(actor)) = (uuid_at(p, "importId"), actor) else {
                return None;
            };
            let kind = str_at(p, "kind").unwrap_or("data");
            let mode = str_at(p, "mode").unwrap_or("apply");
            let counts = p.get("counts").cloned().unwrap_or(Value::Null);
            let n = |k: &str| counts.get(k).and_then(Value::as_i64).unwrap_or(0);
            let verb = if mode == "plan" {
                "Import plan"
            } else {
                "Import"
            };
            Plan {
                kind: NotificationType::ImportFinished,
                audience: Audience::User(actor),
                scope: None,
                exclude: None,
                text: Text::Fixed {
                    title: format!("{verb} of {kind} finished"),
                    message: format!(
                        "{} created, {} updated, {} unchanged, {} failed, {} skipped.",
                        n("created"),
                        n("updated"),
                        n("unchanged"),
                        n("failed"),
                        n("skipped")
                    ),
                },
                data: p.clone(),
                action_url: Some(format!("/imports/{import_id}")),
            }
        }
        _ => return None,
    };
    Some(plan)
}

/// Which of the users the batch's plans name one by one still exist, in one query.
async fn existing_users(
    db: &impl ConnectionTrait,
    plans: &[(&domain_event::Model, Plan)],
) -> Result<HashSet<Uuid>, DbErr> {
    let named: HashSet<Uuid> = plans
        .iter()
        .filter_map(|(_, plan)| match plan.audience {
            Audience::User(id) => Some(id),
            Audience::Course { .. } => None,
        })
        .collect();
    if named.is_empty() {
        return Ok(HashSet::new());
    }
    // At most one per event of the batch (EVENT_BATCH): one query.
    let found: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(named))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// The users a plan reaches before preferences: the named user if they still exist (in
/// `existing`, from [`existing_users`]), or the course's (batch's) enrolled students;
/// never the actor.
async fn recipients(
    db: &impl ConnectionTrait,
    plan: &Plan,
    existing: &HashSet<Uuid>,
) -> Result<Vec<Uuid>, DbErr> {
    let mut users: Vec<Uuid> = match plan.audience {
        Audience::User(id) => existing.contains(&id).then_some(id).into_iter().collect(),
        Audience::Course {
            course_id,
            batch_id,
        } => {
            let mut query = enrolled_students(course_id);
            if let Some(batch_id) = batch_id {
                query = query.filter(enrollment::Column::BatchId.eq(batch_id));
            }
            query
                .order_by_asc(enrollment::Column::StudentId)
                .into_tuple()
                .all(db)
                .await?
        }
    };
    if let Some(actor) = plan.exclude {
        users.retain(|u| *u != actor);
    }
    Ok(users)
}

/// What one batch did.
struct Handled {
    /// The cursor after it.
    last_seq: i64,
    /// Whether events may remain after it (a full or cut batch).
    more: bool,
    runs: Vec<Run>,
    rooms: Vec<RoomPush>,
    /// Users who lost access to a course: their sockets check their rooms again.
    lost_access: Vec<Uuid>,
}

/// The user an event takes a course away from, if any.
fn lost_access(event: &domain_event::Model) -> Option<Uuid> {
    (event.kind == EventKind::EnrollmentCancelled.as_str())
        .then(|| uuid_at(&event.payload, "studentId"))
        .flatten()
}

/// Handles the next batch of events in one transaction.
async fn handle_batch(state: &AppState) -> Result<Handled, DbErr> {
    let started = std::time::Instant::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let now = Utc::now();
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::UpdatedAt, Expr::value(now))
        .filter(notification_cursor::Column::Name.eq(CURSOR))
        .exec(&txn)
        .await?;
    let cursor = notification_cursor::Entity::find_by_id(CURSOR.to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("notification_cursor row".into()))?;
    let events = domain_event::Entity::find()
        .filter(domain_event::Column::Seq.gt(cursor.event_seq))
        .order_by_asc(domain_event::Column::Seq)
        .limit(EVENT_BATCH)
        .all(&txn)
        .await?;
    let Some(mut last_seq) = events.last().map(|e| e.seq) else {
        txn.commit().await?;
        return Ok(Handled {
            last_seq: cursor.event_seq,
            more: false,
            runs: Vec::new(),
            rooms: Vec::new(),
            lost_access: Vec::new(),
        });
    };
    // What the batch's events need is read a query per kind of thing, not per event:
    // while an import runs, every event of a batch is an enrollment.
    let titles = course_titles(&txn, &events).await?;
    let mut plans: Vec<(&domain_event::Model, Plan)> = events
        .iter()
        .filter_map(|event| Some((event, plan(event, &titles)?)))
        .collect();
    let existing = existing_users(&txn, &plans).await?;
    let mut audiences = Vec::with_capacity(plans.len());
    let mut reached = 0;
    for (i, (event, plan)) in plans.iter().enumerate() {
        let users = recipients(&txn, plan, &existing).await?;
        reached += users.len();
        if reached > state.realtime.settings.batch_rows && i > 0 {
            // The batch ends before this event; the next batch starts with it.
            last_seq = event.seq - 1;
            break;
        }
        audiences.push(users);
    }
    plans.truncate(audiences.len());
    let handled: Vec<&domain_event::Model> =
        events.iter().take_while(|e| e.seq <= last_seq).collect();
    let rooms: Vec<RoomPush> = handled.iter().copied().filter_map(room_push).collect();
    let lost: Vec<Uuid> = handled.iter().copied().filter_map(lost_access).collect();
    let everyone: Vec<Uuid> = audiences
        .iter()
        .flatten()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let prefs = preferences_of(&txn, &everyone).await?;
    let default = Preferences::default();
    let mut next_id = cursor.last_notification_id;
    let mut runs: Vec<Run> = Vec::new();
    let mut made = 0;
    for ((event, plan), users) in plans.iter().zip(audiences) {
        // Class times are written in each recipient's zone: rendered once per zone.
        let mut texts: HashMap<Tz, (String, String)> = HashMap::new();
        for user_id in users {
            let pref = prefs.get(&user_id).unwrap_or(&default);
            if pref.muted.contains(&plan.kind) {
                continue;
            }
            let (title, message) = texts.entry(pref.time_zone).or_insert_with(|| {
                let (title, message) = plan.text.render(pref.time_zone);
                (truncate(title, 255), message)
            });
            next_id += 1;
            made += 1;
            match runs.last_mut() {
                Some(run)
                    if run.first.event_seq == event.seq
                        && run.first.title == *title
                        && run.first.message == *message =>
                {
                    run.users.push(user_id);
                }
                _ => runs.push(Run {
                    first: notification::Model {
                        id: next_id,
                        user_id,
                        kind: plan.kind.as_str().to_owned(),
                        title: title.clone(),
                        message: message.clone(),
                        data: plan.data.clone(),
                        action_url: plan.action_url.clone(),
                        is_read: false,
                        read_at: None,
                        course_id: plan.scope.map(|s| s.0),
                        batch_id: plan.scope.and_then(|s| s.1),
                        event_seq: event.seq,
                        created_at: now,
                        updated_at: now,
                    },
                    users: vec![user_id],
                }),
            }
        }
    }
    let planned = started.elapsed();
    insert_runs(&txn, &runs).await?;
    let inserted = started.elapsed();
    notification_cursor::Entity::update_many()
        .col_expr(notification_cursor::Column::EventSeq, Expr::value(last_seq))
        .col_expr(
            notification_cursor::Column::LastNotificationId,
            Expr::value(next_id),
        )
        .filter(notification_cursor::Column::Name.eq(CURSOR))
        .exec(&txn)
        .await?;
    if made > 0 {
        crate::realtime::fanout::notify_in(
            &txn,
            &json!({"o": state.realtime.instance, "k": "notifications", "to": next_id}),
        )
        .await?;
    }
    txn.commit().await?;
    // Where a broadcast's time goes (ws_bench reads these with RUST_LOG=…=debug).
    tracing::debug!(
        events = handled.len(),
        rows = made,
        plan_ms = planned.as_secs_f64() * 1e3,
        insert_ms = (inserted - planned).as_secs_f64() * 1e3,
        commit_ms = (started.elapsed() - inserted).as_secs_f64() * 1e3,
        "notifications made"
    );
    Ok(Handled {
        last_seq,
        more: handled.len() < events.len() || events.len() as u64 == EVENT_BATCH,
        runs,
        rooms,
        lost_access: lost,
    })
}

fn truncate(mut text: String, max: usize) -> String {
    if text.chars().count() > max {
        text = text.chars().take(max - 1).collect::<String>() + "…";
    }
    text
}

/// Inserts `runs` with one statement each: the run's recipients go as one parameter,
/// so a broadcast to 10k students is one statement whose parameters do not grow with
/// them, and the database makes the rows itself.
async fn insert_runs(txn: &impl ConnectionTrait, runs: &[Run]) -> Result<(), DbErr> {
    const COLUMNS: &str = "user_id, id, \"type\", title, message, data, action_url, is_read, \
                           course_id, batch_id, event_seq, created_at, updated_at";
    const SHARED: &str = "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14";
    let backend = txn.get_database_backend();
    for run in runs {
        let (recipients, sql) = if backend == DatabaseBackend::Postgres {
            (
                sea_orm::Value::from(
                    run.users
                        .iter()
                        .map(Uuid::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                format!(
                    "INSERT INTO notifications ({COLUMNS}) SELECT t.u, $3 + t.i - 1, {SHARED} \
                     FROM unnest(string_to_array($1, ',')::uuid[]) WITH ORDINALITY AS t(u, i) \
                     WHERE t.i <= $2"
                ),
            )
        } else {
            // SQLite keeps a uuid as its 16 bytes: one blob of them all, cut in SQL.
            (
                sea_orm::Value::from(
                    run.users
                        .iter()
                        .flat_map(|u| *u.as_bytes())
                        .collect::<Vec<u8>>(),
                ),
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2) \
                     INSERT INTO notifications ({COLUMNS}) \
                     SELECT substr($1, 16 * i + 1, 16), $3 + i, {SHARED} FROM n"
                )
                .replace('$', "?"),
            )
        };
        let first = &run.first;
        let values: Vec<sea_orm::Value> = vec![
            recipients,
            (run.users.len() as i64).into(),
            first.id.into(),
            first.kind.clone().into(),
            first.title.clone().into(),
            first.message.clone().into(),
            first.data.clone().into(),
            first.action_url.clone().into(),
            first.is_read.into(),
            first.course_id.into(),
            first.batch_id.into(),
            first.event_seq.into(),
            first.created_at.into(),
            first.updated_at.into(),
        ];
        let done = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        if done.rows_affected() != run.users.len() as u64 {
            return Err(DbErr::Custom(format!(
                "inserting {} notifications made {}",
                run.users.len(),
                done.rows_affected()
            )));
        }
    }
    Ok(())
}

/// Handles every event after the cursor; the cursor after them.
async fn drain(state: &AppState) -> Result<i64, DbErr> {
    loop {
        let handled = handle_batch(state).await?;
        state.realtime.notifications_created(handled.runs);
        for push in handled.rooms {
            state
                .realtime
                .room_broadcast(&state.db, &push.room, &push.message)
                .await;
        }
        for user_id in handled.lost_access {
            state
                .realtime
                .course_access_changed(&state.db, user_id)
                .await;
        }
        if !handled.more {
            return Ok(handled.last_seq);
        }
    }
}

/// The consumer task: drains at start, then on every event it has not handled yet, on
/// a lag, and every poll interval. A failed batch is retried (nothing was written).
pub async fn run_consumer(state: AppState) {
    let mut events = state.events.subscribe();
    let mut tick = tokio::time::interval(state.realtime.settings.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cursor = i64::MIN;
    let mut due = true;
    loop {
        if due {
            match drain(&state).await {
                Ok(c) => cursor = c,
                Err(err) => {
                    tracing::warn!(error = %err, "making notifications failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            }
        }
        due = tokio::select! {
            received = events.recv() => match received {
                // Already handled by an earlier drain: de-duplicated by seq.
                Ok(event) => event.seq > cursor,
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "notification consumer lagged; reading the table");
                    true
                }
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => true,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn prefs(start: &str, end: &str, tz: &str) -> Preferences {
        Preferences {
            muted: HashSet::new(),
            quiet: parse_time_of_day(start).zip(parse_time_of_day(end)),
            time_zone: tz.parse().unwrap(),
        }
    }

    #[test]
    fn quiet_hours_span_midnight_in_the_users_time_zone() {
        let p = prefs("22:00", "07:00", "Asia/Kolkata");
        // 17:00 UTC is 22:30 in Kolkata.
        assert!(p.is_quiet(Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap()));
        // 02:00 UTC is 07:30 in Kolkata.
        assert!(!p.is_quiet(Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap()));
        // 00:00 UTC is 05:30 in Kolkata.
        assert!(p.is_quiet(Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap()));
        let day = prefs("09:00", "17:00", "UTC");
        assert!(day.is_quiet(Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap()));
        assert!(!day.is_quiet(Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap()));
    }

    #[test]
    fn times_of_day_are_two_digit_hours_and_minutes() {
        assert_eq!(
            parse_time_of_day("07:30"),
            NaiveTime::from_hms_opt(7, 30, 0)
        );
        for bad in ["7:30", "24:00", "12:60", "noon", "12:3"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn class_times_are_written_in_the_recipients_zone() {
        let text = Text::Class {
            what: ClassChange::Rescheduled,
            title: "Algebra".into(),
            at: Utc.with_ymd_and_hms(2026, 12, 5, 4, 30, 0).unwrap(),
            previous: Some(Utc.with_ymd_and_hms(2026, 12, 4, 4, 30, 0).unwrap()),
            minutes: 45,
        };
        let (title, message) = text.render("Asia/Kolkata".parse().unwrap());
        assert_eq!(title, "Class rescheduled: Algebra");
        assert_eq!(
            message,
            "Algebra moved from Fri 4 Dec 2026, 10:00 IST to Sat 5 Dec 2026, 10:00 IST (45 min)."
        );
    }
}
