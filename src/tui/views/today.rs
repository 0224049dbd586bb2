//! Today: the caller's courses and the latest enrollments in them. (Live classes,
//! grading and notifications join it when the server has them.)

use crossterm::event::KeyEvent;
use edupro_server::api::{Role, User};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::{Load, Out, View};
use crate::tui::action::{Action, Effect, TodayData};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;

/// The Today tab.
#[derive(Debug, Clone)]
pub struct TodayView {
    role: Role,
    me: uuid::Uuid,
    data: Option<Load<TodayData>>,
}

impl TodayView {
    pub fn new(me: &User) -> Self {
        Self {
            role: me.role,
            me: me.id,
            data: None,
        }
    }

    fn load(&mut self, out: &mut Out) {
        self.data = Some(Load::Loading);
        out.effect(Effect::LoadToday {
            role: self.role,
            me: self.me,
        });
    }
}

impl View for TodayView {
    fn captures_text(&self) -> bool {
        false
    }

    fn on_text_key(&mut self, _key: &KeyEvent, _out: &mut Out) {}

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        match command {
            Command::Refresh => {
                self.load(out);
                true
            }
            _ => false,
        }
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        if let Action::Today(answer) = action {
            self.data = Some(match answer {
                Ok(data) => Load::Ready(data),
                Err(failure) => {
                    out.error(&failure);
                    Load::Failed(failure)
                }
            });
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if self.data.is_none() {
            self.load(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        vec![(Command::Refresh, "reload")]
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let data = match &self.data {
            None | Some(Load::Loading) => {
                frame.render_widget(
                    Paragraph::new("Loading today…")
                        .block(Block::default().borders(Borders::ALL).title(" Today ")),
                    area,
                );
                return;
            }
            Some(Load::Failed(failure)) => {
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::styled(
                            format!("Could not load: {}", failure.message),
                            theme.error(),
                        ),
                        Line::styled("ctrl-r tries again", theme.dim()),
                    ])
                    .block(Block::default().borders(Borders::ALL).title(" Today ")),
                    area,
                );
                return;
            }
            Some(Load::Ready(data)) => data,
        };
        let staff = matches!(self.role, Role::Teacher | Role::Admin);
        let [top, bottom] = if staff {
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area)
        } else {
            [area, Rect::default()]
        };
        let title = match self.role {
            Role::Admin => format!(" Newest courses ({} in all) ", data.total_courses),
            _ => format!(" Your courses ({}) ", data.total_courses),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(title, theme.title()));
        if data.courses.is_empty() {
            let hint = if staff {
                "No courses yet. Press 2 for Courses, then n to create one."
            } else {
                "No courses yet."
            };
            frame.render_widget(Paragraph::new(hint).block(block), top);
        } else {
            let height = usize::from(top.height.saturating_sub(3));
            let rows = data.courses.iter().take(height).map(|c| {
                Row::new(vec![
                    Cell::from(c.title.clone()),
                    Cell::from(c.status.as_str()),
                    Cell::from(format!("{} students", c.total_students)),
                ])
            });
            frame.render_widget(
                Table::new(
                    rows,
                    [
                        Constraint::Fill(1),
                        Constraint::Length(10),
                        Constraint::Length(14),
                    ],
                )
                .header(Row::new(["COURSE", "STATUS", "ENROLLED"]).style(theme.header()))
                .block(block),
                top,
            );
        }
        if !staff {
            return;
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(" Recent enrollments ", theme.title()));
        if data.recent.is_empty() {
            frame.render_widget(
                Paragraph::new("No students have enrolled in these courses yet.").block(block),
                bottom,
            );
            return;
        }
        let height = usize::from(bottom.height.saturating_sub(3));
        let rows = data.recent.iter().take(height).map(|e| {
            Row::new(vec![
                Cell::from(e.enrolled_at.format("%Y-%m-%d %H:%M").to_string()),
                Cell::from(e.student.clone()),
                Cell::from(e.course.clone()),
                Cell::from(format!("{:>3}%", e.progress)),
            ])
        });
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(16),
                    Constraint::Percentage(35),
                    Constraint::Fill(1),
                    Constraint::Length(5),
                ],
            )
            .header(Row::new(["WHEN", "STUDENT", "COURSE", "DONE"]).style(theme.header()))
            .block(block),
            bottom,
        );
    }
}
