//! A connection's outgoing queue, bounded in messages and in bytes. The hub never waits
//! on a connection: a message that would take the queue past either bound is refused,
//! and the hub closes that connection with 1013 (the client reconnects with `since`).
//! Counting bytes matters for big messages: 256 queued 5 KB notifications held 1.3 MB
//! per slow client before the cut-off.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::hub::Outgoing;

/// The hub's end.
#[derive(Debug, Clone)]
pub struct QueueSender {
    tx: mpsc::Sender<Outgoing>,
    held: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The connection's end.
#[derive(Debug)]
pub struct QueueReceiver {
    rx: mpsc::Receiver<Outgoing>,
    held: Arc<AtomicUsize>,
}

/// A queue for at most `messages` messages and `max_bytes` bytes of them (a single
/// message larger than `max_bytes` still goes through an empty queue).
pub fn queue(messages: usize, max_bytes: usize) -> (QueueSender, QueueReceiver) {
    let (tx, rx) = mpsc::channel(messages.max(1));
    let held = Arc::new(AtomicUsize::new(0));
    (
        QueueSender {
            tx,
            held: held.clone(),
            max_bytes,
        },
        QueueReceiver { rx, held },
    )
}

impl QueueSender {
    /// Queues `message` unless either bound would be passed.
    pub fn try_send(&self, message: Outgoing) -> Result<(), TrySendError<Outgoing>> {
        let size = message.size();
        let before = self.held.fetch_add(size, Ordering::AcqRel);
        if before > 0 && before + size > self.max_bytes {
            self.held.fetch_sub(size, Ordering::AcqRel);
            return Err(TrySendError::Full(message));
        }
        self.tx.try_send(message).inspect_err(|_| {
            self.held.fetch_sub(size, Ordering::AcqRel);
        })
    }
}

impl QueueReceiver {
    /// The next message; `None` once the hub has dropped its end.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        let message = self.rx.recv().await?;
        self.held.fetch_sub(message.size(), Ordering::AcqRel);
        Some(message)
    }

    /// The next message if one is waiting.
    pub fn try_recv(&mut self) -> Result<Outgoing, mpsc::error::TryRecvError> {
        let message = self.rx.try_recv()?;
        self.held.fetch_sub(message.size(), Ordering::AcqRel);
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(bytes: usize) -> Outgoing {
        Outgoing::Notification {
            id: 1,
            text: "x".repeat(bytes).into(),
        }
    }

    #[tokio::test]
    async fn the_byte_bound_refuses_what_would_pass_it_and_reading_frees_room() {
        let (tx, mut rx) = queue(100, 10_000);
        for _ in 0..3 {
            tx.try_send(note(3_000)).expect("room for 9 KB");
        }
        assert!(matches!(
            tx.try_send(note(3_000)),
            Err(TrySendError::Full(_))
        ));
        rx.recv().await.expect("a message");
        tx.try_send(note(3_000)).expect("room again after a read");
    }

    #[tokio::test]
    async fn one_message_larger_than_the_bound_still_goes_through_an_empty_queue() {
        let (tx, mut rx) = queue(100, 1_000);
        tx.try_send(note(5_000)).expect("an empty queue takes it");
        assert!(matches!(tx.try_send(note(10)), Err(TrySendError::Full(_))));
        rx.recv().await.expect("the big one");
        tx.try_send(note(10)).expect("room again");
    }

    #[tokio::test]
    async fn the_message_bound_still_holds() {
        let (tx, _rx) = queue(2, usize::MAX);
        tx.try_send(note(1)).unwrap();
        tx.try_send(note(1)).unwrap();
        assert!(matches!(tx.try_send(note(1)), Err(TrySendError::Full(_))));
    }
}
