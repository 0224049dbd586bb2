//! The Notifications tab, the WebSocket's header indicator, toasts of live
//! notifications and their de-duplication, driven by keys and by the actions the
//! network layer and the WebSocket task post.

use crossterm::event::KeyCode;
use edupro_server::api::{
    LiveClass, LiveClassCourse, LiveClassList, LiveClassStatus, LivePlatform, MarkedRead,
    Notification, NotificationList, NotificationType, PersonRef,
};
use serde_json::json;

use super::{Harness, admin, id, offline, page, teacher, when};
use crate::tui::action::{Action, Effect, Realtime};
use crate::tui::keymap::Keymap;
use crate::tui::widgets::toast::TOAST_TICKS;

pub(super) fn notification(n: i64, title: &str, read: bool) -> Notification {
    Notification {
        id: n,
        kind: NotificationType::Announcement,
        title: title.into(),
        message: format!("{title}: the details."),
        data: json!({}),
        action_url: None,
        is_read: read,
        created_at: when(20 + (n as u32 % 10), 9),
    }
}

/// The first page of the feed (generation 1), with more pages when `has_next`.
fn feed_page(items: Vec<Notification>, unread: u64, total: u64, has_next: bool) -> Action {
    let n = items.len();
    Action::Notifications {
        generation: 1,
        answer: Ok(NotificationList {
            notifications: items,
            unread_count: unread,
            pagination: page(n, total, has_next),
        }),
    }
}

/// `action` (a feed page) answered for `generation`.
fn for_generation(action: Action, generation: u64) -> Action {
    match action {
        Action::Notifications { answer, .. } => Action::Notifications { generation, answer },
        other => other,
    }
}

pub(super) fn feed(items: Vec<Notification>, unread: u64) -> Action {
    let total = items.len() as u64;
    feed_page(items, unread, total, false)
}

pub(super) fn class_list(classes: Vec<LiveClass>) -> LiveClassList {
    let n = classes.len();
    LiveClassList {
        classes,
        pagination: page(n, n as u64, false),
    }
}

fn class(n: u128, title: &str, course: &str, day: u32, hour: u32) -> LiveClass {
    LiveClass {
        id: id(700 + n),
        course_id: id(101),
        course: LiveClassCourse {
            id: id(101),
            title: course.into(),
        },
        batch_id: None,
        series_id: None,
        host: PersonRef {
            id: id(1),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        },
        title: title.into(),
        description: None,
        scheduled_at: when(day, hour),
        ends_at: when(day, hour + 1),
        duration: 60,
        capacity: None,
        platform: LivePlatform::Builtin,
        meeting_link: None,
        meeting_id: None,
        meeting_password: None,
        room: Some(format!("live_class:{}", id(700 + n))),
        status: LiveClassStatus::Scheduled,
        started_at: None,
        ended_at: None,
        cancelled_at: None,
        reminder_minutes: 15,
        created_at: when(1, 8),
        updated_at: when(1, 8),
    }
}

pub(super) fn classes() -> Vec<LiveClass> {
    vec![
        class(1, "Ownership, live", "Rust for Teachers", 30, 9),
        class(2, "Q&A", "Rust for Teachers", 30, 15),
        class(3, "Reading circle", "Poetry Workshop", 30, 18),
    ]
}

fn live(n: Notification) -> Action {
    Action::Realtime(Realtime::Notification(Box::new(n)))
}

fn three() -> Vec<Notification> {
    vec![
        notification(3, "Graded: Quiz 1", false),
        notification(2, "Import of users finished", false),
        notification(1, "Enrolled in Rust for Teachers", true),
    ]
}

/// Signed in as a teacher, everything answered, on the Notifications tab.
fn on_notifications(items: Vec<Notification>, unread: u64) -> Harness {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    // `settle` answered an empty feed; start again with these.
    h.press(KeyCode::Char('6')).ctrl('r');
    h.effects();
    h.answer(for_generation(feed(items, unread), 2));
    h
}

// ---- the tab in each state ----

#[test]
fn notifications_loading() {
    let mut h = Harness::signed_in(teacher());
    h.press(KeyCode::Char('6'));
    assert!(
        h.effects().contains(&Effect::LoadNotifications {
            generation: 1,
            page: 1
        }),
        "the feed loads at sign-in"
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn notifications_empty_then_the_socket_resumes_after_nothing() {
    let mut h = Harness::signed_in(teacher());
    h.effects();
    h.press(KeyCode::Char('6'));
    h.answer(feed(vec![], 0));
    assert_eq!(h.effects(), [Effect::Watch { since: Some(0) }]);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn notifications_error_and_the_socket_finds_its_own_start() {
    let mut h = Harness::signed_in(teacher());
    h.effects();
    h.press(KeyCode::Char('6'));
    h.answer(Action::Notifications {
        generation: 1,
        answer: Err(offline()),
    });
    assert_eq!(h.effects(), [Effect::Watch { since: None }]);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn notifications_filled_with_unread_marked_and_counted_in_the_tab() {
    let mut h = Harness::signed_in(teacher());
    h.effects();
    h.press(KeyCode::Char('6'));
    h.answer(feed(three(), 2));
    assert_eq!(
        h.effects(),
        [Effect::Watch { since: Some(3) }],
        "the socket resumes after the newest item of the feed"
    );
    h.answer(Action::Realtime(Realtime::Connected { since: 3 }));
    h.press(KeyCode::Down);
    insta::assert_snapshot!(h.screen());
}

// ---- live arrivals ----

#[test]
fn a_live_notification_toasts_on_any_tab_and_goes_on_top_of_the_feed() {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.answer(feed(three(), 2));
    // On Today: a toast, and the unread count goes up without a refresh.
    h.answer(live(notification(4, "New test: Quiz 2", false)));
    insta::assert_snapshot!("toast_on_today", h.screen());
    assert!(h.shows("3 unread"));
    // Keys still go to the view under the toast.
    h.press(KeyCode::Char('6'));
    let screen = h.screen();
    assert!(screen.contains("6 Notifications (3)"), "{screen}");
    let top = screen.find("New test: Quiz 2").expect(&screen);
    let next = screen.find("Graded: Quiz 1").expect(&screen);
    assert!(top < next, "the new one is on top:\n{screen}");
    // The toast goes after its few seconds.
    for _ in 0..TOAST_TICKS {
        h.answer(Action::Tick);
    }
    assert!(!h.shows("New notification"));
}

#[test]
fn a_notification_seen_twice_shows_once_and_toasts_once() {
    let mut h = on_notifications(three(), 2);
    h.answer(live(notification(4, "Class moved", false)));
    for _ in 0..TOAST_TICKS {
        h.answer(Action::Tick);
    }
    // A replay after a reconnect (or an overlap with a page) repeats it.
    h.answer(Action::Realtime(Realtime::Disconnected {
        reason: "connection reset".into(),
        retry_in: std::time::Duration::from_millis(250),
    }));
    h.answer(Action::Realtime(Realtime::Connected { since: 4 }));
    h.answer(live(notification(4, "Class moved", false)));
    let screen = h.screen();
    assert_eq!(screen.matches("Class moved").count(), 1, "{screen}");
    assert!(!screen.contains("New notification"), "{screen}");
    assert!(screen.contains("Notifications (3 unread)"), "{screen}");
}

#[test]
fn the_selection_stays_on_its_notification_when_one_arrives_above() {
    let mut h = on_notifications(three(), 2);
    h.press(KeyCode::Down);
    let screen = h.screen();
    assert!(
        screen.contains("Import of users finished: the details."),
        "{screen}"
    );
    h.answer(live(notification(4, "Class moved", false)));
    for _ in 0..TOAST_TICKS {
        h.answer(Action::Tick);
    }
    let screen = h.screen();
    assert!(
        screen.contains("Import of users finished: the details."),
        "{screen}"
    );
    assert_eq!(screen.matches('›').count(), 1, "{screen}");
}

#[test]
fn a_later_page_that_overlaps_live_arrivals_adds_nothing_twice() {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('6')).ctrl('r');
    h.effects();
    let first: Vec<Notification> = (0..100)
        .map(|i| notification(200 - i, &format!("Item {:03}", 200 - i), true))
        .collect();
    h.answer(for_generation(feed_page(first, 0, 200, true), 2));
    h.answer(live(notification(201, "Item 201", false)));
    h.press(KeyCode::End);
    assert_eq!(
        h.effects(),
        [Effect::LoadNotifications {
            generation: 2,
            page: 2
        }]
    );
    // The server pages by offset: page 2 starts one item early because of 201.
    let second: Vec<Notification> = (0..100)
        .map(|i| notification(101 - i, &format!("Item {:03}", 101 - i), true))
        .collect();
    h.answer(Action::Notifications {
        generation: 2,
        answer: Ok(NotificationList {
            notifications: second,
            unread_count: 1,
            pagination: edupro_server::api::Pagination {
                page: 2,
                limit: 100,
                total: 201,
                pages: 3,
                has_next: true,
                has_prev: true,
            },
        }),
    });
    h.press(KeyCode::End);
    let screen = h.screen();
    assert!(screen.contains("Item 002"), "{screen}");
    // 201 items: 201..=2, each once (101 came on both pages).
    assert!(screen.contains(" 200/201 "), "{screen}");
}

// ---- marking read ----

#[test]
fn enter_marks_the_selected_one_read_and_the_counts_follow() {
    let mut h = on_notifications(three(), 2);
    h.press(KeyCode::Enter);
    assert_eq!(h.effects(), [Effect::MarkRead { id: 3 }]);
    h.answer(Action::MarkedRead(Ok(notification(
        3,
        "Graded: Quiz 1",
        true,
    ))));
    let screen = h.screen();
    assert!(screen.contains("Notifications (1 unread)"), "{screen}");
    assert!(screen.contains("6 Notifications (1)"), "{screen}");
    assert!(screen.contains("Marked read: Graded: Quiz 1"), "{screen}");
    // Already read: nothing to ask.
    h.press(KeyCode::Enter);
    assert!(h.effects().is_empty());
    assert!(h.shows("Already read"));
}

#[test]
fn read_all_marks_everything_and_today_says_so() {
    let mut h = on_notifications(three(), 2);
    h.chars("M");
    assert_eq!(h.effects(), [Effect::MarkAllRead]);
    h.answer(Action::MarkedAllRead(Ok(MarkedRead {
        marked: 2,
        unread_count: 0,
    })));
    insta::assert_snapshot!("read_all", h.screen());
    h.press(KeyCode::Char('1'));
    assert!(h.shows("All read."));
    h.press(KeyCode::Char('6')).chars("M");
    assert!(h.effects().is_empty());
    assert!(h.shows("Nothing unread"));
}

#[test]
fn the_mark_read_keys_can_be_remapped_and_help_shows_them() {
    let keymap = Keymap::from_toml("[keys]\nmark_read = \"x\"\nmark_all_read = \"X\"\n").unwrap();
    let mut h = on_notifications(three(), 2);
    h.app.keymap = keymap;
    h.chars("?");
    insta::assert_snapshot!("help_on_notifications_remapped", h.screen());
    h.chars("?").chars("x");
    assert_eq!(h.effects(), [Effect::MarkRead { id: 3 }]);
    h.chars("m");
    assert!(h.effects().is_empty(), "m is no longer bound");
    h.chars("X");
    assert_eq!(h.effects(), [Effect::MarkAllRead]);
}

// ---- the header's connection indicator ----

fn header(h: &mut Harness) -> String {
    let line = h.screen().lines().next().unwrap_or_default().to_owned();
    line.trim_matches('"').trim_end().to_owned()
}

#[test]
fn the_header_follows_the_socket_connecting_live_reconnecting_offline_and_back() {
    let mut h = Harness::signed_in(admin());
    h.answer(feed(vec![], 0));
    assert!(header(&mut h).ends_with("◌ connecting"));
    h.answer(Action::Realtime(Realtime::Started));
    h.answer(Action::Realtime(Realtime::Connected { since: 0 }));
    insta::assert_snapshot!("header_live", header(&mut h));
    h.answer(Action::Realtime(Realtime::Disconnected {
        reason: "connection reset".into(),
        retry_in: std::time::Duration::from_millis(250),
    }));
    insta::assert_snapshot!("header_reconnecting", header(&mut h));
    h.answer(Action::Reachable(false));
    insta::assert_snapshot!("header_offline", header(&mut h));
    h.answer(Action::Realtime(Realtime::Connected { since: 0 }));
    assert!(header(&mut h).ends_with("● live"));
}

#[test]
fn refused_credentials_on_the_socket_end_the_session() {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.answer(Action::Realtime(Realtime::Ended(
        crate::tui::action::Failure {
            status: Some(401),
            ..crate::tui::action::Failure::msg("the server closed the connection: signed out")
        },
    )));
    let screen = h.screen();
    assert!(screen.contains("Sign in"), "{screen}");
    assert!(screen.contains("signed out"), "{screen}");
    // A late report of the ended task does not bring anything back.
    h.answer(live(notification(9, "Late", false)));
    assert!(!h.shows("Late"));
}
