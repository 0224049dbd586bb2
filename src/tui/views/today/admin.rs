//! The admin's Today: the counts; users, courses and DAU/WAU/MAU, revenue and the
//! system's health in a line each; then active users and signups per day (a line
//! chart) beside users by role (bars), and revenue per day beside the top courses.

use edupro_server::api::{AdminDashboard, Role, SeriesPoint};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use super::{TodayView, marked_row, one_line, panel, rows_in, table};
use crate::tui::theme::Theme;
use crate::tui::views::Goto;
use crate::tui::views::charts::{
    Columns, HBar, Series, count, day_columns, hbars, line_chart, no_activity,
};

/// `parts` joined by ` · ` after `head`, as many as fit in `width` (the first always).
pub(super) fn fitting(
    head: Span<'static>,
    parts: Vec<Vec<Span<'static>>>,
    width: u16,
) -> Line<'static> {
    let mut spans = vec![head];
    let mut used: usize = spans.iter().map(Span::width).sum();
    for (i, part) in parts.into_iter().enumerate() {
        let sep = if i == 0 { 0 } else { 3 };
        let w: usize = part.iter().map(Span::width).sum();
        if i > 0 && used + sep + w > usize::from(width) {
            break;
        }
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        used += sep + w;
        spans.extend(part);
    }
    Line::from(spans)
}

impl TodayView {
    pub(super) fn draw_admin(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let compact = area.height < 20;
        let counts = if compact { 2 } else { 3 };
        let rest = area.height.saturating_sub(counts + 3);
        let [counts, stats, revenue, health, top, bottom] = Layout::vertical([
            Constraint::Length(counts),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(rest.div_ceil(2)),
            Constraint::Fill(1),
        ])
        .areas(area);
        self.draw_counts(frame, counts, compact, theme);
        self.draw_revenue(frame, revenue, theme);
        let halves = [Constraint::Percentage(60), Constraint::Percentage(40)];
        let [activity, roles] = Layout::horizontal(halves).areas(top);
        let [money, courses] = Layout::horizontal(halves).areas(bottom);
        let d = match self.admin_dashboard(theme) {
            Ok(d) => d,
            Err(lines) => {
                let first = one_line(self.dashboard.as_ref(), theme);
                frame.render_widget(Paragraph::new(first.clone()), stats);
                frame.render_widget(Paragraph::new(first), health);
                for (area, title) in [
                    (activity, "Active users and signups per day"),
                    (roles, "Users by role"),
                    (money, "Revenue per day"),
                    (courses, "Top courses"),
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
        draw_admin_stats(frame, stats, theme, d);
        draw_health(frame, health, theme, d);
        draw_activity(frame, activity, theme, d);
        draw_roles(frame, roles, theme, d);
        draw_revenue_chart(frame, money, theme, d);
        self.draw_top_courses(frame, courses, theme, d);
    }

    /// The courses with the most enrollments in the range; Enter opens one.
    fn draw_top_courses(&self, frame: &mut Frame, area: Rect, theme: Theme, d: &AdminDashboard) {
        let block = panel("Top courses (30 days)", theme);
        if d.top_courses.is_empty() {
            frame.render_widget(
                Paragraph::new("No enrollments in these 30 days.").block(block),
                area,
            );
            return;
        }
        let rows: Vec<Row> = d
            .top_courses
            .iter()
            .take(rows_in(area))
            .map(|c| {
                let selected = self.is_selected(&Goto::Course(c.course.id));
                marked_row(
                    selected,
                    vec![
                        Cell::from(c.course.title.clone()),
                        Cell::from(format!("{:>4}", c.enrollments)),
                        Cell::from(format!("★ {:.1}", c.rating)),
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
                    Constraint::Length(4),
                    Constraint::Length(6),
                ],
                &["", "COURSE", "NEW", "RATING"],
                area.height.saturating_sub(2),
                theme,
            )
            .block(block),
            area,
        );
    }
}

/// `1204 users · 38 courses · DAU 120 · WAU 430 · MAU 890 · rolled up 01 Dec 02:00`.
fn draw_admin_stats(frame: &mut Frame, area: Rect, theme: Theme, d: &AdminDashboard) {
    let s = &d.stats;
    let figure = |n: i64, what: &'static str| {
        vec![
            Span::styled(n.to_string(), theme.key()),
            Span::raw(format!(" {what}")),
        ]
    };
    let named = |what: &'static str, n: i64| {
        vec![
            Span::raw(format!("{what} ")),
            Span::styled(n.to_string(), theme.key()),
        ]
    };
    let mut parts = vec![
        figure(s.total_users, "users"),
        figure(s.total_courses, "courses"),
        named("DAU", s.dau),
        named("WAU", s.wau),
        named("MAU", s.mau),
    ];
    if let Some(at) = d.health.rolled_up_at {
        parts.push(vec![Span::styled(
            format!("rolled up {}", theme.zone.local(at).format("%d %b %H:%M")),
            theme.dim(),
        )]);
    }
    frame.render_widget(
        Paragraph::new(fitting(Span::raw(""), parts, area.width)),
        area,
    );
}

/// What waits in the server's queues; anything failed or behind stands out.
fn draw_health(frame: &mut Frame, area: Rect, theme: Theme, d: &AdminDashboard) {
    let h = &d.health;
    let flag = |n: i64| if n > 0 { theme.warn() } else { theme.ok() };
    let mut webhooks = vec![Span::styled(
        format!("webhooks {} waiting", h.webhooks_pending),
        flag(0),
    )];
    if h.webhooks_failed > 0 {
        webhooks.push(Span::raw(", "));
        webhooks.push(Span::styled(
            format!("{} failed", h.webhooks_failed),
            theme.error(),
        ));
    }
    let parts = vec![
        vec![Span::styled(
            format!("mail {} queued", h.mail_queued),
            flag(0),
        )],
        webhooks,
        vec![Span::styled(
            format!("events {} behind", h.events_behind),
            flag(h.events_behind),
        )],
    ];
    frame.render_widget(
        Paragraph::new(fitting(
            Span::styled("Health: ", theme.title()),
            parts,
            area.width,
        )),
        area,
    );
}

/// Distinct active users (a line) and signups (points) per day over the range.
fn draw_activity(frame: &mut Frame, area: Rect, theme: Theme, d: &AdminDashboard) {
    let block = panel("Active users ⣀ and signups • per day", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let days = |series: &[SeriesPoint]| -> Vec<(chrono::NaiveDate, f64)> {
        series.iter().map(|p| (p.date, p.value as f64)).collect()
    };
    let (Some(from), Some(to)) = (
        d.daily_active.first().or(d.signups.first()).map(|p| p.date),
        d.daily_active.last().or(d.signups.last()).map(|p| p.date),
    ) else {
        return no_activity(frame, inner, theme);
    };
    let signups: Vec<_> = days(&d.signups)
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    line_chart(
        frame,
        inner,
        theme,
        (from, to),
        &[
            Series {
                points: days(&d.daily_active),
                marker: Marker::Braille,
                joined: true,
                style: theme.key(),
            },
            Series {
                points: signups,
                marker: Marker::Dot,
                joined: false,
                style: theme.ok(),
            },
        ],
        None,
        |v| format!("{v:.0}"),
    );
}

/// Active accounts per role, as bars.
fn draw_roles(frame: &mut Frame, area: Rect, theme: Theme, d: &AdminDashboard) {
    let block = panel(&format!("Users by role ({})", d.stats.total_users), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let of = |role: Role| {
        d.stats
            .users_by_role
            .iter()
            .find(|r| r.role == role)
            .map_or(0, |r| r.count)
    };
    let rows: Vec<HBar> = [
        (Role::Student, "students"),
        (Role::Teacher, "teachers"),
        (Role::Parent, "parents"),
        (Role::Admin, "admins"),
    ]
    .into_iter()
    .map(|(role, label)| HBar {
        label: label.to_owned(),
        value: count(of(role)),
        figure: of(role).to_string(),
    })
    .collect();
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0);
    if max == 0 {
        return no_activity(frame, inner, theme);
    }
    hbars(frame, inner, theme, &rows, max);
}

/// Net revenue per day in the currency that earned the most (the others named in the
/// title), in major units.
fn draw_revenue_chart(frame: &mut Frame, area: Rect, theme: Theme, d: &AdminDashboard) {
    let mut series: Vec<_> = d.revenue_chart.iter().collect();
    series.sort_by_key(|s| std::cmp::Reverse(s.points.iter().map(|p| p.value).sum::<i64>()));
    let title = match series.as_slice() {
        [] => "Revenue per day (net)".to_owned(),
        [only] => format!("Revenue per day · {} (net)", only.currency),
        [first, others @ ..] => format!(
            "Revenue per day · {} (net; also {})",
            first.currency,
            others
                .iter()
                .map(|s| s.currency.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let block = panel(&title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(first) = series.first() else {
        return no_activity(frame, inner, theme);
    };
    let dates: Vec<_> = first.points.iter().map(|p| p.date).collect();
    let values: Vec<u64> = first.points.iter().map(|p| count(p.value)).collect();
    day_columns(frame, inner, theme, &dates, &values, Columns::Bars, |v| {
        format!("{}", v / 100)
    });
}
