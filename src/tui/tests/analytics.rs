//! A course's analytics and a student's, pages of the Courses tab, on `TestBackend` at
//! 80×24 and 100×30: opened with `v` from the list or the tree, tests switched with
//! `[`/`]`, a student at risk opened with Enter and left with Esc; loading, failed,
//! empty and filled.

use crossterm::event::KeyCode;
use edupro_server::api::{
    Attendance, CourseAnalytics, DateRange, DayCount, EnrollmentStatus, LessonFunnelStep,
    RevenueTotal, ScoreDistribution, ScorePoint, StudentAnalytics, StudentCourseProgress,
    StudentEngagement, SubjectScore, TestScores,
};

use super::dashboards::{at_risk, label, last_day, person, rust, series};
use super::{Harness, course_list, courses, failure, id, on_courses};
use crate::tui::action::analytics::{AnalyticsAction, AnalyticsEffect};
use crate::tui::action::{Action, Effect};

fn first_day() -> chrono::NaiveDate {
    last_day() - chrono::Days::new(29)
}

fn step(n: u128, title: &str, completed: i64) -> LessonFunnelStep {
    LessonFunnelStep {
        lesson_id: id(300 + n),
        title: title.into(),
        completed,
        completion_rate: completed as f64 * 100.0 / 12.0,
        time_spent: 3600 * completed,
        watch_time: 1800 * completed,
    }
}

/// Rust for Teachers over the 30 days to 1 December: 12 students, 8 lessons, two
/// tests, two students at risk.
pub(super) fn course_analytics() -> CourseAnalytics {
    let enrollments = [
        0, 1, 0, 0, 2, 0, 1, 0, 0, 0, 3, 1, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0,
    ];
    let funnel = vec![
        step(1, "Installing Rust", 12),
        step(2, "Hello, world", 11),
        step(3, "Variables and mutability", 9),
        step(4, "Ownership and borrowing in depth", 7),
        step(5, "Lifetimes without tears", 5),
        step(6, "Traits and generics", 4),
        step(7, "Error handling with Result", 3),
        step(8, "Async Rust", 2),
    ];
    CourseAnalytics {
        course: rust(),
        since: first_day(),
        until: last_day(),
        total_enrollments: 12,
        completion_rate: 16.7,
        avg_rating: 4.6,
        total_revenue: vec![RevenueTotal {
            currency: "INR".into(),
            payments: 9,
            gross: 449_100,
            refunded: 0,
            net: 449_100,
        }],
        enrollment_trend: enrollments
            .iter()
            .enumerate()
            .map(|(i, count)| DayCount {
                date: first_day() + chrono::Days::new(i as u64),
                count: *count,
            })
            .collect(),
        active_students: series(&[4; 30]),
        time_spent: series(&[5400; 30]),
        watch_time: series(&[1800; 30]),
        top_performing_lessons: funnel[..3].to_vec(),
        funnel,
        score_distribution: vec![
            ScoreDistribution {
                test_id: id(903),
                title: "Ownership check".into(),
                attempts: 11,
                average: Some(64.5),
                buckets: vec![0, 1, 0, 1, 2, 1, 2, 2, 1, 1],
            },
            ScoreDistribution {
                test_id: id(904),
                title: "Borrowing quiz".into(),
                attempts: 9,
                average: Some(71.0),
                buckets: vec![0, 0, 0, 1, 1, 1, 2, 2, 1, 1],
            },
        ],
        attendance_rate: Some(83.3),
        student_engagement: StudentEngagement {
            avg_time_spent: 7_800.0,
            avg_progress: 54.2,
        },
        students_at_risk: at_risk()[..2].to_vec(),
    }
}

/// A course just published: nobody enrolled, nothing to show.
fn empty_course_analytics() -> CourseAnalytics {
    CourseAnalytics {
        total_enrollments: 0,
        completion_rate: 0.0,
        avg_rating: 0.0,
        total_revenue: vec![],
        enrollment_trend: vec![],
        active_students: series(&[0; 30]),
        time_spent: series(&[0; 30]),
        watch_time: series(&[0; 30]),
        funnel: vec![],
        top_performing_lessons: vec![],
        score_distribution: vec![],
        attendance_rate: None,
        student_engagement: StudentEngagement {
            avg_time_spent: 0.0,
            avg_progress: 0.0,
        },
        students_at_risk: vec![],
        ..course_analytics()
    }
}

/// Omar, behind in Rust and doing better in Algebra.
pub(super) fn student_analytics() -> StudentAnalytics {
    let minutes: Vec<i64> = (0..30)
        .map(|i| if i < 19 { (i % 4) * 900 } else { 0 })
        .collect();
    StudentAnalytics {
        student: person(503, "Omar", "Haddad"),
        since: first_day(),
        until: last_day(),
        overall_progress: 27.5,
        courses_completed: 0,
        courses_in_progress: 2,
        total_xp: 320,
        test_scores: TestScores {
            average: Some(38.0),
            highest: Some(55.0),
            lowest: Some(21.0),
            graded: 3,
        },
        learning_streak: 0,
        longest_streak: 4,
        time_spent: 19_200,
        time_series: series(&minutes),
        scores: vec![
            ScorePoint {
                date: first_day() + chrono::Days::new(4),
                test_title: "Ownership check".into(),
                percent: 55.0,
            },
            ScorePoint {
                date: first_day() + chrono::Days::new(12),
                test_title: "Borrowing quiz".into(),
                percent: 38.0,
            },
            ScorePoint {
                date: first_day() + chrono::Days::new(23),
                test_title: "Lifetimes".into(),
                percent: 21.0,
            },
        ],
        attendance: Attendance {
            attended: 2,
            held: 6,
            rate: Some(33.3),
        },
        courses: vec![
            StudentCourseProgress {
                course: rust(),
                status: EnrollmentStatus::Active,
                progress_percent: 5,
                time_spent: 4_800,
                average_score: Some(38.0),
            },
            StudentCourseProgress {
                course: label(2, "Algebra I"),
                status: EnrollmentStatus::Active,
                progress_percent: 50,
                time_spent: 14_400,
                average_score: None,
            },
        ],
        strong_subjects: vec![SubjectScore {
            subject: "Mathematics".into(),
            average: 78.0,
            graded: 2,
        }],
        weak_subjects: vec![SubjectScore {
            subject: "Programming".into(),
            average: 31.5,
            graded: 3,
        }],
    }
}

fn course_answer(data: CourseAnalytics) -> Action {
    Action::Analytics(AnalyticsAction::Course {
        course: data.course.id,
        answer: Ok(Box::new(data)),
    })
}

fn student_answer(data: StudentAnalytics) -> Action {
    Action::Analytics(AnalyticsAction::Student {
        student: data.student.id,
        answer: Ok(Box::new(data)),
    })
}

fn load_course() -> Effect {
    Effect::Analytics(AnalyticsEffect::LoadCourse {
        course: id(101),
        range: DateRange::default(),
    })
}

/// The Courses tab at `width`×`height` with the list in and the first course's
/// analytics asked for with `v`.
fn on_analytics(width: u16, height: u16) -> Harness {
    let mut h = Harness::signed_in_sized(super::teacher(), width, height);
    h.settle();
    h.press(KeyCode::Char('2'));
    h.answer(course_list(courses()));
    h.effects();
    h.chars("v");
    h
}

#[test]
fn v_on_a_course_asks_for_its_analytics_and_shows_loading() {
    let mut h = on_analytics(80, 24);
    assert_eq!(h.effects(), [load_course()]);
    let screen = h.screen();
    assert!(screen.contains("Rust for Teachers · analytics"), "{screen}");
    assert!(screen.contains("Loading…"), "{screen}");
}

#[test]
fn course_analytics_at_80x24() {
    let mut h = on_analytics(80, 24);
    h.answer(course_answer(course_analytics()));
    let screen = h.screen();
    assert!(screen.contains("12 enrolled"), "{screen}");
    assert!(screen.contains("attendance 83%"), "{screen}");
    assert!(screen.contains("Ownership check · 1 of 2"), "{screen}");
    assert!(
        screen.contains("11 graded attempts · average 64%"),
        "{screen}"
    );
    assert!(screen.contains("1. Installing Rust"), "{screen}");
    assert!(screen.contains("› Omar Haddad"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn course_analytics_at_100x30() {
    let mut h = on_analytics(100, 30);
    h.answer(course_answer(course_analytics()));
    let screen = h.screen();
    assert!(screen.contains("11-02"), "the trend's first day: {screen}");
    assert!(screen.contains("12-01"), "the trend's last day: {screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_course_with_nothing_yet_says_so_in_each_panel() {
    let mut h = on_analytics(80, 24);
    h.answer(course_answer(empty_course_analytics()));
    let screen = h.screen();
    assert!(screen.contains("no activity yet"), "{screen}");
    assert!(screen.contains("No tests in this course yet."), "{screen}");
    assert!(screen.contains("No published lessons yet."), "{screen}");
    assert!(screen.contains("Nobody is at risk"), "{screen}");
    assert!(screen.contains("no classes held"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn course_analytics_that_fail_say_why_and_esc_goes_back() {
    let mut h = on_analytics(80, 24);
    h.answer(Action::Analytics(AnalyticsAction::Course {
        course: id(101),
        answer: Err(failure(
            "Only the course's teachers and admins see its analytics",
        )),
    }));
    let screen = h.screen();
    assert!(
        screen.contains("Could not load: Only the course's teachers and admins"),
        "{screen}"
    );
    h.press(KeyCode::Esc);
    assert!(h.shows("› Rust for Teachers"), "{}", h.screen());
}

#[test]
fn brackets_switch_the_test_of_the_score_histogram_and_wrap_around() {
    let mut h = on_analytics(80, 24);
    h.answer(course_answer(course_analytics()));
    h.effects();
    h.chars("]");
    let screen = h.screen();
    assert!(screen.contains("Borrowing quiz · 2 of 2"), "{screen}");
    assert!(
        screen.contains("9 graded attempts · average 71%"),
        "{screen}"
    );
    h.chars("]");
    assert!(h.shows("Ownership check · 1 of 2"), "{}", h.screen());
    h.chars("[");
    assert!(h.shows("Borrowing quiz · 2 of 2"), "{}", h.screen());
    assert!(h.effects().is_empty(), "switching tests reads nothing");
}

#[test]
fn enter_on_a_student_at_risk_opens_their_analytics_and_esc_comes_back() {
    let mut h = on_analytics(80, 24);
    h.answer(course_answer(course_analytics()));
    h.effects();
    h.press(KeyCode::Down);
    assert!(h.shows("› Hiro Tanaka"), "{}", h.screen());
    h.press(KeyCode::Up).press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Analytics(AnalyticsEffect::LoadStudent {
            student: id(503),
            range: DateRange::default()
        })]
    );
    assert!(h.shows("Omar Haddad · analytics"), "{}", h.screen());
    h.answer(student_answer(student_analytics()));
    let screen = h.screen();
    assert!(
        screen.contains("At risk in Rust for Teachers: inactive 10 days; behind the cohort"),
        "{screen}"
    );
    insta::assert_snapshot!("student_analytics_at_80x24", screen);
    // Esc: back to the course's page, as it was; Esc again: back to the list.
    h.press(KeyCode::Esc);
    assert!(h.shows("› Omar Haddad"), "{}", h.screen());
    assert!(h.shows("Rust for Teachers · analytics"), "{}", h.screen());
    h.press(KeyCode::Esc);
    assert!(h.shows("v analytics · s students"), "{}", h.screen());
}

#[test]
fn student_analytics_at_100x30() {
    let mut h = on_analytics(100, 30);
    h.answer(course_answer(course_analytics()));
    h.press(KeyCode::Enter);
    h.answer(student_answer(student_analytics()));
    let screen = h.screen();
    assert!(screen.contains("▲ Mathematics"), "{screen}");
    assert!(screen.contains("▼ Programming"), "{screen}");
    assert!(screen.contains("5% · 1 h 20 min"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn an_answer_for_another_course_or_student_is_dropped() {
    let mut h = on_analytics(80, 24);
    let mut other = course_analytics();
    other.course = label(9, "Somebody else's course");
    h.answer(course_answer(other));
    assert!(h.shows("Loading…"), "{}", h.screen());
    h.answer(course_answer(course_analytics()));
    h.press(KeyCode::Enter);
    let mut someone = student_analytics();
    someone.student = person(999, "Someone", "Else");
    h.answer(student_answer(someone));
    assert!(h.shows("Loading…"), "{}", h.screen());
}

#[test]
fn v_on_the_tree_opens_the_courses_analytics_and_esc_returns_to_the_tree() {
    let mut h = on_analytics(80, 24);
    h.press(KeyCode::Esc);
    h.press(KeyCode::Enter);
    h.answer(Action::Course(Ok(courses()[0].clone())));
    assert!(h.shows("v analytics"), "{}", h.screen());
    h.effects();
    h.chars("v");
    assert_eq!(h.effects(), [load_course()]);
    h.answer(course_answer(course_analytics()));
    h.press(KeyCode::Esc);
    assert!(h.shows("No sections yet"), "{}", h.screen());
}

#[test]
fn help_names_the_analytics_key_and_the_pages_own_keys() {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.chars("?");
    assert!(
        h.shows("analytics: funnel, scores, students at risk"),
        "{}",
        h.screen()
    );
    h.chars("x");
    h.chars("v");
    h.answer(course_answer(course_analytics()));
    h.chars("?");
    insta::assert_snapshot!(h.screen());
}
