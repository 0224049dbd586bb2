//! The screens of the TUI. Each view keeps its own state, turns commands and answers
//! into effects ([`Out`]), and draws itself with `draw(&self)`: drawing never changes
//! state.

pub mod analytics;
pub mod charts;
pub mod courses;
pub mod doubts;
pub mod grading;
pub mod live;
pub mod login;
pub mod notifications;
pub mod today;
pub mod users;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::{Action, Effect, Failure};
use super::keymap::Command;
use super::theme::Theme;

/// What a view asks of the app after a key or an answer.
#[derive(Debug, Default)]
pub struct Out {
    pub effects: Vec<Effect>,
    pub status: Option<StatusLine>,
    /// Rows in view, for page up/down.
    pub page: usize,
    /// Another tab to show, and what in it (Today's items open what they name).
    pub goto: Option<Goto>,
}

/// What an item of one tab opens in another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goto {
    /// The grading queue.
    Grading,
    /// The queue of unanswered doubts.
    Doubts,
    /// The notification feed.
    Notifications,
    /// A live class, on its day's agenda, selected.
    Class {
        id: uuid::Uuid,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// A course's sections and lessons.
    Course(uuid::Uuid),
    /// A student at risk: their analytics (a page of the Courses tab).
    AtRisk(Box<edupro_server::api::AtRiskStudent>),
}

impl Out {
    pub fn new(page: usize) -> Self {
        Self {
            page,
            ..Self::default()
        }
    }

    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusLine {
            text: text.into(),
            error: false,
            offline: false,
            session_ended: false,
        });
    }

    pub fn error(&mut self, failure: &Failure) {
        self.status = Some(StatusLine {
            text: failure.message.clone(),
            error: true,
            offline: failure.offline,
            session_ended: failure.status == Some(401),
        });
    }
}

/// The message at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub error: bool,
    /// The failure was "cannot reach the server".
    pub offline: bool,
    /// The server no longer accepts the tokens (even after a refresh): sign in again.
    pub session_ended: bool,
}

/// A screen of the main window (a tab).
pub trait View {
    /// A text input (search box, form, popup) has the keyboard: keys go to
    /// [`View::on_text_key`] instead of the keymap.
    fn captures_text(&self) -> bool;
    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out);
    /// Handles `command`; `false` when this view has no use for it.
    fn on_command(&mut self, command: Command, out: &mut Out) -> bool;
    fn on_action(&mut self, action: Action, out: &mut Out);
    /// Shown for the first time (or again): load what is not loaded yet.
    fn activate(&mut self, out: &mut Out);
    /// The keys of the current page, for `?`.
    fn help(&self) -> Vec<(Command, &'static str)>;
    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme);
}

/// Where a single thing being loaded stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Failed(Failure),
    Ready(T),
}

/// A list's search: the query in force, and the one being typed after `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    pub editing: Option<String>,
}

/// What a key did to a search box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOutcome {
    Typing,
    /// The query changed: reload.
    Apply,
    Cancel,
}

impl Search {
    pub fn start(&mut self) {
        self.editing = Some(self.query.clone());
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> SearchOutcome {
        let Some(text) = self.editing.as_mut() else {
            return SearchOutcome::Cancel;
        };
        match key.code {
            KeyCode::Esc => {
                self.editing = None;
                SearchOutcome::Cancel
            }
            KeyCode::Enter => {
                self.query = text.trim().to_owned();
                self.editing = None;
                SearchOutcome::Apply
            }
            KeyCode::Backspace => {
                text.pop();
                SearchOutcome::Typing
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.editing = None;
                SearchOutcome::Cancel
            }
            KeyCode::Char(c) => {
                text.push(c);
                SearchOutcome::Typing
            }
            _ => SearchOutcome::Typing,
        }
    }

    /// The line above a list: the box being typed in, or the query in force.
    pub fn line(&self) -> Option<String> {
        match &self.editing {
            Some(text) => Some(format!("/{text}▏  (enter search · esc cancel)")),
            None if !self.query.is_empty() => {
                Some(format!("search: “{}”  (esc clears)", self.query))
            }
            None => None,
        }
    }
}
