//! Doubts (teachers and admins): the queue of unanswered doubts in the caller's courses,
//! oldest first, with the selected doubt's thread beside it; an answer written in a
//! multi-line editor (a draft left with Esc is kept per doubt); hiding a doubt after a
//! confirmation. A `DOUBT_ASKED` notification marks the queue stale, and it is read
//! again (keeping the selected doubt) while on screen or when next shown.
//!
//! This file holds the tab's state and routes keys and answers; drawing the queue and
//! the thread is in `doubts/thread.rs`, the hide confirmation in `doubts/hide.rs`.

mod hide;
mod thread;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use edupro_server::api::{Doubt, DoubtAnswer, DoubtThread};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::{Load, Out, View};
use crate::tui::action::doubts::{DoubtsAction, DoubtsEffect};
use crate::tui::action::{Action, Answer, Effect};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::editor::Editor;
use crate::tui::widgets::form::Outcome;
use crate::tui::widgets::list::PagedList;

/// An answer being written to `doubt`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answering {
    doubt: Doubt,
    editor: Editor,
}

/// The Doubts tab.
#[derive(Debug, Clone, Default)]
pub struct DoubtsView {
    pub list: PagedList<Doubt>,
    /// When the queue was read: ages count from here.
    read_at: Option<DateTime<Utc>>,
    loaded: bool,
    /// A doubt was asked since the queue was read.
    stale: bool,
    /// A refresh is out: the rows stay until it answers, then this doubt stays selected.
    refreshing: Option<Option<Uuid>>,
    /// The selected doubt's thread, as far as it has loaded.
    thread: Option<(Uuid, Load<DoubtThread>)>,
    /// Lines of the thread scrolled past.
    scroll: u16,
    answering: Option<Answering>,
    /// Answers begun and left with Esc, by doubt.
    drafts: HashMap<Uuid, String>,
    /// The doubt whose hiding waits for `y`.
    hide: Option<Box<Doubt>>,
}

/// A person's name.
fn name(p: &edupro_server::api::PersonRef) -> String {
    format!("{} {}", p.first_name, p.last_name)
}

/// How long ago `then` was, seen from `now`: `now`, `5m`, `3h`, `2d`.
fn age(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - then).num_minutes().max(0);
    match minutes {
        0 => "now".into(),
        1..=59 => format!("{minutes}m"),
        60..=1439 => format!("{}h", minutes / 60),
        _ => format!("{}d", minutes / 1440),
    }
}

impl DoubtsView {
    /// Reads the queue from its first page, forgetting what it showed.
    fn reload(&mut self, out: &mut Out) {
        self.loaded = true;
        self.stale = false;
        self.refreshing = None;
        let generation = self.list.reset();
        self.thread = None;
        out.effect(Effect::Doubts(DoubtsEffect::LoadQueue {
            generation,
            page: 1,
        }));
    }

    /// Reads the first page again, keeping the rows on screen until it answers (no
    /// "Loading…" flash) and the selected doubt selected.
    fn refresh(&mut self, out: &mut Out) {
        self.stale = false;
        self.refreshing = Some(self.list.current().map(|d| d.id));
        self.list.generation += 1;
        self.list.fetching = true;
        out.effect(Effect::Doubts(DoubtsEffect::LoadQueue {
            generation: self.list.generation,
            page: 1,
        }));
    }

    /// A doubt was asked (a live notification): the queue is out of date.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Reads the queue again if it went stale and no page is out (the app calls this
    /// while the tab is on screen, and on showing it).
    pub fn refresh_if_stale(&mut self, out: &mut Out) {
        if self.stale && self.loaded && !self.list.fetching {
            self.refresh(out);
        }
    }

    /// Loads the selected doubt's thread unless it is the one shown.
    fn follow(&mut self, out: &mut Out) {
        let Some(id) = self.list.current().map(|d| d.id) else {
            self.thread = None;
            return;
        };
        if self.thread.as_ref().is_some_and(|(shown, _)| *shown == id) {
            return;
        }
        self.scroll = 0;
        self.thread = Some((id, Load::Loading));
        out.effect(Effect::Doubts(DoubtsEffect::LoadThread { id }));
    }

    /// Drops `id` from the queue (answered or hidden); `None` when it was not there.
    fn remove(&mut self, id: Uuid, out: &mut Out) -> Option<Doubt> {
        let at = self.list.items.iter().position(|d| d.id == id)?;
        let doubt = self.list.items.remove(at);
        self.list.total = self.list.total.saturating_sub(1);
        self.list.selected = self
            .list
            .selected
            .min(self.list.items.len().saturating_sub(1));
        self.follow(out);
        Some(doubt)
    }

    /// `a` or Enter: the editor, with the draft left for this doubt if any.
    fn start_answer(&mut self) {
        let Some(doubt) = self.list.current().cloned() else {
            return;
        };
        let draft = self.drafts.get(&doubt.id).map_or("", String::as_str);
        self.answering = Some(Answering {
            editor: Editor::new(draft),
            doubt,
        });
    }

    fn on_editor_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(answering) = self.answering.as_mut() else {
            return;
        };
        match answering.editor.on_key(key) {
            Outcome::Editing => {}
            Outcome::Cancel => {
                let text = answering.editor.text();
                if !answering.editor.busy && !text.trim().is_empty() {
                    self.drafts.insert(answering.doubt.id, text);
                    out.info("Draft kept; a goes on with it.");
                }
                self.answering = None;
            }
            Outcome::Submit => {
                let body = answering.editor.text().trim().to_owned();
                if body.is_empty() {
                    answering.editor.error = Some("Write an answer first.".into());
                    return;
                }
                answering.editor.error = None;
                answering.editor.busy = true;
                out.effect(Effect::Doubts(DoubtsEffect::Answer {
                    doubt: answering.doubt.id,
                    body,
                }));
            }
        }
    }

    fn on_answered(&mut self, doubt: Uuid, answer: Answer<DoubtAnswer>, out: &mut Out) {
        let editing = self.answering.as_ref().is_some_and(|a| a.doubt.id == doubt);
        match answer {
            Ok(_) => {
                self.drafts.remove(&doubt);
                let title = self
                    .answering
                    .as_ref()
                    .filter(|_| editing)
                    .map(|a| a.doubt.title.clone());
                if editing {
                    self.answering = None;
                }
                let removed = self.remove(doubt, out).map(|d| d.title);
                match title.or(removed) {
                    Some(title) => out.info(format!(
                        "Answer posted · {} left · “{title}”",
                        self.list.total
                    )),
                    None => out.info("Answer posted"),
                }
            }
            Err(failure) => {
                if let Some(answering) = self.answering.as_mut().filter(|_| editing) {
                    answering.editor.busy = false;
                    let mut message = failure.message.clone();
                    for field in &failure.fields {
                        message.push_str(&format!(" ({}: {})", field.field, field.message));
                    }
                    answering.editor.error = Some(message);
                }
                out.error(&failure);
            }
        }
    }

    fn on_doubts(&mut self, action: DoubtsAction, out: &mut Out) {
        match action {
            DoubtsAction::Queue {
                generation,
                at,
                answer,
            } => {
                if generation != self.list.generation {
                    return;
                }
                if let Err(f) = &answer {
                    out.error(f);
                }
                let keep = self.refreshing.take();
                if keep.is_some() && answer.is_ok() {
                    self.list.items.clear();
                }
                self.read_at = Some(at);
                self.list.accept(
                    generation,
                    answer.map(|q| {
                        (
                            q.doubts,
                            q.pagination.page,
                            q.pagination.has_next,
                            q.pagination.total,
                        )
                    }),
                );
                if let Some(Some(id)) = keep
                    && let Some(at) = self.list.items.iter().position(|d| d.id == id)
                {
                    self.list.selected = at;
                }
                self.follow(out);
            }
            DoubtsAction::Thread { id, answer } => {
                if let Some((shown, load)) = &mut self.thread
                    && *shown == id
                {
                    *load = match answer {
                        Ok(thread) => Load::Ready(thread),
                        Err(f) => Load::Failed(f),
                    };
                }
            }
            DoubtsAction::Answered { doubt, answer } => self.on_answered(doubt, answer, out),
            DoubtsAction::Hidden { doubt, answer } => match answer {
                Ok(hidden) => {
                    self.remove(doubt, out);
                    out.info(format!(
                        "Hidden from students · {} left · “{}”",
                        self.list.total, hidden.title
                    ));
                }
                Err(f) => out.error(&f),
            },
        }
    }
}

impl View for DoubtsView {
    fn captures_text(&self) -> bool {
        self.answering.is_some() || self.hide.is_some()
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if self.hide.is_some() {
            self.on_hide_key(key, out);
        } else {
            self.on_editor_key(key, out);
        }
    }

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        if self.list.navigate(command, out.page) {
            if let Some((generation, page)) = self.list.wants_more() {
                out.effect(Effect::Doubts(DoubtsEffect::LoadQueue { generation, page }));
            }
            self.follow(out);
            return true;
        }
        match command {
            Command::Refresh => self.reload(out),
            Command::Open | Command::Apply => self.start_answer(),
            Command::Hide => self.ask_hide(),
            Command::MoveUp => self.scroll = self.scroll.saturating_sub(3),
            Command::MoveDown => self.scroll = self.scroll.saturating_add(3),
            _ => return false,
        }
        true
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        if let Action::Doubts(action) = action {
            self.on_doubts(action, out);
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if !self.loaded {
            self.reload(out);
        } else {
            self.refresh_if_stale(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        if self.answering.is_some() {
            return Vec::new();
        }
        vec![
            (Command::Apply, "answer the doubt (also enter)"),
            (Command::Hide, "hide it from students (asks first)"),
            (Command::MoveDown, "scroll the thread down"),
            (Command::MoveUp, "scroll the thread up"),
            (Command::Refresh, "reload"),
        ]
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        self.draw_tab(frame, area, theme);
        self.draw_hide(frame, area, theme);
    }
}
