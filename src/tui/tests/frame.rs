//! What every tab shares, on `TestBackend`: help, switching tabs and quitting, the
//! spinner, the offline header, a small terminal, long lists and an ended session.

use crossterm::event::KeyCode;
use edupro_server::api::{Course, CourseList, CourseStatus};

use super::{
    Harness, admin, course, course_list, courses, failure, offline, on_courses, page, teacher,
};
use crate::tui::action::{Action, Effect, Failure};

#[test]
fn help_lists_the_keys_of_the_current_view() {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.chars("?");
    insta::assert_snapshot!(h.screen());
    h.chars("x");
    assert!(!h.shows(" Keys "), "any key closes help");
}

#[test]
fn tab_and_numbers_switch_tabs_and_q_quits() {
    let mut h = Harness::signed_in(admin());
    h.press(KeyCode::Tab);
    assert!(h.shows("Courses"));
    h.press(KeyCode::BackTab).press(KeyCode::BackTab);
    assert!(
        matches!(
            &h.effects()[..],
            [
                Effect::Analytics(_),
                Effect::LoadGradingCount,
                Effect::LoadDoubtCount,
                Effect::LoadRevenue,
                Effect::LoadNotifications { .. },
                Effect::LoadCourses { .. },
                Effect::LoadUsers { .. }
            ]
        ),
        "each tab loads once, when first shown (the feed at sign-in)"
    );
    h.chars("6");
    assert!(h.effects().is_empty(), "the feed is not loaded twice");
    h.chars("1");
    assert!(h.effects().is_empty(), "Today is not loaded twice");
    h.chars("q");
    assert!(h.app.quit);
}

#[test]
fn the_spinner_turns_while_a_request_is_out_and_stops_after() {
    let mut h = on_courses();
    h.answer(Action::Tick);
    assert!(h.app.busy());
    assert!(h.screen().contains('⠙'));
    h.answer(course_list(courses()));
    assert!(!h.app.busy());
}

#[test]
fn an_unreachable_server_shows_offline_in_the_header_and_recovers() {
    let mut h = on_courses();
    h.answer(Action::Courses {
        generation: 1,
        answer: Err(offline()),
    });
    assert!(h.shows("○ offline"));
    h.answer(Action::Reachable(true));
    assert!(h.shows("● live"));
}

#[test]
fn a_small_terminal_still_draws_every_part() {
    let mut h = Harness::sized(true, 40, 12);
    h.answer(Action::SignedIn(teacher()));
    h.settle();
    h.press(KeyCode::Char('2'));
    h.answer(course_list(courses()));
    insta::assert_snapshot!(h.screen());
    h.terminal.backend_mut().resize(100, 30);
    h.answer(Action::Resize(100, 30));
    let screen = h.screen();
    assert!(
        screen.contains("Rust for Teachers") && screen.contains("? help"),
        "{screen}"
    );
}

#[test]
fn ten_thousand_rows_scroll_and_only_the_visible_ones_are_drawn() {
    let mut h = on_courses();
    let many: Vec<Course> = (0..10_000)
        .map(|i| course(i, &format!("Course {i:05}"), CourseStatus::Published, 0))
        .collect();
    h.answer(Action::Courses {
        generation: 1,
        answer: Ok(CourseList {
            courses: many,
            pagination: page(10_000, 10_000, false),
        }),
    });
    for _ in 0..50 {
        h.press(KeyCode::PageDown);
    }
    let screen = h.screen();
    insta::assert_snapshot!(screen);
}

#[test]
fn nearing_the_end_of_a_loaded_page_asks_for_the_next() {
    let mut h = on_courses();
    let many: Vec<Course> = (0..100)
        .map(|i| course(i, &format!("Course {i:03}"), CourseStatus::Published, 0))
        .collect();
    h.answer(Action::Courses {
        generation: 1,
        answer: Ok(CourseList {
            courses: many,
            pagination: page(100, 250, true),
        }),
    });
    h.effects();
    h.press(KeyCode::End);
    assert_eq!(
        h.effects(),
        [Effect::LoadCourses {
            generation: 1,
            page: 2,
            search: String::new()
        }]
    );
}

#[test]
fn a_session_that_ends_mid_way_brings_back_the_login_screen() {
    let mut h = on_courses();
    h.answer(Action::Courses {
        generation: 1,
        answer: Err(Failure {
            status: Some(401),
            ..failure("your session has ended (signed out elsewhere, or expired)")
        }),
    });
    let screen = h.screen();
    assert!(screen.contains("Sign in"), "{screen}");
    assert!(screen.contains("your session has ended"), "{screen}");
}

#[test]
fn a_narrow_header_drops_the_servers_address_not_the_link_state() {
    let mut wide = Harness::signed_in(teacher());
    wide.settle();
    let top = wide.screen().lines().next().unwrap_or_default().to_owned();
    assert!(top.contains("http://127.0.0.1:5001 ● live"), "{top}");

    let mut narrow = Harness::sized(true, 60, 18);
    narrow.app.update(Action::Reachable(true));
    narrow.app.update(Action::SignedIn(teacher()));
    narrow.settle();
    let top = narrow
        .screen()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(top.contains("TEACHER · ● live"), "{top}");
    assert!(!top.contains("127.0.0.1"), "{top}");
}
