//! What happened, as one typed enum: every domain event with its payload. It is stored
//! as before — the `kind` column holds the name (`course.enrolled`), `payload` the
//! camelCase JSON — and consumers match it exhaustively, so an event no one handles
//! fails to compile and a misspelt key cannot silently drop a notification.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use crate::api::{ImportCounts, ImportKind, ImportMode, ImportStatus};

/// A domain event. The names are the ones the original system announced for webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum DomainEvent {
    /// A student was enrolled (or re-enrolled) in a course.
    #[serde(rename = "course.enrolled")]
    CourseEnrolled(EnrollmentChange),
    #[serde(rename = "enrollment.cancelled")]
    EnrollmentCancelled(EnrollmentChange),
    /// A student's progress reached 100 %.
    #[serde(rename = "enrollment.completed")]
    EnrollmentCompleted(EnrollmentChange),
    #[serde(rename = "course.published")]
    CoursePublished(CourseChange),
    #[serde(rename = "course.archived")]
    CourseArchived(CourseChange),
    /// An import run finished (plan or apply).
    #[serde(rename = "import.finished")]
    ImportFinished(ImportFinished),
    /// A test was published to a course (or one batch).
    #[serde(rename = "test.published")]
    TestPublished(TestPublished),
    /// Every answer of a submitted attempt has its marks.
    #[serde(rename = "attempt.graded")]
    AttemptGraded(AttemptGraded),
    /// A course's staff posted an announcement.
    #[serde(rename = "course.announcement")]
    CourseAnnouncement(CourseAnnouncement),
    #[serde(rename = "live_class.scheduled")]
    LiveClassScheduled(LiveClassChange),
    #[serde(rename = "live_class.rescheduled")]
    LiveClassRescheduled(LiveClassChange),
    #[serde(rename = "live_class.cancelled")]
    LiveClassCancelled(LiveClassChange),
    #[serde(rename = "live_class.starting_soon")]
    LiveClassStartingSoon(LiveClassChange),
    #[serde(rename = "live_class.started")]
    LiveClassStarted(LiveClassChange),
    #[serde(rename = "live_class.ended")]
    LiveClassEnded(LiveClassChange),
    /// A student submitted an attempt (its marks may still be owed).
    #[serde(rename = "test.submitted")]
    AttemptSubmitted(AttemptSubmitted),
    /// A student wrote or rewrote their review of a course.
    #[serde(rename = "course.reviewed")]
    CourseReviewed(CourseReviewed),
    #[serde(rename = "doubt.asked")]
    DoubtAsked(DoubtChange),
    #[serde(rename = "doubt.answered")]
    DoubtAnswered(DoubtChange),
    /// The asker accepted an answer.
    #[serde(rename = "doubt.accepted")]
    DoubtAccepted(DoubtChange),
    /// A student unlocked a badge.
    #[serde(rename = "achievement.unlocked")]
    AchievementUnlocked(AchievementUnlocked),
    /// A student's XP reached a new level.
    #[serde(rename = "level.reached")]
    LevelReached(LevelReached),
    /// The server disabled a webhook endpoint after repeated failed deliveries.
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled(WebhookDisabled),
    /// A payment was verified and its course enrolled.
    #[serde(rename = "payment.success")]
    PaymentSucceeded(PaymentChange),
    /// (Part of) a payment was refunded.
    #[serde(rename = "payment.refunded")]
    PaymentRefunded(PaymentChange),
}

/// `achievement.unlocked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AchievementUnlocked {
    pub user_id: Uuid,
    pub code: String,
    pub title: String,
    pub description: String,
}

/// `payment.success`, `payment.refunded`: the payment, its course and student, and the
/// amount paid or refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentChange {
    pub payment_id: Uuid,
    pub order_id: String,
    pub course_id: Uuid,
    pub title: String,
    pub student_id: Uuid,
    /// Who sells the course (its creator).
    pub owner_id: Uuid,
    /// Minor units: paid, or refunded by this refund.
    pub amount: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<Uuid>,
    /// Whether the payment is now wholly refunded (its enrollment cancelled).
    #[serde(default)]
    pub full: bool,
}

/// `webhook.disabled`: the endpoint, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDisabled {
    pub webhook_id: Uuid,
    pub url: String,
    pub reason: String,
    pub consecutive_failures: i32,
}

/// `level.reached`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelReached {
    pub user_id: Uuid,
    pub level: i32,
    pub total_xp: i64,
}

/// `test.submitted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptSubmitted {
    pub attempt_id: Uuid,
    pub test_id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub title: String,
    /// Answers still waiting for a teacher's marks.
    pub ungraded: u64,
}

/// `course.reviewed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourseReviewed {
    pub review_id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    pub rating: i32,
    pub actor_id: Uuid,
}

/// `doubt.asked`, `doubt.answered`, `doubt.accepted`: the doubt, the answer (not for
/// `doubt.asked`) and its author, and who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoubtChange {
    pub doubt_id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    pub asker_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answerer_id: Option<Uuid>,
    pub actor_id: Uuid,
}

/// `course.enrolled`, `enrollment.cancelled`, `enrollment.completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentChange {
    pub enrollment_id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub actor_id: Uuid,
}

/// `course.published`, `course.archived`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourseChange {
    pub course_id: Uuid,
    pub title: String,
    pub actor_id: Uuid,
}

/// `import.finished`: the run, how it ended, and its counts. What the notification does
/// not need (the status, a count, `stopped`, `fileError`) may be absent when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportFinished {
    pub import_id: Uuid,
    pub kind: ImportKind,
    pub mode: ImportMode,
    /// Always written; `None` only when reading an event that lacks it.
    #[serde(default)]
    pub status: Option<ImportStatus>,
    pub actor_id: Uuid,
    pub counts: StoredCounts,
    #[serde(default)]
    pub stopped: bool,
    #[serde(default)]
    pub file_error: Option<String>,
}

/// An import's counts as the event has always named them (an absent one reads as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredCounts {
    pub total: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl From<ImportCounts> for StoredCounts {
    fn from(c: ImportCounts) -> Self {
        Self {
            total: c.total,
            created: c.create,
            updated: c.update,
            unchanged: c.unchanged,
            failed: c.error,
            skipped: c.skipped,
        }
    }
}

/// `test.published`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestPublished {
    pub test_id: Uuid,
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub title: String,
    pub actor_id: Uuid,
}

/// `attempt.graded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptGraded {
    pub attempt_id: Uuid,
    pub test_id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub title: String,
    pub actor_id: Option<Uuid>,
}

/// `course.announcement`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourseAnnouncement {
    pub announcement_id: Uuid,
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub title: String,
    pub message: String,
    pub actor_id: Uuid,
}

/// The live-class events: the class as it is now, who did it (none for the reminder
/// loop), and what the change adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveClassChange {
    pub live_class_id: Uuid,
    pub course_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub title: String,
    #[serde(serialize_with = "to_seconds", deserialize_with = "from_rfc3339")]
    pub scheduled_at: DateTime<Utc>,
    /// Minutes.
    pub duration: i32,
    pub actor_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_id: Option<Uuid>,
    /// How many classes of a series the change covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "to_seconds_opt",
        deserialize_with = "from_rfc3339_opt"
    )]
    pub previous_scheduled_at: Option<DateTime<Utc>>,
    /// `live_class.starting_soon`: how long before the start it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_minutes: Option<i32>,
}

fn to_seconds<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn to_seconds_opt<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => to_seconds(at, s),
        None => s.serialize_none(),
    }
}

fn from_rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(serde::de::Error::custom)
}

fn from_rfc3339_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| {
            DateTime::parse_from_rfc3339(&text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
}

impl DomainEvent {
    /// The stored and announced name (`course.enrolled`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::CourseEnrolled(_) => "course.enrolled",
            Self::EnrollmentCancelled(_) => "enrollment.cancelled",
            Self::EnrollmentCompleted(_) => "enrollment.completed",
            Self::CoursePublished(_) => "course.published",
            Self::CourseArchived(_) => "course.archived",
            Self::ImportFinished(_) => "import.finished",
            Self::TestPublished(_) => "test.published",
            Self::AttemptGraded(_) => "attempt.graded",
            Self::CourseAnnouncement(_) => "course.announcement",
            Self::LiveClassScheduled(_) => "live_class.scheduled",
            Self::LiveClassRescheduled(_) => "live_class.rescheduled",
            Self::LiveClassCancelled(_) => "live_class.cancelled",
            Self::LiveClassStartingSoon(_) => "live_class.starting_soon",
            Self::LiveClassStarted(_) => "live_class.started",
            Self::LiveClassEnded(_) => "live_class.ended",
            Self::AttemptSubmitted(_) => "test.submitted",
            Self::CourseReviewed(_) => "course.reviewed",
            Self::DoubtAsked(_) => "doubt.asked",
            Self::DoubtAnswered(_) => "doubt.answered",
            Self::DoubtAccepted(_) => "doubt.accepted",
            Self::AchievementUnlocked(_) => "achievement.unlocked",
            Self::LevelReached(_) => "level.reached",
            Self::WebhookDisabled(_) => "webhook.disabled",
            Self::PaymentSucceeded(_) => "payment.success",
            Self::PaymentRefunded(_) => "payment.refunded",
        }
    }

    /// The name and the payload, as the `domain_events` row stores them.
    pub fn to_stored(&self) -> (&'static str, Value) {
        let payload = match serde_json::to_value(self) {
            Ok(Value::Object(mut tagged)) => tagged.remove("payload").unwrap_or(Value::Null),
            _ => Value::Null,
        };
        (self.name(), payload)
    }

    /// The event a stored row holds; an error names what does not decode.
    pub fn from_stored(kind: &str, payload: &Value) -> Result<Self, String> {
        let tagged = serde_json::json!({ "kind": kind, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| format!("{kind}: {e}"))
    }

    /// The course the event is about, if any.
    pub fn course_id(&self) -> Option<Uuid> {
        match self {
            Self::CourseEnrolled(e)
            | Self::EnrollmentCancelled(e)
            | Self::EnrollmentCompleted(e) => Some(e.course_id),
            Self::CoursePublished(e) | Self::CourseArchived(e) => Some(e.course_id),
            Self::ImportFinished(_) => None,
            Self::TestPublished(e) => Some(e.course_id),
            Self::AttemptGraded(e) => Some(e.course_id),
            Self::CourseAnnouncement(e) => Some(e.course_id),
            Self::LiveClassScheduled(e)
            | Self::LiveClassRescheduled(e)
            | Self::LiveClassCancelled(e)
            | Self::LiveClassStartingSoon(e)
            | Self::LiveClassStarted(e)
            | Self::LiveClassEnded(e) => Some(e.course_id),
            Self::AttemptSubmitted(e) => Some(e.course_id),
            Self::CourseReviewed(e) => Some(e.course_id),
            Self::DoubtAsked(e) | Self::DoubtAnswered(e) | Self::DoubtAccepted(e) => {
                Some(e.course_id)
            }
            Self::AchievementUnlocked(_) | Self::LevelReached(_) => None,
            Self::WebhookDisabled(_) => None,
            Self::PaymentSucceeded(e) | Self::PaymentRefunded(e) => Some(e.course_id),
        }
    }
}

/// Every event name a stored row may carry (`course.enrolled`…), read from the enum's
/// own deserializer so a new variant is listed without anyone remembering to.
pub fn event_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        // serde names every variant it expects when it meets an unknown one.
        let unknown = serde_json::json!({ "kind": "\u{1}", "payload": null });
        let message = match serde_json::from_value::<DomainEvent>(unknown) {
            Err(err) => err.to_string(),
            Ok(_) => String::new(),
        };
        let expected = message.split("expected one of").nth(1).unwrap_or("");
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn events_are_stored_as_a_name_and_the_camel_case_payload_they_always_had() {
        let (id, course, student) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let event = DomainEvent::CourseEnrolled(EnrollmentChange {
            enrollment_id: id,
            course_id: course,
            student_id: student,
            actor_id: student,
        });
        let (kind, payload) = event.to_stored();
        assert_eq!(kind, "course.enrolled");
        assert_eq!(
            payload,
            json!({"enrollmentId": id, "courseId": course, "studentId": student, "actorId": student})
        );
        assert_eq!(DomainEvent::from_stored(kind, &payload), Ok(event));
    }

    #[test]
    fn live_class_times_keep_their_seconds_format_and_optional_keys_stay_absent() {
        let event = DomainEvent::LiveClassRescheduled(LiveClassChange {
            live_class_id: Uuid::nil(),
            course_id: Uuid::nil(),
            batch_id: None,
            title: "Algebra".into(),
            scheduled_at: Utc.with_ymd_and_hms(2026, 12, 5, 4, 30, 0).unwrap(),
            duration: 45,
            actor_id: None,
            series_id: None,
            occurrences: None,
            previous_scheduled_at: Some(Utc.with_ymd_and_hms(2026, 12, 4, 4, 30, 0).unwrap()),
            reminder_minutes: None,
        });
        let (_, payload) = event.to_stored();
        assert_eq!(payload["scheduledAt"], "2026-12-05T04:30:00Z");
        assert_eq!(payload["previousScheduledAt"], "2026-12-04T04:30:00Z");
        assert_eq!(payload["batchId"], Value::Null);
        assert!(payload.get("seriesId").is_none() && payload.get("occurrences").is_none());
        assert_eq!(
            DomainEvent::from_stored("live_class.rescheduled", &payload),
            Ok(event)
        );
    }

    #[test]
    fn every_event_name_is_listed() {
        let names = event_names();
        assert!(names.len() > 20, "{names:?}");
        for name in ["course.enrolled", "live_class.started", "webhook.disabled"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        for name in names {
            let err = DomainEvent::from_stored(name, &json!({})).unwrap_err();
            assert!(!err.contains("unknown variant"), "{name}: {err}");
        }
    }

    #[test]
    fn a_payload_missing_a_key_is_an_error_naming_it() {
        let err =
            DomainEvent::from_stored("course.published", &json!({"title": "Rust"})).unwrap_err();
        assert!(
            err.contains("course.published") && err.contains("courseId"),
            "{err}"
        );
        assert!(DomainEvent::from_stored("course.renamed", &json!({})).is_err());
    }
}
