//! The chat panel of a class's room: its messages and who is here, over the WebSocket
//! joined while the panel is open, and the line being typed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use edupro_server::api::{ChatMessage, LiveClass, LiveClassStatus, RoomMember};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span as TextSpan};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{LiveView, Page};
use crate::tui::action::live::{LiveAction, LiveEffect};
use crate::tui::action::{Effect, Failure};
use crate::tui::theme::Theme;
use crate::tui::views::Out;

/// Chat lines kept per room (older ones scroll away).
const KEPT_LINES: usize = 500;

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

pub(super) fn room_of(class: &LiveClass) -> String {
    class
        .room
        .clone()
        .unwrap_or_else(|| format!("live_class:{}", class.id))
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

impl LiveView {
    /// The chat page, when it is open on `room` (answers for another room are stale).
    fn chat_of(&mut self, room: &str) -> Option<&mut ChatPage> {
        match &mut self.page {
            Page::Chat(chat) if chat.room == room => Some(chat),
            _ => None,
        }
    }

    pub(super) fn on_chat_key(&mut self, key: &KeyEvent, out: &mut Out) {
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

    /// The room's answers and events; the other answers are `on_live`'s.
    pub(super) fn on_room(&mut self, action: LiveAction, out: &mut Out) {
        match action {
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
            _ => {}
        }
    }
}

fn trim(lines: &mut Vec<ChatLine>) {
    if lines.len() > KEPT_LINES {
        lines.drain(..lines.len() - KEPT_LINES);
    }
}

pub(super) fn draw_chat(frame: &mut Frame, area: Rect, theme: Theme, chat: &ChatPage) {
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
                let head = format!(
                    "{} {}: ",
                    theme.zone.local(m.created_at).format("%H:%M"),
                    m.author
                );
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
}
