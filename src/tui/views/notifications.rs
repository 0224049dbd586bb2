//! Notifications: the caller's feed, newest first, paged from the REST inbox; new ones
//! from the WebSocket go on top without a refresh. Enter (or `m`) marks one read, `M`
//! marks all read. Items are kept once per id, whichever way they came in.

use std::collections::HashSet;

use crossterm::event::KeyEvent;
use edupro_server::api::{Notification, NotificationList};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Wrap};

use super::{Load, Out, View};
use crate::tui::action::{Action, Answer, Effect, Failure};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{PagedList, Status, draw_table};

/// The Notifications tab. It loads at sign-in (the unread count is in the tab title
/// and on Today), and its first page decides where the WebSocket resumes.
#[derive(Debug, Clone, Default)]
pub struct NotificationsView {
    pub list: PagedList<Notification>,
    /// The ids in `list`, so a notification is shown once however it arrived.
    ids: HashSet<i64>,
    /// The server's unread count, kept up to date by live items and marks.
    unread: Option<u64>,
    /// The first page's failure, while no count is known.
    unread_failure: Option<Failure>,
    loaded: bool,
    /// The WebSocket has been asked for.
    watching: bool,
}

impl NotificationsView {
    fn reload(&mut self, out: &mut Out) {
        self.loaded = true;
        self.ids.clear();
        let generation = self.list.reset();
        out.effect(Effect::LoadNotifications {
            generation,
            page: 1,
        });
    }

    /// The unread count as Today and the tab title show it.
    pub fn unread(&self) -> Load<u64> {
        match (self.unread, &self.unread_failure) {
            (Some(n), _) => Load::Ready(n),
            (None, Some(failure)) => Load::Failed(failure.clone()),
            (None, None) => Load::Loading,
        }
    }

    /// A notification from the WebSocket; `true` when it is new here (the caller
    /// toasts it), `false` when it is already in the feed.
    pub fn arrived(&mut self, notification: Notification) -> bool {
        if !self.ids.insert(notification.id) {
            return false;
        }
        if !notification.is_read {
            self.unread = Some(self.unread.unwrap_or(0) + 1);
        }
        let had_items = !self.list.items.is_empty();
        let at = self
            .list
            .items
            .iter()
            .position(|n| n.id < notification.id)
            .unwrap_or(self.list.items.len());
        self.list.items.insert(at, notification);
        self.list.total += 1;
        // The selected notification stays selected; a list scrolled down stays where
        // it was, one scrolled to the top shows the new item.
        if had_items && at <= self.list.selected {
            self.list.selected += 1;
            if self.list.offset > 0 {
                self.list.offset += 1;
            }
        }
        true
    }

    fn accept_page(&mut self, generation: u64, answer: Answer<NotificationList>, out: &mut Out) {
        let first_answer = !self.watching;
        let answer = match answer {
            Ok(list) => {
                self.unread = Some(list.unread_count);
                self.unread_failure = None;
                let fresh: Vec<Notification> = list
                    .notifications
                    .into_iter()
                    .filter(|n| !self.ids.contains(&n.id))
                    .collect();
                Ok((
                    fresh,
                    list.pagination.page,
                    list.pagination.has_next,
                    list.pagination.total,
                ))
            }
            Err(failure) => Err(failure),
        };
        let failed = answer.as_ref().err().cloned();
        if let Ok((items, ..)) = &answer {
            self.ids.extend(items.iter().map(|n| n.id));
        }
        if !self.list.accept(generation, answer) {
            return;
        }
        // Live items that came in while the page was out may be newer than some of it.
        if !self.list.items.is_sorted_by(|a, b| a.id > b.id) {
            self.list.items.sort_by_key(|n| std::cmp::Reverse(n.id));
        }
        if let Some(failure) = &failed {
            if self.unread.is_none() {
                self.unread_failure = Some(failure.clone());
            }
            out.error(failure);
        }
        if first_answer {
            // The feed has everything up to its newest item; the socket takes over
            // after it. Without a page, the socket finds the newest id itself.
            self.watching = true;
            let since = match failed {
                Some(_) => None,
                None => Some(self.list.items.first().map_or(0, |n| n.id)),
            };
            out.effect(Effect::Watch { since });
        }
    }

    fn mark(&mut self, id: i64) {
        if let Some(n) = self.list.items.iter_mut().find(|n| n.id == id)
            && !n.is_read
        {
            n.is_read = true;
            self.unread = self.unread.map(|u| u.saturating_sub(1));
        }
    }
}

impl View for NotificationsView {
    fn captures_text(&self) -> bool {
        false
    }

    fn on_text_key(&mut self, _key: &KeyEvent, _out: &mut Out) {}

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        if self.list.navigate(command, out.page.saturating_sub(4)) {
            if let Some((generation, page)) = self.list.wants_more() {
                out.effect(Effect::LoadNotifications { generation, page });
            }
            return true;
        }
        match command {
            Command::Refresh => self.reload(out),
            Command::Open | Command::MarkRead => match self.list.current() {
                Some(n) if !n.is_read => out.effect(Effect::MarkRead { id: n.id }),
                Some(_) => out.info("Already read"),
                None => {}
            },
            Command::MarkAllRead => {
                if self.unread == Some(0) {
                    out.info("Nothing unread");
                } else {
                    out.effect(Effect::MarkAllRead);
                }
            }
            _ => return false,
        }
        true
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        match action {
            Action::Notifications { generation, answer } => {
                self.accept_page(generation, answer, out)
            }
            Action::MarkedRead(Ok(n)) => {
                self.mark(n.id);
                out.info(format!("Marked read: {}", n.title));
            }
            Action::MarkedAllRead(Ok(marked)) => {
                for n in &mut self.list.items {
                    n.is_read = true;
                }
                self.unread = Some(marked.unread_count);
                out.info(format!("Marked {} read", marked.marked));
            }
            Action::MarkedRead(Err(failure)) | Action::MarkedAllRead(Err(failure)) => {
                out.error(&failure)
            }
            _ => {}
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if !self.loaded {
            self.reload(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        vec![
            (Command::Open, "mark the selected one read"),
            (Command::MarkRead, "mark the selected one read"),
            (Command::MarkAllRead, "mark all read"),
            (Command::Refresh, "reload"),
        ]
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let [list_area, detail] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(5)]).areas(area);
        let title = match self.unread {
            Some(n) if n > 0 => format!("Notifications ({n} unread)"),
            _ => "Notifications".to_owned(),
        };
        draw_table(
            frame,
            list_area,
            theme,
            &title,
            &self.list,
            &["", "WHEN", "TITLE"],
            &[
                Constraint::Length(1),
                Constraint::Length(11),
                Constraint::Fill(1),
            ],
            |n| {
                vec![
                    Cell::from(if n.is_read { " " } else { "•" }),
                    Cell::from(
                        theme
                            .zone
                            .local(n.created_at)
                            .format("%m-%d %H:%M")
                            .to_string(),
                    ),
                    Cell::from(n.title.clone()),
                ]
            },
            "No notifications yet. New ones appear here as they arrive.",
        );
        let block = Block::default().borders(Borders::ALL);
        let text = match self.list.current() {
            Some(n) if matches!(self.list.status, Status::Ready | Status::Loading) => {
                let state = if n.is_read { "read" } else { "unread" };
                vec![
                    Line::from(vec![
                        Span::styled(n.kind.as_str(), theme.dim()),
                        Span::styled(format!(" · {state}"), theme.dim()),
                    ]),
                    Line::raw(n.message.clone()),
                ]
            }
            _ => vec![Line::styled("• marks the unread ones.", theme.dim())],
        };
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
            detail,
        );
    }
}
