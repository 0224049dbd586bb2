//! The course tree page: a course's sections and their lessons, with the keys that add,
//! edit and reorder them, and their forms.

use edupro_server::api::{Course, Lesson, LessonType, Section};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::{CoursesView, course_form, price};
use crate::tui::action::{Effect, SaveTarget};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::views::{Load, Out};
use crate::tui::widgets::form::{Field, Form};
use crate::tui::widgets::list::visible_offset;

/// One row of a course's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TreeRow {
    Section(usize),
    Lesson(usize, usize),
}

pub(super) fn tree_rows(course: &Course) -> Vec<TreeRow> {
    let mut rows = Vec::new();
    for (s, section) in course.sections.iter().flatten().enumerate() {
        rows.push(TreeRow::Section(s));
        for l in 0..section.lessons.len() {
            rows.push(TreeRow::Lesson(s, l));
        }
    }
    rows
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

/// A lesson's form: everything it has, its content and URL too (an empty one is
/// cleared).
pub(super) fn lesson_form(lesson: Option<&Lesson>) -> Form {
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
            Field::text(
                "url",
                "URL",
                lesson.and_then(|l| l.url.clone()).unwrap_or_default(),
            )
            .optional(),
            Field::text(
                "content",
                "Content",
                lesson.and_then(|l| l.content.clone()).unwrap_or_default(),
            )
            .optional(),
        ],
    )
}

impl CoursesView {
    fn sections(&self) -> &[Section] {
        self.tree_course()
            .and_then(|c| c.sections.as_deref())
            .unwrap_or(&[])
    }

    pub(super) fn tree_command(&mut self, command: Command, out: &mut Out) -> bool {
        let Some(course) = self.tree_course().cloned() else {
            if command == Command::Back {
                self.show_list(out);
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
            Command::Back => self.show_list(out),
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
                    // The tree has its summary; the form wants its content and URL.
                    out.effect(Effect::LoadLesson {
                        id: sections[s].lessons[l].id,
                    });
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
            Command::Analytics => self.open_analytics(course.id, course.title.clone(), out),
            _ => return false,
        }
        true
    }

    pub(super) fn draw_tree(&self, frame: &mut Frame, area: Rect, theme: Theme) {
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
            )
            .title_bottom(Line::styled(" v analytics ", theme.dim()));
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
