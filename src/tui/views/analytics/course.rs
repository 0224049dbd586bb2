//! A course's analytics page: the heading and headline figures, then four panels —
//! enrollments per day (a line chart) and one test's score histogram (bars of 10 %),
//! the per-lesson funnel (horizontal bars) and the students at risk.

use edupro_server::api::{CourseAnalytics, ScoreDistribution};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Wrap};

use super::{CoursePage, heading, not_ready, span_of};
use crate::tui::theme::Theme;
use crate::tui::views::Load;
use crate::tui::views::charts::{
    HBar, NO_ACTIVITY, Series, duration, hbars, line_chart, money, pack, percent,
};
use crate::tui::views::today::{at_risk_rows, panel, rows_in, table};

pub(super) fn draw(page: &CoursePage, frame: &mut Frame, area: Rect, theme: Theme) {
    let title = format!("{} · analytics", page.title);
    if not_ready(frame, area, theme, &title, &page.data) {
        return;
    }
    let Load::Ready(d) = &page.data else {
        return;
    };
    let figures = pack(figures(theme, d), area.width);
    let [head, figures_area, grid] = Layout::vertical([
        Constraint::Length(1),
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
    frame.render_widget(Paragraph::new(figures), figures_area);
    let [top, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(grid);
    let halves = [Constraint::Percentage(50), Constraint::Percentage(50)];
    let [trend, scores] = Layout::horizontal(halves).areas(top);
    let [funnel, at_risk] = Layout::horizontal(halves).areas(bottom);
    draw_trend(frame, trend, theme, d);
    draw_scores(frame, scores, theme, d, page.test);
    draw_funnel(frame, funnel, theme, d);
    draw_at_risk(frame, at_risk, theme, d, page.selected);
}

/// `12 enrolled · 42% completed · ★ 4.6 · attendance 83% · INR 1298.20 net · per
/// student: 2 h 10 min, 54% progress`, as parts to [`pack`] on lines.
fn figures(theme: Theme, d: &CourseAnalytics) -> Vec<Vec<Span<'static>>> {
    let mut parts: Vec<Vec<Span>> = vec![
        vec![
            Span::styled(d.total_enrollments.to_string(), theme.key()),
            Span::raw(" enrolled"),
        ],
        vec![
            Span::styled(percent(d.completion_rate), theme.key()),
            Span::raw(" completed"),
        ],
        vec![Span::raw(if d.avg_rating > 0.0 {
            format!("★ {:.1}", d.avg_rating)
        } else {
            "no ratings yet".to_owned()
        })],
        vec![Span::raw(match d.attendance_rate {
            Some(rate) => format!("attendance {}", percent(rate)),
            None => "no classes held".to_owned(),
        })],
    ];
    if !d.total_revenue.is_empty() {
        let revenue = d
            .total_revenue
            .iter()
            .map(|t| money(t.net, &t.currency))
            .collect::<Vec<_>>()
            .join(", ");
        parts.push(vec![Span::raw(format!("{revenue} net"))]);
    }
    let e = &d.student_engagement;
    parts.push(vec![Span::raw(format!(
        "per student: {}, {} progress",
        duration(e.avg_time_spent.round() as i64),
        percent(e.avg_progress)
    ))]);
    parts
}

/// New enrollments over the range as a running total: a line that climbs on the
/// days students enrolled (daily counts of 0, 1 or 2 read as noise).
fn draw_trend(frame: &mut Frame, area: Rect, theme: Theme, d: &CourseAnalytics) {
    let total: i64 = d.enrollment_trend.iter().map(|p| p.count.max(0)).sum();
    let block = panel(&format!("New enrollments, running total (+{total})"), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let points = d
        .enrollment_trend
        .iter()
        .scan(0_i64, |sum, p| {
            *sum += p.count.max(0);
            Some((p.date, *sum as f64))
        })
        .collect();
    line_chart(
        frame,
        inner,
        theme,
        (d.since, d.until),
        &[Series {
            points,
            marker: Marker::Braille,
            joined: true,
            style: theme.key(),
        }],
        None,
        |v| format!("{v:.0}"),
    );
}

/// What a bucket of 10 % is called: `0-9` … `90-100` when the bars are wide enough,
/// else where it starts (`0` … `90`).
fn bucket_label(i: usize, width: u16) -> String {
    let from = i * 10;
    match (width >= 6, i) {
        (true, 9) => "90-100".to_owned(),
        (true, _) => format!("{from}-{}", from + 9),
        (false, _) => from.to_string(),
    }
}

/// One test's graded attempts in ten buckets of 10 %; `[`/`]` switch tests.
fn draw_scores(frame: &mut Frame, area: Rect, theme: Theme, d: &CourseAnalytics, test: usize) {
    let tests = &d.score_distribution;
    let Some(dist) = tests.get(test) else {
        frame.render_widget(
            Paragraph::new("No tests in this course yet.").block(panel("Scores", theme)),
            area,
        );
        return;
    };
    let mut block = panel(
        &format!(
            "Scores (%) · {} · {} of {}",
            dist.title,
            test + 1,
            tests.len()
        ),
        theme,
    );
    if tests.len() > 1 {
        block = block.title_bottom(Line::styled(" [ ] other tests ", theme.dim()).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    histogram(frame, inner, theme, dist);
}

fn histogram(frame: &mut Frame, area: Rect, theme: Theme, dist: &ScoreDistribution) {
    let [summary, chart] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let attempts = match dist.attempts {
        1 => "1 graded attempt".to_owned(),
        n => format!("{n} graded attempts"),
    };
    let average = dist
        .average
        .map(|a| format!(" · average {}", percent(a)))
        .unwrap_or_default();
    frame.render_widget(Paragraph::new(format!("{attempts}{average}")), summary);
    if dist.attempts == 0 || dist.buckets.iter().all(|b| *b <= 0) {
        frame.render_widget(
            Paragraph::new(Line::styled(NO_ACTIVITY, theme.dim())),
            chart,
        );
        return;
    }
    let width = ((chart.width + 1) / 10).saturating_sub(1).max(1);
    let bars: Vec<Bar> = dist
        .buckets
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, n)| {
            Bar::default()
                .value(u64::try_from(*n).unwrap_or(0))
                .label(Line::from(bucket_label(i, width)))
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::new(bars))
            .bar_width(width)
            .bar_gap(1)
            .bar_style(theme.key())
            .value_style(theme.selected())
            .label_style(theme.dim()),
        chart,
    );
}

/// How far students got, lesson by lesson, in the course's order.
fn draw_funnel(frame: &mut Frame, area: Rect, theme: Theme, d: &CourseAnalytics) {
    let shown = usize::from(area.height.saturating_sub(2)).min(d.funnel.len());
    let title = if shown < d.funnel.len() {
        format!("Lessons completed · first {shown} of {}", d.funnel.len())
    } else {
        "Lessons completed (% of students)".to_owned()
    };
    let block = panel(&title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if d.funnel.is_empty() {
        frame.render_widget(Paragraph::new("No published lessons yet."), inner);
        return;
    }
    let rows: Vec<HBar> = d
        .funnel
        .iter()
        .enumerate()
        .map(|(i, step)| HBar {
            label: format!("{}. {}", i + 1, step.title),
            value: step.completion_rate.round().clamp(0.0, 100.0) as u64,
            figure: format!("{:>4} · {}", percent(step.completion_rate), step.completed),
        })
        .collect();
    hbars(frame, inner, theme, &rows, 100);
}

/// The course's students at risk: Enter opens one.
fn draw_at_risk(frame: &mut Frame, area: Rect, theme: Theme, d: &CourseAnalytics, selected: usize) {
    let students = &d.students_at_risk;
    let block = panel(&format!("Students at risk ({})", students.len()), theme);
    if students.is_empty() {
        frame.render_widget(
            Paragraph::new("Nobody is at risk: everyone is active and keeping up.")
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let block =
        block.title_bottom(Line::styled(" enter opens the student ", theme.dim()).right_aligned());
    let (rows, widths) = at_risk_rows(
        students,
        false,
        area.width.saturating_sub(2),
        rows_in(area).max(1),
        Some(selected),
        theme,
    );
    frame.render_widget(
        table(
            rows,
            &widths,
            &["", "STUDENT", "DONE", "WHY"],
            area.height.saturating_sub(2),
            theme,
        )
        .block(block),
        area,
    );
}
