//! The teacher's Today: the counts, their figures and revenue, active students per
//! day beside the next classes, the students at risk with the reasons, then their
//! courses and the latest enrollments.
//!
//! At 80×24 each panel keeps a row or more; the room a taller terminal adds goes to
//! the chart and the lists.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use super::{TodayView, at_risk_rows, one_line, panel, rows_in, table};
use crate::tui::theme::Theme;
use crate::tui::views::Goto;
use crate::tui::views::charts::{Columns, count, day_columns};

impl TodayView {
    pub(super) fn draw_teacher(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let compact = area.height < 20;
        let counts = if compact { 2 } else { 3 };
        let rest = area.height.saturating_sub(counts + 2);
        let charts = (rest * 9 / 20).clamp(5, 9);
        let lists = rest.saturating_sub(charts);
        let at_risk = lists.div_ceil(2);
        let [counts, stats, revenue, top, at_risk, bottom] = Layout::vertical([
            Constraint::Length(counts),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(charts),
            Constraint::Length(at_risk),
            Constraint::Fill(1),
        ])
        .areas(area);
        self.draw_counts(frame, counts, compact, theme);
        self.draw_teacher_stats(frame, stats, theme);
        self.draw_revenue(frame, revenue, theme);
        let [chart, upcoming] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(top);
        self.draw_active_students(frame, chart, theme);
        self.draw_upcoming(frame, upcoming, theme);
        self.draw_at_risk(frame, at_risk, theme);
        let [courses, recent] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(bottom);
        self.draw_courses(frame, courses, theme);
        self.draw_recent_enrollments(frame, recent, theme);
    }

    /// `3 courses · 42 students · ★ 4.6 average rating`.
    fn draw_teacher_stats(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let line = match self.teacher_dashboard(theme) {
            Err(_) => one_line(self.dashboard.as_ref(), theme),
            Ok(d) => {
                let s = &d.stats;
                let plural = |n: i64, one: &str, many: &str| {
                    format!("{n} {}", if n == 1 { one } else { many })
                };
                let rating = match s.avg_rating {
                    Some(r) => format!("★ {r:.1} average rating"),
                    None => "no ratings yet".to_owned(),
                };
                Line::from(vec![
                    Span::styled(plural(s.total_courses, "course", "courses"), theme.key()),
                    Span::raw(" · "),
                    Span::styled(plural(s.total_students, "student", "students"), theme.key()),
                    Span::raw(" · "),
                    Span::raw(rating),
                ])
            }
        };
        frame.render_widget(Paragraph::new(line), area);
    }

    /// Students active per day in the teacher's courses, the last 14 days.
    fn draw_active_students(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = panel("Active students per day", theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match self.teacher_dashboard(theme) {
            Err(lines) => {
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner)
            }
            Ok(d) => {
                let dates: Vec<_> = d.active_students.iter().map(|p| p.date).collect();
                let values: Vec<u64> = d.active_students.iter().map(|p| count(p.value)).collect();
                day_columns(frame, inner, theme, &dates, &values, Columns::Bars, |v| {
                    v.to_string()
                });
            }
        }
    }

    /// The students at risk, most reasons first: who, in which course, how far, why.
    fn draw_at_risk(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let d = match self.teacher_dashboard(theme) {
            Err(lines) => {
                return frame.render_widget(
                    Paragraph::new(lines)
                        .wrap(Wrap { trim: true })
                        .block(panel("Students at risk", theme)),
                    area,
                );
            }
            Ok(d) => d,
        };
        let students = &d.students_at_risk;
        let block = panel(&format!("Students at risk ({})", students.len()), theme);
        if students.is_empty() {
            frame.render_widget(
                Paragraph::new("Nobody is at risk: everyone is active and keeping up.")
                    .block(block),
                area,
            );
            return;
        }
        let block = block.title_bottom(
            Line::styled(" enter opens the student's analytics ", theme.dim()).right_aligned(),
        );
        let chosen = students
            .iter()
            .position(|s| self.is_selected(&Goto::AtRisk(Box::new(s.clone()))));
        let (rows, widths) = at_risk_rows(
            students,
            true,
            area.width.saturating_sub(2),
            rows_in(area),
            chosen,
            theme,
        );
        frame.render_widget(
            table(
                rows,
                &widths,
                &["", "STUDENT", "COURSE", "DONE", "WHY"],
                area.height.saturating_sub(2),
                theme,
            )
            .block(block),
            area,
        );
    }

    /// The newest enrollments into the teacher's courses.
    fn draw_recent_enrollments(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = panel("Recent enrollments", theme);
        let d = match self.teacher_dashboard(theme) {
            Err(lines) => {
                return frame.render_widget(
                    Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
                    area,
                );
            }
            Ok(d) => d,
        };
        if d.recent_enrollments.is_empty() {
            frame.render_widget(
                Paragraph::new("No students have enrolled yet.").block(block),
                area,
            );
            return;
        }
        let rows: Vec<Row> = d
            .recent_enrollments
            .iter()
            .take(rows_in(area))
            .map(|e| {
                Row::new(vec![
                    Cell::from(
                        theme
                            .zone
                            .local(e.enrolled_at)
                            .format("%d %b %H:%M")
                            .to_string(),
                    ),
                    Cell::from(format!("{} {}", e.student.first_name, e.student.last_name)),
                    Cell::from(e.course.title.clone()),
                ])
            })
            .collect();
        frame.render_widget(
            table(
                rows,
                &[
                    Constraint::Length(12),
                    Constraint::Length(16),
                    Constraint::Fill(1),
                ],
                &["WHEN", "STUDENT", "COURSE"],
                area.height.saturating_sub(2),
                theme,
            )
            .block(block),
            area,
        );
    }
}
