//! Requests and answers of the Doubts tab: the teacher's queue of unanswered doubts, a
//! doubt's thread, an answer, and hiding a doubt.

use chrono::{DateTime, Utc};
use edupro_server::api::{Doubt, DoubtAnswer, DoubtList, DoubtThread};
use uuid::Uuid;

use super::Answer;

/// A request of the Doubts tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoubtsEffect {
    /// A page of `GET /doubts/queue` (oldest first).
    LoadQueue { generation: u64, page: u64 },
    /// The doubt and its answers.
    LoadThread { id: Uuid },
    /// `POST /doubts/{id}/answers`.
    Answer { doubt: Uuid, body: String },
    /// `POST /doubts/{id}/hide`.
    Hide { doubt: Uuid },
}

/// An answer of the Doubts tab.
#[derive(Debug, Clone, PartialEq)]
pub enum DoubtsAction {
    Queue {
        generation: u64,
        /// When it was read: the queue's ages count from here (drawing stays pure).
        at: DateTime<Utc>,
        answer: Answer<DoubtList>,
    },
    Thread {
        id: Uuid,
        answer: Answer<DoubtThread>,
    },
    Answered {
        doubt: Uuid,
        answer: Answer<DoubtAnswer>,
    },
    Hidden {
        doubt: Uuid,
        answer: Answer<Doubt>,
    },
}
