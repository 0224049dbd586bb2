//! The Doubts tab on `TestBackend`: the queue loading, empty, failed and filled with
//! the selected doubt's thread; an answer written in the editor and posted; a draft
//! kept; hiding after a confirmation; a doubt asked live refreshing the queue; the tab
//! only for staff; Today's count of doubts; 60×18.

use crossterm::event::KeyCode;
use edupro_server::api::{
    Doubt, DoubtAnswer, DoubtList, DoubtStatus, DoubtThread, Notification, NotificationType,
    PersonRef, Role,
};
use serde_json::json;

use super::realtime::notification;
use super::{Harness, failure, id, offline, page, teacher, user, when};
use crate::tui::action::analytics::AnalyticsEffect;
use crate::tui::action::doubts::{DoubtsAction, DoubtsEffect};
use crate::tui::action::{Action, Effect, Failure, Realtime};

fn person(n: u128, first: &str, last: &str) -> PersonRef {
    PersonRef {
        id: id(n),
        first_name: first.into(),
        last_name: last.into(),
    }
}

fn doubt(n: u128, course: &str, title: &str, asker: (&str, &str), body: &str, day: u32) -> Doubt {
    Doubt {
        id: id(700 + n),
        course_id: id(101),
        course_title: course.into(),
        lesson_id: None,
        title: title.into(),
        body: body.into(),
        link: None,
        status: DoubtStatus::Open,
        author: person(20 + n, asker.0, asker.1),
        votes: 0,
        answers: 0,
        accepted_answer_id: None,
        voted: false,
        hidden: false,
        created_at: when(day, 9),
        updated_at: when(day, 9),
    }
}

fn doubts() -> Vec<Doubt> {
    vec![
        doubt(
            1,
            "Rust for Teachers",
            "Why does the borrow checker reject this loop?",
            ("Diya", "Patel"),
            "I push to a Vec while iterating over it.\nThe error says E0502.",
            27,
        ),
        doubt(
            2,
            "Rust for Teachers",
            "When should I use Rc?",
            ("Hiro", "Tanaka"),
            "Box, Rc and Arc all look alike to me.",
            29,
        ),
        doubt(
            3,
            "Algebra I",
            "Is x² + 1 ever zero?",
            ("Omar", "Khan"),
            "Over the reals, I mean.",
            30,
        ),
    ]
}

/// The queue's answer for `generation`, read on 30 Nov at 12:00.
fn queue(generation: u64, doubts: Vec<Doubt>) -> Action {
    let n = doubts.len() as u64;
    Action::Doubts(DoubtsAction::Queue {
        generation,
        at: when(30, 12),
        answer: Ok(DoubtList {
            doubts,
            pagination: page(n as usize, n, false),
        }),
    })
}

fn answer(n: u128, doubt: u128, who: (&str, &str), body: &str, staff: bool) -> DoubtAnswer {
    DoubtAnswer {
        id: id(750 + n),
        doubt_id: id(700 + doubt),
        body: body.into(),
        author: person(40 + n, who.0, who.1),
        by_staff: staff,
        votes: 0,
        voted: false,
        accepted: false,
        hidden: false,
        created_at: when(30, 10),
        updated_at: when(30, 10),
    }
}

fn thread(doubt: &Doubt, answers: Vec<DoubtAnswer>) -> Action {
    Action::Doubts(DoubtsAction::Thread {
        id: doubt.id,
        answer: Ok(DoubtThread {
            doubt: doubt.clone(),
            answers,
        }),
    })
}

fn asked(n: i64, title: &str) -> Notification {
    Notification {
        kind: NotificationType::DoubtAsked,
        data: json!({ "doubtId": id(700 + n as u128), "title": title }),
        action_url: Some(format!("/doubts/{}", id(700 + n as u128))),
        ..notification(n, "New doubt", false)
    }
}

fn on_doubts() -> Harness {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('5'));
    h
}

/// The queue filled, the first doubt's thread (no answers) in.
fn on_filled_queue() -> Harness {
    let mut h = on_doubts();
    h.effects();
    h.answer(queue(1, doubts()));
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadThread { id: id(701) })],
        "the selected doubt's thread is read"
    );
    h.answer(thread(&doubts()[0], vec![]));
    h
}

#[test]
fn doubts_queue_loading() {
    let mut h = on_doubts();
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadQueue {
            generation: 1,
            page: 1
        })]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn doubts_queue_empty() {
    let mut h = on_doubts();
    h.answer(queue(1, vec![]));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn doubts_queue_error() {
    let mut h = on_doubts();
    h.answer(Action::Doubts(DoubtsAction::Queue {
        generation: 1,
        at: when(30, 12),
        answer: Err(offline()),
    }));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn doubts_queue_filled_shows_the_selected_doubts_thread() {
    let mut h = on_filled_queue();
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    assert!(screen.contains("Unanswered doubts (3 waiting)"), "{screen}");
    assert!(
        screen.contains("3d"),
        "the oldest is three days old: {screen}"
    );
}

#[test]
fn moving_down_reads_that_doubts_thread_with_its_marked_answers() {
    let mut h = on_filled_queue();
    h.press(KeyCode::Down);
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadThread { id: id(702) })]
    );
    assert!(h.shows("Loading answers…"), "{}", h.screen());
    let mut hidden = answer(2, 2, ("Omar", "Khan"), "Just clone everything.", false);
    hidden.hidden = true;
    let mut accepted = answer(1, 2, ("Ada", "Lovelace"), "Rc shares; Box owns.", true);
    accepted.accepted = true;
    h.answer(thread(&doubts()[1], vec![accepted, hidden]));
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    assert!(
        screen.contains("Ada Lovelace [staff] [✓ accepted]"),
        "{screen}"
    );
    assert!(screen.contains("Omar Khan [hidden]"), "{screen}");
}

#[test]
fn a_answers_in_the_editor_ctrl_s_posts_it_and_the_doubt_leaves_the_queue() {
    let mut h = on_filled_queue();
    h.chars("a");
    h.chars("You borrow the Vec twice.");
    h.press(KeyCode::Enter);
    h.chars("Collect first, then push.");
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    assert!(h.effects().is_empty(), "nothing is sent while typing");
    h.ctrl('s');
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::Answer {
            doubt: id(701),
            body: "You borrow the Vec twice.\nCollect first, then push.".into()
        })]
    );
    assert!(h.shows("Sending…"), "{}", h.screen());
    h.answer(Action::Doubts(DoubtsAction::Answered {
        doubt: id(701),
        answer: Ok(answer(
            1,
            1,
            ("Ada", "Lovelace"),
            "You borrow the Vec twice.",
            true,
        )),
    }));
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadThread { id: id(702) })],
        "the next doubt is selected"
    );
    let screen = h.screen();
    assert!(
        screen.contains("Answer posted · 2 left · “Why does the borrow checker"),
        "{screen}"
    );
    assert!(screen.contains("Unanswered doubts (2 waiting)"), "{screen}");
    assert!(!screen.contains("Diya Patel"), "{screen}");
}

#[test]
fn an_empty_answer_is_refused_in_the_editor_without_a_request() {
    let mut h = on_filled_queue();
    h.press(KeyCode::Enter).chars("  ").ctrl('s');
    assert!(h.effects().is_empty());
    assert!(h.shows("Write an answer first."), "{}", h.screen());
}

#[test]
fn esc_keeps_the_draft_and_a_goes_on_with_it() {
    let mut h = on_filled_queue();
    h.chars("a").chars("Half a tho");
    h.press(KeyCode::Esc);
    assert!(h.shows("Draft kept; a goes on with it."), "{}", h.screen());
    assert!(h.shows("Unanswered doubts (3 waiting)"), "{}", h.screen());
    h.chars("a").chars("ught.").ctrl('s');
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::Answer {
            doubt: id(701),
            body: "Half a thought.".into()
        })]
    );
}

#[test]
fn a_refused_answer_keeps_the_editor_open_with_the_servers_message() {
    let mut h = on_filled_queue();
    h.chars("a").chars("An answer").ctrl('s');
    h.answer(Action::Doubts(DoubtsAction::Answered {
        doubt: id(701),
        answer: Err(Failure {
            status: Some(404),
            ..failure("Doubt not found")
        }),
    }));
    let screen = h.screen();
    assert!(screen.contains("Your answer to Diya Patel"), "{screen}");
    assert!(screen.contains("Doubt not found"), "{screen}");
    assert!(screen.contains("An answer▏"), "the text stays: {screen}");
}

#[test]
fn hiding_asks_first_n_keeps_the_doubt_and_y_hides_it() {
    let mut h = on_filled_queue();
    h.chars("h");
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    h.chars("n");
    assert!(h.effects().is_empty());
    assert!(
        h.shows("“Why does the borrow checker reject this loop?” stays visible."),
        "{}",
        h.screen()
    );
    h.chars("h").chars("y");
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::Hide { doubt: id(701) })]
    );
    let mut hidden = doubts()[0].clone();
    hidden.hidden = true;
    h.answer(Action::Doubts(DoubtsAction::Hidden {
        doubt: id(701),
        answer: Ok(hidden),
    }));
    let screen = h.screen();
    assert!(
        screen.contains("Hidden from students · 2 left · “Why does the borrow"),
        "{screen}"
    );
    assert!(screen.contains("Unanswered doubts (2 waiting)"), "{screen}");
}

#[test]
fn a_doubt_asked_live_refreshes_the_queue_on_screen_keeping_the_selection() {
    let mut h = on_filled_queue();
    h.press(KeyCode::Down);
    h.answer(thread(&doubts()[1], vec![]));
    h.effects();
    // Another kind of notification leaves the queue alone.
    h.answer(Action::Realtime(Realtime::Notification(Box::new(
        notification(8, "Quiz 1 submitted", false),
    ))));
    assert!(!h.effects().iter().any(|e| matches!(e, Effect::Doubts(_))));

    h.answer(Action::Realtime(Realtime::Notification(Box::new(asked(
        9,
        "Can a trait have fields?",
    )))));
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadQueue {
            generation: 2,
            page: 1
        })]
    );
    // The rows stay while it is read.
    assert!(h.shows("› Rust for Teachers"), "{}", h.screen());
    let mut more = doubts();
    more.push(doubt(
        9,
        "Rust for Teachers",
        "Can a trait have fields?",
        ("Lena", "Berg"),
        "Like a Java interface?",
        30,
    ));
    h.answer(queue(2, more));
    assert!(h.effects().is_empty(), "the thread shown is still the one");
    let screen = h.screen();
    assert!(screen.contains("Can a trait have fields?"), "{screen}");
    assert!(screen.contains("Unanswered doubts (4 waiting)"), "{screen}");
    assert!(
        screen.contains("› Rust for Teachers    When should I use Rc?"),
        "the same doubt stays selected: {screen}"
    );
}

#[test]
fn a_doubt_asked_elsewhere_refreshes_the_queue_when_it_is_shown() {
    let mut h = on_filled_queue();
    h.press(KeyCode::Char('1'));
    h.effects();
    h.answer(Action::Realtime(Realtime::Notification(Box::new(asked(
        9, "Another",
    )))));
    h.answer(Action::Tick);
    assert!(!h.effects().iter().any(|e| matches!(e, Effect::Doubts(_))));
    h.press(KeyCode::Char('5'));
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadQueue {
            generation: 2,
            page: 1
        })]
    );
}

#[test]
fn todays_doubts_count_opens_the_doubts_tab() {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.answer(Action::DoubtCount(Ok(3)));
    assert!(h.shows("3 unanswered"), "{}", h.screen());
    h.press(KeyCode::Down).press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Doubts(DoubtsEffect::LoadQueue {
            generation: 1,
            page: 1
        })]
    );
    assert!(h.shows("5 Doubts"), "{}", h.screen());
}

#[test]
fn answering_a_doubt_makes_today_read_its_counts_again() {
    let mut h = on_filled_queue();
    h.chars("a").chars("Yes.").ctrl('s');
    h.answer(Action::Doubts(DoubtsAction::Answered {
        doubt: id(701),
        answer: Ok(answer(1, 1, ("Ada", "Lovelace"), "Yes.", true)),
    }));
    h.effects();
    h.press(KeyCode::Char('1'));
    // A teacher's count of doubts waiting comes with their dashboard.
    assert!(
        h.effects()
            .iter()
            .any(|e| matches!(e, Effect::Analytics(AnalyticsEffect::LoadDashboard { .. }))),
        "Today reads the dashboard again"
    );
}

#[test]
fn students_have_no_doubts_tab() {
    let mut h = Harness::signed_in(user(3, "Chen", "Wei", Role::Student));
    let screen = h.screen();
    assert!(!screen.contains("Doubts"), "{screen}");
    assert!(!h.effects().contains(&Effect::LoadDoubtCount));
}

#[test]
fn help_lists_the_doubts_keys() {
    let mut h = on_filled_queue();
    h.chars("?");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn doubts_at_60x18_show_the_queue_and_the_thread() {
    let mut h = Harness::sized(true, 60, 18);
    h.app.update(Action::Reachable(true));
    h.app.update(Action::SignedIn(teacher()));
    h.settle();
    h.press(KeyCode::Char('5'));
    h.answer(queue(1, doubts()));
    h.answer(thread(&doubts()[0], vec![]));
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    assert!(screen.contains("5 Doubts"), "{screen}");
    assert!(screen.contains("I push to a Vec"), "{screen}");
    h.chars("a").chars("Short.");
    let screen = h.screen();
    assert!(screen.contains("Short.▏"), "{screen}");
}

#[test]
fn a_wide_terminal_puts_the_thread_beside_the_queue() {
    let mut h = Harness::sized(true, 120, 30);
    h.app.update(Action::Reachable(true));
    h.app.update(Action::SignedIn(teacher()));
    h.settle();
    h.press(KeyCode::Char('5'));
    h.answer(queue(1, doubts()));
    h.answer(thread(&doubts()[0], vec![]));
    let screen = h.screen();
    assert!(
        screen
            .lines()
            .any(|l| l.contains("COURSE") && l.contains("asked by Diya Patel")),
        "{screen}"
    );
}
