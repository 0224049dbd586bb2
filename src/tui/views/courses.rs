//! Courses: a searchable list → a course's tree (sections → lessons) → its enrolled
//! students. Create and edit in forms that show the server's field errors inline;
//! reorder with move up/down; publish and archive, each after a y/n question that says
//! how many students are notified.
//!
//! The course's tree (its page's rows, keys and drawing, and the section and lesson
//! forms) is in `courses/tree.rs`; a course's analytics (and a student's, from its
//! students at risk) are pages of this tab, in `views/analytics.rs`.

mod tree;

use crossterm::event::{KeyCode, KeyEvent};
use edupro_server::api::{Course, CourseEnrollment, CourseLevel, CourseStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Wrap};
use uuid::Uuid;

use super::analytics::{Analytics, Step};
use super::{Load, Out, Search, SearchOutcome, View};
use crate::tui::action::{Action, Effect, SaveTarget};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Field, Form, Outcome, centered};
use crate::tui::widgets::list::{PagedList, draw_table};
use tree::{TreeRow, lesson_form, tree_rows};

/// Which page of the Courses tab is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    List,
    Tree,
    Roster,
    /// A course's analytics, or a student's.
    Analytics,
}

/// The Courses tab.
#[derive(Debug, Clone)]
pub struct CoursesView {
    pub page: Page,
    pub list: PagedList<Course>,
    search: Search,
    loaded: bool,
    course: Option<Load<Course>>,
    tree_selected: usize,
    tree_offset: usize,
    /// After a move, the row to keep selected (a section's or lesson's id).
    follow: Option<Uuid>,
    roster: PagedList<CourseEnrollment>,
    roster_of: Option<(Uuid, String)>,
    roster_from: Page,
    analytics: Analytics,
    /// Where Esc from the analytics goes back to.
    analytics_from: Page,
    form: Option<(Form, SaveTarget)>,
    /// A publish or archive waiting for its y/n.
    confirm: Option<StatusChange>,
}

/// Publishing or archiving a course, asked about first: both notify its students.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StatusChange {
    course: Uuid,
    title: String,
    students: i64,
    publish: bool,
}

impl StatusChange {
    fn verb(&self) -> &'static str {
        if self.publish { "Publish" } else { "Archive" }
    }

    /// What will happen, in the words of `edupro courses publish|archive`'s question.
    fn consequence(&self) -> String {
        let students = crate::output::enrolled_students(self.students);
        if self.publish {
            format!("It opens in the catalogue, and its {students} will be notified.")
        } else {
            format!(
                "It leaves the catalogue, and its {students} will be notified (their enrollments stay)."
            )
        }
    }
}

impl Default for CoursesView {
    fn default() -> Self {
        Self {
            page: Page::List,
            list: PagedList::default(),
            search: Search::default(),
            loaded: false,
            course: None,
            tree_selected: 0,
            tree_offset: 0,
            follow: None,
            roster: PagedList::default(),
            roster_of: None,
            roster_from: Page::List,
            analytics: Analytics::default(),
            analytics_from: Page::List,
            form: None,
            confirm: None,
        }
    }
}

fn course_form(course: Option<&Course>) -> Form {
    let levels: Vec<&'static str> = CourseLevel::ALL.iter().map(|l| l.as_str()).collect();
    let fields = vec![
        Field::text(
            "title",
            "Title",
            course.map(|c| c.title.clone()).unwrap_or_default(),
        ),
        Field::text(
            "description",
            "Description",
            course.map(|c| c.description.clone()).unwrap_or_default(),
        )
        .optional(),
        Field::choice(
            "level",
            "Level",
            levels,
            course.map(|c| c.level.as_str()).unwrap_or("BEGINNER"),
        ),
        Field::text(
            "language",
            "Language",
            course
                .map(|c| c.language.clone())
                .unwrap_or_else(|| "en".into()),
        ),
        Field::number(
            "price",
            "Price (paise)",
            course.map(|c| c.price).unwrap_or(0),
        ),
    ];
    let title = match course {
        Some(c) => format!("Edit “{}”", c.title),
        None => "New course".to_owned(),
    };
    Form::new(title, fields)
}

impl CoursesView {
    fn reload_list(&mut self, out: &mut Out) {
        self.loaded = true;
        let generation = self.list.reset();
        out.effect(Effect::LoadCourses {
            generation,
            page: 1,
            search: self.search.query.clone(),
        });
    }

    fn more(&mut self, out: &mut Out) {
        match self.page {
            Page::List => {
                if let Some((generation, page)) = self.list.wants_more() {
                    out.effect(Effect::LoadCourses {
                        generation,
                        page,
                        search: self.search.query.clone(),
                    });
                }
            }
            Page::Roster => {
                if let (Some((generation, page)), Some((course, _))) =
                    (self.roster.wants_more(), &self.roster_of)
                {
                    out.effect(Effect::LoadRoster {
                        generation,
                        course: *course,
                        page,
                    });
                }
            }
            Page::Tree | Page::Analytics => {}
        }
    }

    /// Shows a course's sections and lessons (Today opens a course here).
    pub fn show_course(&mut self, id: Uuid, out: &mut Out) {
        self.form = None;
        self.confirm = None;
        self.open_tree(id, out);
    }

    fn open_tree(&mut self, id: Uuid, out: &mut Out) {
        self.page = Page::Tree;
        if !matches!(&self.course, Some(Load::Ready(c)) if c.id == id) {
            self.tree_selected = 0;
            self.tree_offset = 0;
        }
        self.course = Some(Load::Loading);
        out.effect(Effect::LoadCourse { id });
    }

    /// Back to the list, reading it first when the tab was opened elsewhere (Today opens
    /// a course or a student here before the list was ever shown).
    fn show_list(&mut self, out: &mut Out) {
        self.page = Page::List;
        if !self.loaded {
            self.reload_list(out);
        }
    }

    /// Shows a course's analytics (`v` on the list or the tree).
    fn open_analytics(&mut self, id: Uuid, title: String, out: &mut Out) {
        if self.page != Page::Analytics {
            self.analytics_from = self.page;
        }
        self.page = Page::Analytics;
        self.analytics.open_course(id, title, out);
    }

    /// Shows a student's analytics (Today opens a student at risk here); Esc goes
    /// back to the list.
    pub fn show_student(&mut self, at_risk: edupro_server::api::AtRiskStudent, out: &mut Out) {
        self.form = None;
        self.confirm = None;
        self.search.editing = None;
        self.analytics_from = Page::List;
        self.page = Page::Analytics;
        self.analytics.open_student(at_risk, false, out);
    }

    fn open_roster(&mut self, id: Uuid, title: String, out: &mut Out) {
        self.roster_from = self.page;
        self.page = Page::Roster;
        self.roster_of = Some((id, title));
        let generation = self.roster.reset();
        out.effect(Effect::LoadRoster {
            generation,
            course: id,
            page: 1,
        });
    }

    /// The course the current page is about: the tree's, or the list's selection.
    fn current_course(&self) -> Option<&Course> {
        match self.page {
            Page::Tree => match &self.course {
                Some(Load::Ready(c)) => Some(c),
                _ => None,
            },
            _ => self.list.current(),
        }
    }

    fn tree_course(&self) -> Option<&Course> {
        match &self.course {
            Some(Load::Ready(c)) => Some(c),
            _ => None,
        }
    }

    fn set_status(&mut self, publish: bool, out: &mut Out) {
        let Some(course) = self.current_course() else {
            return;
        };
        let allowed = if publish {
            course.status != CourseStatus::Published
        } else {
            course.status == CourseStatus::Published
        };
        if !allowed {
            out.info(if publish {
                "This course is already published."
            } else {
                "Only a published course can be archived."
            });
            return;
        }
        self.confirm = Some(StatusChange {
            course: course.id,
            title: course.title.clone(),
            students: course.total_students,
            publish,
        });
    }

    /// `y` publishes or archives; `n` or Esc leaves the course as it is.
    fn on_confirm_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(change) = &self.confirm else {
            return;
        };
        match key.code {
            KeyCode::Char('y' | 'Y') => {
                out.effect(Effect::SetCourseStatus {
                    course: change.course,
                    publish: change.publish,
                });
                self.confirm = None;
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                out.info(if change.publish {
                    "Not published."
                } else {
                    "Not archived."
                });
                self.confirm = None;
            }
            _ => {}
        }
    }

    fn list_command(&mut self, command: Command, out: &mut Out) -> bool {
        if self.list.navigate(command, out.page) {
            self.more(out);
            return true;
        }
        match command {
            Command::Search => self.search.start(),
            Command::Refresh => self.reload_list(out),
            Command::Back if !self.search.query.is_empty() => {
                self.search.query.clear();
                self.reload_list(out);
            }
            Command::Open => {
                if let Some(id) = self.list.current().map(|c| c.id) {
                    self.open_tree(id, out);
                }
            }
            Command::New => self.form = Some((course_form(None), SaveTarget::NewCourse)),
            Command::Edit => {
                if let Some(course) = self.list.current() {
                    self.form =
                        Some((course_form(Some(course)), SaveTarget::EditCourse(course.id)));
                }
            }
            Command::Publish => self.set_status(true, out),
            Command::Archive => self.set_status(false, out),
            Command::Students => {
                if let Some(course) = self.list.current() {
                    let (id, title) = (course.id, course.title.clone());
                    self.open_roster(id, title, out);
                }
            }
            Command::Analytics => {
                if let Some(course) = self.list.current() {
                    let (id, title) = (course.id, course.title.clone());
                    self.open_analytics(id, title, out);
                }
            }
            _ => return false,
        }
        true
    }

    /// Puts a changed course back where it shows: the list row and the open tree.
    fn replace_course(&mut self, course: Course) {
        if let Some(row) = self.list.items.iter_mut().find(|c| c.id == course.id) {
            *row = Course {
                sections: None,
                ..course.clone()
            };
        }
        if matches!(&self.course, Some(Load::Ready(c)) if c.id == course.id)
            || (self.page == Page::Tree && matches!(self.course, Some(Load::Loading)))
        {
            if let Some(id) = self.follow.take() {
                let rows = tree_rows(&course);
                let sections = course.sections.as_deref().unwrap_or(&[]);
                if let Some(at) = rows.iter().position(|r| match *r {
                    TreeRow::Section(s) => sections[s].id == id,
                    TreeRow::Lesson(s, l) => sections[s].lessons[l].id == id,
                }) {
                    self.tree_selected = at;
                }
            }
            let rows = tree_rows(&course).len();
            self.tree_selected = self.tree_selected.min(rows.saturating_sub(1));
            self.course = Some(Load::Ready(course));
        }
    }
}

impl View for CoursesView {
    fn captures_text(&self) -> bool {
        self.form.is_some() || self.search.editing.is_some() || self.confirm.is_some()
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if self.confirm.is_some() {
            self.on_confirm_key(key, out);
            return;
        }
        if let Some((form, target)) = self.form.as_mut() {
            match form.on_key(key) {
                Outcome::Editing => {}
                Outcome::Cancel => self.form = None,
                Outcome::Submit => {
                    if let Some(mut body) = form.body() {
                        if matches!(target, SaveTarget::EditLesson(_)) {
                            // An emptied URL or content is cleared, not left as it was.
                            for field in ["url", "content"] {
                                if body.get(field).is_none() {
                                    body[field] = serde_json::Value::Null;
                                }
                            }
                        }
                        form.busy = true;
                        out.effect(Effect::Save {
                            target: target.clone(),
                            body,
                        });
                    }
                }
            }
            return;
        }
        if self.search.on_key(key) == SearchOutcome::Apply {
            self.reload_list(out);
        }
    }

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        match self.page {
            Page::List => self.list_command(command, out),
            Page::Tree => self.tree_command(command, out),
            Page::Analytics => match self.analytics.on_command(command, out) {
                Step::Stay => true,
                Step::Unused => false,
                Step::Leave => {
                    match self.analytics_from {
                        Page::List => self.show_list(out),
                        page => self.page = page,
                    }
                    true
                }
            },
            Page::Roster => {
                if self.roster.navigate(command, out.page) {
                    self.more(out);
                    return true;
                }
                match command {
                    Command::Back => self.page = self.roster_from,
                    Command::Refresh => {
                        if let Some((id, title)) = self.roster_of.clone() {
                            self.page = self.roster_from;
                            self.open_roster(id, title, out);
                        }
                    }
                    _ => return false,
                }
                true
            }
        }
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        match action {
            Action::Analytics(answer) => self.analytics.on_action(answer, out),
            Action::Courses { generation, answer } => {
                if let Err(f) = &answer {
                    out.error(f);
                }
                self.list.accept(
                    generation,
                    answer.map(|l| {
                        (
                            l.courses,
                            l.pagination.page,
                            l.pagination.has_next,
                            l.pagination.total,
                        )
                    }),
                );
            }
            Action::Lesson(answer) => match answer {
                Ok(lesson) if self.page == Page::Tree && self.form.is_none() => {
                    self.form = Some((
                        lesson_form(Some(&lesson)),
                        SaveTarget::EditLesson(lesson.id),
                    ));
                }
                Ok(_) => {}
                Err(f) => out.error(&f),
            },
            Action::Course(answer) => match answer {
                Ok(course) => {
                    if self.page == Page::Tree || matches!(self.course, Some(Load::Loading)) {
                        self.replace_course(course);
                    }
                }
                Err(f) => {
                    out.error(&f);
                    self.course = Some(Load::Failed(f));
                }
            },
            Action::Roster { generation, answer } => {
                if let Err(f) = &answer {
                    out.error(f);
                }
                self.roster.accept(
                    generation,
                    answer.map(|l| {
                        (
                            l.enrollments,
                            l.pagination.page,
                            l.pagination.has_next,
                            l.pagination.total,
                        )
                    }),
                );
            }
            Action::CourseChanged(answer) => match answer {
                Ok((message, course)) => {
                    out.info(message);
                    self.replace_course(course);
                }
                Err(f) => {
                    self.follow = None;
                    out.error(&f);
                }
            },
            Action::Saved { target, answer } => {
                let Some((form, _)) = self.form.as_mut() else {
                    return;
                };
                match answer {
                    Ok(message) => {
                        self.form = None;
                        out.info(message);
                        match target {
                            SaveTarget::NewCourse => self.reload_list(out),
                            SaveTarget::EditCourse(id) => {
                                self.reload_list(out);
                                if self.page == Page::Tree {
                                    self.open_tree(id, out);
                                }
                            }
                            _ => {
                                if let Some(id) = self.tree_course().map(|c| c.id) {
                                    self.open_tree(id, out);
                                }
                            }
                        }
                    }
                    Err(f) => {
                        form.refused(&f.message, &f.fields);
                        out.error(&f);
                    }
                }
            }
            _ => {}
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if !self.loaded {
            self.reload_list(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        if self.form.is_some() || self.confirm.is_some() {
            return vec![];
        }
        match self.page {
            Page::List => vec![
                (Command::Open, "open the course's sections and lessons"),
                (
                    Command::Analytics,
                    "analytics: funnel, scores, students at risk",
                ),
                (Command::Search, "search titles, descriptions and tags"),
                (Command::New, "new course"),
                (Command::Edit, "edit the course"),
                (Command::Publish, "publish"),
                (Command::Archive, "archive"),
                (Command::Students, "enrolled students and their progress"),
                (Command::Refresh, "reload"),
                (Command::Back, "clear the search"),
            ],
            Page::Tree => vec![
                (Command::Open, "edit the section or lesson"),
                (Command::New, "new lesson in this section"),
                (Command::NewSection, "new section"),
                (Command::Edit, "edit the section or lesson"),
                (Command::MoveUp, "move up"),
                (Command::MoveDown, "move down"),
                (Command::Publish, "publish the course"),
                (Command::Archive, "archive the course"),
                (Command::Students, "enrolled students"),
                (
                    Command::Analytics,
                    "analytics: funnel, scores, students at risk",
                ),
                (Command::Refresh, "reload"),
                (Command::Back, "back to the list"),
            ],
            Page::Analytics => self.analytics.help(),
            Page::Roster => vec![(Command::Refresh, "reload"), (Command::Back, "back")],
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        match self.page {
            Page::List => {
                let (search, area) = split_search(area, self.search.line().is_some());
                if let Some(line) = self.search.line() {
                    frame.render_widget(Paragraph::new(line).style(theme.key()), search);
                }
                draw_table(
                    frame,
                    area,
                    theme,
                    "Courses",
                    &self.list,
                    &["TITLE", "STATUS", "LEVEL", "STUDENTS", "PRICE"],
                    &[
                        Constraint::Min(12),
                        Constraint::Length(9),
                        Constraint::Length(12),
                        Constraint::Length(8),
                        Constraint::Length(10),
                    ],
                    |c: &Course| {
                        vec![
                            Cell::from(c.title.clone()),
                            Cell::from(c.status.as_str()),
                            Cell::from(c.level.as_str()),
                            Cell::from(c.total_students.to_string()),
                            Cell::from(price(c)),
                        ]
                    },
                    if self.search.query.is_empty() {
                        "No courses yet. Press n to create one."
                    } else {
                        "No course matches the search."
                    },
                );
                if !self.list.items.is_empty() {
                    draw_hint(frame, area, " v analytics · s students ", theme);
                }
            }
            Page::Tree => self.draw_tree(frame, area, theme),
            Page::Analytics => self.analytics.draw(frame, area, theme),
            Page::Roster => {
                let title = self
                    .roster_of
                    .as_ref()
                    .map(|(_, t)| format!("Students of {t}"))
                    .unwrap_or_default();
                draw_table(
                    frame,
                    area,
                    theme,
                    &title,
                    &self.roster,
                    &["STUDENT", "EMAIL", "STATUS", "PROGRESS", "ENROLLED"],
                    &[
                        Constraint::Min(12),
                        Constraint::Fill(1),
                        Constraint::Length(9),
                        Constraint::Length(16),
                        Constraint::Length(10),
                    ],
                    |e: &CourseEnrollment| {
                        vec![
                            Cell::from(format!("{} {}", e.student.first_name, e.student.last_name)),
                            Cell::from(e.student.email.clone()),
                            Cell::from(e.status.as_str()),
                            Cell::from(progress_bar(e.progress)),
                            Cell::from(e.enrolled_at.format("%Y-%m-%d").to_string()),
                        ]
                    },
                    "No students are enrolled yet.",
                );
            }
        }
        if let Some((form, _)) = &self.form {
            form.draw(frame, area, theme);
        }
        if let Some(change) = &self.confirm {
            let popup = centered(area, 64, 7);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("{} “{}”?", change.verb(), change.title)),
                    Line::from(change.consequence()),
                    Line::styled("y yes · n no", theme.dim()),
                ])
                .wrap(Wrap { trim: true })
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(format!(" {} ", change.verb())),
                ),
                popup,
            );
        }
    }
}
/// A key hint on the left of a panel's bottom border (the right has the position).
fn draw_hint(frame: &mut Frame, area: Rect, hint: &str, theme: Theme) {
    let width = (hint.chars().count() as u16).min(area.width.saturating_sub(14));
    if area.height < 2 || width == 0 {
        return;
    }
    frame.render_widget(
        Paragraph::new(Line::styled(hint.to_owned(), theme.dim())),
        Rect {
            x: area.x + 1,
            y: area.bottom() - 1,
            width,
            height: 1,
        },
    );
}

fn split_search(area: Rect, show: bool) -> (Rect, Rect) {
    if !show {
        return (Rect::default(), area);
    }
    let [search, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    (search, rest)
}

/// `₹499.00`, `free`.
fn price(course: &Course) -> String {
    if course.is_free || course.price == 0 {
        return "free".into();
    }
    let amount = course.discounted_price.unwrap_or(course.price);
    let symbol = match course.currency.as_str() {
        "INR" => "₹",
        "USD" => "$",
        "EUR" => "€",
        other => other,
    };
    format!("{symbol}{}.{:02}", amount / 100, amount % 100)
}

/// `█████░░░░░ 50%`.
fn progress_bar(progress: i32) -> String {
    let p = progress.clamp(0, 100) as usize;
    let full = p / 10;
    format!("{}{} {p:>3}%", "█".repeat(full), "░".repeat(10 - full))
}
