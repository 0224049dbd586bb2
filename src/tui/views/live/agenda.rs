//! The agenda panel: the caller's classes of one day, or of a week grouped by day (in --tz),
//! with the selected class's details underneath.

use chrono::NaiveDate;
use edupro_server::api::{LiveClass, LivePlatform};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span as TextSpan};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::LiveView;
use crate::tui::action::Effect;
use crate::tui::action::live::{Agenda, LiveEffect, Span};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::views::{Load, Out};
use crate::tui::widgets::list::visible_offset;

/// A line of the agenda: a day's heading (week view) or a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    Day(NaiveDate, bool),
    Class(usize),
}

fn day_label(d: NaiveDate) -> String {
    d.format("%a %d %b").to_string()
}

impl LiveView {
    pub(super) fn load(&mut self, out: &mut Out) {
        self.generation += 1;
        if !matches!(self.agenda, Some(Load::Ready(_))) {
            self.agenda = Some(Load::Loading);
        }
        out.effect(Effect::Live(LiveEffect::LoadAgenda {
            generation: self.generation,
            span: self.span,
            offset: self.offset,
        }));
    }

    fn classes(&self) -> &[LiveClass] {
        match &self.agenda {
            Some(Load::Ready(a)) => &a.classes,
            _ => &[],
        }
    }

    pub(super) fn current(&self) -> Option<&LiveClass> {
        self.classes().get(self.selected)
    }

    /// The agenda's lines: in a week, each day's heading, then its classes.
    pub(super) fn entries(agenda: &Agenda) -> Vec<Entry> {
        match agenda.span {
            Span::Day => (0..agenda.classes.len()).map(Entry::Class).collect(),
            Span::Week => {
                let mut entries = Vec::new();
                let mut day = agenda.from;
                while day < agenda.to {
                    let of_day: Vec<usize> = agenda
                        .classes
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| agenda.zone.date_of(c.scheduled_at) == day)
                        .map(|(i, _)| i)
                        .collect();
                    entries.push(Entry::Day(day, of_day.is_empty()));
                    entries.extend(of_day.into_iter().map(Entry::Class));
                    day = day.succ_opt().unwrap_or(agenda.to);
                }
                // Classes that began before the week and run into it.
                let before: Vec<usize> = agenda
                    .classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| agenda.zone.date_of(c.scheduled_at) < agenda.from)
                    .map(|(i, _)| i)
                    .collect();
                if !before.is_empty() {
                    let mut all: Vec<Entry> = before.into_iter().map(Entry::Class).collect();
                    all.extend(entries);
                    entries = all;
                }
                entries
            }
        }
    }

    /// The order the selection moves in (a week's lines are grouped by day).
    fn order(&self) -> Vec<usize> {
        match &self.agenda {
            Some(Load::Ready(a)) => Self::entries(a)
                .into_iter()
                .filter_map(|e| match e {
                    Entry::Class(i) => Some(i),
                    Entry::Day(..) => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn navigate(&mut self, command: Command, page: usize) -> bool {
        let order = self.order();
        let at = order.iter().position(|i| *i == self.selected).unwrap_or(0);
        let last = order.len().saturating_sub(1);
        let page = page.max(1);
        let next = match command {
            Command::Up => at.saturating_sub(1),
            Command::Down => (at + 1).min(last),
            Command::PageUp => at.saturating_sub(page),
            Command::PageDown => (at + page).min(last),
            Command::Top => 0,
            Command::Bottom => last,
            _ => return false,
        };
        if let Some(i) = order.get(next) {
            self.selected = *i;
        }
        if let Some(Load::Ready(a)) = &self.agenda {
            let line = Self::entries(a)
                .iter()
                .position(|e| *e == Entry::Class(self.selected))
                .unwrap_or(0);
            self.scroll = visible_offset(self.scroll, line, page);
        }
        true
    }
}

impl LiveView {
    fn title(&self) -> String {
        let Some(Load::Ready(a)) = &self.agenda else {
            return " Live classes ".into();
        };
        match a.span {
            Span::Day => {
                let when = match a.offset {
                    0 => " (today)",
                    1 => " (tomorrow)",
                    -1 => " (yesterday)",
                    _ => "",
                };
                format!(
                    " Live classes · {}{when} · {} ",
                    a.from.format("%a %d %b %Y"),
                    a.zone
                )
            }
            Span::Week => {
                let last = a.to.pred_opt().unwrap_or(a.to);
                format!(
                    " Live classes · week of {} – {}{} · {} ",
                    a.from.format("%a %d %b"),
                    last.format("%a %d %b %Y"),
                    if a.offset == 0 { " (this week)" } else { "" },
                    a.zone
                )
            }
        }
    }

    pub(super) fn draw_agenda(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(self.title(), theme.title()))
            .title_bottom(
                Line::styled(
                    " n schedule · S start · E end · t attendance · c chat · w day/week · [ ] ",
                    theme.dim(),
                )
                .right_aligned(),
            );
        let agenda = match &self.agenda {
            None | Some(Load::Loading) => {
                frame.render_widget(Paragraph::new("Loading classes…").block(block), area);
                return;
            }
            Some(Load::Failed(f)) => {
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::styled(format!("Could not load: {}", f.message), theme.error()),
                        Line::styled("ctrl-r tries again", theme.dim()),
                    ])
                    .block(block),
                    area,
                );
                return;
            }
            Some(Load::Ready(a)) => a,
        };
        if agenda.classes.is_empty() && agenda.span == Span::Day {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("No classes on {}.", day_label(agenda.from))),
                    Line::styled(
                        "n schedules one · [ and ] move a day · w shows the week",
                        theme.dim(),
                    ),
                ])
                .block(block),
                area,
            );
            return;
        }
        let [list, detail] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(5)]).areas(area);
        let inner = block.inner(list);
        let entries = Self::entries(agenda);
        let height = usize::from(inner.height.saturating_sub(1)).max(1);
        let line = entries
            .iter()
            .position(|e| *e == Entry::Class(self.selected))
            .unwrap_or(0);
        let offset = visible_offset(self.scroll.min(entries.len()), line, height);
        let rows = entries.iter().skip(offset).take(height).map(|e| match e {
            Entry::Day(d, empty) => {
                let mut cells = vec![
                    Cell::from(""),
                    Cell::from(Line::styled(day_label(*d), theme.header())),
                ];
                if *empty {
                    cells.push(Cell::from(Line::styled("no classes", theme.dim())));
                }
                Row::new(cells)
            }
            Entry::Class(i) => {
                let c = &agenda.classes[*i];
                let selected = *i == self.selected;
                let zone = agenda.zone;
                let when = format!(
                    "{}–{}",
                    zone.local(c.scheduled_at).format("%H:%M"),
                    zone.local(c.ends_at).format("%H:%M")
                );
                let when =
                    if agenda.span == Span::Week && zone.date_of(c.scheduled_at) < agenda.from {
                        format!("{} {when}", zone.local(c.scheduled_at).format("%d/%m"))
                    } else {
                        when
                    };
                let row = Row::new(vec![
                    Cell::from(if selected { "›" } else { " " }),
                    Cell::from(when),
                    Cell::from(c.title.clone()),
                    Cell::from(c.course.title.clone()),
                    Cell::from(c.status.as_str()),
                ]);
                if selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            }
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(11),
                Constraint::Fill(1),
                Constraint::Length(20),
                Constraint::Length(9),
            ],
        )
        .header(Row::new(["", "WHEN", "CLASS", "COURSE", "STATUS"]).style(theme.header()))
        .block(block);
        frame.render_widget(table, list);
        self.draw_detail(frame, detail, theme);
    }

    fn draw_detail(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = Block::default().borders(Borders::ALL);
        let Some(c) = self.current() else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "No classes this week. n schedules one.",
                    theme.dim(),
                ))
                .block(block),
                area,
            );
            return;
        };
        let place = match (&c.platform, &c.meeting_link) {
            (LivePlatform::Builtin, _) => "the class room (c opens its chat)".to_owned(),
            (p, Some(link)) => format!("{p} {link}"),
            (p, None) => p.to_string(),
        };
        let capacity = c
            .capacity
            .map(|n| format!("{n} seats"))
            .unwrap_or_else(|| "no seat limit".into());
        let lines = vec![
            Line::from(vec![
                TextSpan::styled(format!("{} ", c.title), theme.title()),
                TextSpan::raw(format!(
                    "{} · {} min · {}",
                    theme.zone.local(c.scheduled_at).format("%a %d %b %H:%M"),
                    c.duration,
                    if c.batch_id.is_some() {
                        "one batch"
                    } else {
                        "whole course"
                    }
                )),
            ]),
            Line::from(format!(
                "host {} {} · {capacity} · {}",
                c.host.first_name, c.host.last_name, place
            )),
            Line::styled(c.description.clone().unwrap_or_default(), theme.dim()),
        ];
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
            area,
        );
    }
}
