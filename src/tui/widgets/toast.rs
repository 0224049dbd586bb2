//! A short notice in the corner when a notification arrives live: on any tab, gone
//! after a few seconds, never taking keys. Its clock is the app's tick count, so the
//! update stays pure and tests drive it with ticks.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::theme::Theme;

/// Ticks (100 ms) a toast stays up.
pub const TOAST_TICKS: u64 = 40;

/// The toast on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub title: String,
    pub message: String,
    /// Notifications that arrived while it was up (shown as "+N more").
    pub more: usize,
    /// The tick at which it goes.
    pub until: u64,
}

impl Toast {
    /// A toast for a notification arriving at tick `now`; one already up is replaced
    /// and counted.
    pub fn arrived(current: Option<Self>, title: &str, message: &str, now: u64) -> Self {
        let more = current.as_ref().map_or(0, |t| t.more + 1);
        Self {
            title: title.to_owned(),
            message: message.to_owned(),
            more,
            until: now + TOAST_TICKS,
        }
    }

    /// Draws it in the bottom-right corner of `area` (the body, above the status line).
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let width = area.width.min(46);
        if width < 12 || area.height < 4 {
            return;
        }
        let rect = Rect {
            x: area.x + area.width - width,
            y: area.y + area.height - 4,
            width,
            height: 4,
        };
        let mut heading = format!(" New notification{} ", if self.more > 0 { "s" } else { "" });
        if self.more > 0 {
            heading = format!("{heading}(+{} more) ", self.more);
        }
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled(self.title.clone(), theme.title())),
                Line::raw(self.message.clone()),
            ])
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Line::styled(heading, theme.key())),
            ),
            rect,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_arrival_replaces_the_toast_counts_it_and_restarts_the_clock() {
        let first = Toast::arrived(None, "A", "a", 10);
        assert_eq!((first.more, first.until), (0, 10 + TOAST_TICKS));
        let second = Toast::arrived(Some(first), "B", "b", 25);
        assert_eq!(second.title, "B");
        assert_eq!((second.more, second.until), (1, 25 + TOAST_TICKS));
    }
}
