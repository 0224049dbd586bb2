//! Each role's dashboard on Today, on `TestBackend` at 80×24 and 100×30: fed the
//! dashboards the server answers (realistic figures), loading, failed and empty; and
//! Today's students at risk opening the student's analytics.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use crossterm::event::KeyCode;
use edupro_server::api::{
    AdminDashboard, AdminStats, AtRiskStudent, Badge, CourseLabel, CourseProgressItem, DateRange,
    EnrollmentStatus, ImportRunLine, PendingTest, PersonRef, RecentEnrollment, RecentGrade,
    RecentUser, RevenueSeries, RevenueTotal, Role, RoleCount, SeriesPoint, StudentDashboard,
    StudentStats, SystemHealth, TeacherDashboard, TeacherStats, TopCourse, UpcomingClass,
};

use super::realtime::{classes, feed, notification};
use super::{Harness, admin, failure, id, teacher, today_data, user, when};
use crate::tui::action::analytics::{AnalyticsAction, AnalyticsEffect, Dashboard};
use crate::tui::action::{Action, CurrencyNet, Effect};

/// The last day of every series: 1 December 2026.
pub(super) fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

/// A day series ending on [`last_day`], one value a day.
pub(super) fn series(values: &[i64]) -> Vec<SeriesPoint> {
    let first = last_day() - Days::new(values.len() as u64 - 1);
    values
        .iter()
        .enumerate()
        .map(|(i, v)| SeriesPoint {
            date: first + Days::new(i as u64),
            value: *v,
        })
        .collect()
}

pub(super) fn person(n: u128, first: &str, last: &str) -> PersonRef {
    PersonRef {
        id: id(n),
        first_name: first.into(),
        last_name: last.into(),
    }
}

pub(super) fn label(n: u128, title: &str) -> CourseLabel {
    CourseLabel {
        id: id(100 + n),
        title: title.into(),
    }
}

pub(super) fn rust() -> CourseLabel {
    label(1, "Rust for Teachers")
}

fn poetry() -> CourseLabel {
    label(3, "Poetry Workshop")
}

/// Omar (inactive and behind) and Hiro (failing tests) in Rust; Lena in Poetry.
pub(super) fn at_risk() -> Vec<AtRiskStudent> {
    vec![
        AtRiskStudent {
            student: person(503, "Omar", "Haddad"),
            course: rust(),
            progress_percent: 5,
            last_active_at: Some(when(21, 17)),
            reasons: vec!["inactive 10 days".into(), "behind the cohort".into()],
        },
        AtRiskStudent {
            student: person(504, "Hiro", "Tanaka"),
            course: rust(),
            progress_percent: 35,
            last_active_at: Some(when(30, 11)),
            reasons: vec!["failing tests (2 of 3 under 40%)".into()],
        },
        AtRiskStudent {
            student: person(505, "Lena", "Fischer"),
            course: poetry(),
            progress_percent: 20,
            last_active_at: Some(when(23, 9)),
            reasons: vec!["inactive 8 days".into()],
        },
    ]
}

/// The live-class fixtures as a dashboard names them.
fn upcoming() -> Vec<UpcomingClass> {
    classes()
        .into_iter()
        .map(|c| UpcomingClass {
            id: c.id,
            title: c.title,
            course: CourseLabel {
                id: c.course.id,
                title: c.course.title,
            },
            scheduled_at: c.scheduled_at,
            ends_at: c.ends_at,
        })
        .collect()
}

fn inr(net: i64) -> RevenueTotal {
    RevenueTotal {
        currency: "INR".into(),
        payments: 26,
        gross: net + 49_900,
        refunded: 49_900,
        net,
    }
}

pub(super) fn teacher_dashboard() -> TeacherDashboard {
    TeacherDashboard {
        stats: TeacherStats {
            total_courses: 3,
            total_students: 42,
            total_revenue: vec![inr(1_297_400)],
            avg_rating: Some(4.6),
        },
        recent_enrollments: vec![
            RecentEnrollment {
                student: person(501, "Chen", "Wei"),
                course: rust(),
                enrolled_at: when(29, 10),
            },
            RecentEnrollment {
                student: person(502, "Diya", "Patel"),
                course: poetry(),
                enrolled_at: when(20, 14),
            },
            RecentEnrollment {
                student: person(503, "Omar", "Haddad"),
                course: rust(),
                enrolled_at: when(18, 9),
            },
        ],
        upcoming_classes: upcoming(),
        pending_reviews: 4,
        unanswered_doubts: 2,
        students_at_risk: at_risk(),
        active_students: series(&[3, 5, 4, 6, 8, 7, 2, 1, 6, 9, 8, 12, 7, 5]),
    }
}

/// A teacher with courses but nothing waiting and nobody active yet.
pub(super) fn quiet_teacher_dashboard() -> TeacherDashboard {
    TeacherDashboard {
        stats: TeacherStats {
            total_courses: 3,
            total_students: 0,
            total_revenue: vec![],
            avg_rating: None,
        },
        recent_enrollments: vec![],
        upcoming_classes: vec![],
        pending_reviews: 0,
        unanswered_doubts: 0,
        students_at_risk: vec![],
        active_students: series(&[0; 14]),
    }
}

pub(super) fn admin_dashboard() -> AdminDashboard {
    // Weekdays busier than weekends (1 December 2026 is a Tuesday), growing slowly.
    let daily: Vec<i64> = (0..30)
        .map(|i| 90 + i * 2 + if matches!(i % 7, 5 | 6) { -35 } else { 0 })
        .collect();
    let signups: Vec<i64> = (0..30_usize)
        .map(|i| [0, 2, 1, 4, 0, 3, 1][i % 7])
        .collect();
    let inr_days: Vec<i64> = (0..30)
        .map(|i| if i % 3 == 0 { 49_900 * (1 + i % 4) } else { 0 })
        .collect();
    let usd_days: Vec<i64> = (0..30).map(|i| if i == 20 { 1_500 } else { 0 }).collect();
    AdminDashboard {
        stats: AdminStats {
            total_users: 1204,
            total_courses: 38,
            total_revenue: vec![inr(2_495_000)],
            active_users: 890,
            users_by_role: vec![
                RoleCount {
                    role: Role::Admin,
                    count: 4,
                },
                RoleCount {
                    role: Role::Teacher,
                    count: 62,
                },
                RoleCount {
                    role: Role::Student,
                    count: 1100,
                },
                RoleCount {
                    role: Role::Parent,
                    count: 38,
                },
            ],
            dau: 120,
            wau: 430,
            mau: 890,
        },
        recent_users: vec![RecentUser {
            id: id(601),
            first_name: "Ravi".into(),
            last_name: "Kumar".into(),
            role: Role::Student,
            created_at: when(30, 16),
        }],
        top_courses: vec![
            TopCourse {
                course: rust(),
                enrollments: 42,
                total_students: 120,
                rating: 4.6,
            },
            TopCourse {
                course: label(2, "Algebra I"),
                enrollments: 30,
                total_students: 88,
                rating: 4.2,
            },
            TopCourse {
                course: poetry(),
                enrollments: 12,
                total_students: 40,
                rating: 4.8,
            },
        ],
        revenue_chart: vec![
            RevenueSeries {
                currency: "USD".into(),
                points: series(&usd_days),
            },
            RevenueSeries {
                currency: "INR".into(),
                points: series(&inr_days),
            },
        ],
        signups: series(&signups),
        daily_active: series(&daily),
        import_runs: vec![ImportRunLine {
            id: id(801),
            kind: "users".into(),
            status: "APPLIED".into(),
            created: 120,
            updated: 3,
            failed: 1,
            started_at: when(28, 9),
        }],
        health: SystemHealth {
            mail_queued: 0,
            webhooks_pending: 1,
            webhooks_failed: 2,
            events_behind: 0,
            rolled_up_at: Some(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap()),
        },
    }
}

pub(super) fn student_dashboard() -> StudentDashboard {
    let progress = |n: u128, course: CourseLabel, percent, status| CourseProgressItem {
        course,
        enrollment_id: id(450 + n),
        status,
        progress_percent: percent,
        last_accessed_at: Some(when(30, 8)),
    };
    StudentDashboard {
        stats: StudentStats {
            enrolled_courses: 3,
            completed_courses: 1,
            total_xp: 1240,
            level: 4,
            current_streak: 3,
            longest_streak: 9,
            badges: vec![
                Badge {
                    code: "FIRST_LESSON".into(),
                    title: "First lesson".into(),
                    unlocked_at: when(3, 10),
                },
                Badge {
                    code: "STREAK_7".into(),
                    title: "A week in a row".into(),
                    unlocked_at: when(12, 10),
                },
            ],
        },
        recent_courses: vec![
            progress(1, rust(), 80, EnrollmentStatus::Active),
            progress(2, label(2, "Algebra I"), 45, EnrollmentStatus::Active),
            progress(3, poetry(), 100, EnrollmentStatus::Completed),
        ],
        upcoming_classes: upcoming().into_iter().take(2).collect(),
        pending_tests: vec![
            PendingTest {
                id: id(901),
                title: "Ownership check".into(),
                course: rust(),
                due_at: Some(Utc.with_ymd_and_hms(2026, 12, 3, 18, 0, 0).unwrap()),
            },
            PendingTest {
                id: id(902),
                title: "Linear equations".into(),
                course: label(2, "Algebra I"),
                due_at: None,
            },
        ],
        recent_grades: vec![
            RecentGrade {
                attempt_id: id(911),
                test_id: id(903),
                test_title: "Borrowing quiz".into(),
                course: rust(),
                percent: 82.5,
                passed: true,
                graded_at: when(27, 15),
            },
            RecentGrade {
                attempt_id: id(912),
                test_id: id(904),
                test_title: "Meter basics".into(),
                course: poetry(),
                percent: 38.0,
                passed: false,
                graded_at: when(19, 11),
            },
        ],
        time_spent: series(&[
            1800, 2700, 0, 600, 3600, 5400, 0, 0, 1200, 2400, 3000, 4500, 1800, 2100,
        ]),
    }
}

fn student() -> edupro_server::api::User {
    user(3, "Chen", "Wei", Role::Student)
}

fn dashboard(d: Dashboard) -> Action {
    Action::Analytics(AnalyticsAction::Dashboard(Ok(d)))
}

fn revenue() -> Vec<CurrencyNet> {
    vec![CurrencyNet {
        currency: "INR".into(),
        month: 399_200,
        total: 1_297_400,
    }]
}

/// A teacher's Today with every panel answered.
fn teacher_today(width: u16, height: u16) -> Harness {
    let mut h = Harness::signed_in_sized(teacher(), width, height);
    h.answer(dashboard(Dashboard::Teacher(Box::new(teacher_dashboard()))));
    h.answer(Action::Today(Ok(today_data())));
    h.answer(Action::Revenue(Ok(revenue())));
    h.answer(feed(vec![notification(2, "Graded: Quiz 1", false)], 1));
    h
}

fn admin_today(width: u16, height: u16) -> Harness {
    let mut h = Harness::signed_in_sized(admin(), width, height);
    h.answer(dashboard(Dashboard::Admin(Box::new(admin_dashboard()))));
    h.answer(Action::GradingCount(Ok(4)));
    h.answer(Action::DoubtCount(Ok(0)));
    h.answer(Action::Revenue(Ok(revenue())));
    h.answer(feed(vec![], 0));
    h
}

fn student_today(width: u16, height: u16) -> Harness {
    let mut h = Harness::signed_in_sized(student(), width, height);
    h.answer(dashboard(Dashboard::Student(Box::new(student_dashboard()))));
    h.answer(feed(
        vec![notification(2, "Graded: Borrowing quiz", false)],
        1,
    ));
    h
}

#[test]
fn each_role_asks_for_its_own_dashboard_and_only_what_it_lacks() {
    let mut h = Harness::signed_in(teacher());
    let range = DateRange::default();
    assert_eq!(
        h.effects()[..3],
        [
            Effect::Analytics(AnalyticsEffect::LoadDashboard {
                role: Role::Teacher,
                range
            }),
            Effect::LoadToday {
                role: Role::Teacher,
                me: id(1)
            },
            Effect::LoadRevenue,
        ]
    );
    let mut h = Harness::signed_in(admin());
    assert_eq!(
        h.effects()[..4],
        [
            Effect::Analytics(AnalyticsEffect::LoadDashboard {
                role: Role::Admin,
                range
            }),
            Effect::LoadGradingCount,
            Effect::LoadDoubtCount,
            Effect::LoadRevenue,
        ]
    );
    let mut h = Harness::signed_in(student());
    assert_eq!(
        h.effects()[..1],
        [Effect::Analytics(AnalyticsEffect::LoadDashboard {
            role: Role::Student,
            range
        })]
    );
    let mut h = Harness::signed_in(user(4, "Priya", "Nair", Role::Parent));
    assert!(
        !h.effects()
            .iter()
            .any(|e| matches!(e, Effect::Analytics(_))),
        "parents have no dashboard"
    );
}

#[test]
fn teacher_dashboard_at_80x24() {
    let mut h = teacher_today(80, 24);
    let screen = h.screen();
    assert!(
        screen.contains("3 courses · 42 students · ★ 4.6"),
        "{screen}"
    );
    assert!(screen.contains("4 answers wait for marks"), "{screen}");
    assert!(screen.contains("2 unanswered"), "{screen}");
    assert!(
        screen.contains("inactive 10 days; behind the cohort"),
        "{screen}"
    );
    assert!(screen.contains("11-18"), "the chart's first day: {screen}");
    assert!(screen.contains("12-01"), "the chart's last day: {screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn teacher_dashboard_at_100x30() {
    let mut h = teacher_today(100, 30);
    let screen = h.screen();
    assert!(screen.contains("Recent enrollments"), "{screen}");
    assert!(screen.contains("Your courses (3)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn teacher_dashboard_loading_then_failed_says_so_in_each_panel() {
    let mut h = Harness::signed_in(teacher());
    assert!(h.shows("Loading…"), "{}", h.screen());
    h.answer(Action::Analytics(AnalyticsAction::Dashboard(Err(failure(
        "the server had a problem",
    )))));
    h.answer(Action::Today(Ok(today_data())));
    h.answer(Action::Revenue(Ok(revenue())));
    let screen = h.screen();
    assert!(
        screen.contains("Could not load: the server had a problem"),
        "{screen}"
    );
    assert!(screen.contains("Could not load; ctrl-r"), "{screen}");
    assert!(
        screen.contains("Rust for Teachers"),
        "the courses still show: {screen}"
    );
}

#[test]
fn days_without_activity_say_no_activity_yet_instead_of_an_empty_chart() {
    let mut h = Harness::signed_in(teacher());
    h.answer(dashboard(Dashboard::Teacher(Box::new(
        quiet_teacher_dashboard(),
    ))));
    let screen = h.screen();
    assert!(screen.contains("no activity yet"), "{screen}");
    assert!(screen.contains("Nobody is at risk"), "{screen}");
    assert!(screen.contains("no ratings yet"), "{screen}");
}

#[test]
fn admin_dashboard_at_80x24() {
    let mut h = admin_today(80, 24);
    let screen = h.screen();
    assert!(
        screen.contains("1204 users · 38 courses · DAU 120 · WAU 430 · MAU 890"),
        "{screen}"
    );
    assert!(screen.contains("2 failed"), "{screen}");
    assert!(screen.contains("students"), "{screen}");
    assert!(screen.contains("INR (net; also USD)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn admin_dashboard_at_100x30() {
    let mut h = admin_today(100, 30);
    let screen = h.screen();
    assert!(screen.contains("rolled up 01 Dec 02:00"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn student_dashboard_at_80x24() {
    let mut h = student_today(80, 24);
    let screen = h.screen();
    assert!(screen.contains("3 days (best 9)"), "{screen}");
    assert!(screen.contains("Ownership check"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn student_dashboard_at_100x30() {
    let mut h = student_today(100, 30);
    let screen = h.screen();
    assert!(screen.contains("Meter basics"), "{screen}");
    assert!(screen.contains("failed"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_student_at_risk_on_today_opens_their_analytics() {
    let mut h = teacher_today(80, 24);
    h.effects();
    // Grading, doubts, the feed, three classes, then the students at risk.
    for _ in 0..6 {
        h.press(KeyCode::Down);
    }
    assert!(h.shows("› Omar Haddad"), "{}", h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Analytics(AnalyticsEffect::LoadStudent {
            student: id(503),
            range: DateRange::default()
        })]
    );
    let screen = h.screen();
    assert!(screen.contains("Omar Haddad · analytics"), "{screen}");
    assert!(screen.contains("2 Courses"), "{screen}");
    // Esc goes to the course list (no course page was under it), read now: the tab
    // was never shown before.
    h.press(KeyCode::Esc);
    assert!(!h.shows("Omar Haddad · analytics"), "{}", h.screen());
    assert!(
        matches!(h.effects()[..], [Effect::LoadCourses { page: 1, .. }]),
        "the list is read"
    );
}

#[test]
fn a_top_course_on_the_admin_dashboard_opens_its_lessons() {
    let mut h = admin_today(80, 24);
    h.effects();
    for _ in 0..3 {
        h.press(KeyCode::Down);
    }
    assert!(h.shows("› Rust for Teacher"), "{}", h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(h.effects(), [Effect::LoadCourse { id: id(101) }]);
}
