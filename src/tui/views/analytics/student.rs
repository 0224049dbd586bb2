//! A student's analytics page: the heading, why they are at risk (when opened from a
//! list of students at risk), their headline figures, then four panels — progress
//! per course, scores over time, time spent per day (minutes), strong and weak
//! subjects.

use edupro_server::api::{StudentAnalytics, SubjectScore};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{StudentPage, heading, not_ready, span_of};
use crate::tui::theme::Theme;
use crate::tui::views::Load;
use crate::tui::views::charts::{
    Columns, HBar, Series, day_columns, duration, fit, hbars, line_chart, minutes, pack, percent,
};
use crate::tui::views::today::panel;

pub(super) fn draw(page: &StudentPage, frame: &mut Frame, area: Rect, theme: Theme) {
    let title = format!("{} · analytics", page.name);
    if not_ready(frame, area, theme, &title, &page.data) {
        return;
    }
    let Load::Ready(d) = &page.data else {
        return;
    };
    let why = page.at_risk.as_ref().map(|s| {
        Line::from(vec![
            Span::styled(format!("At risk in {}: ", s.course.title), theme.warn()),
            Span::raw(s.reasons.join("; ")),
        ])
    });
    let figures = pack(figures(theme, d), area.width);
    let [head, why_area, figures_area, grid] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(why.is_some())),
        Constraint::Length(figures.len() as u16),
        Constraint::Fill(1),
    ])
    .areas(area);
    heading(
        frame,
        head,
        theme,
        format!("{title} · {}", span_of(d.since, d.until)),
        "esc back · ctrl-r reload",
    );
    if let Some(why) = why {
        frame.render_widget(Paragraph::new(why), why_area);
    }
    frame.render_widget(Paragraph::new(figures), figures_area);
    let [top, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(grid);
    let halves = [Constraint::Percentage(50), Constraint::Percentage(50)];
    let [courses, scores] = Layout::horizontal(halves).areas(top);
    let [time, subjects] = Layout::horizontal(halves).areas(bottom);
    draw_courses(frame, courses, theme, d);
    draw_scores(frame, scores, theme, d);
    draw_time(frame, time, theme, d);
    draw_subjects(frame, subjects, theme, d);
}

/// `42% overall · 1 completed, 2 in progress · 1200 XP · streak 3 (best 9) · tests
/// average 64% (5 graded) · attendance 4 of 6 · 5 h 20 min`.
fn figures(theme: Theme, d: &StudentAnalytics) -> Vec<Vec<Span<'static>>> {
    let t = &d.test_scores;
    let tests = match t.average {
        Some(avg) => format!("tests average {} ({} graded)", percent(avg), t.graded),
        None => "no graded tests".to_owned(),
    };
    let a = &d.attendance;
    let attendance = match a.rate {
        Some(rate) => format!(
            "attended {} of {} classes ({})",
            a.attended,
            a.held,
            percent(rate)
        ),
        None => "no classes held".to_owned(),
    };
    vec![
        vec![
            Span::styled(percent(d.overall_progress), theme.key()),
            Span::raw(" overall"),
        ],
        vec![Span::raw(format!(
            "{} completed, {} in progress",
            d.courses_completed, d.courses_in_progress
        ))],
        vec![Span::raw(format!("{} XP", d.total_xp))],
        vec![Span::raw(format!(
            "streak {} (best {})",
            d.learning_streak, d.longest_streak
        ))],
        vec![Span::raw(tests)],
        vec![Span::raw(attendance)],
        vec![
            Span::styled(duration(d.time_spent), theme.key()),
            Span::raw(" learning"),
        ],
    ]
}

/// Progress per course, as bars, with the time spent in each.
fn draw_courses(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentAnalytics) {
    let block = panel("Progress per course", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if d.courses.is_empty() {
        frame.render_widget(Paragraph::new("Not enrolled in a course."), inner);
        return;
    }
    let rows: Vec<HBar> = d
        .courses
        .iter()
        .map(|c| HBar {
            label: c.course.title.clone(),
            value: u64::try_from(c.progress_percent.clamp(0, 100)).unwrap_or(0),
            figure: format!("{:>3}% · {}", c.progress_percent, duration(c.time_spent)),
        })
        .collect();
    hbars(frame, inner, theme, &rows, 100);
}

/// Each graded attempt's percent on its day.
fn draw_scores(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentAnalytics) {
    let block = panel("Scores over time (%)", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if d.scores.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no graded tests yet", theme.dim())),
            inner,
        );
        return;
    }
    line_chart(
        frame,
        inner,
        theme,
        (d.since, d.until),
        &[
            Series {
                points: d.scores.iter().map(|s| (s.date, s.percent)).collect(),
                marker: Marker::Braille,
                joined: true,
                style: theme.key(),
            },
            // Each attempt as a point on the line.
            Series {
                points: d.scores.iter().map(|s| (s.date, s.percent)).collect(),
                marker: Marker::Dot,
                joined: false,
                style: theme.key(),
            },
        ],
        Some(100.0),
        |v| format!("{v:.0}"),
    );
}

/// Minutes learning per day.
fn draw_time(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentAnalytics) {
    let block = panel("Time spent per day (minutes)", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let dates: Vec<_> = d.time_series.iter().map(|p| p.date).collect();
    let values: Vec<u64> = d.time_series.iter().map(|p| minutes(p.value)).collect();
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

/// Categories averaging 75 % or more, and under 50 %.
fn draw_subjects(frame: &mut Frame, area: Rect, theme: Theme, d: &StudentAnalytics) {
    let block = panel("Strong and weak subjects", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if d.strong_subjects.is_empty() && d.weak_subjects.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "No subject stands out yet (75% and up, or under 50%).",
                theme.dim(),
            ))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let line = |mark: &'static str, s: &SubjectScore, style| {
        let figure = format!(" {:>4} ({} graded)", percent(s.average), s.graded);
        let room = width.saturating_sub(figure.chars().count() + 2);
        Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::raw(fit(&s.subject, room)),
            Span::styled(figure, theme.dim()),
        ])
    };
    let mut lines: Vec<Line> = Vec::new();
    lines.extend(d.strong_subjects.iter().map(|s| line("▲", s, theme.ok())));
    lines.extend(d.weak_subjects.iter().map(|s| line("▼", s, theme.error())));
    frame.render_widget(Paragraph::new(lines), inner);
}
