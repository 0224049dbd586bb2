//! Course and student analytics, pages of the Courses tab.
//!
//! A course's page (`v` on a course in the list or its tree): its headline figures,
//! enrollments per day, the score histogram of one test at a time (`[`/`]` switch),
//! the per-lesson funnel and the students at risk; Enter on one of them opens the
//! student's page: progress per course, scores over time, time spent per day, strong
//! and weak subjects. Today's students at risk open the same page. Esc goes back
//! (student → course → where the course page was opened from).
//!
//! Both read the server's default range (the 30 days ending today). Answers for a
//! course or student no longer shown are dropped.

mod course;
mod student;

use edupro_server::api::{AtRiskStudent, CourseAnalytics, DateRange, StudentAnalytics};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use uuid::Uuid;

use super::{Load, Out};
use crate::tui::action::Effect;
use crate::tui::action::analytics::{AnalyticsAction, AnalyticsEffect};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;

/// A course's analytics page.
#[derive(Debug, Clone)]
struct CoursePage {
    id: Uuid,
    title: String,
    data: Load<Box<CourseAnalytics>>,
    /// Which test's histogram shows (an index into the score distribution).
    test: usize,
    /// The selected student at risk.
    selected: usize,
}

/// A student's analytics page.
#[derive(Debug, Clone)]
struct StudentPage {
    id: Uuid,
    name: String,
    /// Why they were on an at-risk list, when opened from one.
    at_risk: Option<AtRiskStudent>,
    data: Load<Box<StudentAnalytics>>,
}

/// What a command did to the analytics pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Handled; stay.
    Stay,
    /// Not a command these pages use.
    Unused,
    /// Back past the first page: the Courses tab shows what it showed before.
    Leave,
}

/// The analytics pages of the Courses tab: a course's, and a student's over it.
#[derive(Debug, Clone, Default)]
pub struct Analytics {
    course: Option<CoursePage>,
    student: Option<StudentPage>,
}

fn range() -> DateRange {
    DateRange::default()
}

impl Analytics {
    /// Shows course `id`'s analytics (reading them).
    pub fn open_course(&mut self, id: Uuid, title: String, out: &mut Out) {
        self.student = None;
        self.course = Some(CoursePage {
            id,
            title,
            data: Load::Loading,
            test: 0,
            selected: 0,
        });
        out.effect(Effect::Analytics(AnalyticsEffect::LoadCourse {
            course: id,
            range: range(),
        }));
    }

    /// Shows the analytics of a student at risk (from a course's page, or with no
    /// course under it from Today).
    pub fn open_student(&mut self, at_risk: AtRiskStudent, over_course: bool, out: &mut Out) {
        if !over_course {
            self.course = None;
        }
        let id = at_risk.student.id;
        self.student = Some(StudentPage {
            id,
            name: format!(
                "{} {}",
                at_risk.student.first_name, at_risk.student.last_name
            ),
            at_risk: Some(at_risk),
            data: Load::Loading,
        });
        out.effect(Effect::Analytics(AnalyticsEffect::LoadStudent {
            student: id,
            range: range(),
        }));
    }

    /// The course page's analytics, when loaded.
    fn course_data(&self) -> Option<&CourseAnalytics> {
        match &self.course.as_ref()?.data {
            Load::Ready(d) => Some(d),
            _ => None,
        }
    }

    pub fn on_command(&mut self, command: Command, out: &mut Out) -> Step {
        if let Some(student) = &self.student {
            return match command {
                Command::Back => {
                    self.student = None;
                    if self.course.is_some() {
                        Step::Stay
                    } else {
                        Step::Leave
                    }
                }
                Command::Refresh => {
                    if let Some(at_risk) = student.at_risk.clone() {
                        let over = self.course.is_some();
                        self.open_student(at_risk, over, out);
                    }
                    Step::Stay
                }
                _ => Step::Unused,
            };
        }
        let (tests, at_risk) = self.course_data().map_or((0, 0), |d| {
            (d.score_distribution.len(), d.students_at_risk.len())
        });
        let Some(page) = self.course.as_mut() else {
            return Step::Leave;
        };
        match command {
            Command::Back => {
                self.course = None;
                return Step::Leave;
            }
            Command::Refresh => {
                let (id, title) = (page.id, page.title.clone());
                self.open_course(id, title, out);
            }
            Command::NextPeriod | Command::PrevPeriod if tests == 0 => {
                out.info("This course has no tests yet.");
            }
            Command::NextPeriod => page.test = (page.test + 1) % tests,
            Command::PrevPeriod => page.test = (page.test + tests - 1) % tests,
            Command::Up => page.selected = page.selected.saturating_sub(1),
            Command::Down => page.selected = (page.selected + 1).min(at_risk.saturating_sub(1)),
            Command::Open => {
                let selected = page.selected;
                let chosen = self
                    .course_data()
                    .and_then(|d| d.students_at_risk.get(selected))
                    .cloned();
                match chosen {
                    Some(s) => self.open_student(s, true, out),
                    None => out.info("Nobody is at risk in this course."),
                }
            }
            _ => return Step::Unused,
        }
        Step::Stay
    }

    pub fn on_action(&mut self, action: AnalyticsAction, out: &mut Out) {
        match action {
            AnalyticsAction::Course { course, answer } => {
                let Some(page) = self.course.as_mut().filter(|p| p.id == course) else {
                    return;
                };
                page.data = match answer {
                    Ok(data) => {
                        page.test = page
                            .test
                            .min(data.score_distribution.len().saturating_sub(1));
                        page.selected = page
                            .selected
                            .min(data.students_at_risk.len().saturating_sub(1));
                        page.title = data.course.title.clone();
                        Load::Ready(data)
                    }
                    Err(failure) => {
                        out.error(&failure);
                        Load::Failed(failure)
                    }
                };
            }
            AnalyticsAction::Student { student, answer } => {
                let Some(page) = self.student.as_mut().filter(|p| p.id == student) else {
                    return;
                };
                page.data = match answer {
                    Ok(data) => {
                        page.name =
                            format!("{} {}", data.student.first_name, data.student.last_name);
                        Load::Ready(data)
                    }
                    Err(failure) => {
                        out.error(&failure);
                        Load::Failed(failure)
                    }
                };
            }
            AnalyticsAction::Dashboard(_) => {}
        }
    }

    pub fn help(&self) -> Vec<(Command, &'static str)> {
        if self.student.is_some() {
            return vec![(Command::Refresh, "reload"), (Command::Back, "back")];
        }
        vec![
            (Command::Up, "previous student at risk"),
            (Command::Down, "next student at risk"),
            (Command::Open, "open the student's analytics"),
            (Command::PrevPeriod, "previous test's scores"),
            (Command::NextPeriod, "next test's scores"),
            (Command::Refresh, "reload"),
            (Command::Back, "back"),
        ]
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        if let Some(student) = &self.student {
            student::draw(student, frame, area, theme);
        } else if let Some(course) = &self.course {
            course::draw(course, frame, area, theme);
        }
    }
}

/// The first line of a page: its title and range on the left, the keys on the right.
fn heading(frame: &mut Frame, area: Rect, theme: Theme, title: String, keys: &str) {
    let keys = Span::styled(keys.to_owned(), theme.dim());
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(keys.width() as u16)])
            .areas(area);
    frame.render_widget(Paragraph::new(Span::styled(title, theme.title())), left);
    frame.render_widget(Paragraph::new(Line::from(keys)), right);
}

/// `02 Nov – 01 Dec`.
fn span_of(since: chrono::NaiveDate, until: chrono::NaiveDate) -> String {
    format!("{} – {}", since.format("%d %b"), until.format("%d %b"))
}

/// The loading or failed state of a page, under its heading.
fn not_ready<T>(frame: &mut Frame, area: Rect, theme: Theme, title: &str, data: &Load<T>) -> bool {
    let lines = match data {
        Load::Ready(_) => return false,
        Load::Loading => vec![Line::styled("Loading…", theme.dim())],
        Load::Failed(f) => vec![
            Line::styled(format!("Could not load: {}", f.message), theme.error()),
            Line::styled("ctrl-r tries again · esc back", theme.dim()),
        ],
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    heading(frame, head, theme, title.to_owned(), "esc back");
    frame.render_widget(
        Paragraph::new(lines).block(super::today::panel("Analytics", theme)),
        body,
    );
    true
}
