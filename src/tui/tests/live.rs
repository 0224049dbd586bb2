//! The Live classes tab on `TestBackend`: the agenda (day and week) loading, empty,
//! failed and filled; the schedule form with its refusals inline; start; attendance;
//! the room's chat.

use chrono::{NaiveDate, TimeZone, Utc};
use crossterm::event::KeyCode;
use edupro_server::api::{
    AttendanceEntry, AttendanceReport, ChatMessage, FieldError, LiveClass, LiveClassCourse,
    LiveClassStatus, LivePlatform, PersonRef, Role, RoomMember, StudentRef,
};
use serde_json::json;

use super::{Harness, failure, id, offline, teacher};
use crate::tui::action::live::{
    Agenda, CourseChoice, LiveAction, LiveEffect, ScheduleChoices, Span,
};
use crate::tui::action::{Action, Effect, Failure};

fn at(day: u32, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, minute, 0)
        .unwrap()
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
}

/// A class of the teacher's on 2026-12-`day` at `hour`, one hour long.
fn class(n: u128, title: &str, day: u32, hour: u32, host: u128) -> LiveClass {
    let start = at(day, hour, 0);
    LiveClass {
        id: id(500 + n),
        course_id: id(101),
        course: LiveClassCourse {
            id: id(101),
            title: "Rust for Teachers".into(),
        },
        batch_id: None,
        series_id: None,
        host: PersonRef {
            id: id(host),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        },
        title: title.into(),
        description: Some(format!("About {title}")),
        scheduled_at: start,
        ends_at: start + chrono::Duration::minutes(60),
        duration: 60,
        capacity: Some(30),
        platform: LivePlatform::Builtin,
        meeting_link: None,
        meeting_id: None,
        meeting_password: None,
        room: Some(format!("live_class:{}", id(500 + n))),
        status: LiveClassStatus::Scheduled,
        started_at: None,
        ended_at: None,
        cancelled_at: None,
        reminder_minutes: 15,
        created_at: at(1, 8, 0),
        updated_at: at(1, 8, 0),
    }
}

/// Thursday 2026-12-03 is today.
fn agenda(span: Span, offset: i64, classes: Vec<LiveClass>) -> Agenda {
    let (from, to) = span.range(date(3), offset);
    Agenda {
        zone: crate::when::Zone::UTC,
        today: date(3),
        span,
        offset,
        from,
        to,
        classes,
    }
}

fn agenda_answer(generation: u64, agenda: Agenda) -> Action {
    Action::Live(LiveAction::Agenda {
        generation,
        answer: Ok(agenda),
    })
}

fn day_classes() -> Vec<LiveClass> {
    vec![
        class(1, "Ownership Q&A", 3, 9, 1),
        class(2, "Borrowing workshop", 3, 14, 1),
        class(3, "Guest lecture", 3, 16, 9),
    ]
}

fn on_live() -> Harness {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('3'));
    h
}

fn on_filled_day() -> Harness {
    let mut h = on_live();
    h.effects();
    h.answer(agenda_answer(1, agenda(Span::Day, 0, day_classes())));
    h
}

#[test]
fn live_agenda_loading_asks_for_today() {
    let mut h = on_live();
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::LoadAgenda {
            generation: 1,
            span: Span::Day,
            offset: 0
        })]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_agenda_empty() {
    let mut h = on_live();
    h.answer(agenda_answer(1, agenda(Span::Day, 0, vec![])));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_agenda_error() {
    let mut h = on_live();
    h.answer(Action::Live(LiveAction::Agenda {
        generation: 1,
        answer: Err(offline()),
    }));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_agenda_filled_with_the_second_selected() {
    let mut h = on_filled_day();
    h.press(KeyCode::Down);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn the_week_view_groups_classes_by_day_and_brackets_move_a_week() {
    let mut h = on_filled_day();
    h.chars("w");
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::LoadAgenda {
            generation: 2,
            span: Span::Week,
            offset: 0
        })]
    );
    let mut week = day_classes();
    let mut monday = class(4, "Monday kickoff", 3, 10, 1);
    monday.scheduled_at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
    monday.ends_at = monday.scheduled_at + chrono::Duration::minutes(60);
    week.insert(0, monday);
    week.push(class(5, "Weekend review", 6, 11, 1));
    // An answer for the day view arriving late is dropped.
    h.answer(agenda_answer(1, agenda(Span::Day, 0, vec![])));
    h.answer(agenda_answer(2, agenda(Span::Week, 0, week)));
    h.press(KeyCode::Down).press(KeyCode::Down);
    insta::assert_snapshot!(h.screen());
    h.chars("]");
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::LoadAgenda {
            generation: 3,
            span: Span::Week,
            offset: 1
        })]
    );
}

fn choices() -> ScheduleChoices {
    ScheduleChoices {
        zone: crate::when::Zone::UTC,
        courses: vec![
            CourseChoice {
                id: id(101),
                title: "Rust for Teachers".into(),
                batches: vec![(id(701), "Evening batch".into())],
            },
            CourseChoice {
                id: id(102),
                title: "Algebra I".into(),
                batches: vec![],
            },
        ],
        now: at(3, 8, 17),
    }
}

fn on_schedule_form() -> Harness {
    let mut h = on_filled_day();
    h.chars("n");
    assert_eq!(h.effects(), [Effect::Live(LiveEffect::LoadChoices)]);
    h.answer(Action::Live(LiveAction::Choices(Ok(choices()))));
    h
}

#[test]
fn live_schedule_form_loading() {
    let mut h = on_filled_day();
    h.chars("n");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_schedule_form_filled_sends_the_class_with_its_batch() {
    let mut h = on_schedule_form();
    h.chars("Office hours");
    // Course → batch: the course's batches follow the course.
    h.press(KeyCode::Up).press(KeyCode::Right);
    h.press(KeyCode::Down).press(KeyCode::Down);
    for _ in 0..5 {
        h.press(KeyCode::Backspace);
    }
    h.chars("16:30");
    h.press(KeyCode::Down)
        .press(KeyCode::Backspace)
        .press(KeyCode::Backspace);
    h.chars("45").press(KeyCode::Down).chars("20");
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::Schedule {
            body: json!({
                "courseId": id(101), "batchId": id(701), "title": "Office hours",
                "scheduledAt": "2026-12-04T16:30:00Z", "duration": 45, "capacity": 20,
                "platform": "BUILTIN",
            })
        })]
    );
}

#[test]
fn a_clash_shows_under_the_start_and_keeps_the_form() {
    let mut h = on_schedule_form();
    h.chars("Office hours").press(KeyCode::Enter);
    h.effects();
    let clash = "2026-12-04T10:00:00Z – 2026-12-04T11:00:00Z clashes with \"Ownership Q&A\" (id 0000, 2026-12-04T09:30:00Z – 2026-12-04T10:30:00Z): the same host";
    h.answer(Action::Live(LiveAction::Scheduled(Err(Failure {
        status: Some(409),
        fields: vec![FieldError {
            field: "scheduledAt".into(),
            message: clash.into(),
        }],
        ..failure(clash)
    }))));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn the_servers_field_errors_land_under_their_fields() {
    let mut h = on_schedule_form();
    h.press(KeyCode::Enter);
    h.answer(Action::Live(LiveAction::Scheduled(Err(Failure {
        status: Some(400),
        fields: vec![
            FieldError {
                field: "title".into(),
                message: "must not be empty".into(),
            },
            FieldError {
                field: "meetingUrl".into(),
                message: "is required for ZOOM".into(),
            },
        ],
        ..failure("Validation failed")
    }))));
    let screen = h.screen();
    let title = screen.find("must not be empty").expect(&screen);
    let url = screen.find("is required for ZOOM").expect(&screen);
    assert!(title < url, "{screen}");
}

#[test]
fn a_start_that_is_not_a_time_is_refused_before_sending() {
    let mut h = on_schedule_form();
    h.chars("Q&A").press(KeyCode::Down);
    for _ in 0..16 {
        h.press(KeyCode::Backspace);
    }
    h.chars("next friday").press(KeyCode::Enter);
    assert!(h.effects().is_empty());
    assert!(h.shows("`next friday` is not a date and time"));
}

#[test]
fn a_scheduled_class_is_shown_in_the_agenda_of_its_day() {
    let mut h = on_schedule_form();
    h.chars("Office hours").press(KeyCode::Enter);
    h.effects();
    let made = class(6, "Office hours", 4, 10, 1);
    h.answer(Action::Live(LiveAction::Scheduled(Ok(made.clone()))));
    assert!(h.shows("Scheduled “Office hours” on Fri 04 Dec 10:00 UTC"));
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::LoadAgenda {
            generation: 2,
            span: Span::Day,
            offset: 1
        })]
    );
    h.answer(agenda_answer(
        2,
        agenda(Span::Day, 1, vec![class(7, "Early", 4, 8, 1), made]),
    ));
    let screen = h.screen();
    assert!(screen.contains("› 10:00–11:00 Office hours"), "{screen}");
    assert!(screen.contains("Fri 04 Dec 2026 (tomorrow)"), "{screen}");
}

#[test]
fn the_host_starts_a_class_and_sees_it_live() {
    let mut h = on_filled_day();
    h.chars("S");
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::Start { class: id(501) })]
    );
    let mut live = class(1, "Ownership Q&A", 3, 9, 1);
    live.status = LiveClassStatus::Live;
    h.answer(Action::Live(LiveAction::Changed(Ok((
        "“Ownership Q&A” is live".into(),
        live,
    )))));
    let screen = h.screen();
    assert!(screen.contains("“Ownership Q&A” is live"), "{screen}");
    assert!(screen.contains("LIVE"), "{screen}");
}

#[test]
fn only_the_host_may_start_or_end_a_class() {
    let mut h = on_filled_day();
    h.press(KeyCode::End).chars("E");
    assert!(h.effects().is_empty());
    assert!(h.shows("Only the host can start or end this class."));
}

fn student(n: u128, first: &str, last: &str) -> StudentRef {
    StudentRef {
        id: id(n),
        first_name: first.into(),
        last_name: last.into(),
        email: format!("{}@school.test", first.to_lowercase()),
    }
}

fn on_attendance() -> Harness {
    let mut h = on_filled_day();
    h.chars("t");
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::LoadAttendance { class: id(501) })]
    );
    h
}

#[test]
fn live_attendance_loading() {
    let mut h = on_attendance();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_attendance_error() {
    let mut h = on_attendance();
    h.answer(Action::Live(LiveAction::Attendance(Err(failure(
        "Only this course's staff can see attendance",
    )))));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_attendance_empty() {
    let mut h = on_attendance();
    h.answer(Action::Live(LiveAction::Attendance(Ok(AttendanceReport {
        live_class_id: id(501),
        expected: 0,
        present: vec![],
        absent: vec![],
    }))));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_attendance_filled_with_minutes_and_absentees() {
    let mut h = on_attendance();
    let entry = |n, first, last, minutes, now| AttendanceEntry {
        student: student(n, first, last),
        first_joined_at: at(3, 9, 2),
        left_at: None,
        minutes,
        joins: 1,
        present_now: now,
    };
    h.answer(Action::Live(LiveAction::Attendance(Ok(AttendanceReport {
        live_class_id: id(501),
        expected: 5,
        present: vec![
            entry(11, "Diya", "Patel", 58, false),
            entry(12, "Hiro", "Tanaka", 41, true),
            entry(13, "Omar", "Khan", 7, false),
        ],
        absent: vec![student(14, "Ines", "Silva"), student(15, "Jonas", "Berg")],
    }))));
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Esc);
    assert!(h.shows("Ownership Q&A"));
}

fn message(n: i64, author: &str, text: &str) -> ChatMessage {
    ChatMessage {
        id: n,
        room: format!("live_class:{}", id(501)),
        user_id: id(1),
        author: author.into(),
        text: text.into(),
        created_at: at(3, 9, n as u32),
    }
}

fn on_chat() -> Harness {
    let mut h = on_filled_day();
    h.chars("c");
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::JoinRoom {
            room: format!("live_class:{}", id(501))
        })]
    );
    h
}

#[test]
fn live_chat_joining() {
    let mut h = on_chat();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_chat_empty_room() {
    let mut h = on_chat();
    h.answer(Action::Live(LiveAction::RoomJoined {
        room: format!("live_class:{}", id(501)),
        members: vec![],
        messages: vec![],
    }));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn live_chat_refused() {
    let mut h = on_chat();
    h.answer(Action::Live(LiveAction::RoomRefused {
        room: format!("live_class:{}", id(501)),
        reason: "cannot open the room connection: connection refused".into(),
    }));
    insta::assert_snapshot!(h.screen());
    h.ctrl('r');
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::JoinRoom {
            room: format!("live_class:{}", id(501))
        })]
    );
}

#[test]
fn live_chat_shows_the_last_messages_sends_and_hears_new_ones_then_leaves() {
    let mut h = on_chat();
    let room = format!("live_class:{}", id(501));
    let member = |n, first: &str| RoomMember {
        id: id(n),
        first_name: first.into(),
        last_name: "Patel".into(),
        role: Role::Student,
    };
    h.answer(Action::Live(LiveAction::RoomJoined {
        room: room.clone(),
        members: vec![member(1, "Ada"), member(11, "Diya")],
        messages: vec![
            message(1, "Diya Patel", "Is the recording up?"),
            message(2, "Ada Lovelace", "Yes, under lesson 3."),
        ],
    }));
    h.chars("See you at nine").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::SendChat {
            room: room.clone(),
            text: "See you at nine".into()
        })]
    );
    assert!(
        !h.app.busy(),
        "a chat message is not a request the spinner waits on"
    );
    h.answer(Action::Live(LiveAction::RoomChat {
        room: room.clone(),
        message: message(3, "Ada Lovelace", "See you at nine"),
    }));
    h.answer(Action::Live(LiveAction::RoomPresence {
        room: room.clone(),
        member: member(12, "Hiro"),
        joined: true,
    }));
    h.answer(Action::Live(LiveAction::RoomChat {
        room: room.clone(),
        message: message(
            4,
            "Hiro Patel",
            "A long question that goes on and on about lifetimes, borrowing and why the compiler says what it says",
        ),
    }));
    // The same message twice (a rejoin replays) shows once.
    h.answer(Action::Live(LiveAction::RoomChat {
        room: room.clone(),
        message: message(3, "Ada Lovelace", "See you at nine"),
    }));
    h.answer(Action::Live(LiveAction::RoomEvent {
        room: room.clone(),
        event: "started".into(),
    }));
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Esc);
    assert_eq!(h.effects(), [Effect::Live(LiveEffect::LeaveRoom { room })]);
    assert!(h.shows("Borrowing workshop"));
}

#[test]
fn help_lists_the_live_keys() {
    let mut h = on_filled_day();
    h.chars("?");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn cancelling_a_class_asks_first_then_marks_it_cancelled() {
    let mut h = on_filled_day();
    h.chars("X");
    assert!(h.effects().is_empty(), "nothing is sent before y");
    insta::assert_snapshot!(h.screen());

    // n keeps it.
    h.chars("n");
    assert!(h.effects().is_empty());
    assert!(
        h.shows("“Ownership Q&A” stays scheduled."),
        "{}",
        h.screen()
    );

    h.chars("X").chars("y");
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::Cancel { class: id(501) })]
    );
    let mut cancelled = class(1, "Ownership Q&A", 3, 9, 1);
    cancelled.status = LiveClassStatus::Cancelled;
    h.answer(Action::Live(LiveAction::Changed(Ok((
        "“Ownership Q&A” is cancelled; its students were told".into(),
        cancelled,
    )))));
    let screen = h.screen();
    assert!(
        screen.contains("is cancelled; its students were told"),
        "{screen}"
    );
    assert!(screen.contains("CANCELLED"), "{screen}");

    // A cancelled class is not asked about again.
    h.chars("X");
    assert!(h.effects().is_empty());
    assert!(
        h.shows("Only a class that has not started can be cancelled"),
        "{}",
        h.screen()
    );
}

#[test]
fn e_moves_a_class_in_the_agendas_zone_and_a_clash_keeps_the_form() {
    let mut h = on_filled_day();
    h.chars("e");
    insta::assert_snapshot!(h.screen());
    for _ in 0.."2026-12-03 09:00".len() {
        h.press(KeyCode::Backspace);
    }
    h.chars("2026-12-04 11:30").press(KeyCode::Tab);
    h.press(KeyCode::Backspace).press(KeyCode::Backspace);
    h.chars("90").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Live(LiveEffect::Reschedule {
            class: id(501),
            body: edupro_server::api::UpdateLiveClass {
                scheduled_at: Some(at(4, 11, 30)),
                duration: Some(90),
                ..Default::default()
            },
        })]
    );

    // A clash: the form stays, the other class named under the start.
    let clash = "clashes with \"Borrowing workshop\": the same host";
    h.answer(Action::Live(LiveAction::Rescheduled(Err(Failure {
        status: Some(409),
        fields: vec![FieldError {
            field: "scheduledAt".into(),
            message: clash.into(),
        }],
        ..failure(clash)
    }))));
    let screen = h.screen();
    assert!(
        screen.contains("This time clashes with another class:"),
        "{screen}"
    );
    assert!(screen.contains("Move “Ownership Q&A”"), "{screen}");

    // Moved: the agenda goes to the class's new day, with it selected.
    h.press(KeyCode::Enter);
    h.effects();
    let mut moved = class(1, "Ownership Q&A", 4, 11, 1);
    moved.scheduled_at = at(4, 11, 30);
    h.answer(Action::Live(LiveAction::Rescheduled(Ok(moved))));
    assert!(
        h.shows("Moved “Ownership Q&A” to Fri 04 Dec 11:30 UTC"),
        "{}",
        h.screen()
    );
    assert!(!h.shows("Move “Ownership Q&A”"), "the form closed");
    assert!(
        h.effects()
            .iter()
            .any(|e| matches!(e, Effect::Live(LiveEffect::LoadAgenda { offset: 1, .. }))),
        "reads the agenda of the new day"
    );
}
