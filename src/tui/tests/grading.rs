//! The Grading tab on `TestBackend`: the queue loading, empty, failed, filled and
//! blind; the filter; an answer graded with its marks checked first; the next
//! ungraded answer; a regrade's dry run, then applying it.

use crossterm::event::KeyCode;
use edupro_server::api::{
    AnswerOutcome, GradedAnswer, GradingItem, GradingQueue, MultipleSelectScoring, NextUngraded,
    Question, QuestionOption, QuestionType, RegradeChange, RegradeReport, ShowAnswers, StudentRef,
    Test, TestStatus, TestType,
};
use serde_json::json;

use super::{Harness, failure, id, offline, page, teacher, when};
use crate::tui::action::grading::{
    CourseRef, GradingAction, GradingChoices, GradingEffect, QueueFilter,
};
use crate::tui::action::{Action, Effect};

fn item(n: u128, student: Option<(&str, &str)>, answer: &str) -> GradingItem {
    GradingItem {
        answer_id: id(900 + n),
        attempt_id: id(800 + n),
        test_id: id(601),
        test_title: "Ownership check".into(),
        course_id: id(101),
        question_id: id(650),
        question_order: 2,
        question_text: "Explain borrowing in your own words.".into(),
        max_marks: 5.0,
        answer: Some(answer.into()),
        student: student.map(|(first, last)| StudentRef {
            id: id(10 + n),
            first_name: first.into(),
            last_name: last.into(),
            email: format!("{}@school.test", first.to_lowercase()),
        }),
        submitted_at: Some(when(30, 10)),
        marks: None,
        feedback: None,
        outcome: AnswerOutcome::Pending,
    }
}

fn items(blind: bool) -> Vec<GradingItem> {
    let who = |first, last| (!blind).then_some((first, last));
    vec![
        item(
            1,
            who("Diya", "Patel"),
            "Borrowing lets a function use a value without taking ownership of it.",
        ),
        item(
            2,
            who("Hiro", "Tanaka"),
            "A reference is a pointer that the compiler checks.\nIt can't outlive the value.",
        ),
        item(3, who("Omar", "Khan"), "I don't know."),
    ]
}

fn queue(generation: u64, items: Vec<GradingItem>) -> Action {
    let n = items.len() as u64;
    Action::Grading(GradingAction::Queue {
        generation,
        answer: Ok(GradingQueue {
            items,
            pagination: page(n as usize, n, false),
        }),
    })
}

fn on_grading() -> Harness {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('4'));
    h
}

fn on_filled_queue() -> Harness {
    let mut h = on_grading();
    h.effects();
    h.answer(queue(1, items(false)));
    h
}

#[test]
fn grading_queue_loading() {
    let mut h = on_grading();
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::LoadQueue {
            generation: 1,
            page: 1,
            filter: QueueFilter::default()
        })]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn grading_queue_empty() {
    let mut h = on_grading();
    h.answer(queue(1, vec![]));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn grading_queue_error() {
    let mut h = on_grading();
    h.answer(Action::Grading(GradingAction::Queue {
        generation: 1,
        answer: Err(offline()),
    }));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn grading_queue_filled() {
    let mut h = on_filled_queue();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn blind_mode_asks_the_server_to_hide_the_students() {
    let mut h = on_filled_queue();
    h.chars("b");
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::LoadQueue {
            generation: 2,
            page: 1,
            filter: QueueFilter {
                blind: true,
                ..QueueFilter::default()
            }
        })]
    );
    h.answer(queue(2, items(true)));
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    assert!(!screen.contains("Diya"), "{screen}");
}

fn question(
    n: u128,
    order: i64,
    kind: QuestionType,
    text: &str,
    options: &[(&str, bool)],
) -> Question {
    Question {
        id: id(650 + n),
        test_id: id(601),
        order,
        question_type: kind,
        question_text: text.into(),
        marks: 2.0,
        negative_marks: 0.0,
        explanation: None,
        options: options
            .iter()
            .enumerate()
            .map(|(i, (text, correct))| QuestionOption {
                id: id(660 + n * 10 + i as u128),
                text: (*text).into(),
                order: i as i64 + 1,
                is_correct: *correct,
            })
            .collect(),
        accepted_answers: vec![],
        numeric_tolerance: None,
    }
}

fn test_with(n: u128, course: u128, title: &str, questions: Vec<Question>) -> Test {
    Test {
        id: id(600 + n),
        course_id: id(course),
        batch_id: None,
        title: title.into(),
        test_type: TestType::Quiz,
        status: TestStatus::Published,
        instructions: None,
        duration_minutes: Some(30),
        duration: Some(30),
        passing_marks: 4.0,
        total_marks: 7.0,
        total_questions: questions.len() as i64,
        available_from: None,
        available_until: None,
        attempts_allowed: 1,
        shuffle_questions: false,
        shuffle_options: false,
        multiple_select_scoring: MultipleSelectScoring::AllOrNothing,
        allow_negative_total: false,
        show_results: true,
        show_answers: ShowAnswers::Never,
        published_at: Some(when(2, 9)),
        created_at: when(2, 9),
        updated_at: when(2, 9),
        questions: Some(questions),
        attempts_used: None,
    }
}

fn choices() -> GradingChoices {
    GradingChoices {
        courses: vec![
            CourseRef {
                id: id(102),
                title: "Algebra I".into(),
            },
            CourseRef {
                id: id(101),
                title: "Rust for Teachers".into(),
            },
        ],
        tests: vec![
            test_with(
                1,
                101,
                "Ownership check",
                vec![
                    question(
                        0,
                        1,
                        QuestionType::Mcq,
                        "Which keyword makes a binding mutable?",
                        &[("let", false), ("mut", true), ("ref", false)],
                    ),
                    question(1, 2, QuestionType::LongAnswer, "Explain borrowing.", &[]),
                ],
            ),
            test_with(2, 102, "Equations quiz", vec![]),
        ],
    }
}

#[test]
fn the_filter_narrows_the_queue_to_a_course_and_its_tests() {
    let mut h = on_filled_queue();
    h.chars("f");
    assert_eq!(h.effects(), [Effect::Grading(GradingEffect::LoadChoices)]);
    assert!(h.shows("Loading your tests…"));
    h.answer(Action::Grading(GradingAction::Choices(Ok(choices()))));
    // The second course; its one test.
    h.press(KeyCode::Right).press(KeyCode::Right);
    h.press(KeyCode::Tab).press(KeyCode::Right);
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::LoadQueue {
            generation: 2,
            page: 1,
            filter: QueueFilter {
                course: Some(id(101)),
                test: Some(id(601)),
                blind: false
            }
        })]
    );
    h.answer(queue(2, items(false)));
    assert!(h.shows("showing: course “Rust for Teachers” · test “Ownership check”"));
    h.press(KeyCode::Esc);
    assert!(matches!(
        &h.effects()[..],
        [Effect::Grading(GradingEffect::LoadQueue { filter, .. })] if *filter == QueueFilter::default()
    ));
}

fn on_answer() -> Harness {
    let mut h = on_filled_queue();
    h.press(KeyCode::Enter);
    h
}

#[test]
fn an_answer_opens_with_its_question_and_the_marks_field_ready() {
    let mut h = on_answer();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn marks_above_the_questions_are_refused_inline_without_a_request() {
    let mut h = on_answer();
    h.effects();
    h.chars("7").press(KeyCode::Enter);
    assert!(h.effects().is_empty());
    insta::assert_snapshot!(h.screen());
}

fn graded(item: &GradingItem, marks: f64, feedback: &str) -> GradedAnswer {
    GradedAnswer {
        item: GradingItem {
            marks: Some(marks),
            feedback: Some(feedback.into()),
            outcome: AnswerOutcome::Graded,
            ..item.clone()
        },
        attempt_score: 6.5,
        grading_complete: true,
    }
}

#[test]
fn saving_marks_sends_them_and_u_jumps_to_the_next_ungraded_answer() {
    let mut h = on_answer();
    h.chars("4.5")
        .press(KeyCode::Tab)
        .chars("Clear, but give an example.");
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::Grade {
            answer: id(901),
            marks: 4.5,
            feedback: Some("Clear, but give an example.".into())
        })]
    );
    h.answer(Action::Grading(GradingAction::Graded(Ok(graded(
        &items(false)[0],
        4.5,
        "Clear, but give an example.",
    )))));
    insta::assert_snapshot!(h.screen());
    h.chars("u");
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::Next {
            filter: QueueFilter::default()
        })]
    );
    h.answer(Action::Grading(GradingAction::Next(Ok(NextUngraded {
        item: Some(items(false)[1].clone()),
        remaining: 2,
    }))));
    let screen = h.screen();
    assert!(screen.contains("A reference is a pointer"), "{screen}");
    assert!(screen.contains("Hiro Tanaka"), "{screen}");
    // Back in the queue, the graded answer is gone.
    h.press(KeyCode::Esc).press(KeyCode::Esc);
    let screen = h.screen();
    assert!(screen.contains("Grading queue (2 waiting)"), "{screen}");
    assert!(!screen.contains("Diya"), "{screen}");
}

#[test]
fn the_servers_refusal_of_marks_shows_on_the_field() {
    let mut h = on_answer();
    h.chars("3").press(KeyCode::Enter);
    h.answer(Action::Grading(GradingAction::Graded(Err(
        crate::tui::action::Failure {
            status: Some(400),
            fields: vec![edupro_server::api::FieldError {
                field: "marks".into(),
                message: "must be between 0 and 2".into(),
            }],
            ..failure("Validation failed")
        },
    ))));
    let screen = h.screen();
    assert!(screen.contains("must be between 0 and 2"), "{screen}");
}

#[test]
fn nothing_left_to_grade_goes_back_to_the_queue() {
    let mut h = on_filled_queue();
    h.chars("u");
    h.effects();
    h.answer(Action::Grading(GradingAction::Next(Ok(NextUngraded {
        item: None,
        remaining: 0,
    }))));
    assert!(h.shows("Nothing left to grade here."));
}

fn on_regrade() -> Harness {
    let mut h = on_filled_queue();
    h.chars("R");
    assert_eq!(h.effects(), [Effect::Grading(GradingEffect::LoadChoices)]);
    h.answer(Action::Grading(GradingAction::Choices(Ok(choices()))));
    h
}

#[test]
fn the_regrade_form_shows_the_question_and_its_current_key() {
    let mut h = on_regrade();
    insta::assert_snapshot!(h.screen());
}

fn dry_run_report(dry_run: bool) -> RegradeReport {
    RegradeReport {
        question_id: id(650),
        dry_run,
        examined: 12,
        affected: vec![
            RegradeChange {
                attempt_id: id(0xaaaa_0001),
                student_id: id(11),
                old_score: 3.0,
                new_score: 5.0,
            },
            RegradeChange {
                attempt_id: id(0xaaaa_0002),
                student_id: id(0xbbbb_0012),
                old_score: 5.5,
                new_score: 3.5,
            },
        ],
    }
}

#[test]
fn a_regrade_is_a_dry_run_first_then_applied_with_a() {
    let mut h = on_regrade();
    // The key: option C instead of B.
    for _ in 0..3 {
        h.press(KeyCode::Tab);
    }
    h.press(KeyCode::Right).press(KeyCode::Enter);
    let body = json!({ "dryRun": true, "marks": 2.0, "correctOptions": [id(662)] });
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::Regrade {
            question: id(650),
            body: body.clone()
        })]
    );
    h.answer(Action::Grading(GradingAction::Regraded(Ok(
        dry_run_report(true),
    ))));
    insta::assert_snapshot!(h.screen());
    h.chars("a");
    let mut real = body;
    real["dryRun"] = json!(false);
    assert_eq!(
        h.effects(),
        [Effect::Grading(GradingEffect::Regrade {
            question: id(650),
            body: real
        })]
    );
    h.answer(Action::Grading(GradingAction::Regraded(Ok(
        dry_run_report(false),
    ))));
    assert!(h.shows("Regraded: 2 attempts rescored"));
}

#[test]
fn help_lists_the_grading_keys() {
    let mut h = on_filled_queue();
    h.chars("?");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn a_tabs_status_message_stays_with_its_tab() {
    let mut h = on_answer();
    h.chars("4.5").press(KeyCode::Enter);
    h.answer(Action::Grading(GradingAction::Graded(Ok(graded(
        &items(false)[0],
        4.5,
        "",
    )))));
    assert!(h.shows("Saved 4.5/5"), "{}", h.screen());
    // Esc leaves the marks field, so the digits switch tabs.
    h.press(KeyCode::Esc).press(KeyCode::Char('3'));
    let live = h.screen();
    assert!(
        !live.contains("Saved 4.5/5"),
        "Grading's news on Live: {live}"
    );
    assert!(live.contains("Signed in as"), "{live}");
    h.press(KeyCode::Char('4'));
    assert!(h.shows("Saved 4.5/5"), "{}", h.screen());
}
