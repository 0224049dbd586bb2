//! The Today tab on `TestBackend`: loading, empty, unreachable; staying true without
//! ctrl-r; its items opening what they name; revenue. (Each role's dashboard filled:
//! `dashboards.rs`.)

use crossterm::event::KeyCode;
use edupro_server::api::{DateRange, Role};

use super::dashboards::{quiet_teacher_dashboard, teacher_dashboard};
use super::realtime::{classes, feed, notification};
use super::{Harness, id, offline, teacher, today_data};
use crate::tui::action::analytics::{AnalyticsAction, AnalyticsEffect, Dashboard};
use crate::tui::action::live::{LiveAction, LiveEffect};
use crate::tui::action::{Action, CurrencyNet, Effect, Realtime, TodayData};

fn dashboard_effect() -> Effect {
    Effect::Analytics(AnalyticsEffect::LoadDashboard {
        role: Role::Teacher,
        range: DateRange::default(),
    })
}

fn teacher_answer(d: edupro_server::api::TeacherDashboard) -> Action {
    Action::Analytics(AnalyticsAction::Dashboard(Ok(Dashboard::Teacher(
        Box::new(d),
    ))))
}

/// INR sold this month and before, USD only before.
fn revenue() -> Vec<CurrencyNet> {
    vec![
        CurrencyNet {
            currency: "INR".into(),
            month: 39_920,
            total: 129_820,
        },
        CurrencyNet {
            currency: "USD".into(),
            month: 0,
            total: 1_500,
        },
    ]
}

#[test]
fn today_loading() {
    let mut h = Harness::signed_in(teacher());
    assert_eq!(
        h.effects(),
        [
            dashboard_effect(),
            Effect::LoadToday {
                role: Role::Teacher,
                me: id(1)
            },
            Effect::LoadRevenue,
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
    })));
    let mut empty = quiet_teacher_dashboard();
    empty.stats.total_courses = 0;
    h.answer(teacher_answer(empty));
    h.answer(Action::Revenue(Ok(vec![])));
    h.answer(feed(vec![], 0));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn today_error_when_the_server_is_unreachable() {
    let mut h = Harness::signed_in(teacher());
    h.answer(Action::Today(Err(offline())));
    h.answer(Action::Analytics(AnalyticsAction::Dashboard(
        Err(offline()),
    )));
    h.answer(Action::Revenue(Err(offline())));
    h.answer(Action::Notifications {
        generation: 1,
        answer: Err(offline()),
    });
    insta::assert_snapshot!(h.screen());
}

/// Today's own requests among `effects` (a tick may also ping).
fn today_loads(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Effect::LoadToday { .. }
                    | Effect::Analytics(_)
                    | Effect::LoadUpcoming
                    | Effect::LoadGradingCount
                    | Effect::LoadDoubtCount
                    | Effect::LoadRevenue
            )
        })
        .collect()
}

fn all_loads() -> Vec<Effect> {
    vec![
        dashboard_effect(),
        Effect::LoadToday {
            role: Role::Teacher,
            me: id(1),
        },
        Effect::LoadRevenue,
    ]
}

#[test]
fn an_event_on_screen_reads_today_again_once_per_burst_keeping_what_it_shows() {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.answer(Action::GradingCount(Ok(4)));
    h.answer(Action::Tick);
    assert!(today_loads(h.effects()).is_empty(), "nothing changed yet");

    // A submission arrives: Today (on screen) reads its panels again on the next tick.
    h.answer(Action::Realtime(Realtime::Notification(Box::new(
        notification(7, "Quiz 1 submitted", false),
    ))));
    h.answer(Action::Tick);
    assert_eq!(today_loads(h.effects()), all_loads());
    // Meanwhile it still shows the old count, not "Loading…".
    assert!(h.shows("4 answers wait for marks"), "{}", h.screen());

    // Two more while the reads are in flight: one more read after they answer.
    for n in [8, 9] {
        h.answer(Action::Realtime(Realtime::Notification(Box::new(
            notification(n, "Quiz 1 submitted", false),
        ))));
        h.answer(Action::Tick);
    }
    assert!(today_loads(h.effects()).is_empty(), "one read at a time");
    let mut seven = quiet_teacher_dashboard();
    seven.pending_reviews = 7;
    h.answer(teacher_answer(seven));
    h.answer(Action::Today(Ok(today_data())));
    h.answer(Action::Revenue(Ok(vec![])));
    assert!(h.shows("7 answers wait for marks"), "{}", h.screen());
    h.answer(Action::Tick);
    assert_eq!(today_loads(h.effects()), all_loads());
}

#[test]
fn scheduling_elsewhere_makes_today_read_again_when_shown() {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('3'));
    h.effects();
    h.answer(Action::Live(LiveAction::Scheduled(
        Ok(classes()[0].clone()),
    )));
    h.answer(Action::Tick);
    assert!(
        today_loads(h.effects()).is_empty(),
        "Today is not on screen: it waits"
    );
    h.press(KeyCode::Char('1'));
    assert_eq!(today_loads(h.effects()), all_loads());
    // Shown again without a change: nothing to read.
    h.press(KeyCode::Char('3')).press(KeyCode::Char('1'));
    assert!(today_loads(h.effects()).is_empty());
}

#[test]
fn today_filled_at_60x18_shows_a_row_of_every_panel() {
    let mut h = Harness::signed_in_sized(teacher(), 60, 18);
    h.answer(Action::Today(Ok(today_data())));
    h.answer(teacher_answer(teacher_dashboard()));
    h.answer(Action::Revenue(Ok(revenue())));
    h.answer(feed(vec![notification(1, "Enrolled", false)], 1));
    let screen = h.screen();
    let data = today_data();
    assert!(screen.contains(&data.courses[0].title), "{screen}");
    assert!(
        screen.contains("Chen Wei"),
        "the newest enrollment: {screen}"
    );
    assert!(
        screen.contains("Omar Haddad"),
        "the first at risk: {screen}"
    );
    assert!(screen.contains("Mon 30 Nov 09:00"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn todays_items_open_what_they_name() {
    let mut h = Harness::signed_in(teacher());
    h.answer(Action::Today(Ok(today_data())));
    h.answer(teacher_answer(teacher_dashboard()));
    h.answer(Action::Revenue(Ok(revenue())));
    h.answer(feed(vec![], 0));
    h.effects();

    // The grading queue is first: Enter shows Grading.
    h.press(KeyCode::Enter);
    assert!(h.shows("Grading queue ("), "{}", h.screen());
    h.effects();

    // Down past the doubts and the feed to the first class: Enter shows Live on that
    // class's day.
    h.press(KeyCode::Char('1'));
    h.press(KeyCode::Down)
        .press(KeyCode::Down)
        .press(KeyCode::Down);
    assert!(
        h.shows("› Mon 30 Nov 09:00 Ownership, live"),
        "{}",
        h.screen()
    );
    h.effects();
    h.press(KeyCode::Enter);
    assert!(h.shows("Live classes"), "{}", h.screen());
    assert!(
        h.effects()
            .iter()
            .any(|e| matches!(e, Effect::Live(LiveEffect::LoadAgenda { .. }))),
        "the agenda is read"
    );

    // Past the three classes and the three students at risk to the first course:
    // Enter opens its lessons.
    h.press(KeyCode::Char('1'));
    for _ in 0..6 {
        h.press(KeyCode::Down);
    }
    let course = today_data().courses[0].clone();
    assert!(h.shows(&format!("› {}", course.title)), "{}", h.screen());
    h.effects();
    h.press(KeyCode::Enter);
    assert_eq!(h.effects(), [Effect::LoadCourse { id: course.id }]);
}

#[test]
fn staff_see_revenue_this_month_and_in_all_per_currency_zero_as_zero() {
    let mut h = Harness::signed_in(super::admin());
    h.settle();
    assert!(
        h.shows("No sales yet: 0 this month, 0 in all."),
        "{}",
        h.screen()
    );
    h.answer(Action::Revenue(Ok(revenue())));
    let screen = h.screen();
    assert!(
        screen.contains("This month: INR 399.20, USD 0.00 · In all: INR 1298.20, USD 15.00"),
        "{screen}"
    );
}

#[test]
fn students_load_no_revenue() {
    let mut h = Harness::signed_in(super::user(3, "Chen", "Wei", Role::Student));
    assert!(!h.effects().contains(&Effect::LoadRevenue));
    assert!(!h.screen().contains("Revenue"));
}

#[test]
fn revenue_adds_up_this_months_rows_of_each_currency() {
    use edupro_server::api::{RevenueReport, RevenueRow, RevenueTotal};
    let row = |month: &str, currency: &str, net| RevenueRow {
        month: month.into(),
        course_id: id(9),
        course_title: "Rust".into(),
        currency: currency.into(),
        payments: 1,
        gross: net,
        refunded: 0,
        net,
    };
    let total = |currency: &str, net| RevenueTotal {
        currency: currency.into(),
        payments: 2,
        gross: net,
        refunded: 0,
        net,
    };
    let report = RevenueReport {
        rows: vec![
            row("2026-12", "INR", 100),
            row("2026-12", "INR", 50),
            row("2026-11", "INR", 7),
            row("2026-11", "USD", 9),
        ],
        totals: vec![total("INR", 157), total("USD", 9)],
    };
    let nets = crate::tui::action::revenue_by_currency(&report, "2026-12");
    assert_eq!(
        nets,
        [
            CurrencyNet {
                currency: "INR".into(),
                month: 150,
                total: 157
            },
            CurrencyNet {
                currency: "USD".into(),
                month: 0,
                total: 9
            }
        ]
    );
}
