//! Today: the unread notifications and (for staff) the grading queue's size, the
//! doubts waiting for an answer and the revenue (net, this month and in all), the next
//! live classes, the caller's courses and the latest enrollments in them. Each panel
//! loads, fails and fills on its own.

use crossterm::event::KeyEvent;
use edupro_server::api::{LiveClass, Role, User};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::{Goto, Load, Out, View};
use crate::tui::action::{Action, CurrencyNet, Effect, TodayData};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;

/// The Today tab.
#[derive(Debug, Clone)]
pub struct TodayView {
    role: Role,
    me: uuid::Uuid,
    data: Option<Load<TodayData>>,
    upcoming: Option<Load<Vec<LiveClass>>>,
    /// Answers waiting for marks (staff only).
    grading: Option<Load<u64>>,
    /// Doubts waiting for an answer (staff only).
    doubts: Option<Load<u64>>,
    /// Net revenue per currency (staff only).
    revenue: Option<Load<Vec<CurrencyNet>>>,
    /// Kept by the Notifications tab (see [`TodayView::set_unread`]).
    unread: Load<u64>,
    /// Something Today shows may have changed (a grade saved, a class scheduled, an
    /// event arrived): read again when next shown, or at once if it is (see
    /// [`TodayView::refresh_if_stale`]).
    stale: bool,
    /// Answers still awaited from the last read.
    awaiting: u8,
    /// Index into [`TodayView::items`]: what Enter opens.
    selected: usize,
}

impl TodayView {
    pub fn new(me: &User) -> Self {
        Self {
            role: me.role,
            me: me.id,
            data: None,
            upcoming: None,
            grading: None,
            doubts: None,
            revenue: None,
            unread: Load::Loading,
            stale: false,
            awaiting: 0,
            selected: 0,
        }
    }

    /// What can be opened, top to bottom: the grading and doubt queues (staff), the feed, each
    /// upcoming class, each course.
    fn items(&self) -> Vec<Goto> {
        let mut items = Vec::new();
        if self.staff() {
            items.push(Goto::Grading);
            items.push(Goto::Doubts);
        }
        items.push(Goto::Notifications);
        if let Some(Load::Ready(classes)) = &self.upcoming {
            items.extend(classes.iter().map(|c| Goto::Class {
                id: c.id,
                at: c.scheduled_at,
            }));
        }
        if let Some(Load::Ready(data)) = &self.data {
            items.extend(data.courses.iter().map(|c| Goto::Course(c.id)));
        }
        items
    }

    /// Whether `item` is the selected one.
    fn is_selected(&self, item: &Goto) -> bool {
        self.items().get(self.selected) == Some(item)
    }

    fn staff(&self) -> bool {
        matches!(self.role, Role::Teacher | Role::Admin)
    }

    fn load(&mut self, out: &mut Out) {
        self.data = Some(Load::Loading);
        out.effect(Effect::LoadToday {
            role: self.role,
            me: self.me,
        });
        self.upcoming = Some(Load::Loading);
        out.effect(Effect::LoadUpcoming);
        if self.staff() {
            self.grading = Some(Load::Loading);
            out.effect(Effect::LoadGradingCount);
            self.doubts = Some(Load::Loading);
            out.effect(Effect::LoadDoubtCount);
            self.revenue = Some(Load::Loading);
            out.effect(Effect::LoadRevenue);
        }
        self.awaiting = self.answers();
    }

    /// Reads every panel again, keeping what it shows until the answers come (no
    /// "Loading…" flash for a refresh).
    fn reload(&mut self, out: &mut Out) {
        fn again<T>(load: &mut Option<Load<T>>) {
            if !matches!(load, Some(Load::Ready(_))) {
                *load = Some(Load::Loading);
            }
        }
        again(&mut self.data);
        out.effect(Effect::LoadToday {
            role: self.role,
            me: self.me,
        });
        again(&mut self.upcoming);
        out.effect(Effect::LoadUpcoming);
        if self.staff() {
            again(&mut self.grading);
            out.effect(Effect::LoadGradingCount);
            again(&mut self.doubts);
            out.effect(Effect::LoadDoubtCount);
            again(&mut self.revenue);
            out.effect(Effect::LoadRevenue);
        }
        self.awaiting = self.answers();
    }

    /// Whether an answer is still awaited: a refresh then waits for it, so a burst of
    /// events reads Today once or twice, not once per event.
    fn in_flight(&self) -> bool {
        self.awaiting > 0
    }

    /// How many answers a read waits for.
    fn answers(&self) -> u8 {
        if self.staff() { 5 } else { 2 }
    }

    /// What Today shows may have changed elsewhere.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Reads Today again if it went stale and nothing is in flight (the app calls this
    /// while Today is on screen, and on showing it).
    pub fn refresh_if_stale(&mut self, out: &mut Out) {
        if self.stale && self.data.is_some() && !self.in_flight() {
            self.stale = false;
            self.reload(out);
        }
    }

    /// The unread notifications count, as the Notifications tab knows it.
    pub fn set_unread(&mut self, unread: Load<u64>) {
        self.unread = unread;
    }
}

/// Turns an answer into a panel's state, reporting a failure on the status line.
fn loaded<T>(answer: Result<T, crate::tui::action::Failure>, out: &mut Out) -> Load<T> {
    match answer {
        Ok(value) => Load::Ready(value),
        Err(failure) => {
            out.error(&failure);
            Load::Failed(failure)
        }
    }
}

fn panel(title: &str, theme: Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(format!(" {title} "), theme.title()))
}

/// Minor units as `INR 499.00` (a minus sign first when refunds exceed sales).
fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{currency} {}.{:02}", abs / 100, abs % 100)
}

/// A panel's title, with `›` when it is the selected item.
fn marked(title: &str, selected: bool) -> String {
    if selected {
        format!("› {title}")
    } else {
        title.to_owned()
    }
}

/// A one-line panel: boxed, or (`compact`) only its top border with the title.
fn count_panel(title: &str, compact: bool, theme: Theme) -> Block<'static> {
    let block = panel(title, theme);
    if compact {
        block.borders(Borders::TOP)
    } else {
        block
    }
}

/// A panel that is loading or failed (`Err`: the lines it shows), or its data.
fn pending<T>(load: Option<&Load<T>>, theme: Theme) -> Result<&T, Vec<Line<'static>>> {
    match load {
        None | Some(Load::Loading) => Err(vec![Line::styled("Loading…", theme.dim())]),
        Some(Load::Failed(failure)) => Err(vec![
            Line::styled(
                format!("Could not load: {}", failure.message),
                theme.error(),
            ),
            Line::styled("ctrl-r tries again", theme.dim()),
        ]),
        Some(Load::Ready(value)) => Ok(value),
    }
}

/// [`pending`] for a one-line panel: a failure says so in a few words (the status
/// line has the message).
fn pending_count<T: Copy>(load: Option<&Load<T>>, theme: Theme) -> Result<T, Vec<Line<'static>>> {
    match load {
        Some(Load::Failed(_)) => Err(vec![Line::styled("Could not load; ctrl-r", theme.error())]),
        other => pending(other, theme).copied(),
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
            Command::Up => {
                self.selected = self.selected.saturating_sub(1);
                true
            }
            Command::Down => {
                let last = self.items().len().saturating_sub(1);
                self.selected = (self.selected + 1).min(last);
                true
            }
            Command::Open => {
                out.goto = self.items().get(self.selected).cloned();
                true
            }
            _ => false,
        }
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        self.awaiting = self.awaiting.saturating_sub(1);
        match action {
            Action::Today(answer) => self.data = Some(loaded(answer, out)),
            Action::Upcoming(answer) => {
                self.upcoming = Some(loaded(answer.map(|list| list.classes), out));
            }
            Action::GradingCount(answer) => self.grading = Some(loaded(answer, out)),
            Action::DoubtCount(answer) => self.doubts = Some(loaded(answer, out)),
            Action::Revenue(answer) => self.revenue = Some(loaded(answer, out)),
            _ => {}
        }
        self.selected = self.selected.min(self.items().len().saturating_sub(1));
    }

    fn activate(&mut self, out: &mut Out) {
        if self.data.is_none() {
            self.stale = false;
            self.load(out);
        } else {
            self.refresh_if_stale(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        vec![
            (Command::Up, "previous item"),
            (Command::Down, "next item"),
            (
                Command::Open,
                "open it (a queue, the feed, the class, the course)",
            ),
            (Command::Refresh, "reload"),
        ]
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let staff = self.staff();
        // At 80×24 the counts are boxed and the next classes get six rows; on a short
        // terminal (60×18) the counts lose their bottom border and the classes give up
        // rows first, so courses and enrollments still show a row or more each. Staff
        // see a line of revenue under the counts: under its title, or (short) after it.
        let compact = area.height < 20;
        let counts_height = if compact { 2 } else { 3 };
        let revenue_height: u16 = match (staff, compact) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2,
        };
        let lists: u16 = if staff { 2 } else { 1 };
        let upcoming_height = area
            .height
            .saturating_sub(counts_height + revenue_height + lists * 4)
            .clamp(3, 6);
        let [counts, upcoming, courses, recent] = if staff {
            let [counts, revenue, upcoming, courses, recent] = Layout::vertical([
                Constraint::Length(counts_height),
                Constraint::Length(revenue_height),
                Constraint::Length(upcoming_height),
                Constraint::Fill(1),
                Constraint::Fill(1),
            ])
            .areas(area);
            self.draw_revenue(frame, revenue, compact, theme);
            [counts, upcoming, courses, recent]
        } else {
            let [counts, upcoming, courses] = Layout::vertical([
                Constraint::Length(counts_height),
                Constraint::Length(upcoming_height),
                Constraint::Fill(1),
            ])
            .areas(area);
            [counts, upcoming, courses, Rect::default()]
        };
        if staff {
            let [grading, doubts, unread] = Layout::horizontal([
                Constraint::Percentage(40),
                Constraint::Percentage(30),
                Constraint::Percentage(30),
            ])
            .areas(counts);
            self.draw_grading(frame, grading, compact, theme);
            self.draw_doubts(frame, doubts, compact, theme);
            self.draw_unread(frame, unread, compact, theme);
        } else {
            self.draw_unread(frame, counts, compact, theme);
        }
        self.draw_upcoming(frame, upcoming, theme);
        self.draw_courses(frame, courses, theme);
        if staff {
            self.draw_recent(frame, recent, theme);
        }
    }
}

impl TodayView {
    fn draw_grading(&self, frame: &mut Frame, area: Rect, compact: bool, theme: Theme) {
        let block = count_panel(
            &marked("Grading queue", self.is_selected(&Goto::Grading)),
            compact,
            theme,
        );
        // Narrow (60 columns), the count in fewer words.
        let narrow = block.inner(area).width < 26;
        let text = match pending_count(self.grading.as_ref(), theme) {
            Err(lines) => Paragraph::new(lines),
            Ok(0) => Paragraph::new("Nothing to grade."),
            Ok(n) if narrow => Paragraph::new(format!("{n} to mark")),
            Ok(1) => Paragraph::new("1 answer waits for marks"),
            Ok(n) => Paragraph::new(format!("{n} answers wait for marks")),
        };
        frame.render_widget(text.block(block), area);
    }

    fn draw_doubts(&self, frame: &mut Frame, area: Rect, compact: bool, theme: Theme) {
        let block = count_panel(
            &marked("Doubts", self.is_selected(&Goto::Doubts)),
            compact,
            theme,
        );
        let text = match pending_count(self.doubts.as_ref(), theme) {
            Err(lines) => Paragraph::new(lines),
            Ok(0) => Paragraph::new("None unanswered."),
            Ok(n) => Paragraph::new(Line::styled(format!("{n} unanswered"), theme.key())),
        };
        frame.render_widget(text.block(block), area);
    }

    /// `This month: INR 399.00 · In all: INR 1234.00`, each currency sold in listed in
    /// both: under a titled top border, or (`compact`) on one line after the title.
    fn draw_revenue(&self, frame: &mut Frame, area: Rect, compact: bool, theme: Theme) {
        let line = match &self.revenue {
            Some(Load::Failed(_)) => {
                Line::styled("Could not load; ctrl-r tries again", theme.error())
            }
            None | Some(Load::Loading) => Line::styled("Loading…", theme.dim()),
            Some(Load::Ready(nets)) if nets.is_empty() => {
                Line::from("No sales yet: 0 this month, 0 in all.")
            }
            Some(Load::Ready(nets)) => {
                let list = |net: fn(&CurrencyNet) -> i64| {
                    nets.iter()
                        .map(|n| money(net(n), &n.currency))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                Line::from(format!(
                    "This month: {} · In all: {}",
                    list(|n| n.month),
                    list(|n| n.total)
                ))
            }
        };
        if compact {
            let mut spans = vec![Span::styled("Revenue (net): ", theme.title())];
            spans.extend(line.spans);
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
        } else {
            let block = count_panel("Revenue (net of refunds)", true, theme)
                .padding(ratatui::widgets::Padding::left(1));
            frame.render_widget(Paragraph::new(line).block(block), area);
        }
    }

    fn draw_unread(&self, frame: &mut Frame, area: Rect, compact: bool, theme: Theme) {
        let block = count_panel(
            &marked("Notifications", self.is_selected(&Goto::Notifications)),
            compact,
            theme,
        );
        let text = match pending_count(Some(&self.unread), theme) {
            Err(lines) => Paragraph::new(lines),
            Ok(0) => Paragraph::new("All read."),
            Ok(n) => Paragraph::new(Line::styled(format!("{n} unread"), theme.key())),
        };
        frame.render_widget(text.block(block), area);
    }

    fn draw_upcoming(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = panel("Upcoming live classes", theme);
        let classes = match pending(self.upcoming.as_ref(), theme) {
            Err(lines) => return frame.render_widget(Paragraph::new(lines).block(block), area),
            Ok(classes) if classes.is_empty() => {
                return frame.render_widget(
                    Paragraph::new("No live classes scheduled.").block(block),
                    area,
                );
            }
            Ok(classes) => classes,
        };
        let height = usize::from(area.height.saturating_sub(3));
        let rows = classes.iter().take(height).map(|c| {
            let selected = self.is_selected(&Goto::Class {
                id: c.id,
                at: c.scheduled_at,
            });
            let row = Row::new(vec![
                Cell::from(if selected { "›" } else { " " }),
                Cell::from(
                    theme
                        .zone
                        .local(c.scheduled_at)
                        .format("%a %d %b %H:%M")
                        .to_string(),
                ),
                Cell::from(c.title.clone()),
                Cell::from(c.course.title.clone()),
                Cell::from(format!("{:>3} min", c.duration)),
            ]);
            if selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(1),
                    Constraint::Length(16),
                    Constraint::Fill(1),
                    Constraint::Percentage(30),
                    Constraint::Length(7),
                ],
            )
            .header(Row::new(["", "WHEN", "CLASS", "COURSE", "LENGTH"]).style(theme.header()))
            .block(block),
            area,
        );
    }

    fn draw_courses(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let title = match &self.data {
            Some(Load::Ready(data)) => match self.role {
                Role::Admin => format!("Newest courses ({} in all)", data.total_courses),
                _ => format!("Your courses ({})", data.total_courses),
            },
            _ => "Your courses".to_owned(),
        };
        let block = panel(&title, theme);
        let data = match pending(self.data.as_ref(), theme) {
            Err(lines) => return frame.render_widget(Paragraph::new(lines).block(block), area),
            Ok(data) => data,
        };
        if data.courses.is_empty() {
            let hint = if self.staff() {
                "No courses yet. Press 2 for Courses, then n to create one."
            } else {
                "No courses yet."
            };
            frame.render_widget(Paragraph::new(hint).block(block), area);
            return;
        }
        let height = usize::from(area.height.saturating_sub(3));
        let rows = data.courses.iter().take(height).map(|c| {
            let selected = self.is_selected(&Goto::Course(c.id));
            let row = Row::new(vec![
                Cell::from(if selected { "›" } else { " " }),
                Cell::from(c.title.clone()),
                Cell::from(c.status.as_str()),
                Cell::from(format!("{} students", c.total_students)),
            ]);
            if selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(1),
                    Constraint::Fill(1),
                    Constraint::Length(10),
                    Constraint::Length(14),
                ],
            )
            .header(Row::new(["", "COURSE", "STATUS", "ENROLLED"]).style(theme.header()))
            .block(block),
            area,
        );
    }

    fn draw_recent(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = panel("Recent enrollments", theme);
        let data = match pending(self.data.as_ref(), theme) {
            Err(lines) => return frame.render_widget(Paragraph::new(lines).block(block), area),
            Ok(data) => data,
        };
        if data.recent.is_empty() {
            frame.render_widget(
                Paragraph::new("No students have enrolled in these courses yet.").block(block),
                area,
            );
            return;
        }
        let height = usize::from(area.height.saturating_sub(3));
        let rows = data.recent.iter().take(height).map(|e| {
            Row::new(vec![
                Cell::from(theme.zone.format(e.enrolled_at)),
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
            area,
        );
    }
}
