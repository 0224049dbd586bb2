//! Render tests: the app on ratatui's `TestBackend` (80×24), driven by key events and
//! by the actions the network layer posts, through the same `on_key` / `update` the
//! real loop calls. Each view is shown loading, empty, failed and filled.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use edupro_server::api::{
    Course, CourseLevel, CourseList, CourseStatus, Pagination, PersonRef, Role, User,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

use super::action::analytics::{AnalyticsAction, Dashboard};
use super::action::{Action, Effect, Failure, Realtime, TodayData};
use super::app::App;
use super::keymap::Keymap;
use super::theme::Theme;
// Notifications, the WebSocket's indicator, toasts and Today's live panels.
mod realtime;
// The Live classes, Grading and Doubts tabs.
mod doubts;
mod grading;
mod live;
// Sign-in, Today, Courses (list, tree, roster) and Users (with imports).
mod courses;
mod login;
mod today;
mod users;
// Each role's dashboard on Today; a course's and a student's analytics.
mod analytics;
mod dashboards;
// What every tab shares: the header, tabs, help, status line and long lists.
mod frame;

use realtime::{class_list, feed};

const SERVER: &str = "http://127.0.0.1:5001";

struct Harness {
    app: App,
    terminal: Terminal<TestBackend>,
    /// Who signed in (what [`Harness::settle`] answers Today's dashboard with).
    role: Option<Role>,
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
        let mut app = App::new(SERVER, Keymap::default(), Theme::plain(), signed_in);
        app.update(Action::Resize(width, height));
        app.take_effects();
        Self {
            app,
            terminal: Terminal::new(TestBackend::new(width, height)).unwrap(),
            role: None,
        }
    }

    /// Signed in as `me`, with the first answers (connection check) in.
    fn signed_in(me: User) -> Self {
        Self::signed_in_sized(me, 80, 24)
    }

    /// [`Harness::signed_in`] on a `width`×`height` terminal.
    fn signed_in_sized(me: User, width: u16, height: u16) -> Self {
        let mut h = Self::sized(true, width, height);
        h.role = Some(me.role);
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
        self.answer(Action::DoubtCount(Ok(0)));
        self.answer(Action::Revenue(Ok(vec![])));
        let dashboard = match self.role {
            Some(Role::Teacher) => Some(Dashboard::Teacher(Box::new(
                dashboards::quiet_teacher_dashboard(),
            ))),
            Some(Role::Admin) => Some(Dashboard::Admin(Box::new(dashboards::admin_dashboard()))),
            Some(Role::Student) => Some(Dashboard::Student(Box::new(
                dashboards::student_dashboard(),
            ))),
            _ => None,
        };
        if let Some(dashboard) = dashboard {
            self.answer(Action::Analytics(AnalyticsAction::Dashboard(Ok(dashboard))));
        }
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
    }
}

fn on_courses() -> Harness {
    let mut h = Harness::signed_in(teacher());
    h.settle();
    h.press(KeyCode::Char('2'));
    h
}
