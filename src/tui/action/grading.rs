//! Requests and answers of the Grading tab: the queue, one answer's marks, the next
//! ungraded answer, and a question's regrade (a dry run first).

use edupro_server::api::{GradedAnswer, GradingQueue, NextUngraded, RegradeReport, Test};
use serde_json::Value;
use uuid::Uuid;

use super::Answer;

/// Which answers the queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub course: Option<Uuid>,
    pub test: Option<Uuid>,
    /// Hide who wrote the answers.
    pub blind: bool,
}

/// A request of the Grading tab.
#[derive(Debug, Clone, PartialEq)]
pub enum GradingEffect {
    LoadQueue {
        generation: u64,
        page: u64,
        filter: QueueFilter,
    },
    /// The caller's courses and tests (with their questions), for the filter and regrade.
    LoadChoices,
    Grade {
        answer: Uuid,
        marks: f64,
        feedback: Option<String>,
    },
    /// The oldest ungraded answer of the filtered queue.
    Next { filter: QueueFilter },
    /// `POST /questions/{id}/regrade` with `body` (its `dryRun` says whether it writes).
    Regrade { question: Uuid, body: Value },
}

/// A course the queue can be narrowed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRef {
    pub id: Uuid,
    pub title: String,
}

/// What the filter and the regrade view pick from.
#[derive(Debug, Clone, PartialEq)]
pub struct GradingChoices {
    pub courses: Vec<CourseRef>,
    /// With their questions and keys.
    pub tests: Vec<Test>,
}

/// An answer of the Grading tab.
#[derive(Debug, Clone, PartialEq)]
pub enum GradingAction {
    Queue {
        generation: u64,
        answer: Answer<GradingQueue>,
    },
    Choices(Answer<GradingChoices>),
    Graded(Answer<GradedAnswer>),
    Next(Answer<NextUngraded>),
    Regraded(Answer<RegradeReport>),
}
