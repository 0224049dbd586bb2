//! Notifications: made from domain events by one consumer, exactly once, for the right
//! recipients; what a user may see of them; and their preferences.
//!
//! - [`plan`]: which notification an event makes, for whom, in what words.
//! - [`consumer`]: the loop that turns events into rows, exactly once.
//! - [`delivery`]: the rows handed to this instance's WebSocket hub, in id order.
//! - [`inbox`]: what a user does with their own: list, mark read, preferences, replay.

/// Keys per `IN (…)` list.
const IN_CHUNK: usize = 1_000;

pub mod consumer;
pub mod delivery;
pub mod inbox;
mod plan;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Select,
};
use uuid::Uuid;

use crate::api::{self, EnrollmentStatus, NotificationType, Role};
use crate::store::entity::{course_staff, enrollment, notification, notification_preference, user};

/// The wire form of a stored notification.
pub fn to_wire(row: &notification::Model) -> api::Notification {
    api::Notification {
        id: row.id,
        kind: row.kind,
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
        if user.role == Role::Admin {
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
        let muted = row.muted_types.iter().copied().collect();
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
}
