//! The student's Today: the feed, their streak and level; time spent per day (a
//! sparkline, in minutes) beside the next classes; their courses with progress beside
//! the tests to take; their recent grades.

use edupro_server::api::StudentDashboard;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use super::{TodayView, count_panel, marked_row, one_line, panel, rows_in, table};
use crate::tui::theme::Theme;
use crate::tui::views::Goto;
use crate::tui::views::charts::{Columns, day_columns, minutes, percent};

/// `████░░░░░░  40%`.
pub(super) fn progress_bar(progress: i32, width: usize) -> String {
    let p = progress.clamp(0, 100) as usize;
    let full = p * width / 100;
    format!("{}{} {p:>3}%", "█".repeat(full), "░".repeat(width - full))
}

impl TodayView {
    pub(super) fn draw_student(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let compact = area.height < 20;
        let counts = if compact { 2 } else { 3 };
        let rest = area.height.saturating_sub(counts);
        let charts = (rest * 2 / 5).clamp(5, 9);
        let lists = rest.saturating_sub(charts);
        let [counts, top, middle, bottom] = Layout::vertical([
            Constraint::Length(counts),
            Constraint::Length(charts),
            Constraint::Length(lists.div_ceil(2)),
            Constraint::Fill(1),
        ])
        .areas(area);
        let [unread, streak, level] = Layout::horizontal([
            Constraint::Percentage(34),
            Constraint::Percentage(33),
            Constraint::Percentage(33),
        ])
        .areas(counts);
        self.draw_unread(frame, unread, compact, theme);
        let halves = [Constraint::Percentage(50), Constraint::Percentage(50)];
        let [time, upcoming] = Layout::horizontal(halves).areas(top);
        let [courses, tests] = Layout::horizontal(halves).areas(middle);
        self.draw_upcoming(frame, upcoming, theme);
        let d = match self.student_dashboard(theme) {
            Ok(d) => d,
            Err(lines) => {
                for (area, title) in [(streak, "Streak"), (level, "Level")] {
                    frame.render_widget(
                        Paragraph::new(one_line(self.dashboard.as_ref(), theme))
                            .block(count_panel(title, compact, theme)),
                        area,
                    );
                }
                for (area, title) in [
                    (time, "Time spent per day (minutes)"),
                    (courses, "Your courses"),
                    (tests, "Tests to take"),
                    (bottom, "Recent grades"),
                ] {
                    frame.render_widget(
                        Paragraph::new(lines.clone())
                            .wrap(Wrap { trim: true })
                            .block(panel(title, theme)),
                        area,
                    );
                }
                return;
            }
        };
        let s = &d.stats;
        let days = |n: i32| {
            if n == 1 {
                "1 day".to_owned()
            } else {
                format!("{n} days")
            }
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(days(s.current_streak), theme.key()),
                Span::raw(format!(" (best {})", s.longest_streak)),
            ]))
            .block(count_panel("Streak", compact, theme)),
            streak,
        );
        let badges = match s.badges.len() {
            0 => String::new(),
            1 => " · 1 badge".to_owned(),
            n => format!(" · {n} badges"),
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{}", s.level), theme.key()),
                Span::raw(format!(" · {} XP{badges}", s.total_xp)),
            ]))
            .block(count_panel("Level", compact, theme)),
            level,
        );
        draw_time_spent(frame, time, theme, d);
        self.draw_my_courses(frame, courses, theme, d);
        draw_pending_tests(frame, tests, theme, d);
        draw_recent_grades(frame, bottom, theme, d);
    }

    /// The courses most recently opened, with progress; Enter opens one.
    fn draw_my_courses(&self, frame: &mut Frame, area: Rect, theme: Theme, d: &StudentDashboard) {
        let s = &d.stats;
        let block = panel(
            &format!(
                "Your courses ({}, {} completed)",
                s.enrolled_courses, s.completed_courses
            ),
            theme,
        );
        if d.recent_courses.is_empty() {
            frame.render_widget(
                Paragraph::new("Not enrolled in a course yet.").block(block),
                area,
            );
            return;
        }
        let rows: Vec<Row> = d
            .recent_courses
            .iter()
            .take(rows_in(area))
            .map(|c| {
                let selected = self.is_selected(&Goto::Course(c.course.id));
                marked_row(
                    selected,
                    vec![
                        Cell::from(c.course.title.clone()),
                        Cell::from(progress_bar(c.progress_percent, 6)),
                    ],
                    theme,
                )
            })
            .collect();
        frame.render_widget(
            table(
                rows,
                &[
                    Constraint::Length(1),
                    Constraint::Fill(1),
                    Constraint::Length(11),
                ],
                &["", "COURSE", "PROGRESS"],
                area.height.saturating_sub(2),
                theme,
            )
            .block(block),
            area,
        );
    }
}

/// Minutes spent learning per day, the last 14 days.
fn draw_time_spent(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentDashboard) {
    let block = panel("Time spent per day (minutes)", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let dates: Vec<_> = d.time_spent.iter().map(|p| p.date).collect();
    let values: Vec<u64> = d.time_spent.iter().map(|p| minutes(p.value)).collect();
    day_columns(
        frame,
        inner,
        theme,
        &dates,
        &values,
        Columns::Sparkline,
        |v| v.to_string(),
    );
}

/// Published tests not submitted yet, soonest due first.
fn draw_pending_tests(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentDashboard) {
    let block = panel(&format!("Tests to take ({})", d.pending_tests.len()), theme);
    if d.pending_tests.is_empty() {
        frame.render_widget(Paragraph::new("None waiting.").block(block), area);
        return;
    }
    let rows: Vec<Row> = d
        .pending_tests
        .iter()
        .take(rows_in(area))
        .map(|t| {
            Row::new(vec![
                Cell::from(t.title.clone()),
                Cell::from(match t.due_at {
                    Some(at) => theme.zone.local(at).format("%d %b %H:%M").to_string(),
                    None => "no due date".to_owned(),
                }),
            ])
        })
        .collect();
    frame.render_widget(
        table(
            rows,
            &[Constraint::Fill(1), Constraint::Length(12)],
            &["TEST", "DUE"],
            area.height.saturating_sub(2),
            theme,
        )
        .block(block),
        area,
    );
}

/// The newest graded attempts.
fn draw_recent_grades(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentDashboard) {
    let block = panel("Recent grades", theme);
    if d.recent_grades.is_empty() {
        frame.render_widget(Paragraph::new("Nothing graded yet.").block(block), area);
        return;
    }
    let rows: Vec<Row> = d
        .recent_grades
        .iter()
        .take(rows_in(area))
        .map(|g| {
            Row::new(vec![
                Cell::from(
                    theme
                        .zone
                        .local(g.graded_at)
                        .format("%d %b %H:%M")
                        .to_string(),
                ),
                Cell::from(g.test_title.clone()),
                Cell::from(g.course.title.clone()),
                Cell::from(format!("{:>4}", percent(g.percent))),
                Cell::from(if g.passed { "passed" } else { "failed" }).style(if g.passed {
                    theme.ok()
                } else {
                    theme.error()
                }),
            ])
        })
        .collect();
    frame.render_widget(
        table(
            rows,
            &[
                Constraint::Length(12),
                Constraint::Fill(1),
                Constraint::Percentage(30),
                Constraint::Length(5),
                Constraint::Length(6),
            ],
            &["WHEN", "TEST", "COURSE", "SCORE", ""],
            area.height.saturating_sub(2),
            theme,
        )
        .block(block),
        area,
    );
}
