//! The Doubts tab's requests: the queue, a thread, an answer, hiding a doubt (all through
//! `api/doubts.rs`).

use edupro_server::api::DoubtAnswerInput;

use super::Net;
use crate::api;
use crate::tui::action::Action;
use crate::tui::action::doubts::{DoubtsAction, DoubtsEffect};

impl Net {
    pub(super) async fn run_doubts(&self, effect: DoubtsEffect) -> Action {
        Action::Doubts(match effect {
            DoubtsEffect::LoadQueue { generation, page } => DoubtsAction::Queue {
                generation,
                at: chrono::Utc::now(),
                answer: self
                    .with_client(|c| async move { c.doubt_queue(api::page(page, 100)).await })
                    .await,
            },
            DoubtsEffect::LoadThread { id } => DoubtsAction::Thread {
                id,
                answer: self.with_client(|c| async move { c.doubt(id).await }).await,
            },
            DoubtsEffect::Answer { doubt, body } => DoubtsAction::Answered {
                doubt,
                answer: self
                    .with_client(|c| async move {
                        c.answer_doubt(doubt, &DoubtAnswerInput { body }).await
                    })
                    .await,
            },
            DoubtsEffect::Hide { doubt } => DoubtsAction::Hidden {
                doubt,
                answer: self
                    .with_client(|c| async move { c.hide_doubt(doubt, true).await })
                    .await,
            },
        })
    }
}
