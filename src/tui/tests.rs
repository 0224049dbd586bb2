//! Render tests: the app on ratatui's `TestBackend` (80×24), driven by key events and
//! by the actions the network layer posts, through the same `on_key` / `update` the
//! real loop calls. Each view is shown loading, empty, failed and filled.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use edupro_server::api::{
    Course, CourseEnrollment, CourseEnrollmentList, CourseLevel, CourseList, CourseStatus,
    EnrollmentStatus, FieldError, ImportCounts, ImportKind, ImportMode, ImportRow, ImportSummary,
    LessonSummary, LessonType, Pagination, PersonRef, Role, RowOutcome, Section, StudentRef, User,
    UserList,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

use super::action::{Action, Effect, Failure, Realtime, RecentEnrollment, SaveTarget, TodayData};
use super::app::App;
use super::keymap::Keymap;
use super::theme::Theme;

// Notifications, the WebSocket's indicator, toasts and Today's live panels.
mod realtime;
// The Live classes and Grading tabs.
mod grading;
mod live;

use realtime::{class_list, classes, feed, notification};

const SERVER: &str = "http://127.0.0.1:5001";

struct Harness {
    app: App,
    terminal: Terminal<TestBackend>,
}

fn key_event(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent {
        code,
        modifiers,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

impl Harness {
    fn new(signed_in: bool) -> Self {
        Self::sized(signed_in, 80, 24)
    }

    fn sized(signed_in: bool, width: u16, height: u16) -> Self {
        let mut app = App::new(SERVER, Keymap::default(), Theme { color: false }, signed_in);
        app.update(Action::Resize(width, height));
        app.take_effects();
        Self {
            app,
            terminal: Terminal::new(TestBackend::new(width, height)).unwrap(),
        }
    }

    /// Signed in as `me`, with the first answers (connection check) in.
    fn signed_in(me: User) -> Self {
        let mut h = Self::new(true);
        h.app.update(Action::Reachable(true));
        h.app.update(Action::SignedIn(me));
        h
    }

    /// Answers what signing in asks for (Today's panels and the notification feed,
    /// empty) and connects the WebSocket: a quiet app to start a test from.
    fn settle(&mut self) -> &mut Self {
        self.answer(Action::Today(Ok(today_data())));
        self.answer(Action::Upcoming(Ok(class_list(vec![]))));
        self.answer(Action::GradingCount(Ok(0)));
        self.answer(feed(vec![], 0));
        self.answer(Action::Realtime(Realtime::Connected { since: 0 }));
        self.effects();
        self
    }

    fn press(&mut self, code: KeyCode) -> &mut Self {
        self.app.on_key(key_event(code, KeyModifiers::NONE));
        self
    }

    fn ctrl(&mut self, c: char) -> &mut Self {
        self.app
            .on_key(key_event(KeyCode::Char(c), KeyModifiers::CONTROL));
        self
    }

    fn chars(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            let modifiers = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.app.on_key(key_event(KeyCode::Char(c), modifiers));
        }
        self
    }

    fn answer(&mut self, action: Action) -> &mut Self {
        self.app.update(action);
        self
    }

    fn effects(&mut self) -> Vec<Effect> {
        self.app.take_effects()
    }

    fn screen(&mut self) -> String {
        self.terminal.draw(|f| self.app.draw(f)).unwrap();
        self.terminal.backend().to_string()
    }

    fn shows(&mut self, text: &str) -> bool {
        self.screen().contains(text)
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn when(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn user(n: u128, first: &str, last: &str, role: Role) -> User {
    User {
        id: id(n),
        email: format!("{}@school.test", first.to_lowercase()),
        phone: None,
        first_name: first.into(),
        last_name: last.into(),
        role,
        avatar: None,
        bio: None,
        is_email_verified: true,
        is_phone_verified: false,
        is_active: true,
        last_login: Some(when(30, 9)),
        referral_code: "REF".into(),
        two_factor_enabled: role == Role::Admin,
        external_id: None,
        student_profile: None,
        teacher_profile: None,
        parent_profile: None,
        created_at: when(1, 8),
    }
}

fn teacher() -> User {
    user(1, "Ada", "Lovelace", Role::Teacher)
}

fn admin() -> User {
    user(2, "Grace", "Hopper", Role::Admin)
}

fn course(n: u128, title: &str, status: CourseStatus, students: i64) -> Course {
    Course {
        id: id(100 + n),
        title: title.into(),
        slug: title.to_lowercase().replace(' ', "-"),
        description: format!("All about {title}"),
        category: None,
        level: CourseLevel::Beginner,
        language: "en".into(),
        price: if n.is_multiple_of(2) { 49_900 } else { 0 },
        discounted_price: None,
        currency: "INR".into(),
        is_free: !n.is_multiple_of(2),
        tags: vec![],
        thumbnail: None,
        status,
        published_at: None,
        teacher: PersonRef {
            id: id(1),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        },
        total_students: students,
        rating: 0.0,
        total_reviews: 0,
        external_id: None,
        created_at: when(2, 8),
        updated_at: when(2, 8),
        sections: None,
    }
}

fn courses() -> Vec<Course> {
    vec![
        course(1, "Rust for Teachers", CourseStatus::Published, 12),
        course(2, "Algebra I", CourseStatus::Draft, 0),
        course(3, "Poetry Workshop", CourseStatus::Archived, 3),
    ]
}

fn page(_items: usize, total: u64, has_next: bool) -> Pagination {
    Pagination {
        page: 1,
        limit: 100,
        total,
        pages: total.div_ceil(100),
        has_next,
        has_prev: false,
    }
}

fn course_list(courses: Vec<Course>) -> Action {
    let n = courses.len();
    Action::Courses {
        generation: 1,
        answer: Ok(CourseList {
            courses,
            pagination: page(n, n as u64, false),
        }),
    }
}

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

fn failure(message: &str) -> Failure {
    Failure::msg(message)
}

fn offline() -> Failure {
    Failure {
        offline: true,
        ..Failure::msg(
            "cannot reach the EduPro+ server at http://127.0.0.1:5001: connection refused",
        )
    }
}

fn today_data() -> TodayData {
    TodayData {
        courses: courses(),
        total_courses: 3,
        recent: vec![
            RecentEnrollment {
                course: "Rust for Teachers".into(),
                student: "Chen Wei".into(),
                progress: 40,
                enrolled_at: when(29, 10),
            },
            RecentEnrollment {
                course: "Poetry Workshop".into(),
                student: "Diya Patel".into(),
                progress: 100,
                enrolled_at: when(20, 14),
            },
        ],
    }
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

fn users() -> Vec<User> {
    let mut student = user(3, "Chen", "Wei", Role::Student);
    student.is_active = false;
    vec![admin(), teacher(), student]
}

fn user_list(users: Vec<User>) -> Action {
    let n = users.len();
    Action::Users {
        generation: 1,
        answer: Ok(UserList {
            users,
            pagination: page(n, n as u64, false),
        }),
    }
}

// ---- login ----

#[test]
fn login_screen_empty() {
    let mut h = Harness::new(false);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn connecting_with_stored_credentials_is_the_loading_state() {
    let mut h = Harness::new(true);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn login_typing_and_submitting_sends_the_login() {
    let mut h = Harness::new(false);
    h.chars("ada@school.test").press(KeyCode::Enter);
    assert!(
        h.effects().is_empty(),
        "enter on the email moves to the password"
    );
    h.chars("Secret-pass1").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Login {
            email: "ada@school.test".into(),
            password: "Secret-pass1".into()
        }]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn login_refused_shows_the_error_and_clears_the_password() {
    let mut h = Harness::new(false);
    h.chars("ada@school.test")
        .press(KeyCode::Tab)
        .chars("wrong")
        .press(KeyCode::Enter);
    h.answer(Action::LoginRefused(Failure {
        status: Some(401),
        ..failure("Invalid email or password")
    }));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn login_asks_for_the_two_factor_code_when_the_server_does() {
    let mut h = Harness::new(false);
    h.chars("root@school.test")
        .press(KeyCode::Tab)
        .chars("pw")
        .press(KeyCode::Enter);
    h.effects();
    h.answer(Action::MfaRequired {
        challenge: "challenge-token".into(),
    });
    h.chars("123456").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::VerifyMfa {
            challenge: "challenge-token".into(),
            code: "123456".into()
        }]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn an_ended_session_brings_back_the_login_with_a_notice() {
    let mut h = Harness::new(true);
    h.answer(Action::SignInNeeded(Some(
        "Your session has ended; sign in again.".into(),
    )));
    assert!(h.shows("Your session has ended"));
    h.ctrl('c');
    assert!(h.app.quit, "ctrl-c quits from the login screen");
}

// ---- today ----

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

// ---- courses ----

fn on_courses() -> Harness {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('2'));
    h
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
fn publishing_from_the_list_asks_the_server_and_shows_the_new_status() {
    let mut h = on_courses();
    h.answer(course_list(courses())).press(KeyCode::Down);
    h.effects();
    h.chars("p");
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
    h.chars("A");
    assert_eq!(
        h.effects(),
        [Effect::SetCourseStatus {
            course: id(102),
            publish: false
        }]
    );
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
    h.press(KeyCode::Down).chars("e");
    assert!(h.shows("Edit lesson"));
    h.press(KeyCode::Enter);
    let effects = h.effects();
    assert!(
        matches!(&effects[..], [Effect::Save { target: SaveTarget::EditLesson(l), body }]
            if *l == id(301) && body["title"] == "Installing Rust" && body["duration"] == 15),
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

// ---- users ----

fn on_users() -> Harness {
    let mut h = Harness::signed_in(admin());
    h.settle();
    h.press(KeyCode::Char('6'));
    h
}

#[test]
fn a_teacher_has_no_users_tab() {
    let mut h = on_courses();
    h.effects();
    h.press(KeyCode::Char('6'));
    assert!(h.effects().is_empty());
    assert!(!h.shows("Users"));
}

#[test]
fn users_loading() {
    let mut h = on_users();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn users_empty() {
    let mut h = on_users();
    h.answer(user_list(vec![]));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn users_error() {
    let mut h = on_users();
    h.answer(Action::Users {
        generation: 1,
        answer: Err(failure("You need the ADMIN role")),
    });
    insta::assert_snapshot!(h.screen());
}

#[test]
fn users_filled_with_details() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.press(KeyCode::Down).press(KeyCode::Enter);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn changing_a_role_picks_from_the_roles_and_updates_the_row() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.effects();
    h.press(KeyCode::Down).chars("r").press(KeyCode::Right);
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::ChangeRole {
            user: id(1),
            role: Role::Student
        }]
    );
    let mut changed = teacher();
    changed.role = Role::Student;
    h.answer(Action::UserChanged(Ok((
        "ada@school.test is now STUDENT".into(),
        changed,
    ))));
    assert!(h.shows("ada@school.test is now STUDENT"));
}

#[test]
fn deactivating_asks_first() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.effects();
    h.press(KeyCode::Down).chars("d");
    insta::assert_snapshot!(h.screen());
    h.chars("y");
    assert_eq!(
        h.effects(),
        [Effect::SetActive {
            user: id(1),
            active: false
        }]
    );
    // A deactivated user is offered reactivation.
    h.press(KeyCode::Down).chars("d");
    assert!(h.shows("Reactivate chen@school.test?"));
}

#[test]
fn an_import_plans_first_shows_failed_rows_then_applies() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.effects();
    h.chars("i").chars("/tmp/users.csv").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Import {
            path: "/tmp/users.csv".into(),
            kind: ImportKind::Users,
            mode: ImportMode::Plan
        }]
    );
    let counts = ImportCounts {
        total: 3,
        create: 1,
        update: 1,
        unchanged: 0,
        error: 1,
        skipped: 0,
    };
    h.answer(Action::ImportProgress {
        counts,
        errors: vec![ImportRow {
            line: 3,
            key: Some("s-17".into()),
            outcome: RowOutcome::Error,
            changes: vec![],
            errors: vec![FieldError {
                field: "email".into(),
                message: "not an email address".into(),
            }],
        }],
    });
    insta::assert_snapshot!("import_running", h.screen());
    let summary = ImportSummary {
        import_id: id(900),
        kind: ImportKind::Users,
        mode: ImportMode::Plan,
        counts,
        stopped: false,
        file_error: None,
    };
    h.answer(Action::ImportDone(Ok(summary.clone())));
    insta::assert_snapshot!("import_planned", h.screen());
    h.chars("a");
    assert_eq!(
        h.effects(),
        [Effect::Import {
            path: "/tmp/users.csv".into(),
            kind: ImportKind::Users,
            mode: ImportMode::Apply
        }]
    );
    h.answer(Action::ImportDone(Ok(ImportSummary {
        mode: ImportMode::Apply,
        ..summary
    })));
    assert!(h.shows("Import applied: 1 created, 1 updated, 1 failed"));
    assert!(
        matches!(&h.effects()[..], [Effect::LoadUsers { page: 1, .. }]),
        "the list reloads after an apply"
    );
}

#[test]
fn an_unreadable_import_file_is_named_on_the_form() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.chars("i").chars("/nope.csv").press(KeyCode::Enter);
    h.answer(Action::ImportDone(Err(Failure {
        fields: vec![FieldError {
            field: "file".into(),
            message: "cannot read it: No such file or directory".into(),
        }],
        ..failure("cannot read /nope.csv: No such file or directory")
    })));
    insta::assert_snapshot!(h.screen());
}

// ---- the frame around the views ----

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
                Effect::LoadToday { .. },
                Effect::LoadUpcoming,
                Effect::LoadGradingCount,
                Effect::LoadNotifications { .. },
                Effect::LoadCourses { .. },
                Effect::LoadUsers { .. }
            ]
        ),
        "each tab loads once, when first shown (the feed at sign-in)"
    );
    h.chars("5");
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
