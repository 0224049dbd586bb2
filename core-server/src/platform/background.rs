//! The server's long-lived loops, stopped before the pool closes.

use std::sync::Arc;

/// The tasks that run for as long as the server does (the hub, the notification
/// consumer, the PostgreSQL listener, reminders, the deadline sweep). They never end
/// by themselves and some hold a database connection (LISTEN), so shutdown stops them
/// before it closes the pool, which waits for every connection to come back.
#[derive(Clone, Default)]
pub struct Background(Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>);

impl Background {
    /// Runs `task` until [`Background::stop`].
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task).abort_handle();
        if let Ok(mut tasks) = self.0.lock() {
            tasks.push(handle);
        }
    }

    /// Stops every task spawned so far (at its next await point).
    pub fn stop(&self) {
        if let Ok(mut tasks) = self.0.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }
}
