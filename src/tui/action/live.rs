//! Requests and answers of the Live classes tab: the agenda, the schedule form, start
//! and end, attendance, and a class room's chat over the WebSocket.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use edupro_server::api::{AttendanceReport, ChatMessage, LiveClass, RoomMember};
use serde_json::Value;
use uuid::Uuid;

use super::Answer;

/// How much of the calendar the agenda shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Span {
    #[default]
    Day,
    /// Monday to Sunday.
    Week,
}

impl Span {
    /// The first day and the day after the last of the span `offset` spans from `today`.
    pub fn range(self, today: NaiveDate, offset: i64) -> (NaiveDate, NaiveDate) {
        let shift = |d: NaiveDate, days: i64| {
            if days >= 0 {
                d.checked_add_days(Days::new(days.unsigned_abs()))
            } else {
                d.checked_sub_days(Days::new(days.unsigned_abs()))
            }
            .unwrap_or(d)
        };
        match self {
            Span::Day => {
                let from = shift(today, offset);
                (from, shift(from, 1))
            }
            Span::Week => {
                let monday = shift(today, -i64::from(today.weekday().num_days_from_monday()));
                let from = shift(monday, offset * 7);
                (from, shift(from, 7))
            }
        }
    }
}

/// A request of the Live classes tab.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEffect {
    /// The classes of the day (or week) `offset` days (weeks) from today, in `--tz`.
    LoadAgenda {
        generation: u64,
        span: Span,
        offset: i64,
    },
    /// The caller's courses and their batches, for the schedule form.
    LoadChoices,
    Schedule {
        body: Value,
    },
    Start {
        class: Uuid,
    },
    End {
        class: Uuid,
    },
    /// Moves one class (not the rest of its series): a new start and length.
    Reschedule {
        class: Uuid,
        body: edupro_server::api::UpdateLiveClass,
    },
    /// Cancels one class (not the rest of its series); its students are notified.
    Cancel {
        class: Uuid,
    },
    LoadAttendance {
        class: Uuid,
    },
    /// Opens a WebSocket for the room and joins it; it stays open until `LeaveRoom`.
    JoinRoom {
        room: String,
    },
    SendChat {
        room: String,
        text: String,
    },
    LeaveRoom {
        room: String,
    },
}

impl LiveEffect {
    /// Whether an answer is expected (chat and leaving are fire-and-forget).
    pub fn shows_spinner(&self) -> bool {
        !matches!(self, Self::SendChat { .. } | Self::LeaveRoom { .. })
    }
}

/// The classes of one day or week.
#[derive(Debug, Clone, PartialEq)]
pub struct Agenda {
    /// Where its days begin and end (`--tz`).
    pub zone: crate::when::Zone,
    /// Today (in `zone`) when the agenda was read: where offset 0 is.
    pub today: NaiveDate,
    pub span: Span,
    pub offset: i64,
    /// The first day shown, and the day after the last.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Earliest first.
    pub classes: Vec<LiveClass>,
}

/// A course a class can be scheduled in, with its batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseChoice {
    pub id: Uuid,
    pub title: String,
    /// (id, name), by name.
    pub batches: Vec<(Uuid, String)>,
}

/// What the schedule form offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleChoices {
    pub courses: Vec<CourseChoice>,
    /// The time the form's default start is counted from.
    pub now: DateTime<Utc>,
    /// Where the start is typed.
    pub zone: crate::when::Zone,
}

/// An answer (or a push, for rooms) of the Live classes tab.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveAction {
    Agenda {
        generation: u64,
        answer: Answer<Agenda>,
    },
    Choices(Answer<ScheduleChoices>),
    Scheduled(Answer<LiveClass>),
    /// The class as it is after [`LiveEffect::Reschedule`].
    Rescheduled(Answer<LiveClass>),
    /// Started or ended: the class as it is now, and what to say.
    Changed(Answer<(String, LiveClass)>),
    Attendance(Answer<AttendanceReport>),
    /// In the room: who is there and its latest messages (oldest first).
    RoomJoined {
        room: String,
        members: Vec<RoomMember>,
        messages: Vec<ChatMessage>,
    },
    /// Joining failed (the connection is closed).
    RoomRefused {
        room: String,
        reason: String,
    },
    /// The connection of a joined room dropped.
    RoomClosed {
        room: String,
        reason: String,
    },
    RoomChat {
        room: String,
        message: ChatMessage,
    },
    RoomPresence {
        room: String,
        member: RoomMember,
        joined: bool,
    },
    /// The class started, ended or was cancelled.
    RoomEvent {
        room: String,
        event: String,
    },
    /// The server refused a message (too long, not allowed).
    RoomError {
        room: String,
        message: String,
    },
    /// A message or a leave went out (nothing to show).
    Sent,
}

impl LiveAction {
    /// Whether this answers a request (pushes from an open room do not).
    pub fn ends_request(&self) -> bool {
        !matches!(
            self,
            Self::RoomChat { .. }
                | Self::RoomClosed { .. }
                | Self::RoomPresence { .. }
                | Self::RoomEvent { .. }
                | Self::RoomError { .. }
                | Self::Sent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_runs_monday_to_sunday_and_offsets_move_by_whole_spans() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let thursday = d(12, 3);
        assert_eq!(Span::Day.range(thursday, 0), (d(12, 3), d(12, 4)));
        assert_eq!(Span::Day.range(thursday, -3), (d(11, 30), d(12, 1)));
        assert_eq!(Span::Week.range(thursday, 0), (d(11, 30), d(12, 7)));
        assert_eq!(Span::Week.range(thursday, 1), (d(12, 7), d(12, 14)));
    }
}
