//! Live classes: the caller's classes as an agenda of one day or one week (in --tz), a
//! schedule form whose refusals (bad fields, a clash naming the other class) show under
//! the fields, start and end for the host, attendance with absentees, and the class
//! room's chat — a WebSocket joined only while the chat page is open.
//!
//! This file holds the tab's state and routes keys and answers; each panel (`agenda`,
//! `schedule`, `attendance`, `chat`) is a file under `live/`.

mod agenda;
mod attendance;
mod cancel;
mod chat;
mod reschedule;
mod schedule;

use crossterm::event::KeyEvent;
use edupro_server::api::{AttendanceReport, LiveClass};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::{Load, Out, View};
use crate::tui::action::live::{Agenda, LiveAction, LiveEffect, Span};
use crate::tui::action::{Action, Effect, Failure};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::visible_offset;
use agenda::Entry;
use attendance::draw_attendance;
use chat::{ChatPage, RoomState, draw_chat, room_of};
use reschedule::Reschedule;
use schedule::Schedule;

/// What the tab shows.
#[derive(Debug, Clone, PartialEq)]
enum Page {
    Agenda,
    Attendance {
        class: Box<LiveClass>,
        report: Load<AttendanceReport>,
    },
    Chat(Box<ChatPage>),
}

/// The Live classes tab.
#[derive(Debug, Clone)]
pub struct LiveView {
    /// The signed-in user: only a class's host starts and ends it.
    me: Uuid,
    span: Span,
    offset: i64,
    generation: u64,
    agenda: Option<Load<Agenda>>,
    /// Index into the agenda's classes.
    selected: usize,
    /// First agenda line in view (re-clamped when drawn).
    scroll: usize,
    page: Page,
    schedule: Option<Schedule>,
    /// Select this class when the agenda that holds it arrives (just scheduled).
    select_after: Option<Uuid>,
    /// The class being moved, with its form.
    reschedule: Option<Reschedule>,
    /// The class whose cancelling waits for `y`.
    cancel: Option<Box<LiveClass>>,
    /// Show the day of this start once the agenda says which day today is (Today
    /// opened a class before the tab had loaded).
    show_day_of: Option<chrono::DateTime<chrono::Utc>>,
}

impl LiveView {
    pub fn new(me: Uuid) -> Self {
        Self {
            me,
            span: Span::Day,
            offset: 0,
            generation: 0,
            agenda: None,
            selected: 0,
            scroll: 0,
            page: Page::Agenda,
            schedule: None,
            select_after: None,
            reschedule: None,
            cancel: None,
            show_day_of: None,
        }
    }

    /// Shows the agenda of the day `at` falls on (in the agenda's zone), with the class
    /// `id` selected.
    pub fn show_class(&mut self, id: Uuid, at: chrono::DateTime<chrono::Utc>, out: &mut Out) {
        self.page = Page::Agenda;
        self.span = Span::Day;
        self.select_after = Some(id);
        match &self.agenda {
            Some(Load::Ready(a)) => {
                self.offset = (a.zone.date_of(at) - a.today).num_days();
            }
            _ => {
                self.offset = 0;
                self.show_day_of = Some(at);
            }
        }
        self.load(out);
    }
}

fn is_host(class: &LiveClass, me: Uuid) -> bool {
    class.host.id == me
}

impl LiveView {
    fn on_live(&mut self, action: LiveAction, out: &mut Out) {
        match action {
            LiveAction::Agenda { generation, answer } => {
                if generation != self.generation {
                    return;
                }
                match answer {
                    Ok(agenda) => {
                        if let Some(at) = self.show_day_of.take() {
                            let offset = (agenda.zone.date_of(at) - agenda.today).num_days();
                            if offset != self.offset || self.span != Span::Day {
                                self.span = Span::Day;
                                self.offset = offset;
                                self.load(out);
                                return;
                            }
                        }
                        self.selected = self
                            .select_after
                            .take()
                            .and_then(|id| agenda.classes.iter().position(|c| c.id == id))
                            .or_else(|| {
                                // Otherwise the first class of the agenda's order.
                                Self::entries(&agenda).into_iter().find_map(|e| match e {
                                    Entry::Class(i) => Some(i),
                                    Entry::Day(..) => None,
                                })
                            })
                            .unwrap_or(0);
                        self.scroll = 0;
                        let line = Self::entries(&agenda)
                            .iter()
                            .position(|e| *e == Entry::Class(self.selected))
                            .unwrap_or(0);
                        self.scroll = visible_offset(0, line, out.page);
                        self.agenda = Some(Load::Ready(agenda));
                    }
                    Err(f) => {
                        out.error(&f);
                        self.agenda = Some(Load::Failed(f));
                    }
                }
            }
            LiveAction::Rescheduled(answer) => self.on_rescheduled(answer, out),
            action @ (LiveAction::Choices(_) | LiveAction::Scheduled(_)) => {
                self.on_schedule_answer(action, out)
            }
            LiveAction::Changed(answer) => match answer {
                Ok((message, class)) => {
                    out.info(message);
                    if let Some(Load::Ready(a)) = &mut self.agenda
                        && let Some(row) = a.classes.iter_mut().find(|c| c.id == class.id)
                    {
                        *row = class.clone();
                    }
                    match &mut self.page {
                        Page::Chat(chat) if chat.class.id == class.id => chat.class = class,
                        Page::Attendance { class: c, .. } if c.id == class.id => **c = class,
                        _ => {}
                    }
                }
                Err(f) => out.error(&f),
            },
            LiveAction::Attendance(answer) => {
                if let Page::Attendance { report, .. } = &mut self.page {
                    *report = match answer {
                        Ok(r) => Load::Ready(r),
                        Err(f) => {
                            out.error(&f);
                            Load::Failed(f)
                        }
                    };
                }
            }
            action @ (LiveAction::RoomJoined { .. }
            | LiveAction::RoomRefused { .. }
            | LiveAction::RoomClosed { .. }
            | LiveAction::RoomChat { .. }
            | LiveAction::RoomPresence { .. }
            | LiveAction::RoomEvent { .. }
            | LiveAction::RoomError { .. }) => self.on_room(action, out),
            LiveAction::Sent => {}
        }
    }
}

impl View for LiveView {
    fn captures_text(&self) -> bool {
        self.schedule.is_some()
            || self.reschedule.is_some()
            || self.cancel.is_some()
            || matches!(self.page, Page::Chat(_))
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if self.cancel.is_some() {
            self.on_cancel_key(key, out);
        } else if self.reschedule.is_some() {
            self.on_reschedule_key(key, out);
        } else if self.schedule.is_some() {
            self.on_schedule_key(key, out);
        } else {
            self.on_chat_key(key, out);
        }
    }

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        if let Page::Attendance { class, report } = &mut self.page {
            match command {
                Command::Back => self.page = Page::Agenda,
                Command::Refresh => {
                    *report = Load::Loading;
                    out.effect(Effect::Live(LiveEffect::LoadAttendance { class: class.id }));
                }
                _ => return false,
            }
            return true;
        }
        if self.navigate(command, out.page) {
            return true;
        }
        match command {
            Command::Refresh => self.load(out),
            Command::ToggleWeek => {
                self.span = match self.span {
                    Span::Day => Span::Week,
                    Span::Week => Span::Day,
                };
                self.offset = 0;
                self.load(out);
            }
            Command::PrevPeriod => {
                self.offset -= 1;
                self.load(out);
            }
            Command::NextPeriod => {
                self.offset += 1;
                self.load(out);
            }
            Command::Back if self.offset != 0 => {
                self.offset = 0;
                self.load(out);
            }
            Command::New => self.open_schedule(out),
            Command::StartClass | Command::EndClass => {
                let Some(class) = self.current() else {
                    return true;
                };
                if !is_host(class, self.me) {
                    out.error(&Failure::msg("Only the host can start or end this class."));
                    return true;
                }
                let id = class.id;
                out.effect(Effect::Live(if command == Command::StartClass {
                    LiveEffect::Start { class: id }
                } else {
                    LiveEffect::End { class: id }
                }));
            }
            Command::CancelClass => self.ask_cancel(out),
            Command::Edit => self.open_reschedule(out),
            Command::Attendance => {
                if let Some(class) = self.current().cloned() {
                    out.effect(Effect::Live(LiveEffect::LoadAttendance { class: class.id }));
                    self.page = Page::Attendance {
                        class: Box::new(class),
                        report: Load::Loading,
                    };
                }
            }
            Command::Chat => {
                if let Some(class) = self.current().cloned() {
                    let room = room_of(&class);
                    out.effect(Effect::Live(LiveEffect::JoinRoom { room: room.clone() }));
                    self.page = Page::Chat(Box::new(ChatPage {
                        class,
                        room,
                        state: RoomState::Joining,
                        members: Vec::new(),
                        lines: Vec::new(),
                        input: String::new(),
                    }));
                }
            }
            _ => return false,
        }
        true
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        if let Action::Live(action) = action {
            self.on_live(action, out);
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if self.agenda.is_none() {
            self.load(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        match &self.page {
            Page::Attendance { .. } => vec![
                (Command::Refresh, "reload the attendance"),
                (Command::Back, "back to the agenda"),
            ],
            // The chat page takes the keyboard: enter sends, esc leaves.
            Page::Chat(_) => vec![],
            Page::Agenda => vec![
                (Command::ToggleWeek, "day / week"),
                (Command::PrevPeriod, "earlier day or week"),
                (Command::NextPeriod, "later day or week"),
                (Command::Back, "back to today"),
                (Command::New, "schedule a class"),
                (Command::StartClass, "start the class (host)"),
                (Command::EndClass, "end the class (host)"),
                (Command::Edit, "move the class (start, minutes)"),
                (Command::CancelClass, "cancel the class (asks first)"),
                (Command::Attendance, "attendance"),
                (Command::Chat, "the class room's chat"),
                (Command::Refresh, "reload"),
            ],
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        match &self.page {
            Page::Agenda => self.draw_agenda(frame, area, theme),
            Page::Attendance { class, report } => {
                draw_attendance(frame, area, theme, class, report)
            }
            Page::Chat(chat) => draw_chat(frame, area, theme, chat),
        }
        self.draw_schedule(frame, area, theme);
        self.draw_reschedule(frame, area, theme);
        self.draw_cancel(frame, area, theme);
    }
}
