//! The Today tab on `TestBackend`: loading, empty, unreachable and filled.

use edupro_server::api::Role;

use super::realtime::{class_list, classes, feed, notification};
use super::{Harness, id, offline, teacher, today_data};
use crate::tui::action::{Action, Effect, TodayData};

#[test]
fn today_loading() {
    let mut h = Harness::signed_in(teacher());
    assert_eq!(
        h.effects(),
        [
            Effect::LoadToday {
                role: Role::Teacher,
                me: id(1)
            },
            Effect::LoadUpcoming,
            Effect::LoadGradingCount,
            Effect::LoadNotifications {
                generation: 1,
                page: 1
            }
        ]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn today_empty() {
    let mut h = Harness::signed_in(teacher());
    h.answer(Action::Today(Ok(TodayData {
        courses: vec![],
        total_courses: 0,
        recent: vec![],
    })));
    h.answer(Action::Upcoming(Ok(class_list(vec![]))));
    h.answer(Action::GradingCount(Ok(0)));
    h.answer(feed(vec![], 0));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn today_error_when_the_server_is_unreachable() {
    let mut h = Harness::signed_in(teacher());
    h.answer(Action::Today(Err(offline())));
    h.answer(Action::Upcoming(Err(offline())));
    h.answer(Action::GradingCount(Err(offline())));
    h.answer(Action::Notifications {
        generation: 1,
        answer: Err(offline()),
    });
    insta::assert_snapshot!(h.screen());
}

#[test]
fn today_filled() {
    let mut h = Harness::signed_in(teacher());
    h.answer(Action::Today(Ok(today_data())));
    h.answer(Action::Upcoming(Ok(class_list(classes()))));
    h.answer(Action::GradingCount(Ok(4)));
    h.answer(feed(
        vec![
            notification(2, "Graded: Quiz 1", false),
            notification(1, "Enrolled", true),
        ],
        1,
    ));
    insta::assert_snapshot!(h.screen());
}
