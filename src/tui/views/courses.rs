//! Courses: a searchable list → a course's tree (sections → lessons) → its enrolled
//! students. Create and edit in forms that show the server's field errors inline;
//! reorder with move up/down; publish and archive.

use crossterm::event::KeyEvent;
use edupro_server::api::{
    Course, CourseEnrollment, CourseLevel, CourseStatus, LessonSummary, LessonType, Section,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use uuid::Uuid;

use super::{Load, Out, Search, SearchOutcome, View};
use crate::tui::action::{Action, Effect, SaveTarget};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Field, Form, Outcome};
use crate::tui::widgets::list::{PagedList, draw_table, visible_offset};

/// Which page of the Courses tab is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    List,
    Tree,
    Roster,
}

/// One row of a course's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TreeRow {
    Section(usize),
    Lesson(usize, usize),
}

fn tree_rows(course: &Course) -> Vec<TreeRow> {
    let mut rows = Vec::new();
    for (s, section) in course.sections.iter().flatten().enumerate() {
        rows.push(TreeRow::Section(s));
        for l in 0..section.lessons.len() {
            rows.push(TreeRow::Lesson(s, l));
        }
    }
    rows
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
    form: Option<(Form, SaveTarget)>,
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
            form: None,
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

fn section_form(section: Option<&Section>) -> Form {
    Form::new(
        if section.is_some() {
            "Rename section"
        } else {
            "New section"
        },
        vec![Field::text(
            "title",
            "Title",
            section.map(|s| s.title.clone()).unwrap_or_default(),
        )],
    )
}

fn lesson_form(lesson: Option<&LessonSummary>) -> Form {
    let types: Vec<&'static str> = LessonType::ALL.iter().map(|t| t.as_str()).collect();
    Form::new(
        if lesson.is_some() {
            "Edit lesson"
        } else {
            "New lesson"
        },
        vec![
            Field::text(
                "title",
                "Title",
                lesson.map(|l| l.title.clone()).unwrap_or_default(),
            ),
            Field::choice(
                "type",
                "Type",
                types,
                lesson.map(|l| l.r#type.as_str()).unwrap_or("TEXT"),
            ),
            Field::number(
                "duration",
                "Minutes",
                lesson.map(|l| l.duration).unwrap_or(10),
            ),
            Field::flag(
                "isPublished",
                "Published",
                lesson.map(|l| l.is_published).unwrap_or(true),
            ),
            Field::flag(
                "isFreePreview",
                "Free preview",
                lesson.map(|l| l.is_free_preview).unwrap_or(false),
            ),
        ],
    )
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
            Page::Tree => {}
        }
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

    fn sections(&self) -> &[Section] {
        self.tree_course()
            .and_then(|c| c.sections.as_deref())
            .unwrap_or(&[])
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
        out.effect(Effect::SetCourseStatus {
            course: course.id,
            publish,
        });
    }

    fn tree_command(&mut self, command: Command, out: &mut Out) -> bool {
        let Some(course) = self.tree_course().cloned() else {
            if command == Command::Back {
                self.page = Page::List;
                return true;
            }
            return false;
        };
        let rows = tree_rows(&course);
        let sections = course.sections.clone().unwrap_or_default();
        let last = rows.len().saturating_sub(1);
        let page = out.page.max(1);
        let nav = match command {
            Command::Up => Some(self.tree_selected.saturating_sub(1)),
            Command::Down => Some((self.tree_selected + 1).min(last)),
            Command::PageUp => Some(self.tree_selected.saturating_sub(page)),
            Command::PageDown => Some((self.tree_selected + page).min(last)),
            Command::Top => Some(0),
            Command::Bottom => Some(last),
            _ => None,
        };
        if let Some(selected) = nav {
            self.tree_selected = selected;
            self.tree_offset = visible_offset(self.tree_offset, selected, page);
            return true;
        }
        let row = rows.get(self.tree_selected).copied();
        let section_of = |row: Option<TreeRow>| match row {
            Some(TreeRow::Section(s) | TreeRow::Lesson(s, _)) => sections.get(s),
            None => None,
        };
        match command {
            Command::Back => self.page = Page::List,
            Command::Refresh => self.open_tree(course.id, out),
            Command::NewSection => {
                self.form = Some((
                    section_form(None),
                    SaveTarget::NewSection { course: course.id },
                ))
            }
            Command::New => match section_of(row) {
                Some(section) => {
                    self.form = Some((
                        lesson_form(None),
                        SaveTarget::NewLesson {
                            section: section.id,
                        },
                    ))
                }
                None => out.info("Add a section first."),
            },
            Command::Edit | Command::Open => match row {
                Some(TreeRow::Section(s)) => {
                    self.form = Some((
                        section_form(sections.get(s)),
                        SaveTarget::EditSection(sections[s].id),
                    ))
                }
                Some(TreeRow::Lesson(s, l)) => {
                    let lesson = &sections[s].lessons[l];
                    self.form = Some((lesson_form(Some(lesson)), SaveTarget::EditLesson(lesson.id)))
                }
                None if command == Command::Edit => {
                    self.form = Some((
                        course_form(Some(&course)),
                        SaveTarget::EditCourse(course.id),
                    ))
                }
                None => {}
            },
            Command::MoveUp | Command::MoveDown => {
                let up = command == Command::MoveUp;
                match row {
                    Some(TreeRow::Section(s)) => {
                        let order = i64::from(sections[s].order);
                        let to = if up { order - 1 } else { order + 1 };
                        if to < 1 || to > sections.len() as i64 {
                            out.info("It is already at the end.");
                        } else {
                            self.follow = Some(sections[s].id);
                            out.effect(Effect::MoveSection {
                                course: course.id,
                                section: sections[s].id,
                                position: to,
                            });
                        }
                    }
                    Some(TreeRow::Lesson(s, l)) => {
                        let lesson = &sections[s].lessons[l];
                        let order = i64::from(lesson.order);
                        let to = if up { order - 1 } else { order + 1 };
                        if to < 1 || to > sections[s].lessons.len() as i64 {
                            out.info("It is already at the end of its section.");
                        } else {
                            self.follow = Some(lesson.id);
                            out.effect(Effect::MoveLesson {
                                course: course.id,
                                lesson: lesson.id,
                                position: to,
                            });
                        }
                    }
                    None => {}
                }
            }
            Command::Publish => self.set_status(true, out),
            Command::Archive => self.set_status(false, out),
            Command::Students => self.open_roster(course.id, course.title.clone(), out),
            _ => return false,
        }
        true
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
        self.form.is_some() || self.search.editing.is_some()
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if let Some((form, target)) = self.form.as_mut() {
            match form.on_key(key) {
                Outcome::Editing => {}
                Outcome::Cancel => self.form = None,
                Outcome::Submit => {
                    if let Some(body) = form.body() {
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
        if self.form.is_some() {
            return vec![];
        }
        match self.page {
            Page::List => vec![
                (Command::Open, "open the course's sections and lessons"),
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
                (Command::Refresh, "reload"),
                (Command::Back, "back to the list"),
            ],
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
            }
            Page::Tree => self.draw_tree(frame, area, theme),
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
    }
}

impl CoursesView {
    fn draw_tree(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let course = match &self.course {
            None | Some(Load::Loading) => {
                frame.render_widget(
                    Paragraph::new("Loading the course…")
                        .block(Block::default().borders(Borders::ALL)),
                    area,
                );
                return;
            }
            Some(Load::Failed(f)) => {
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::styled(format!("Could not load: {}", f.message), theme.error()),
                        Line::styled("ctrl-r tries again · esc back", theme.dim()),
                    ])
                    .block(Block::default().borders(Borders::ALL)),
                    area,
                );
                return;
            }
            Some(Load::Ready(c)) => c,
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(format!(" {} ", course.title), theme.title()))
            .title_bottom(
                Line::from(format!(
                    " {} · {} students · {} ",
                    course.status,
                    course.total_students,
                    price(course)
                ))
                .right_aligned(),
            );
        let rows = tree_rows(course);
        if rows.is_empty() {
            frame.render_widget(
                Paragraph::new("No sections yet. Press N to add one.").block(block),
                area,
            );
            return;
        }
        let sections = self.sections();
        let inner = block.inner(area);
        let height = usize::from(inner.height).max(1);
        let offset = visible_offset(self.tree_offset, self.tree_selected, height);
        let end = (offset + height).min(rows.len());
        let lines = rows[offset..end].iter().enumerate().map(|(i, row)| {
            let selected = offset + i == self.tree_selected;
            let mut cells = vec![Cell::from(if selected { "›" } else { " " })];
            cells.extend(match *row {
                TreeRow::Section(s) => vec![
                    Cell::from(format!("▾ {}. {}", sections[s].order, sections[s].title))
                        .style(theme.header()),
                    Cell::from(match sections[s].lessons.len() {
                        1 => "1 lesson".to_owned(),
                        n => format!("{n} lessons"),
                    }),
                    Cell::from(""),
                ],
                TreeRow::Lesson(s, l) => {
                    let lesson = &sections[s].lessons[l];
                    vec![
                        Cell::from(format!("    {}. {}", lesson.order, lesson.title)),
                        Cell::from(format!("{} · {} min", lesson.r#type, lesson.duration)),
                        Cell::from(if lesson.is_published {
                            "published"
                        } else {
                            "draft"
                        }),
                    ]
                }
            });
            let r = Row::new(cells);
            if selected {
                r.style(theme.selected())
            } else {
                r
            }
        });
        frame.render_widget(
            Table::new(
                lines,
                [
                    Constraint::Length(1),
                    Constraint::Fill(1),
                    Constraint::Length(20),
                    Constraint::Length(10),
                ],
            )
            .block(block),
            area,
        );
    }
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
