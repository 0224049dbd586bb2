//! The TUI's one WebSocket: a background task runs [`NotificationWatcher`] (which
//! reconnects with backoff, resumes with `since=<last id>` and de-duplicates by id)
//! and posts what happens as [`Realtime`] actions. [`Link`] is what the header shows.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::action::{Action, Failure, Realtime};
use super::theme::Theme;
use crate::api::ApiClient;
use crate::api::ws::{Backoff, NotificationWatcher, WatchEvent};
use ratatui::style::Style;

/// Where the WebSocket stands, as the header shows it (a word and a symbol, so it
/// reads without colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Asked for, not connected yet.
    Connecting,
    Live,
    /// Dropped; the task is retrying.
    Reconnecting,
    /// The server refused the credentials; nothing retries.
    Ended,
}

impl Link {
    /// The state after `event`.
    pub fn after(self, event: &Realtime) -> Self {
        match event {
            Realtime::Started => self,
            Realtime::Connected { .. } | Realtime::Notification(_) => Self::Live,
            Realtime::Disconnected { .. } => Self::Reconnecting,
            Realtime::Ended(_) => Self::Ended,
        }
    }

    /// The header's indicator; `online` is the HTTP check's last word, and a server
    /// that does not answer is offline whatever the socket last said.
    pub fn indicator(self, online: Option<bool>, theme: Theme) -> (&'static str, Style) {
        match self {
            Self::Ended => ("○ not live", theme.error()),
            _ if online == Some(false) => ("○ offline", theme.error()),
            Self::Live => ("● live", theme.ok()),
            Self::Connecting => ("◌ connecting", theme.dim()),
            Self::Reconnecting => ("◐ reconnecting", theme.warn()),
        }
    }
}

/// Keeps the WebSocket of `client` open until the credentials are refused or the app
/// is gone, posting [`Action::Realtime`]s to `tx`.
pub async fn watch(client: Arc<ApiClient>, since: Option<i64>, tx: UnboundedSender<Action>) {
    let mut watcher = NotificationWatcher::new(&client, since);
    // For failures the watcher gives up on (a refresh that could not reach the
    // server): wait and start it again rather than spin.
    let mut errors = Backoff::default();
    loop {
        let event = match watcher.next().await {
            Ok(WatchEvent::Connected { since }) => {
                errors.reset();
                Realtime::Connected { since }
            }
            Ok(WatchEvent::Notification(n)) => Realtime::Notification(n),
            Ok(WatchEvent::Disconnected { reason, retry_in }) => {
                Realtime::Disconnected { reason, retry_in }
            }
            Err(err) => {
                let failure = Failure::from(err);
                if failure.status == Some(401) {
                    let _ = tx.send(Action::Realtime(Realtime::Ended(failure)));
                    return;
                }
                let retry_in = errors.next_wait();
                let event = Realtime::Disconnected {
                    reason: failure.message,
                    retry_in,
                };
                if tx.send(Action::Realtime(event)).is_err() {
                    return;
                }
                tokio::time::sleep(retry_in).await;
                continue;
            }
        };
        if tx.send(Action::Realtime(event)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn dropped() -> Realtime {
        Realtime::Disconnected {
            reason: "connection reset".into(),
            retry_in: Duration::from_millis(250),
        }
    }

    #[test]
    fn the_indicator_follows_the_connection_and_reads_without_colour() {
        let theme = Theme::plain();
        let mut link = Link::Connecting;
        assert_eq!(link.indicator(Some(true), theme).0, "◌ connecting");
        link = link.after(&Realtime::Connected { since: 4 });
        assert_eq!(link.indicator(Some(true), theme).0, "● live");
        // The task's start can be posted after its first report: it changes nothing.
        link = link.after(&Realtime::Started);
        assert_eq!(link, Link::Live);
        link = link.after(&dropped());
        assert_eq!(link.indicator(Some(true), theme).0, "◐ reconnecting");
        // The HTTP check failing too: the server is gone, not just the socket.
        assert_eq!(link.indicator(Some(false), theme).0, "○ offline");
        link = link.after(&Realtime::Connected { since: 9 });
        assert_eq!(link.indicator(Some(true), theme).0, "● live");
        link = link.after(&Realtime::Ended(Failure::msg("revoked")));
        assert_eq!(link.indicator(Some(true), theme).0, "○ not live");
    }
}
