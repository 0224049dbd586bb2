//! What a domain event means to people: which notification it makes, for whom, and in
//! what words (rendered in each recipient's time zone).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::{ImportMode, NotificationType, ServerMessage};
use crate::domain::events::{DomainEvent, LiveClassChange};
use crate::store::entity::{course, domain_event, user};

/// Who a notification goes to.
pub(super) enum Audience {
    User(Uuid),
    /// The course's enrolled students, or one batch's members.
    Course {
        course_id: Uuid,
        batch_id: Option<Uuid>,
    },
    /// The course's staff: owner, co-teachers and TAs.
    Staff(Uuid),
    /// Every active admin.
    Admins,
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

/// The kinds of event whose notification names the course by its current title.
fn titled_by_course(event: &DomainEvent) -> Option<Uuid> {
    match event {
        DomainEvent::CourseEnrolled(e)
        | DomainEvent::EnrollmentCancelled(e)
        | DomainEvent::EnrollmentCompleted(e) => Some(e.course_id),
        DomainEvent::DoubtAsked(e) | DomainEvent::DoubtAnswered(e) => Some(e.course_id),
        DomainEvent::AttemptSubmitted(e) => Some(e.course_id),
        _ => None,
    }
}

/// The person an event's notification names (the student who enrolled, asked,
/// answered, submitted or reviewed).
fn names_person(event: &DomainEvent) -> Option<Uuid> {
    match event {
        DomainEvent::CourseEnrolled(e) if e.actor_id == e.student_id => Some(e.student_id),
        DomainEvent::DoubtAsked(e) | DomainEvent::DoubtAnswered(e) => Some(e.actor_id),
        DomainEvent::DoubtAccepted(e) => Some(e.actor_id),
        DomainEvent::AttemptSubmitted(e) => Some(e.student_id),
        DomainEvent::CourseReviewed(e) => Some(e.actor_id),
        DomainEvent::PaymentSucceeded(e) => Some(e.student_id),
        _ => None,
    }
}

/// What a batch's notifications name, read a query per kind of thing: the courses'
/// current titles and the people's names.
#[derive(Default)]
pub(super) struct Names {
    pub(super) courses: HashMap<Uuid, String>,
    pub(super) people: HashMap<Uuid, String>,
}

impl Names {
    fn course(&self, id: Uuid) -> Option<&str> {
        self.courses.get(&id).map(String::as_str)
    }

    fn person(&self, id: Uuid) -> &str {
        self.people.get(&id).map_or("Someone", String::as_str)
    }
}

/// The titles of the courses and the names of the people the batch's events name.
pub(super) async fn names(
    db: &impl ConnectionTrait,
    events: &[Decoded<'_>],
) -> Result<Names, DbErr> {
    let mut names = Names::default();
    let ids: HashSet<Uuid> = events
        .iter()
        .filter_map(|e| titled_by_course(&e.event))
        .collect();
    if !ids.is_empty() {
        let rows: Vec<(Uuid, String)> = course::Entity::find()
            .select_only()
            .column(course::Column::Id)
            .column(course::Column::Title)
            .filter(course::Column::Id.is_in(ids))
            .into_tuple()
            .all(db)
            .await?;
        names.courses = rows.into_iter().collect();
    }
    let ids: HashSet<Uuid> = events
        .iter()
        .filter_map(|e| names_person(&e.event))
        .collect();
    if !ids.is_empty() {
        let rows: Vec<(Uuid, String, String)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::FirstName)
            .column(user::Column::LastName)
            .filter(user::Column::Id.is_in(ids))
            .into_tuple()
            .all(db)
            .await?;
        names.people = rows
            .into_iter()
            .map(|(id, first, last)| (id, format!("{first} {last}")))
            .collect();
    }
    Ok(names)
}

/// A stored event with its typed form.
pub(super) struct Decoded<'a> {
    pub(super) row: &'a domain_event::Model,
    pub(super) event: DomainEvent,
}

/// The events of `rows` that decode. One that does not is logged with its `seq` and
/// skipped: it makes no notification, and the events after it still do.
pub(super) fn decode(rows: &[domain_event::Model]) -> Vec<Decoded<'_>> {
    rows.iter()
        .filter_map(
            |row| match DomainEvent::from_stored(&row.kind, &row.payload) {
                Ok(event) => Some(Decoded { row, event }),
                Err(error) => {
                    tracing::error!(seq = row.seq, %error, "a stored domain event does not decode; no notification made");
                    None
                }
            },
        )
        .collect()
}

/// A room message (class started, ended, cancelled) to push with the event.
pub struct RoomPush {
    pub room: String,
    pub message: ServerMessage,
}

/// The room events an event causes: a live class's state changes go to its room.
pub(super) fn room_push(decoded: &Decoded<'_>) -> Option<RoomPush> {
    let (what, class) = match &decoded.event {
        DomainEvent::LiveClassStarted(c) => ("started", c),
        DomainEvent::LiveClassEnded(c) => ("ended", c),
        DomainEvent::LiveClassCancelled(c) => ("cancelled", c),
        _ => return None,
    };
    let room = crate::realtime::rooms::live_class_room(class.live_class_id);
    Some(RoomPush {
        message: ServerMessage::RoomEvent {
            room: room.clone(),
            event: what.to_owned(),
            data: decoded.row.payload.clone(),
        },
        room,
    })
}

/// The user an event takes a course away from, if any.
pub(super) fn lost_access(decoded: &Decoded<'_>) -> Option<Uuid> {
    match &decoded.event {
        DomainEvent::EnrollmentCancelled(e) => Some(e.student_id),
        _ => None,
    }
}

/// `INR 499.00`: minor units with two decimals (every currency the catalogue sells).
pub(super) fn money_text(minor_units: i64, currency: &str) -> String {
    format!("{currency} {}.{:02}", minor_units / 100, minor_units % 100)
}

/// A notification to one person with a fixed text, carrying the event's payload.
fn to_user(
    kind: NotificationType,
    user: Uuid,
    title: String,
    message: String,
    data: &Value,
    action_url: String,
) -> Plan {
    Plan {
        kind,
        audience: Audience::User(user),
        scope: None,
        exclude: None,
        text: Text::Fixed { title, message },
        data: data.clone(),
        action_url: Some(action_url),
    }
}

/// A notification to a course's members (or one batch's), scoped to them and not sent
/// to the one who caused it.
fn to_course(
    kind: NotificationType,
    (course_id, batch_id): (Uuid, Option<Uuid>),
    exclude: Option<Uuid>,
    text: Text,
    data: Value,
    action_url: String,
) -> Plan {
    Plan {
        kind,
        audience: Audience::Course {
            course_id,
            batch_id,
        },
        scope: Some((course_id, batch_id)),
        exclude,
        text,
        data,
        action_url: Some(action_url),
    }
}

/// The notifications an event makes, given the names the batch's events need
/// ([`names`]): the one to the people it is about, and the one to the course's staff.
pub(super) fn plans(decoded: &Decoded<'_>, names: &Names) -> Vec<Plan> {
    let mut plans: Vec<Plan> = plan(decoded, names).into_iter().collect();
    plans.extend(for_staff(decoded, names));
    plans
}

/// What notification (if any) an event makes for the people it is about. The match is
/// exhaustive: a new event must say here whether it notifies anyone.
fn plan(decoded: &Decoded<'_>, names: &Names) -> Option<Plan> {
    let p = &decoded.row.payload;
    let plan = match &decoded.event {
        DomainEvent::CourseEnrolled(e) => {
            let title = names.course(e.course_id)?;
            let message = if e.actor_id == e.student_id {
                format!("You enrolled in {title}.")
            } else {
                format!("You were enrolled in {title}.")
            };
            to_user(
                NotificationType::Enrolled,
                e.student_id,
                format!("Enrolled in {title}"),
                message,
                p,
                format!("/courses/{}", e.course_id),
            )
        }
        DomainEvent::EnrollmentCancelled(e) => {
            if e.actor_id == e.student_id {
                return None;
            }
            let title = names.course(e.course_id)?;
            to_user(
                NotificationType::EnrollmentCancelled,
                e.student_id,
                format!("Removed from {title}"),
                format!("You were removed from {title}. Your progress is kept if you return."),
                p,
                format!("/courses/{}", e.course_id),
            )
        }
        DomainEvent::EnrollmentCompleted(e) => {
            let title = names.course(e.course_id)?;
            to_user(
                NotificationType::CourseCompleted,
                e.student_id,
                format!("Course completed: {title}"),
                format!("Congratulations: you completed every lesson of {title}."),
                p,
                format!("/courses/{}", e.course_id),
            )
        }
        DomainEvent::CoursePublished(e) | DomainEvent::CourseArchived(e) => {
            let title = &e.title;
            let (kind, heading, message) =
                if matches!(decoded.event, DomainEvent::CoursePublished(_)) {
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
            to_course(
                kind,
                (e.course_id, None),
                Some(e.actor_id),
                Text::Fixed {
                    title: heading,
                    message,
                },
                p.clone(),
                format!("/courses/{}", e.course_id),
            )
        }
        DomainEvent::CourseAnnouncement(e) => to_course(
            NotificationType::Announcement,
            (e.course_id, e.batch_id),
            Some(e.actor_id),
            Text::Fixed {
                title: e.title.clone(),
                message: e.message.clone(),
            },
            json!({
                "announcementId": e.announcement_id,
                "courseId": e.course_id,
                "batchId": e.batch_id,
                "actorId": e.actor_id,
            }),
            format!("/courses/{}", e.course_id),
        ),
        DomainEvent::LiveClassScheduled(c) => class_plan(c, ClassChange::Scheduled, p),
        DomainEvent::LiveClassRescheduled(c) => class_plan(c, ClassChange::Rescheduled, p),
        DomainEvent::LiveClassCancelled(c) => class_plan(c, ClassChange::Cancelled, p),
        DomainEvent::LiveClassStartingSoon(c) => class_plan(c, ClassChange::StartingSoon, p),
        DomainEvent::LiveClassStarted(c) => class_plan(c, ClassChange::Started, p),
        // Those in the class see it end in its room; nobody needs a notification.
        DomainEvent::LiveClassEnded(_) => return None,
        DomainEvent::TestPublished(e) => to_course(
            NotificationType::TestPublished,
            (e.course_id, e.batch_id),
            Some(e.actor_id),
            Text::Fixed {
                title: format!("New test: {}", e.title),
                message: format!("{} is published; you can take it now.", e.title),
            },
            p.clone(),
            format!("/tests/{}", e.test_id),
        ),
        DomainEvent::AttemptGraded(e) => to_user(
            NotificationType::TestGraded,
            e.student_id,
            format!("Graded: {}", e.title),
            format!(
                "Your attempt at {} has been graded; see your result.",
                e.title
            ),
            p,
            format!("/tests/{}", e.test_id),
        ),
        DomainEvent::AchievementUnlocked(e) => to_user(
            NotificationType::AchievementUnlocked,
            e.user_id,
            format!("Badge unlocked: {}", e.title),
            format!("{}.", e.description),
            p,
            "/users/me".to_owned(),
        ),
        DomainEvent::LevelReached(e) => to_user(
            NotificationType::LevelUp,
            e.user_id,
            format!("Level {}", e.level),
            format!("You reached level {} with {} XP.", e.level, e.total_xp),
            p,
            "/users/me".to_owned(),
        ),
        DomainEvent::PaymentSucceeded(e) => to_user(
            NotificationType::PaymentReceived,
            e.student_id,
            format!("Payment received: {}", e.title),
            format!(
                "We received {} for {}; the course is yours.",
                money_text(e.amount, &e.currency),
                e.title
            ),
            p,
            format!("/payments/{}", e.payment_id),
        ),
        DomainEvent::PaymentRefunded(e) => to_user(
            NotificationType::PaymentRefunded,
            e.student_id,
            format!("Refund: {}", e.title),
            if e.full {
                format!(
                    "{} was refunded for {}; your enrollment is cancelled.",
                    money_text(e.amount, &e.currency),
                    e.title
                )
            } else {
                format!(
                    "{} of your payment for {} was refunded.",
                    money_text(e.amount, &e.currency),
                    e.title
                )
            },
            p,
            format!("/payments/{}", e.payment_id),
        ),
        DomainEvent::WebhookDisabled(e) => Plan {
            kind: NotificationType::WebhookDisabled,
            audience: Audience::Admins,
            scope: None,
            exclude: None,
            text: Text::Fixed {
                title: "Webhook disabled".to_owned(),
                message: format!(
                    "Deliveries to {} stopped after {} failed attempts ({}). Fix the receiver, then enable it again.",
                    e.url, e.consecutive_failures, e.reason
                ),
            },
            data: p.clone(),
            action_url: Some(format!("/webhooks/{}", e.webhook_id)),
        },
        // Staff hear of these ([`for_staff`]); the student did it.
        DomainEvent::AttemptSubmitted(_)
        | DomainEvent::CourseReviewed(_)
        | DomainEvent::DoubtAsked(_) => return None,
        DomainEvent::DoubtAnswered(e) => {
            if e.actor_id == e.asker_id {
                return None;
            }
            let course = names.course(e.course_id).unwrap_or("your course");
            to_user(
                NotificationType::DoubtAnswered,
                e.asker_id,
                format!("New answer: {}", e.title),
                format!(
                    "{} answered your doubt in {course}.",
                    names.person(e.actor_id)
                ),
                p,
                format!("/doubts/{}", e.doubt_id),
            )
        }
        DomainEvent::DoubtAccepted(e) => {
            let answerer = e.answerer_id?;
            if answerer == e.actor_id {
                return None;
            }
            to_user(
                NotificationType::AnswerAccepted,
                answerer,
                format!("Answer accepted: {}", e.title),
                format!(
                    "{} accepted your answer to \"{}\".",
                    names.person(e.actor_id),
                    e.title
                ),
                p,
                format!("/doubts/{}", e.doubt_id),
            )
        }
        DomainEvent::ImportFinished(e) => {
            let verb = match e.mode {
                ImportMode::Plan => "Import plan",
                ImportMode::Apply => "Import",
            };
            let c = e.counts;
            to_user(
                NotificationType::ImportFinished,
                e.actor_id,
                format!("{verb} of {} finished", e.kind),
                format!(
                    "{} created, {} updated, {} unchanged, {} failed, {} skipped.",
                    c.created, c.updated, c.unchanged, c.failed, c.skipped
                ),
                p,
                format!("/imports/{}", e.import_id),
            )
        }
    };
    Some(plan)
}

/// The notification an event makes for the course's staff, if any: a student who
/// enrolled themselves (not an admin's or an import's enrollments), a doubt asked, an
/// attempt that waits for marks, a class of theirs about to start, a review.
fn for_staff(decoded: &Decoded<'_>, names: &Names) -> Option<Plan> {
    let p = &decoded.row.payload;
    let staff = |kind, course_id, exclude, text, action_url: String| Plan {
        kind,
        audience: Audience::Staff(course_id),
        scope: None,
        exclude,
        text,
        data: p.clone(),
        action_url: Some(action_url),
    };
    let fixed = |title: String, message: String| Text::Fixed { title, message };
    Some(match &decoded.event {
        DomainEvent::PaymentSucceeded(e) if e.owner_id != e.student_id => to_user(
            NotificationType::CourseSold,
            e.owner_id,
            format!("Sold: {}", e.title),
            format!(
                "{} bought {} for {}.",
                names.person(e.student_id),
                e.title,
                money_text(e.amount, &e.currency)
            ),
            p,
            format!("/payments/{}", e.payment_id),
        ),
        DomainEvent::CourseEnrolled(e) if e.actor_id == e.student_id => {
            let course = names.course(e.course_id)?;
            staff(
                NotificationType::StudentEnrolled,
                e.course_id,
                Some(e.student_id),
                fixed(
                    format!("New student in {course}"),
                    format!("{} enrolled in {course}.", names.person(e.student_id)),
                ),
                format!("/courses/{}", e.course_id),
            )
        }
        DomainEvent::DoubtAsked(e) => {
            let course = names.course(e.course_id).unwrap_or("your course");
            staff(
                NotificationType::DoubtAsked,
                e.course_id,
                Some(e.actor_id),
                fixed(
                    format!("New doubt: {}", e.title),
                    format!("{} asked in {course}.", names.person(e.actor_id)),
                ),
                format!("/doubts/{}", e.doubt_id),
            )
        }
        DomainEvent::AttemptSubmitted(e) if e.ungraded > 0 => {
            let answers = if e.ungraded == 1 {
                "answer waits"
            } else {
                "answers wait"
            };
            staff(
                NotificationType::AttemptSubmitted,
                e.course_id,
                Some(e.student_id),
                fixed(
                    format!("To grade: {}", e.title),
                    format!(
                        "{} submitted {}; {} {answers} for your marks.",
                        names.person(e.student_id),
                        e.title,
                        e.ungraded
                    ),
                ),
                format!("/tests/{}", e.test_id),
            )
        }
        DomainEvent::LiveClassStartingSoon(c) => staff(
            NotificationType::ClassStartingSoon,
            c.course_id,
            None,
            Text::Class {
                what: ClassChange::StartingSoon,
                title: c.title.clone(),
                at: c.scheduled_at,
                previous: None,
                minutes: i64::from(c.duration),
            },
            format!("/live-classes/{}", c.live_class_id),
        ),
        DomainEvent::CourseReviewed(e) => staff(
            NotificationType::CourseReviewed,
            e.course_id,
            Some(e.actor_id),
            fixed(
                format!("New review of {}", e.title),
                format!(
                    "{} rated {} {}/5.",
                    names.person(e.actor_id),
                    e.title,
                    e.rating
                ),
            ),
            format!("/courses/{}", e.course_id),
        ),
        _ => return None,
    })
}

/// A live-class notification to the class's course or batch, its time in each
/// recipient's zone.
fn class_plan(c: &LiveClassChange, what: ClassChange, payload: &Value) -> Plan {
    let kind = match what {
        ClassChange::Scheduled => NotificationType::ClassScheduled,
        ClassChange::Rescheduled => NotificationType::ClassRescheduled,
        ClassChange::Cancelled => NotificationType::ClassCancelled,
        ClassChange::StartingSoon => NotificationType::ClassStartingSoon,
        ClassChange::Started => NotificationType::ClassStarted,
    };
    to_course(
        kind,
        (c.course_id, c.batch_id),
        c.actor_id,
        Text::Class {
            what,
            title: c.title.clone(),
            at: c.scheduled_at,
            previous: c.previous_scheduled_at,
            minutes: i64::from(c.duration),
        },
        payload.clone(),
        format!("/live-classes/{}", c.live_class_id),
    )
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

    #[test]
    fn a_row_that_does_not_decode_is_skipped_and_the_rows_after_it_are_kept() {
        let row = |seq: i64, kind: &str, payload: Value| domain_event::Model {
            seq,
            id: Uuid::now_v7(),
            kind: kind.into(),
            payload,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let course = Uuid::now_v7();
        let rows = [
            row(1, "course.published", json!({ "title": "No course id" })),
            row(2, "something.new", json!({})),
            row(
                3,
                "course.archived",
                json!({ "courseId": course, "title": "Rust", "actorId": Uuid::nil() }),
            ),
        ];
        let decoded = decode(&rows);
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0].row.seq, 3);
        assert_eq!(decoded[0].event.course_id(), Some(course));
        let plan = plan(&decoded[0], &Names::default()).expect("an archived course notifies");
        assert_eq!(plan.kind, NotificationType::CourseArchived);
        assert_eq!(plan.exclude, Some(Uuid::nil()));
    }
}
