//! Live classes: who may see a class, listing and reading them, the scheduling lock and
//! clash check, events, and the wire form — what the parts below and the hub's
//! `live_class` rooms share.
//!
//! - [`scheduling`]: the scheduling transaction (create, change, cancel; series).
//! - [`lifecycle`]: the host starts and ends a class.
//! - [`attendance`]: joining, leaving and the attendance report.
//! - [`calendar`]: the feed token and the iCalendar feed ([`ics`] writes it).
//! - [`recurrence`]: weekly rules; [`reminders`]: the reminder scheduler.
//!
//! **Scheduling is race-free.** Every transaction that places a class in time (create,
//! reschedule, change of host) first takes the course's lock ([`catalogue::lock_course`],
//! an UPDATE of its row) and then, on PostgreSQL, the host users' rows
//! (`SELECT … FOR UPDATE`, in id order), and only then checks for clashes and writes.
//! Two concurrent creates for one host or one batch therefore queue, and the second sees
//! the first's row; SQLite serialises writers anyway and the first statement is a write.

pub mod attendance;
pub mod calendar;
pub mod ics;
pub mod lifecycle;
pub mod recurrence;
pub mod reminders;
pub mod scheduling;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::api::{
    self, EnrollmentStatus, LiveClassCourse, LiveClassFilter, LiveClassList, LiveClassStatus,
    LivePlatform, PageQuery, Pagination, Role,
};
use crate::domain::Fields;
use crate::domain::events::LiveClassChange;
use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::realtime::rooms::{Check, RoomAccess, live_class_room};
use crate::service::auth::AuthUser;
use crate::service::catalogue;
use crate::store::entity::{course_staff, enrollment, live_class, user};

/// Minutes before its start a class opens for joining.
pub const JOIN_EARLY_MINUTES: i64 = 15;

/// The one 404 for a class that does not exist or that the caller may not see.
pub fn not_found() -> ApiError {
    ApiError::NotFound("Live class not found".into())
}

/// The class's stored status (SCHEDULED for an unreadable one).
pub fn status_of(c: &live_class::Model) -> LiveClassStatus {
    c.status
}

/// The class's stored platform (BUILTIN for an unreadable one).
pub fn platform_of(c: &live_class::Model) -> LivePlatform {
    c.platform
}

/// What one user may see of live classes: the courses they staff, the courses (and
/// batches) they are enrolled in, the classes they host; admins everything.
#[derive(Debug, Clone)]
pub struct Audience {
    pub user_id: Uuid,
    pub admin: bool,
    pub staff: HashSet<Uuid>,
    pub enrolled: HashSet<Uuid>,
    /// The batch of each enrolled course, when seated in one.
    pub batches: HashMap<Uuid, Uuid>,
}

impl Audience {
    /// For a user by id; `admin` sees everything.
    pub async fn of(db: &impl ConnectionTrait, user_id: Uuid, admin: bool) -> Result<Self, DbErr> {
        let staff = course_staff::Entity::find()
            .select_only()
            .column(course_staff::Column::CourseId)
            .filter(course_staff::Column::UserId.eq(user_id))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let now = Utc::now();
        let enrollments: Vec<enrollment::Model> = enrollment::Entity::find()
            .filter(enrollment::Column::StudentId.eq(user_id))
            .filter(enrollment::Column::Status.is_in([
                EnrollmentStatus::Active.as_str(),
                EnrollmentStatus::Completed.as_str(),
            ]))
            .all(db)
            .await?
            .into_iter()
            .filter(|e| e.expires_at.is_none_or(|at| at > now))
            .collect();
        Ok(Self {
            user_id,
            admin,
            staff,
            enrolled: enrollments.iter().map(|e| e.course_id).collect(),
            batches: enrollments
                .iter()
                .filter_map(|e| Some((e.course_id, e.batch_id?)))
                .collect(),
        })
    }

    /// For a user row (the hub's checks): admins by role.
    pub async fn of_user(db: &impl ConnectionTrait, user: &user::Model) -> Result<Self, DbErr> {
        Self::of(db, user.id, user.role == Role::Admin).await
    }

    /// Staff of the class's course, its host, or an admin.
    pub fn manages(&self, c: &live_class::Model) -> bool {
        self.admin || c.host_id == self.user_id || self.staff.contains(&c.course_id)
    }

    /// Enrolled in the class's course (and in its batch, for a batch's class).
    pub fn attends(&self, c: &live_class::Model) -> bool {
        self.enrolled.contains(&c.course_id)
            && c.batch_id
                .is_none_or(|b| self.batches.get(&c.course_id) == Some(&b))
    }

    /// Manages or attends the class: may see it.
    pub fn sees(&self, c: &live_class::Model) -> bool {
        self.manages(c) || self.attends(c)
    }

    /// The rows of `live_classes` this user may see.
    pub fn condition(&self) -> Condition {
        if self.admin {
            return Condition::all();
        }
        let mut enrolled = Condition::any();
        for course_id in &self.enrolled {
            let mut batch = Condition::any().add(live_class::Column::BatchId.is_null());
            if let Some(b) = self.batches.get(course_id) {
                batch = batch.add(live_class::Column::BatchId.eq(*b));
            }
            enrolled = enrolled.add(
                Condition::all()
                    .add(live_class::Column::CourseId.eq(*course_id))
                    .add(batch),
            );
        }
        Condition::any()
            .add(live_class::Column::HostId.eq(self.user_id))
            .add(live_class::Column::CourseId.is_in(self.staff.iter().copied().collect::<Vec<_>>()))
            .add(enrolled)
    }
}

/// A class by id, or 404.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<live_class::Model, ApiError> {
    live_class::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// Takes the scheduling lock for `course_id` and `hosts` (see the module docs). Call it
/// first in the transaction. 404 if the course is gone.
pub async fn lock_schedule(
    txn: &impl ConnectionTrait,
    course_id: Uuid,
    hosts: &[Uuid],
) -> Result<(), ApiError> {
    catalogue::lock_course(txn, course_id).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        let mut hosts = hosts.to_vec();
        hosts.sort();
        hosts.dedup();
        user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Id.is_in(hosts))
            .order_by_asc(user::Column::Id)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .all(txn)
            .await?;
    }
    Ok(())
}

/// Takes one class's row lock (a no-op write, first): joins queue on it, so a
/// capacity holds however many join at once.
pub async fn lock_class(
    txn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<live_class::Model, ApiError> {
    let touched = live_class::Entity::update_many()
        .col_expr(
            live_class::Column::Sequence,
            sea_orm::sea_query::Expr::col(live_class::Column::Sequence),
        )
        .filter(live_class::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if touched.rows_affected == 0 {
        return Err(not_found());
    }
    find(txn, id).await
}

/// Where and for whom a class would sit in time.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub host_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Slot {
    /// Whether the two share any moment (end times are exclusive).
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Why two overlapping slots clash, if they do: the same host, or students who
    /// would be in both (the same course, with the same batch or one course-wide).
    pub fn clash_reason(&self, other: &Slot) -> Option<&'static str> {
        if !self.overlaps(other) {
            return None;
        }
        if self.host_id == other.host_id {
            return Some("the same host");
        }
        if self.course_id == other.course_id {
            return match (self.batch_id, other.batch_id) {
                (Some(a), Some(b)) if a == b => Some("the same batch"),
                (Some(_), Some(_)) => None,
                _ => Some("the same students (a course-wide class)"),
            };
        }
        None
    }
}

impl From<&live_class::Model> for Slot {
    fn from(c: &live_class::Model) -> Self {
        Self {
            course_id: c.course_id,
            batch_id: c.batch_id,
            host_id: c.host_id,
            start: c.scheduled_at,
            end: c.ends_at,
        }
    }
}

/// 409 naming the class `slot` clashes with.
pub fn clash_error(slot: &Slot, with: &live_class::Model, reason: &str) -> ApiError {
    ApiError::Conflict {
        field: Some("scheduledAt".into()),
        message: format!(
            "{} – {} clashes with \"{}\" (id {}, {} – {}): {reason}",
            slot.start
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            slot.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            with.title,
            with.id,
            with.scheduled_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            with.ends_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    }
}

/// The first scheduled or live class (other than `exclude`) that `slot` clashes with.
/// Run it under [`lock_schedule`].
pub async fn check_clash(
    txn: &impl ConnectionTrait,
    slot: &Slot,
    exclude: &[Uuid],
) -> Result<(), ApiError> {
    let candidates = live_class::Entity::find()
        .filter(live_class::Column::Status.is_in([
            LiveClassStatus::Scheduled.as_str(),
            LiveClassStatus::Live.as_str(),
        ]))
        .filter(live_class::Column::ScheduledAt.lt(slot.end))
        .filter(live_class::Column::EndsAt.gt(slot.start))
        .filter(
            Condition::any()
                .add(live_class::Column::HostId.eq(slot.host_id))
                .add(live_class::Column::CourseId.eq(slot.course_id)),
        )
        .order_by_asc(live_class::Column::ScheduledAt)
        .all(txn)
        .await?;
    for other in candidates.iter().filter(|c| !exclude.contains(&c.id)) {
        if let Some(reason) = slot.clash_reason(&Slot::from(other)) {
            return Err(clash_error(slot, other, reason));
        }
    }
    Ok(())
}

/// What a live-class event says about the class `c` as it is now, done by `actor`
/// (none for the reminder loop); the caller adds what the change covered.
pub fn change(c: &live_class::Model, actor: Option<Uuid>) -> LiveClassChange {
    LiveClassChange {
        live_class_id: c.id,
        course_id: c.course_id,
        batch_id: c.batch_id,
        title: c.title.clone(),
        scheduled_at: c.scheduled_at,
        duration: c.duration_minutes,
        actor_id: actor,
        series_id: c.series_id,
        occurrences: None,
        previous_scheduled_at: None,
        reminder_minutes: None,
    }
}

/// Classes in their wire form, with courses and hosts loaded in two queries. Meeting
/// passwords only for those who manage the class.
pub async fn to_wire_many(
    db: &impl ConnectionTrait,
    rows: &[live_class::Model],
    viewer: &Audience,
) -> Result<Vec<api::LiveClass>, ApiError> {
    let course_ids: Vec<Uuid> = rows.iter().map(|c| c.course_id).collect();
    let courses = crate::service::catalogue::course_titles(db, course_ids).await?;
    let hosts =
        crate::service::enrollments::users_by_id(db, rows.iter().map(|c| c.host_id)).await?;
    Ok(rows
        .iter()
        .map(|c| {
            let host = hosts
                .get(&c.host_id)
                .map(catalogue::person)
                .unwrap_or(api::PersonRef {
                    id: c.host_id,
                    first_name: String::new(),
                    last_name: String::new(),
                });
            to_wire(
                c,
                courses.get(&c.course_id).cloned().unwrap_or_default(),
                host,
                viewer.manages(c),
            )
        })
        .collect())
}

/// One class in its wire form.
pub fn to_wire(
    c: &live_class::Model,
    course_title: String,
    host: api::PersonRef,
    show_password: bool,
) -> api::LiveClass {
    let platform = platform_of(c);
    api::LiveClass {
        id: c.id,
        course_id: c.course_id,
        course: LiveClassCourse {
            id: c.course_id,
            title: course_title,
        },
        batch_id: c.batch_id,
        series_id: c.series_id,
        host,
        title: c.title.clone(),
        description: c.description.clone(),
        scheduled_at: c.scheduled_at,
        ends_at: c.ends_at,
        duration: c.duration_minutes,
        capacity: c.capacity,
        platform,
        meeting_link: c.meeting_url.clone(),
        meeting_id: c.meeting_id.clone(),
        meeting_password: c.meeting_password.clone().filter(|_| show_password),
        room: (platform == LivePlatform::Builtin).then(|| live_class_room(c.id)),
        status: status_of(c),
        started_at: c.started_at,
        ended_at: c.ended_at,
        cancelled_at: c.cancelled_at,
        reminder_minutes: c.reminder_minutes,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// The answer of a change that may have been made already (a retry, a second click):
/// the handler tells the two apart in its message.
#[derive(Debug, Clone)]
pub enum Outcome<T> {
    /// Changed now.
    Done(T),
    /// It was so already; nothing changed.
    Already(T),
}

/// What the caller may see of live classes.
pub async fn audience(db: &impl ConnectionTrait, auth: &AuthUser) -> Result<Audience, ApiError> {
    Ok(Audience::of(db, auth.id(), auth.is_admin()).await?)
}

/// The class if the caller may see it (404 otherwise, so existence doesn't leak).
pub async fn visible(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> Result<(live_class::Model, Audience), ApiError> {
    let class = find(&state.db, id).await?;
    let audience = audience(&state.db, auth).await?;
    if !audience.sees(&class) {
        return Err(not_found());
    }
    Ok((class, audience))
}

/// 403 with `message` unless `allowed`.
pub fn forbidden_unless(allowed: bool, message: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(message.to_owned()))
    }
}

/// One class in its wire form, for `audience`.
pub async fn wire_one(
    db: &impl ConnectionTrait,
    class: &live_class::Model,
    audience: &Audience,
) -> Result<api::LiveClass, ApiError> {
    let mut list = to_wire_many(db, std::slice::from_ref(class), audience).await?;
    list.pop()
        .ok_or_else(|| anyhow::anyhow!("class vanished while serialising").into())
}

/// The live classes `auth` may see, earliest first: students the classes of their
/// courses (and batches), staff those of the courses they teach, admins all.
pub async fn list(
    state: &AppState,
    auth: &AuthUser,
    filter: LiveClassFilter,
) -> Result<LiveClassList, ApiError> {
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
    let audience = audience(&state.db, auth).await?;
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
    Ok(LiveClassList {
        classes: to_wire_many(&state.db, &rows, &audience).await?,
        pagination: Pagination::new(page, total),
    })
}

/// One class, for those who may see it (404 for anyone else).
pub async fn get(state: &AppState, auth: &AuthUser, id: Uuid) -> Result<api::LiveClass, ApiError> {
    let (class, audience) = visible(state, auth, id).await?;
    wire_one(&state.db, &class, &audience).await
}

/// The hub's check for `live_class:<id>` rooms: the course's staff, the host, admins
/// and its enrolled students (the batch's, for a batch's class) may enter and chat.
pub fn room_access<'a>(state: &'a AppState, user: &'a user::Model, id: Uuid) -> Check<'a> {
    Box::pin(async move {
        let Some(class) = live_class::Entity::find_by_id(id).one(&state.db).await? else {
            return Ok(None);
        };
        let audience = Audience::of_user(&state.db, user).await?;
        Ok(audience
            .sees(&class)
            .then_some(RoomAccess { can_chat: true }))
    })
}
