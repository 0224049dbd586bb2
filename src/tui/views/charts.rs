//! Charts that stay readable from 80×24 up, shared by the dashboards and analytics:
//!
//! - [`day_columns`]: one column (a bar, or a sparkline's step) per day, the largest
//!   value on the left, `MM-DD` dates under the columns, placed so no two overlap;
//! - [`line_chart`]: lines (or points) over days, on ratatui's `Chart`, with dates on
//!   its x axis and the unit's figures on its y axis;
//! - [`hbars`]: horizontal bars with their labels cut to fit and their figures in a
//!   column of their own (the funnel, users by role).
//!
//! A series with nothing in it says "no activity yet" instead of drawing an empty box.
//! Nothing here keeps state: each function draws what it is given into `area`.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Chart, Dataset, GraphType, Paragraph, Sparkline,
};

use crate::tui::theme::Theme;

/// What an empty series says.
pub const NO_ACTIVITY: &str = "no activity yet";

/// A UTC day as the axes show it: `12-01`.
pub fn day(date: NaiveDate) -> String {
    date.format("%m-%d").to_string()
}

/// Seconds as people read them: `45 min`, `2 h 05 min`.
pub fn duration(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

/// Whole minutes of `seconds` (what time charts plot).
pub fn minutes(seconds: i64) -> u64 {
    u64::try_from(seconds.max(0) / 60).unwrap_or(0)
}

/// `42%`.
pub fn percent(value: f64) -> String {
    format!("{value:.0}%")
}

/// Minor units as `INR 499.00` (a minus sign first when refunds exceed sales).
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{currency} {}.{:02}", abs / 100, abs % 100)
}

/// A count that is never negative, for bars.
pub fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// `text` in at most `width` columns, ending in `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// `text` in lines of at most `width` columns, broken between words (a word longer
/// than a line is cut with `…`).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

/// `parts` joined by ` · ` on as few lines of `width` as they take, never splitting
/// a part (a figure and its words stay together).
pub fn pack(parts: Vec<Vec<Span<'static>>>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let mut lines: Vec<Line> = Vec::new();
    let mut line: Vec<Span> = Vec::new();
    let mut used = 0;
    for part in parts {
        let w: usize = part.iter().map(Span::width).sum();
        if !line.is_empty() && used + 3 + w > width {
            lines.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        if !line.is_empty() {
            line.push(Span::raw(" · "));
            used += 3;
        }
        used += w;
        line.extend(part);
    }
    if !line.is_empty() {
        lines.push(Line::from(line));
    }
    lines
}

/// "no activity yet", dimmed, on the first line of `area`.
pub fn no_activity(frame: &mut Frame, area: Rect, theme: Theme) {
    frame.render_widget(Paragraph::new(Line::styled(NO_ACTIVITY, theme.dim())), area);
}

/// How [`day_columns`] draws its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// A bar per day, with a gap between two when there is room.
    Bars,
    /// A sparkline: each day a step as wide as the room allows, no gaps.
    Sparkline,
}

/// One column per day (`dates` and `values` pair up): the largest value (as `label`
/// writes it) top left, 0 bottom left, dates under the columns. When there are more
/// days than columns, the latest days show.
pub fn day_columns(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    dates: &[NaiveDate],
    values: &[u64],
    kind: Columns,
    label: impl Fn(u64) -> String,
) {
    let n = dates.len().min(values.len());
    let (dates, values) = (&dates[..n], &values[..n]);
    let Some(&max) = values.iter().max() else {
        return no_activity(frame, area, theme);
    };
    if max == 0 {
        return no_activity(frame, area, theme);
    }
    let top = label(max);
    let axis = (top.chars().count() as u16 + 1).min(area.width / 3);
    if area.height < 3 || area.width <= axis + 4 {
        // Too small for a chart: the figure that matters, in words.
        let at = values.iter().position(|v| *v == max).unwrap_or(0);
        frame.render_widget(
            Paragraph::new(format!("most: {top} on {}", day(dates[at]))),
            area,
        );
        return;
    }
    let plot = Rect {
        x: area.x + axis,
        y: area.y,
        width: area.width - axis,
        height: area.height - 1,
    };
    // The latest days that fit, one column each at least.
    let start = n.saturating_sub(usize::from(plot.width));
    let (dates, values) = (&dates[start..], &values[start..]);
    let shown = values.len() as u16;
    let (width, gap) = match kind {
        Columns::Bars => {
            let gap = u16::from(plot.width >= 2 * shown - 1);
            (((plot.width + gap) / shown).saturating_sub(gap).max(1), gap)
        }
        Columns::Sparkline => ((plot.width / shown).max(1), 0),
    };
    // Centred, with its scale, when the days leave columns over.
    let used = (shown * width + (shown - 1) * gap).min(plot.width);
    let shift = (plot.width - used) / 2;
    let plot = Rect {
        x: plot.x + shift,
        width: used,
        ..plot
    };
    match kind {
        Columns::Bars => {
            let bars: Vec<Bar> = values
                .iter()
                .map(|v| Bar::default().value(*v).text_value(String::new()))
                .collect();
            frame.render_widget(
                BarChart::default()
                    .data(BarGroup::new(bars))
                    .bar_width(width)
                    .bar_gap(gap)
                    .max(max)
                    .bar_style(theme.key()),
                plot,
            );
        }
        Columns::Sparkline => {
            let steps: Vec<u64> = values
                .iter()
                .flat_map(|v| std::iter::repeat_n(*v, usize::from(width)))
                .collect();
            frame.render_widget(
                Sparkline::default()
                    .data(&steps)
                    .max(max)
                    .style(theme.key()),
                plot,
            );
        }
    }
    // The scale: the largest value at the top, 0 at the bottom.
    let scale = Rect {
        x: area.x + shift,
        width: axis - 1,
        height: 1,
        ..area
    };
    frame.render_widget(
        Paragraph::new(Span::styled(top, theme.dim())).right_aligned(),
        scale,
    );
    if plot.height >= 2 {
        frame.render_widget(
            Paragraph::new(Span::styled("0", theme.dim())).right_aligned(),
            Rect {
                y: plot.bottom() - 1,
                ..scale
            },
        );
    }
    // Dates under their columns: the first, the last, then the middle and quarters
    // while they fit without touching.
    let row = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    let centre = |i: usize| plot.x + i as u16 * (width + gap) + width / 2;
    let last = dates.len() - 1;
    let mut placed: Vec<(u16, u16)> = Vec::new();
    for i in [0, last, last / 2, last / 4, last * 3 / 4] {
        let text = day(dates[i]);
        let w = text.chars().count() as u16;
        if w > row.width {
            continue;
        }
        let x = centre(i)
            .saturating_sub(w / 2)
            .clamp(row.x, row.right() - w);
        if placed.iter().any(|&(a, b)| x < b + 1 && a < x + w + 1) {
            continue;
        }
        placed.push((x, x + w));
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.dim())),
            Rect { x, width: w, ..row },
        );
    }
}

/// One line (or set of points) of a [`line_chart`].
#[derive(Debug, Clone)]
pub struct Series {
    /// Each point: its day and its value.
    pub points: Vec<(NaiveDate, f64)>,
    pub marker: Marker,
    /// Points joined by a line, or on their own.
    pub joined: bool,
    pub style: Style,
}

/// Lines over the days `from`…`to` on ratatui's `Chart`: dates along the bottom (first,
/// middle, last, as the width allows), 0 and `top` (as `label` writes it) up the left.
/// `top` defaults to the largest value. Draws "no activity yet" when every value is 0.
pub fn line_chart(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    (from, to): (NaiveDate, NaiveDate),
    series: &[Series],
    top: Option<f64>,
    label: impl Fn(f64) -> String,
) {
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return no_activity(frame, area, theme);
    }
    let top = top.unwrap_or(max).max(max);
    let span = (to - from).num_days().max(1) as f64;
    let points: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .map(|(d, v)| ((*d - from).num_days() as f64, *v))
                .collect()
        })
        .collect();
    let datasets = series
        .iter()
        .zip(&points)
        .map(|(s, data)| {
            Dataset::default()
                .marker(s.marker)
                .graph_type(if s.joined {
                    GraphType::Line
                } else {
                    GraphType::Scatter
                })
                .style(s.style)
                .data(data)
        })
        .collect();
    let middle = from + chrono::Days::new(((to - from).num_days().max(0) / 2) as u64);
    // Three dates need about three times their width; two fit in less.
    let x_labels: Vec<Line> = if area.width >= 30 {
        vec![day(from).into(), day(middle).into(), day(to).into()]
    } else {
        vec![day(from).into(), day(to).into()]
    };
    let y_labels: Vec<Line> = vec![Line::from("0"), Line::from(label(top))];
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([0.0, span])
                .labels(x_labels)
                .style(theme.dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(y_labels)
                .style(theme.dim()),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}

/// One row of [`hbars`].
#[derive(Debug, Clone, PartialEq)]
pub struct HBar {
    pub label: String,
    pub value: u64,
    /// What the row's figure column says (`92% · 11`).
    pub figure: String,
}

/// Horizontal bars, one a row, scaled to `max`: labels on the left (cut to at most half
/// the width, and to leave the bars 8 columns), figures in a right-aligned column. Rows past the height are
/// left out (the caller says how many show).
pub fn hbars(frame: &mut Frame, area: Rect, theme: Theme, rows: &[HBar], max: u64) {
    if rows.is_empty() || area.height == 0 {
        return;
    }
    let rows = &rows[..rows.len().min(usize::from(area.height))];
    let figure_width = rows
        .iter()
        .map(|r| r.figure.chars().count())
        .max()
        .unwrap_or(0) as u16;
    // Labels take at most half the width, and leave the bars 8 columns or more.
    let label_width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(usize::from(area.width) / 2)
        .min(usize::from(area.width.saturating_sub(figure_width + 1 + 8)));
    let [bars, figures] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(figure_width + 1)]).areas(area);
    let chart: Vec<Bar> = rows
        .iter()
        .map(|r| {
            Bar::default()
                .label(Line::from(format!(
                    "{:<label_width$}",
                    fit(&r.label, label_width)
                )))
                .value(r.value)
                .text_value(String::new())
        })
        .collect();
    frame.render_widget(
        BarChart::horizontal(chart)
            .bar_width(1)
            .bar_gap(0)
            .max(max.max(1))
            .bar_style(theme.key()),
        bars,
    );
    let lines: Vec<Line> = rows.iter().map(|r| Line::from(r.figure.clone())).collect();
    frame.render_widget(Paragraph::new(lines).right_aligned(), figures);
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;

    fn days(n: u32) -> Vec<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        (0..n)
            .map(|i| first + chrono::Days::new(u64::from(i)))
            .collect()
    }

    fn draw(width: u16, height: u16, f: impl FnOnce(&mut Frame)) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(f).unwrap();
        terminal.backend().to_string()
    }

    #[test]
    fn durations_read_in_minutes_then_hours_and_minutes() {
        assert_eq!(duration(59), "0 min");
        assert_eq!(duration(45 * 60), "45 min");
        assert_eq!(duration(2 * 3600 + 5 * 60 + 30), "2 h 05 min");
        assert_eq!(minutes(-5), 0);
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis_and_short_ones_kept() {
        assert_eq!(fit("Installing Rust", 20), "Installing Rust");
        assert_eq!(fit("Installing Rust", 8), "Install…");
        assert_eq!(fit("Installing Rust", 11), "Installing…");
    }

    #[test]
    fn a_series_of_zeros_says_no_activity_yet() {
        let screen = draw(30, 5, |f| {
            day_columns(
                f,
                f.area(),
                Theme::plain(),
                &days(14),
                &[0; 14],
                Columns::Bars,
                |v| v.to_string(),
            );
        });
        assert!(screen.contains(NO_ACTIVITY), "{screen}");
    }

    #[test]
    fn dates_under_columns_never_touch_even_when_narrow() {
        for width in [12, 20, 27, 40, 60] {
            let values: Vec<u64> = (1..=14).collect();
            let screen = draw(width, 5, |f| {
                day_columns(
                    f,
                    f.area(),
                    Theme::plain(),
                    &days(14),
                    &values,
                    Columns::Bars,
                    |v| v.to_string(),
                );
            });
            let last = screen.lines().last().unwrap().trim_matches('"').to_owned();
            // Each date is whole and separated from the next by a space or more.
            let words: Vec<&str> = last.split_whitespace().collect();
            assert!(!words.is_empty(), "{screen}");
            for w in &words {
                assert_eq!(w.len(), 5, "a cut or joined date at {width}: {screen}");
            }
            assert!(
                last.contains("12-01"),
                "the last day shows at {width}: {screen}"
            );
        }
    }
}
