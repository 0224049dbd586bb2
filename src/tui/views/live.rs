//! Live classes: the caller's classes as an agenda of one day or one week (UTC), a
//! schedule form whose refusals (bad fields, a clash naming the other class) show under
//! the fields, start and end for the host, attendance with absentees, and the class
//! room's chat — a WebSocket joined only while the chat page is open.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use edupro_server::api::{
    AttendanceReport, ChatMessage, LiveClass, LiveClassStatus, LivePlatform, RoomMember,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span as TextSpan};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Load, Out, View};
use crate::tui::action::live::{Agenda, LiveAction, LiveEffect, ScheduleChoices, Span};
use crate::tui::action::{Action, Effect, Failure};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Field, Form, Kind, Outcome, centered};
use crate::tui::widgets::list::visible_offset;

/// Chat lines kept per room (older ones scroll away).
const KEPT_LINES: usize = 500;
/// How the start is typed in the form.
const START_FORMAT: &str = "%Y-%m-%d %H:%M";
const WHOLE_COURSE: &str = "whole course";

/// A line of the chat page.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatLine {
    Message(ChatMessage),
    /// Presence, class events, refusals.
    Notice(String),
}

/// Where the room connection stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomState {
    Joining,
    Joined,
    Closed(String),
}

/// The chat page of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatPage {
    pub class: LiveClass,
    pub room: String,
    pub state: RoomState,
    pub members: Vec<RoomMember>,
    pub lines: Vec<ChatLine>,
    pub input: String,
}

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

/// The schedule popup.
#[derive(Debug, Clone, PartialEq)]
enum Schedule {
    /// Waiting for the caller's courses.
    Loading,
    Form {
        form: Form,
        choices: ScheduleChoices,
    },
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
}

impl LiveView {
    /// The chat page, when it is open on `room` (answers for another room are stale).
    fn chat_of(&mut self, room: &str) -> Option<&mut ChatPage> {
        match &mut self.page {
            Page::Chat(chat) if chat.room == room => Some(chat),
            _ => None,
        }
    }

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
        }
    }
}

/// A line of the agenda: a day's heading (week view) or a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Day(NaiveDate, bool),
    Class(usize),
}

fn day_label(d: NaiveDate) -> String {
    d.format("%a %d %b").to_string()
}

fn is_host(class: &LiveClass, me: Uuid) -> bool {
    class.host.id == me
}

fn room_of(class: &LiveClass) -> String {
    class
        .room
        .clone()
        .unwrap_or_else(|| format!("live_class:{}", class.id))
}

/// Sets a choice field's options, keeping its value when it is still one of them.
fn set_choices(form: &mut Form, name: &str, options: Vec<String>) {
    if let Some(field) = form.fields.iter_mut().find(|f| f.name == name) {
        if !options.contains(&field.value) {
            field.value = options.first().cloned().unwrap_or_default();
        }
        field.kind = Kind::Choice(options);
    }
}

/// Splits `text` into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width)
        .map(|c| c.iter().collect::<String>())
        .collect()
}

fn schedule_form(choices: &ScheduleChoices) -> Form {
    let titles: Vec<&str> = choices.courses.iter().map(|c| c.title.as_str()).collect();
    let first = titles.first().copied().unwrap_or_default();
    let start = (choices.now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(10, 0, 0)
        .map(|d| d.format(START_FORMAT).to_string())
        .unwrap_or_default();
    let platforms = LivePlatform::ALL.iter().map(|p| p.as_str()).collect();
    let mut form = Form::new(
        "Schedule a class",
        vec![
            Field::choice("courseId", "Course", titles.clone(), first),
            Field::choice("batchId", "Batch", vec![WHOLE_COURSE], WHOLE_COURSE),
            Field::text("title", "Title", ""),
            Field::text("scheduledAt", "Start (UTC)", start),
            Field::number("duration", "Minutes", 60),
            Field::number("capacity", "Capacity", "").optional(),
            Field::choice("platform", "Platform", platforms, "BUILTIN"),
            Field::text("meetingUrl", "Meeting URL", "").optional(),
        ],
    );
    form.submit_label = "schedule";
    // The title is what is typed first.
    form.focus = 2;
    update_batches(&mut form, choices);
    form
}

/// The batch choices of the course the form names.
fn update_batches(form: &mut Form, choices: &ScheduleChoices) {
    let course = form.value("courseId").to_owned();
    let mut options = vec![WHOLE_COURSE.to_owned()];
    if let Some(c) = choices.courses.iter().find(|c| c.title == course) {
        options.extend(c.batches.iter().map(|(_, name)| name.clone()));
    }
    set_choices(form, "batchId", options);
}

/// The form's body as `POST /live-classes` wants it; field errors when it can't be.
fn schedule_body(form: &mut Form, choices: &ScheduleChoices) -> Option<Value> {
    let mut body = form.body()?;
    let course = form.value("courseId").to_owned();
    let Some(course) = choices.courses.iter().find(|c| c.title == course) else {
        form.refused("Choose a course.", &[]);
        return None;
    };
    body["courseId"] = json!(course.id);
    let batch = form.value("batchId").to_owned();
    body["batchId"] = match course.batches.iter().find(|(_, name)| *name == batch) {
        Some((id, _)) => json!(id),
        None => Value::Null,
    };
    let start = form.value("scheduledAt").trim().to_owned();
    match NaiveDateTime::parse_from_str(&start, START_FORMAT) {
        Ok(at) => body["scheduledAt"] = json!(at.and_utc()),
        Err(_) => {
            form.refused(
                "The start is not a date and time.",
                &[edupro_server::api::FieldError {
                    field: "scheduledAt".into(),
                    message: "as YYYY-MM-DD HH:MM, in UTC".into(),
                }],
            );
            return None;
        }
    }
    Some(body)
}

impl LiveView {
    fn load(&mut self, out: &mut Out) {
        self.generation += 1;
        if !matches!(self.agenda, Some(Load::Ready(_))) {
            self.agenda = Some(Load::Loading);
        }
        out.effect(Effect::Live(LiveEffect::LoadAgenda {
            generation: self.generation,
            span: self.span,
            offset: self.offset,
        }));
    }

    fn classes(&self) -> &[LiveClass] {
        match &self.agenda {
            Some(Load::Ready(a)) => &a.classes,
            _ => &[],
        }
    }

    fn current(&self) -> Option<&LiveClass> {
        self.classes().get(self.selected)
    }

    /// The agenda's lines: in a week, each day's heading, then its classes.
    fn entries(agenda: &Agenda) -> Vec<Entry> {
        match agenda.span {
            Span::Day => (0..agenda.classes.len()).map(Entry::Class).collect(),
            Span::Week => {
                let mut entries = Vec::new();
                let mut day = agenda.from;
                while day < agenda.to {
                    let of_day: Vec<usize> = agenda
                        .classes
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.scheduled_at.date_naive() == day)
                        .map(|(i, _)| i)
                        .collect();
                    entries.push(Entry::Day(day, of_day.is_empty()));
                    entries.extend(of_day.into_iter().map(Entry::Class));
                    day = day.succ_opt().unwrap_or(agenda.to);
                }
                // Classes that began before the week and run into it.
                let before: Vec<usize> = agenda
                    .classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.scheduled_at.date_naive() < agenda.from)
                    .map(|(i, _)| i)
                    .collect();
                if !before.is_empty() {
                    let mut all: Vec<Entry> = before.into_iter().map(Entry::Class).collect();
                    all.extend(entries);
                    entries = all;
                }
                entries
            }
        }
    }

    /// The order the selection moves in (a week's lines are grouped by day).
    fn order(&self) -> Vec<usize> {
        match &self.agenda {
            Some(Load::Ready(a)) => Self::entries(a)
                .into_iter()
                .filter_map(|e| match e {
                    Entry::Class(i) => Some(i),
                    Entry::Day(..) => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn navigate(&mut self, command: Command, page: usize) -> bool {
        let order = self.order();
        let at = order.iter().position(|i| *i == self.selected).unwrap_or(0);
        let last = order.len().saturating_sub(1);
        let page = page.max(1);
        let next = match command {
            Command::Up => at.saturating_sub(1),
            Command::Down => (at + 1).min(last),
            Command::PageUp => at.saturating_sub(page),
            Command::PageDown => (at + page).min(last),
            Command::Top => 0,
            Command::Bottom => last,
            _ => return false,
        };
        if let Some(i) = order.get(next) {
            self.selected = *i;
        }
        if let Some(Load::Ready(a)) = &self.agenda {
            let line = Self::entries(a)
                .iter()
                .position(|e| *e == Entry::Class(self.selected))
                .unwrap_or(0);
            self.scroll = visible_offset(self.scroll, line, page);
        }
        true
    }

    fn open_schedule(&mut self, out: &mut Out) {
        self.schedule = Some(Schedule::Loading);
        out.effect(Effect::Live(LiveEffect::LoadChoices));
    }

    fn on_schedule_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(Schedule::Form { form, choices }) = self.schedule.as_mut() else {
            if key.code == KeyCode::Esc {
                self.schedule = None;
            }
            return;
        };
        let course = form.value("courseId").to_owned();
        match form.on_key(key) {
            Outcome::Editing => {
                if form.value("courseId") != course {
                    update_batches(form, choices);
                }
            }
            Outcome::Cancel => self.schedule = None,
            Outcome::Submit => {
                if let Some(body) = schedule_body(form, choices) {
                    form.busy = true;
                    out.effect(Effect::Live(LiveEffect::Schedule { body }));
                }
            }
        }
    }

    fn on_chat_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Page::Chat(chat) = &mut self.page else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {
                out.effect(Effect::Live(LiveEffect::LeaveRoom {
                    room: chat.room.clone(),
                }));
                self.page = Page::Agenda;
            }
            KeyCode::Char('c') if ctrl => {
                out.effect(Effect::Live(LiveEffect::LeaveRoom {
                    room: chat.room.clone(),
                }));
                self.page = Page::Agenda;
            }
            KeyCode::Char('r') if ctrl => {
                if matches!(chat.state, RoomState::Closed(_)) {
                    chat.state = RoomState::Joining;
                    out.effect(Effect::Live(LiveEffect::JoinRoom {
                        room: chat.room.clone(),
                    }));
                }
            }
            KeyCode::Enter => {
                let text = chat.input.trim().to_owned();
                if text.is_empty() {
                    return;
                }
                if chat.state != RoomState::Joined {
                    out.error(&Failure::msg(
                        "Not in the room yet; the message is kept until you are.",
                    ));
                    return;
                }
                chat.input.clear();
                out.effect(Effect::Live(LiveEffect::SendChat {
                    room: chat.room.clone(),
                    text,
                }));
            }
            KeyCode::Backspace => {
                chat.input.pop();
            }
            KeyCode::Char(c) if !ctrl => chat.input.push(c),
            _ => {}
        }
    }

    fn on_live(&mut self, action: LiveAction, out: &mut Out) {
        match action {
            LiveAction::Agenda { generation, answer } => {
                if generation != self.generation {
                    return;
                }
                match answer {
                    Ok(agenda) => {
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
            LiveAction::Choices(answer) => {
                if self.schedule.is_none() {
                    return;
                }
                match answer {
                    Ok(choices) if choices.courses.is_empty() => {
                        self.schedule = None;
                        out.error(&Failure::msg(
                            "You have no courses to schedule a class in; create one under Courses.",
                        ));
                    }
                    Ok(choices) => {
                        self.schedule = Some(Schedule::Form {
                            form: schedule_form(&choices),
                            choices,
                        })
                    }
                    Err(f) => {
                        self.schedule = None;
                        out.error(&f);
                    }
                }
            }
            LiveAction::Scheduled(answer) => match answer {
                Ok(class) => {
                    self.schedule = None;
                    out.info(format!(
                        "Scheduled “{}” on {} UTC",
                        class.title,
                        class.scheduled_at.format("%a %d %b %H:%M")
                    ));
                    // Show the span the new class is in, with it selected.
                    if let Some(Load::Ready(a)) = &self.agenda {
                        let days = (class.scheduled_at.date_naive() - a.today).num_days();
                        self.offset = match self.span {
                            Span::Day => days,
                            Span::Week => {
                                let monday = i64::from(a.today.weekday().num_days_from_monday());
                                (days + monday).div_euclid(7)
                            }
                        };
                    }
                    self.select_after = Some(class.id);
                    self.load(out);
                }
                Err(f) => {
                    if let Some(Schedule::Form { form, .. }) = self.schedule.as_mut() {
                        form.refused(&f.message, &f.fields);
                        // A clash names the other class under Start; say it once.
                        if f.status == Some(409) && f.fields.iter().any(|e| e.message == f.message)
                        {
                            form.error = Some("This time clashes with another class:".into());
                        }
                    }
                    out.error(&f);
                }
            },
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
            LiveAction::RoomJoined {
                room,
                members,
                messages,
            } => {
                let Page::Chat(chat) = &mut self.page else {
                    // Left before the join finished.
                    out.effect(Effect::Live(LiveEffect::LeaveRoom { room }));
                    return;
                };
                if chat.room != room {
                    out.effect(Effect::Live(LiveEffect::LeaveRoom { room }));
                    return;
                }
                chat.state = RoomState::Joined;
                chat.members = members;
                // A rejoin replays the latest messages: keep each once.
                let seen: std::collections::HashSet<i64> = chat
                    .lines
                    .iter()
                    .filter_map(|l| match l {
                        ChatLine::Message(m) => Some(m.id),
                        ChatLine::Notice(_) => None,
                    })
                    .collect();
                chat.lines.extend(
                    messages
                        .into_iter()
                        .filter(|m| !seen.contains(&m.id))
                        .map(ChatLine::Message),
                );
                trim(&mut chat.lines);
            }
            LiveAction::RoomRefused { room, reason } | LiveAction::RoomClosed { room, reason } => {
                if let Some(chat) = self.chat_of(&room) {
                    out.error(&Failure::msg(format!("Chat: {reason}")));
                    chat.state = RoomState::Closed(reason);
                }
            }
            LiveAction::RoomChat { room, message } => {
                if let Some(chat) = self.chat_of(&room) {
                    let dup = chat
                        .lines
                        .iter()
                        .any(|l| matches!(l, ChatLine::Message(m) if m.id == message.id));
                    if !dup {
                        chat.lines.push(ChatLine::Message(message));
                        trim(&mut chat.lines);
                    }
                }
            }
            LiveAction::RoomPresence {
                room,
                member,
                joined,
            } => {
                if let Some(chat) = self.chat_of(&room) {
                    let name = format!("{} {}", member.first_name, member.last_name);
                    chat.members.retain(|m| m.id != member.id);
                    if joined {
                        chat.members.push(member);
                    }
                    chat.lines.push(ChatLine::Notice(format!(
                        "{name} {}",
                        if joined { "joined" } else { "left" }
                    )));
                    trim(&mut chat.lines);
                }
            }
            LiveAction::RoomEvent { room, event } => {
                if let Some(chat) = self.chat_of(&room) {
                    chat.lines
                        .push(ChatLine::Notice(format!("The class has {event}")));
                    chat.class.status = match event.as_str() {
                        "started" => LiveClassStatus::Live,
                        "ended" => LiveClassStatus::Completed,
                        "cancelled" => LiveClassStatus::Cancelled,
                        _ => chat.class.status,
                    };
                    trim(&mut chat.lines);
                }
            }
            LiveAction::RoomError { room, message } => {
                if let Some(chat) = self.chat_of(&room) {
                    chat.lines
                        .push(ChatLine::Notice(format!("Not sent: {message}")));
                }
                out.error(&Failure::msg(message));
            }
            LiveAction::Sent => {}
        }
    }
}

fn trim(lines: &mut Vec<ChatLine>) {
    if lines.len() > KEPT_LINES {
        lines.drain(..lines.len() - KEPT_LINES);
    }
}

impl View for LiveView {
    fn captures_text(&self) -> bool {
        self.schedule.is_some() || matches!(self.page, Page::Chat(_))
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if self.schedule.is_some() {
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
        match &self.schedule {
            Some(Schedule::Loading) => {
                let popup = centered(area, 40, 3);
                frame.render_widget(ratatui::widgets::Clear, popup);
                frame.render_widget(
                    Paragraph::new("Loading your courses…").block(
                        Block::default()
                            .borders(Borders::ALL)
                            .title(" Schedule a class "),
                    ),
                    popup,
                );
            }
            Some(Schedule::Form { form, .. }) => form.draw(frame, area, theme),
            None => {}
        }
    }
}

impl LiveView {
    fn title(&self) -> String {
        let Some(Load::Ready(a)) = &self.agenda else {
            return " Live classes ".into();
        };
        match a.span {
            Span::Day => {
                let when = match a.offset {
                    0 => " (today)",
                    1 => " (tomorrow)",
                    -1 => " (yesterday)",
                    _ => "",
                };
                format!(
                    " Live classes · {}{when} · UTC ",
                    a.from.format("%a %d %b %Y")
                )
            }
            Span::Week => {
                let last = a.to.pred_opt().unwrap_or(a.to);
                format!(
                    " Live classes · week of {} – {}{} · UTC ",
                    a.from.format("%a %d %b"),
                    last.format("%a %d %b %Y"),
                    if a.offset == 0 { " (this week)" } else { "" }
                )
            }
        }
    }

    fn draw_agenda(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(self.title(), theme.title()))
            .title_bottom(
                Line::styled(
                    " n schedule · S start · E end · t attendance · c chat · w day/week · [ ] ",
                    theme.dim(),
                )
                .right_aligned(),
            );
        let agenda = match &self.agenda {
            None | Some(Load::Loading) => {
                frame.render_widget(Paragraph::new("Loading classes…").block(block), area);
                return;
            }
            Some(Load::Failed(f)) => {
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::styled(format!("Could not load: {}", f.message), theme.error()),
                        Line::styled("ctrl-r tries again", theme.dim()),
                    ])
                    .block(block),
                    area,
                );
                return;
            }
            Some(Load::Ready(a)) => a,
        };
        if agenda.classes.is_empty() && agenda.span == Span::Day {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("No classes on {}.", day_label(agenda.from))),
                    Line::styled(
                        "n schedules one · [ and ] move a day · w shows the week",
                        theme.dim(),
                    ),
                ])
                .block(block),
                area,
            );
            return;
        }
        let [list, detail] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(5)]).areas(area);
        let inner = block.inner(list);
        let entries = Self::entries(agenda);
        let height = usize::from(inner.height.saturating_sub(1)).max(1);
        let line = entries
            .iter()
            .position(|e| *e == Entry::Class(self.selected))
            .unwrap_or(0);
        let offset = visible_offset(self.scroll.min(entries.len()), line, height);
        let rows = entries.iter().skip(offset).take(height).map(|e| match e {
            Entry::Day(d, empty) => {
                let mut cells = vec![
                    Cell::from(""),
                    Cell::from(Line::styled(day_label(*d), theme.header())),
                ];
                if *empty {
                    cells.push(Cell::from(Line::styled("no classes", theme.dim())));
                }
                Row::new(cells)
            }
            Entry::Class(i) => {
                let c = &agenda.classes[*i];
                let selected = *i == self.selected;
                let when = format!(
                    "{}–{}",
                    c.scheduled_at.format("%H:%M"),
                    c.ends_at.format("%H:%M")
                );
                let when = if agenda.span == Span::Week && c.scheduled_at.date_naive() < agenda.from
                {
                    format!("{} {when}", c.scheduled_at.format("%d/%m"))
                } else {
                    when
                };
                let row = Row::new(vec![
                    Cell::from(if selected { "›" } else { " " }),
                    Cell::from(when),
                    Cell::from(c.title.clone()),
                    Cell::from(c.course.title.clone()),
                    Cell::from(c.status.as_str()),
                ]);
                if selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            }
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(11),
                Constraint::Fill(1),
                Constraint::Length(20),
                Constraint::Length(9),
            ],
        )
        .header(Row::new(["", "WHEN", "CLASS", "COURSE", "STATUS"]).style(theme.header()))
        .block(block);
        frame.render_widget(table, list);
        self.draw_detail(frame, detail, theme);
    }

    fn draw_detail(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = Block::default().borders(Borders::ALL);
        let Some(c) = self.current() else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "No classes this week. n schedules one.",
                    theme.dim(),
                ))
                .block(block),
                area,
            );
            return;
        };
        let place = match (&c.platform, &c.meeting_link) {
            (LivePlatform::Builtin, _) => "the class room (c opens its chat)".to_owned(),
            (p, Some(link)) => format!("{p} {link}"),
            (p, None) => p.to_string(),
        };
        let capacity = c
            .capacity
            .map(|n| format!("{n} seats"))
            .unwrap_or_else(|| "no seat limit".into());
        let lines = vec![
            Line::from(vec![
                TextSpan::styled(format!("{} ", c.title), theme.title()),
                TextSpan::raw(format!(
                    "{} · {} min · {}",
                    c.scheduled_at.format("%a %d %b %H:%M"),
                    c.duration,
                    if c.batch_id.is_some() {
                        "one batch"
                    } else {
                        "whole course"
                    }
                )),
            ]),
            Line::from(format!(
                "host {} {} · {capacity} · {}",
                c.host.first_name, c.host.last_name, place
            )),
            Line::styled(c.description.clone().unwrap_or_default(), theme.dim()),
        ];
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
            area,
        );
    }
}

fn draw_attendance(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    class: &LiveClass,
    report: &Load<AttendanceReport>,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            format!(
                " Attendance · {} · {} ",
                class.title,
                class.scheduled_at.format("%a %d %b %H:%M")
            ),
            theme.title(),
        ))
        .title_bottom(Line::styled(" esc back · ctrl-r reload ", theme.dim()).right_aligned());
    let report = match report {
        Load::Loading => {
            frame.render_widget(Paragraph::new("Loading attendance…").block(block), area);
            return;
        }
        Load::Failed(f) => {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(format!("Could not load: {}", f.message), theme.error()),
                    Line::styled("ctrl-r tries again", theme.dim()),
                ])
                .block(block),
                area,
            );
            return;
        }
        Load::Ready(r) => r,
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [summary, lists] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(format!(
            "{} of {} expected students attended · {} absent",
            report.present.len(),
            report.expected,
            report.absent.len()
        )),
        summary,
    );
    let [present, absent] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(lists);
    let height = usize::from(present.height.saturating_sub(3));
    let block = |title: String| {
        Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(title, theme.title()))
    };
    if report.present.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("Nobody has joined.", theme.dim()))
                .block(block(" Present ".into())),
            present,
        );
    } else {
        let rows = report.present.iter().take(height).map(|p| {
            Row::new(vec![
                Cell::from(format!("{} {}", p.student.first_name, p.student.last_name)),
                Cell::from(format!("{:>4}", p.minutes)),
                Cell::from(if p.present_now { "in now" } else { "" }),
            ])
        });
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Fill(1),
                    Constraint::Length(4),
                    Constraint::Length(6),
                ],
            )
            .header(Row::new(["STUDENT", " MIN", ""]).style(theme.header()))
            .block(block(format!(" Present ({}) ", report.present.len()))),
            present,
        );
    }
    let lines: Vec<Line> = if report.absent.is_empty() {
        vec![Line::styled("Nobody is missing.", theme.dim())]
    } else {
        report
            .absent
            .iter()
            .take(usize::from(absent.height.saturating_sub(2)))
            .map(|s| Line::from(format!("{} {}", s.first_name, s.last_name)))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block(format!(" Absent ({}) ", report.absent.len()))),
        absent,
    );
}

fn draw_chat(frame: &mut Frame, area: Rect, theme: Theme, chat: &ChatPage) {
    let state = match &chat.state {
        RoomState::Joining => "joining…".to_owned(),
        RoomState::Joined => format!("{} here", chat.members.len()),
        RoomState::Closed(_) => "disconnected".to_owned(),
    };
    let block = Block::default().borders(Borders::ALL).title(Line::styled(
        format!(
            " Chat · {} · {} · {state} ",
            chat.class.title, chat.class.status
        ),
        theme.title(),
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [messages, input, hint] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let width = usize::from(messages.width);
    let mut lines: Vec<Line> = Vec::new();
    for line in &chat.lines {
        match line {
            ChatLine::Message(m) => {
                let head = format!("{} {}: ", m.created_at.format("%H:%M"), m.author);
                let text = format!("{head}{}", m.text);
                for (i, part) in wrap(&text, width).into_iter().enumerate() {
                    if i == 0 && part.chars().count() >= head.chars().count() {
                        let rest: String = part.chars().skip(head.chars().count()).collect();
                        lines.push(Line::from(vec![
                            TextSpan::styled(head.clone(), theme.key()),
                            TextSpan::raw(rest),
                        ]));
                    } else {
                        lines.push(Line::from(part));
                    }
                }
            }
            ChatLine::Notice(text) => {
                for part in wrap(&format!("· {text}"), width) {
                    lines.push(Line::styled(part, theme.dim()));
                }
            }
        }
    }
    if let RoomState::Closed(reason) = &chat.state {
        lines.push(Line::styled(
            format!("Disconnected: {reason} (ctrl-r joins again)"),
            theme.error(),
        ));
    } else if lines.is_empty() && chat.state == RoomState::Joined {
        lines.push(Line::styled("No messages yet. Say hello.", theme.dim()));
    }
    let room = usize::from(messages.height);
    let skip = lines.len().saturating_sub(room);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        messages,
    );
    // The end of what is typed stays in view.
    let typed: Vec<char> = chat.input.chars().collect();
    let room = usize::from(input.width).saturating_sub(3);
    let shown: String = typed[typed.len().saturating_sub(room)..].iter().collect();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            TextSpan::styled("> ", theme.key()),
            TextSpan::raw(format!("{shown}▏")),
        ])),
        input,
    );
    frame.render_widget(
        Paragraph::new(Line::styled("enter send · esc leave the room", theme.dim())),
        hint,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_the_width_and_empty_ones_stay() {
        assert_eq!(wrap("abcdef", 4), ["abcd", "ef"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn a_start_that_is_not_a_date_stays_on_the_form() {
        let choices = ScheduleChoices {
            courses: vec![crate::tui::action::live::CourseChoice {
                id: Uuid::from_u128(7),
                title: "Rust".into(),
                batches: vec![(Uuid::from_u128(8), "Morning".into())],
            }],
            now: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let mut form = schedule_form(&choices);
        form.fields[2].value = "Q&A".into();
        form.fields[3].value = "tomorrow".into();
        assert_eq!(schedule_body(&mut form, &choices), None);
        assert_eq!(
            form.fields[3].error.as_deref(),
            Some("as YYYY-MM-DD HH:MM, in UTC")
        );
        form.fields[3].value = "2027-01-15 09:30".into();
        form.fields[1].value = "Morning".into();
        let body = schedule_body(&mut form, &choices).unwrap();
        assert_eq!(body["scheduledAt"], "2027-01-15T09:30:00Z");
        assert_eq!(body["courseId"], Uuid::from_u128(7).to_string());
        assert_eq!(body["batchId"], Uuid::from_u128(8).to_string());
        assert_eq!(body["duration"], 60);
        assert!(body.get("capacity").is_none());
    }
}
