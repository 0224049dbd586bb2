//! The Courses tab on `TestBackend`: the list (loading, empty, failed, filled, searched),
//! the course form's inline errors, publishing, the course tree and its edits, and the
//! roster of enrolled students.

use crossterm::event::KeyCode;
use edupro_server::api::{
    Course, CourseEnrollment, CourseEnrollmentList, CourseList, CourseStatus, EnrollmentStatus,
    FieldError, LessonSummary, LessonType, Section, StudentRef,
};

use super::{Harness, course_list, courses, failure, id, on_courses, page, when};
use crate::tui::action::{Action, Effect, Failure, SaveTarget};

fn lesson(n: u128, title: &str, order: i32, published: bool) -> LessonSummary {
    LessonSummary {
        id: id(300 + n),
        title: title.into(),
        r#type: LessonType::Text,
        duration: 15,
        order,
        is_free_preview: false,
        is_published: published,
    }
}

fn with_tree(mut c: Course) -> Course {
    c.sections = Some(vec![
        Section {
            id: id(201),
            title: "Getting started".into(),
            order: 1,
            lessons: vec![
                lesson(1, "Installing Rust", 1, true),
                lesson(2, "Hello, world", 2, true),
            ],
        },
        Section {
            id: id(202),
            title: "Ownership".into(),
            order: 2,
            lessons: vec![lesson(3, "Borrowing", 1, false)],
        },
    ]);
    c
}

fn roster() -> CourseEnrollmentList {
    let e = |n: u128, first: &str, last: &str, progress: i32, status| CourseEnrollment {
        id: id(400 + n),
        course_id: id(101),
        student: StudentRef {
            id: id(500 + n),
            first_name: first.into(),
            last_name: last.into(),
            email: format!("{}@school.test", first.to_lowercase()),
        },
        status,
        progress,
        enrolled_at: when(10 + n as u32, 9),
        completed_at: None,
        last_accessed_at: None,
        batch_id: None,
    };
    CourseEnrollmentList {
        enrollments: vec![
            e(1, "Chen", "Wei", 40, EnrollmentStatus::Active),
            e(2, "Diya", "Patel", 100, EnrollmentStatus::Completed),
            e(3, "Omar", "Haddad", 0, EnrollmentStatus::Active),
        ],
        pagination: page(3, 3, false),
    }
}

#[test]
fn courses_loading() {
    let mut h = on_courses();
    assert_eq!(
        h.effects(),
        [Effect::LoadCourses {
            generation: 1,
            page: 1,
            search: String::new()
        }]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn courses_empty() {
    let mut h = on_courses();
    h.answer(course_list(vec![]));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn courses_error() {
    let mut h = on_courses();
    h.answer(Action::Courses {
        generation: 1,
        answer: Err(failure("the server answered 500")),
    });
    insta::assert_snapshot!(h.screen());
}

#[test]
fn courses_filled_with_the_second_selected() {
    let mut h = on_courses();
    h.answer(course_list(courses())).press(KeyCode::Down);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn courses_search_sends_the_query_and_drops_older_answers() {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.effects();
    h.chars("/rust");
    insta::assert_snapshot!("courses_search_typing", h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::LoadCourses {
            generation: 2,
            page: 1,
            search: "rust".into()
        }]
    );
    // The first generation's answer arrives late: ignored.
    h.answer(course_list(courses()));
    assert!(h.shows("Loading…"));
    h.answer(Action::Courses {
        generation: 2,
        answer: Ok(CourseList {
            courses: vec![courses().remove(0)],
            pagination: page(1, 1, false),
        }),
    });
    insta::assert_snapshot!("courses_search_result", h.screen());
    h.press(KeyCode::Esc);
    assert_eq!(
        h.effects(),
        [Effect::LoadCourses {
            generation: 3,
            page: 1,
            search: String::new()
        }],
        "esc clears the search"
    );
}

#[test]
fn a_new_course_form_shows_the_servers_field_errors_inline() {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.effects();
    h.press(KeyCode::Char('n')).chars("x");
    h.press(KeyCode::Enter);
    let effects = h.effects();
    assert!(
        matches!(&effects[..], [Effect::Save { target: SaveTarget::NewCourse, body }]
            if body["title"] == "x" && body["level"] == "BEGINNER" && body["price"] == 0),
        "{effects:?}"
    );
    h.answer(Action::Saved {
        target: SaveTarget::NewCourse,
        answer: Err(Failure {
            status: Some(400),
            fields: vec![FieldError {
                field: "title".into(),
                message: "must be 3 to 200 characters".into(),
            }],
            ..failure("Validation failed")
        }),
    });
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Esc);
    assert!(!h.shows("New course"), "esc closes the form");
}

#[test]
fn publishing_from_the_list_asks_first_then_the_server_and_shows_the_new_status() {
    let mut h = on_courses();
    h.answer(course_list(courses())).press(KeyCode::Down);
    h.effects();
    h.chars("p");
    assert_eq!(h.effects(), [], "nothing is sent before the answer");
    assert!(h.shows("Publish “Algebra I”?"), "{}", h.screen());
    h.chars("y");
    assert_eq!(
        h.effects(),
        [Effect::SetCourseStatus {
            course: id(102),
            publish: true
        }]
    );
    let mut published = courses().remove(1);
    published.status = CourseStatus::Published;
    h.answer(Action::CourseChanged(Ok((
        "Course published".into(),
        published,
    ))));
    let screen = h.screen();
    assert!(screen.contains("Course published"), "{screen}");
    assert!(!screen.contains("DRAFT"), "{screen}");
    h.chars("Ay");
    assert_eq!(
        h.effects(),
        [Effect::SetCourseStatus {
            course: id(102),
            publish: false
        }]
    );
}

#[test]
fn archiving_asks_first_naming_the_students_notified_and_n_changes_nothing() {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.effects();
    h.chars("A");
    assert_eq!(h.effects(), []);
    insta::assert_snapshot!(h.screen());
    assert!(
        h.shows("its 12 enrolled students will be"),
        "{}",
        h.screen()
    );
    h.chars("q");
    assert!(
        h.shows("Archive “Rust for Teachers”?"),
        "other keys wait for y or n"
    );
    h.chars("n");
    assert_eq!(h.effects(), [], "n archives nothing");
    let screen = h.screen();
    assert!(!screen.contains("Archive “Rust"), "{screen}");
    assert!(screen.contains("Not archived."), "{screen}");
    h.chars("A").press(KeyCode::Esc);
    assert_eq!(h.effects(), [], "Esc cancels too");
    assert!(!h.shows("Archive “Rust"));
}

fn on_tree() -> Harness {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.effects();
    h.press(KeyCode::Enter);
    assert_eq!(h.effects(), [Effect::LoadCourse { id: id(101) }]);
    h
}

#[test]
fn course_tree_loading() {
    let mut h = on_tree();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn course_tree_empty() {
    let mut h = on_tree();
    let mut c = courses().remove(0);
    c.sections = Some(vec![]);
    h.answer(Action::Course(Ok(c)));
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Char('n'));
    assert!(h.shows("Add a section first."));
    h.chars("N");
    assert!(h.shows("New section"));
}

#[test]
fn course_tree_error() {
    let mut h = on_tree();
    h.answer(Action::Course(Err(Failure {
        status: Some(404),
        ..failure("No course with that id")
    })));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn course_tree_filled() {
    let mut h = on_tree();
    h.answer(Action::Course(Ok(with_tree(courses().remove(0)))));
    h.press(KeyCode::Down).press(KeyCode::Down);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn moving_a_lesson_down_sends_its_new_position_and_keeps_it_selected() {
    let mut h = on_tree();
    let course = with_tree(courses().remove(0));
    h.answer(Action::Course(Ok(course.clone())));
    h.press(KeyCode::Down); // Installing Rust
    h.chars("J");
    assert_eq!(
        h.effects(),
        [Effect::MoveLesson {
            course: id(101),
            lesson: id(301),
            position: 2
        }]
    );
    let mut moved = course;
    let lessons = &mut moved.sections.as_mut().unwrap()[0].lessons;
    lessons.swap(0, 1);
    lessons[0].order = 1;
    lessons[1].order = 2;
    h.answer(Action::CourseChanged(Ok(("Lesson moved".into(), moved))));
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    // The first section can't move up.
    h.press(KeyCode::Home).chars("K");
    assert!(h.effects().is_empty());
    assert!(h.shows("It is already at the end."));
}

#[test]
fn editing_a_lesson_opens_its_form_and_saves_to_that_lesson() {
    let mut h = on_tree();
    h.answer(Action::Course(Ok(with_tree(courses().remove(0)))));
    h.effects();
    h.press(KeyCode::Down).chars("e");
    // The tree has the lesson's summary: the whole lesson is read first.
    assert_eq!(h.effects(), [Effect::LoadLesson { id: id(301) }]);
    h.answer(Action::Lesson(Ok(edupro_server::api::Lesson {
        id: id(301),
        course_id: id(101),
        section_id: id(201),
        title: "Installing Rust".into(),
        r#type: edupro_server::api::LessonType::Video,
        content: Some("Run `rustup`.".into()),
        url: Some("https://videos.example/install".into()),
        duration: 15,
        order: 1,
        is_free_preview: false,
        is_published: true,
    })));
    let form = h.screen();
    assert!(form.contains("Edit lesson"), "{form}");
    assert!(form.contains("https://videos.example/install"), "{form}");
    assert!(form.contains("Run `rustup`."), "{form}");
    // Down to the URL and empty it: saving clears it (null), not keeps it.
    for _ in 0..5 {
        h.press(KeyCode::Tab);
    }
    for _ in 0.."https://videos.example/install".len() {
        h.press(KeyCode::Backspace);
    }
    h.press(KeyCode::Enter);
    let effects = h.effects();
    assert!(
        matches!(&effects[..], [Effect::Save { target: SaveTarget::EditLesson(l), body }]
            if *l == id(301) && body["title"] == "Installing Rust" && body["duration"] == 15
                && body["url"].is_null() && body["content"] == "Run `rustup`."),
        "{effects:?}"
    );
    h.answer(Action::Saved {
        target: SaveTarget::EditLesson(id(301)),
        answer: Ok("Lesson saved".into()),
    });
    assert_eq!(h.effects(), [Effect::LoadCourse { id: id(101) }]);
    assert!(h.shows("Lesson saved"));
}

fn on_roster() -> Harness {
    let mut h = on_courses();
    h.answer(course_list(courses()));
    h.effects();
    h.press(KeyCode::Char('s'));
    assert_eq!(
        h.effects(),
        [Effect::LoadRoster {
            generation: 1,
            course: id(101),
            page: 1
        }]
    );
    h
}

#[test]
fn roster_loading() {
    let mut h = on_roster();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn roster_empty() {
    let mut h = on_roster();
    h.answer(Action::Roster {
        generation: 1,
        answer: Ok(CourseEnrollmentList {
            enrollments: vec![],
            pagination: page(0, 0, false),
        }),
    });
    insta::assert_snapshot!(h.screen());
}

#[test]
fn roster_error() {
    let mut h = on_roster();
    h.answer(Action::Roster {
        generation: 1,
        answer: Err(Failure {
            status: Some(403),
            ..failure("Only the course's staff can see its students")
        }),
    });
    insta::assert_snapshot!(h.screen());
}

#[test]
fn roster_filled_with_progress() {
    let mut h = on_roster();
    h.answer(Action::Roster {
        generation: 1,
        answer: Ok(roster()),
    });
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Esc);
    assert!(h.shows("Rust for Teachers"), "esc goes back to the list");
}
