//! What a domain event means to people: which notification it makes, for whom, and in
//! what words (rendered in each recipient's time zone).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::{NotificationType, ServerMessage};
use crate::store::entity::{course, domain_event};

/// Who a notification goes to.
pub(super) enum Audience {
    User(Uuid),
    /// The course's enrolled students, or one batch's members.
    Course {
        course_id: Uuid,
        batch_id: Option<Uuid>,
    },
}

/// The text of a notification; class times are written in each recipient's zone.
pub(super) enum Text {
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
pub(super) enum ClassChange {
    Scheduled,
    Rescheduled,
    Cancelled,
    StartingSoon,
    Started,
}

pub(super) fn when(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

impl Text {
    pub(super) fn render(&self, tz: Tz) -> (String, String) {
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
pub(super) struct Plan {
    pub(super) kind: NotificationType,
    pub(super) audience: Audience,
    /// Set for news about a course's content: only its members see it, now and later.
    pub(super) scope: Option<(Uuid, Option<Uuid>)>,
    /// Not sent to this user (the one who did it).
    pub(super) exclude: Option<Uuid>,
    pub(super) text: Text,
    pub(super) data: Value,
    pub(super) action_url: Option<String>,
}

pub(super) fn uuid_at(payload: &Value, key: &str) -> Option<Uuid> {
    payload.get(key)?.as_str()?.parse().ok()
}

pub(super) fn str_at<'a>(payload: &'a Value, key: &str) -> Option<&'a str> {
    payload.get(key)?.as_str()
}

pub(super) fn time_at(payload: &Value, key: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(str_at(payload, key)?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The kinds of event whose notification names the course by its current title.
pub(super) const TITLED_BY_COURSE: [&str; 3] = [
    "course.enrolled",
    "enrollment.cancelled",
    "enrollment.completed",
];

/// The titles of the courses the batch's enrollment events name, in one query.
pub(super) async fn course_titles(
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
pub(super) fn room_push(event: &domain_event::Model) -> Option<RoomPush> {
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
pub(super) fn plan(event: &domain_event::Model, titles: &HashMap<Uuid, String>) -> Option<Plan> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
