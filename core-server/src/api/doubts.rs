//! Doubts: a course's questions and answers. A student enrolled in a course asks (on the
//! course or one of its lessons); its staff, and its other students, answer; the asker
//! accepts one answer. Votes are one per person; staff hide abusive posts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Pagination, PersonRef};

wire_enum!(
    /// OPEN (no answer yet) → ANSWERED (one or more) → RESOLVED (the asker accepted one);
    /// a reopened doubt goes back to ANSWERED or OPEN.
    DoubtStatus { Open = "OPEN", Answered = "ANSWERED", Resolved = "RESOLVED" }
);

wire_enum!(
    /// The order of `GET /courses/{id}/doubts`: newest first, or most votes first.
    DoubtSort { Newest = "newest", Votes = "votes" }
);

/// A doubt, as lists and threads show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Doubt {
    pub id: Uuid,
    pub course_id: Uuid,
    /// The course's title, for lists that span courses (the teacher's queue).
    pub course_title: String,
    pub lesson_id: Option<Uuid>,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub link: Option<String>,
    pub status: DoubtStatus,
    pub author: PersonRef,
    pub votes: i32,
    /// Answers not hidden.
    pub answers: i32,
    pub accepted_answer_id: Option<Uuid>,
    /// Whether the caller has voted for it.
    pub voted: bool,
    /// Hidden by staff: only staff (and admins) still see it.
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An answer to a doubt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DoubtAnswer {
    pub id: Uuid,
    pub doubt_id: Uuid,
    /// Markdown.
    pub body: String,
    pub author: PersonRef,
    /// Whether the author teaches the course (owner, co-teacher or TA).
    pub by_staff: bool,
    pub votes: i32,
    pub voted: bool,
    pub accepted: bool,
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /doubts/{id}`: the doubt and its answers (the accepted one first, then by votes,
/// then oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DoubtThread {
    pub doubt: Doubt,
    pub answers: Vec<DoubtAnswer>,
}

/// A page of doubts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DoubtList {
    pub doubts: Vec<Doubt>,
    pub pagination: Pagination,
}

/// `POST /courses/{id}/doubts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewDoubt {
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 200))]
    pub title: String,
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 20000))]
    pub body: String,
    /// An http(s) URL.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub link: Option<String>,
    /// A lesson of the course the doubt is about.
    #[serde(default)]
    pub lesson_id: Option<Uuid>,
}

/// `PATCH /doubts/{id}`: what the asker may still change within the edit window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDoubt {
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 20000))]
    pub body: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub link: Option<String>,
}

/// `POST /doubts/{id}/answers` and `PATCH /doubt-answers/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DoubtAnswerInput {
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 20000))]
    pub body: String,
}

/// `POST /doubts/{id}/accept`: the answer the asker accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptAnswer {
    pub answer_id: Uuid,
}

/// `GET /courses/{id}/doubts`: filters, search and order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct DoubtFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    /// Only the doubts about this lesson.
    pub lesson: Option<Uuid>,
    pub status: Option<DoubtStatus>,
    /// Only the caller's own doubts.
    pub mine: Option<bool>,
    /// Only doubts without an answer (OPEN).
    pub unanswered: Option<bool>,
    /// Matches title and body, ignoring case.
    pub search: Option<String>,
    pub sort: Option<DoubtSort>,
}
