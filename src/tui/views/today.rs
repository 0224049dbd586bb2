//! Today: each role's dashboard, with the counts that lead somewhere (the grading
//! queue, the doubts waiting, the unread notifications) on top. Each panel loads,
//! fails and fills on its own.
//!
//! - Teachers (`today/teacher.rs`): their figures and revenue, active students per
//!   day, the next classes, the students at risk with the reasons, their courses and
//!   the latest enrollments.
//! - Admins (`today/admin.rs`): users, DAU/WAU/MAU, revenue and the system's health;
//!   active users and signups per day, users by role, revenue per day, top courses.
//! - Students (`today/student.rs`): streak and level, time spent per day, the next
//!   classes, their courses with progress, tests to take and recent grades.
//! - Parents (no dashboard yet): the feed, the next classes and the courses.

mod admin;
mod student;
mod teacher;

use crossterm::event::KeyEvent;
use edupro_server::api::{
    AdminDashboard, AtRiskStudent, DateRange, LiveClass, Role, StudentDashboard, TeacherDashboard,
    UpcomingClass, User,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use uuid::Uuid;

use super::charts::{count, money};
use super::{Goto, Load, Out, View};
use crate::tui::action::analytics::{AnalyticsAction, AnalyticsEffect, Dashboard};
use crate::tui::action::{Action, CurrencyNet, Effect, Failure, TodayData};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;

/// A class on the Upcoming panel, from the live-classes list or a dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLine {
    pub id: Uuid,
    pub title: String,
    pub course: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub minutes: i64,
}

impl From<&LiveClass> for ClassLine {
    fn from(c: &LiveClass) -> Self {
        Self {
            id: c.id,
            title: c.title.clone(),
            course: c.course.title.clone(),
            at: c.scheduled_at,
            minutes: i64::from(c.duration),
        }
    }
}

impl From<&UpcomingClass> for ClassLine {
    fn from(c: &UpcomingClass) -> Self {
        Self {
            id: c.id,
            title: c.title.clone(),
            course: c.course.title.clone(),
            at: c.scheduled_at,
            minutes: (c.ends_at - c.scheduled_at).num_minutes(),
        }
    }
}

/// The Today tab.
#[derive(Debug, Clone)]
pub struct TodayView {
    role: Role,
    me: Uuid,
    /// Read once (then kept up to date by [`TodayView::refresh_if_stale`]).
    loaded: bool,
    /// The courses list (teachers and parents).
    data: Option<Load<TodayData>>,
    /// The next classes: the dashboard's (teachers, students) or the list's (parents).
    upcoming: Option<Load<Vec<ClassLine>>>,
    /// Answers waiting for marks (staff: the teacher's dashboard, or the queue's size).
    grading: Option<Load<u64>>,
    /// Doubts waiting for an answer (staff).
    doubts: Option<Load<u64>>,
    /// Net revenue per currency, this month and in all (staff).
    revenue: Option<Load<Vec<CurrencyNet>>>,
    /// The role's dashboard (not parents').
    dashboard: Option<Load<Dashboard>>,
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
            loaded: false,
            data: None,
            upcoming: None,
            grading: None,
            doubts: None,
            revenue: None,
            dashboard: None,
            unread: Load::Loading,
            stale: false,
            awaiting: 0,
            selected: 0,
        }
    }

    /// What a read asks for. The dashboards carry the grading and doubt counts
    /// (teachers') and the next classes (teachers' and students'), so those are not
    /// asked for twice.
    fn requests(&self) -> Vec<Effect> {
        let dashboard = Effect::Analytics(AnalyticsEffect::LoadDashboard {
            role: self.role,
            range: DateRange::default(),
        });
        let courses = Effect::LoadToday {
            role: self.role,
            me: self.me,
        };
        match self.role {
            Role::Teacher => vec![dashboard, courses, Effect::LoadRevenue],
            Role::Admin => vec![
                dashboard,
                Effect::LoadGradingCount,
                Effect::LoadDoubtCount,
                Effect::LoadRevenue,
            ],
            Role::Student => vec![dashboard],
            Role::Parent => vec![courses, Effect::LoadUpcoming],
        }
    }

    /// Reads every panel; with `keep`, panels keep what they show until their answer
    /// comes (no "Loading…" flash for a refresh).
    fn read(&mut self, keep: bool, out: &mut Out) {
        fn reading<T>(load: &mut Option<Load<T>>, keep: bool) {
            if !(keep && matches!(load, Some(Load::Ready(_)))) {
                *load = Some(Load::Loading);
            }
        }
        let effects = self.requests();
        for effect in &effects {
            match effect {
                Effect::LoadToday { .. } => reading(&mut self.data, keep),
                Effect::LoadUpcoming => reading(&mut self.upcoming, keep),
                Effect::LoadGradingCount => reading(&mut self.grading, keep),
                Effect::LoadDoubtCount => reading(&mut self.doubts, keep),
                Effect::LoadRevenue => reading(&mut self.revenue, keep),
                Effect::Analytics(_) => {
                    reading(&mut self.dashboard, keep);
                    if self.role == Role::Teacher {
                        reading(&mut self.grading, keep);
                        reading(&mut self.doubts, keep);
                    }
                    if matches!(self.role, Role::Teacher | Role::Student) {
                        reading(&mut self.upcoming, keep);
                    }
                }
                _ => {}
            }
        }
        self.loaded = true;
        self.awaiting = u8::try_from(effects.len()).unwrap_or(u8::MAX);
        out.effects.extend(effects);
    }

    /// What can be opened, in the order they are drawn: the grading and doubt queues
    /// (staff), the feed, each upcoming class, each student at risk (teachers), each
    /// course (the top courses, for admins).
    fn items(&self) -> Vec<Goto> {
        let mut items = Vec::new();
        if self.staff() {
            items.push(Goto::Grading);
            items.push(Goto::Doubts);
        }
        items.push(Goto::Notifications);
        if let Some(Load::Ready(classes)) = &self.upcoming {
            items.extend(classes.iter().map(|c| Goto::Class { id: c.id, at: c.at }));
        }
        match &self.dashboard {
            Some(Load::Ready(Dashboard::Teacher(d))) => items.extend(
                d.students_at_risk
                    .iter()
                    .map(|s| Goto::AtRisk(Box::new(s.clone()))),
            ),
            Some(Load::Ready(Dashboard::Admin(d))) => {
                items.extend(d.top_courses.iter().map(|c| Goto::Course(c.course.id)));
            }
            Some(Load::Ready(Dashboard::Student(d))) => {
                items.extend(d.recent_courses.iter().map(|c| Goto::Course(c.course.id)));
            }
            _ => {}
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

    /// Whether an answer is still awaited: a refresh then waits for it, so a burst of
    /// events reads Today once or twice, not once per event.
    fn in_flight(&self) -> bool {
        self.awaiting > 0
    }

    /// What Today shows may have changed elsewhere.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Reads Today again if it went stale and nothing is in flight (the app calls this
    /// while Today is on screen, and on showing it).
    pub fn refresh_if_stale(&mut self, out: &mut Out) {
        if self.stale && self.loaded && !self.in_flight() {
            self.stale = false;
            self.read(true, out);
        }
    }

    /// The unread notifications count, as the Notifications tab knows it.
    pub fn set_unread(&mut self, unread: Load<u64>) {
        self.unread = unread;
    }

    /// The dashboard's answer, and what it carries for the other panels.
    fn dashboard_answer(&mut self, answer: Result<Dashboard, Failure>, out: &mut Out) {
        match &answer {
            Ok(Dashboard::Teacher(d)) => {
                self.grading = Some(Load::Ready(count(d.pending_reviews)));
                self.doubts = Some(Load::Ready(count(d.unanswered_doubts)));
                self.upcoming = Some(Load::Ready(
                    d.upcoming_classes.iter().map(ClassLine::from).collect(),
                ));
            }
            Ok(Dashboard::Student(d)) => {
                self.upcoming = Some(Load::Ready(
                    d.upcoming_classes.iter().map(ClassLine::from).collect(),
                ));
            }
            Ok(Dashboard::Admin(_)) => {}
            Err(failure) => {
                if self.role == Role::Teacher {
                    self.grading = Some(Load::Failed(failure.clone()));
                    self.doubts = Some(Load::Failed(failure.clone()));
                }
                if matches!(self.role, Role::Teacher | Role::Student) {
                    self.upcoming = Some(Load::Failed(failure.clone()));
                }
            }
        }
        self.dashboard = Some(loaded(answer, out));
    }
}

/// Turns an answer into a panel's state, reporting a failure on the status line.
fn loaded<T>(answer: Result<T, Failure>, out: &mut Out) -> Load<T> {
    match answer {
        Ok(value) => Load::Ready(value),
        Err(failure) => {
            out.error(&failure);
            Load::Failed(failure)
        }
    }
}

pub(super) fn panel(title: &str, theme: Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(format!(" {title} "), theme.title()))
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
pub(super) fn pending<T>(load: Option<&Load<T>>, theme: Theme) -> Result<&T, Vec<Line<'static>>> {
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

/// What a one-line panel without its data says: loading, or failed in a few words
/// (the status line has the message).
pub(super) fn one_line<T>(load: Option<&Load<T>>, theme: Theme) -> Line<'static> {
    match load {
        Some(Load::Failed(_)) => Line::styled("Could not load; ctrl-r tries again", theme.error()),
        _ => Line::styled("Loading…", theme.dim()),
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

/// A table with its header when there is room for a row under it too.
pub(super) fn table<'a>(
    rows: Vec<Row<'a>>,
    widths: &[Constraint],
    header: &[&'a str],
    inner_height: u16,
    theme: Theme,
) -> Table<'a> {
    let table = Table::new(rows, widths.to_vec());
    if inner_height >= 2 {
        table.header(Row::new(header.to_vec()).style(theme.header()))
    } else {
        table
    }
}

/// A row with the `›` marker, highlighted when selected.
pub(super) fn marked_row<'a>(selected: bool, cells: Vec<Cell<'a>>, theme: Theme) -> Row<'a> {
    let mut all = vec![Cell::from(if selected { "›" } else { " " })];
    all.extend(cells);
    let row = Row::new(all);
    if selected {
        row.style(theme.selected())
    } else {
        row
    }
}

/// How many rows of a table fit in `area` (inside its borders, under its header).
pub(super) fn rows_in(area: Rect) -> usize {
    let inner = area.height.saturating_sub(2);
    usize::from(if inner >= 2 { inner - 1 } else { inner })
}

impl View for TodayView {
    fn captures_text(&self) -> bool {
        false
    }

    fn on_text_key(&mut self, _key: &KeyEvent, _out: &mut Out) {}

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        match command {
            Command::Refresh => {
                self.stale = false;
                self.read(false, out);
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
                self.upcoming = Some(loaded(
                    answer.map(|list| list.classes.iter().map(ClassLine::from).collect()),
                    out,
                ));
            }
            Action::GradingCount(answer) => self.grading = Some(loaded(answer, out)),
            Action::DoubtCount(answer) => self.doubts = Some(loaded(answer, out)),
            Action::Revenue(answer) => self.revenue = Some(loaded(answer, out)),
            Action::Analytics(AnalyticsAction::Dashboard(answer)) => {
                self.dashboard_answer(answer, out);
            }
            _ => {}
        }
        self.selected = self.selected.min(self.items().len().saturating_sub(1));
    }

    fn activate(&mut self, out: &mut Out) {
        if !self.loaded {
            self.stale = false;
            self.read(false, out);
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
                "open it (a queue, the feed, a class, a student at risk, a course)",
            ),
            (Command::Refresh, "reload"),
        ]
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        match self.role {
            Role::Teacher => self.draw_teacher(frame, area, theme),
            Role::Admin => self.draw_admin(frame, area, theme),
            Role::Student => self.draw_student(frame, area, theme),
            Role::Parent => self.draw_parent(frame, area, theme),
        }
    }
}

impl TodayView {
    /// The dashboard when it is the teacher's (`Err`: what its panels show instead).
    fn teacher_dashboard(&self, theme: Theme) -> Result<&TeacherDashboard, Vec<Line<'static>>> {
        match pending(self.dashboard.as_ref(), theme)? {
            Dashboard::Teacher(d) => Ok(d),
            _ => Err(vec![]),
        }
    }

    fn admin_dashboard(&self, theme: Theme) -> Result<&AdminDashboard, Vec<Line<'static>>> {
        match pending(self.dashboard.as_ref(), theme)? {
            Dashboard::Admin(d) => Ok(d),
            _ => Err(vec![]),
        }
    }

    fn student_dashboard(&self, theme: Theme) -> Result<&StudentDashboard, Vec<Line<'static>>> {
        match pending(self.dashboard.as_ref(), theme)? {
            Dashboard::Student(d) => Ok(d),
            _ => Err(vec![]),
        }
    }

    /// Parents: the feed, the next classes and the courses.
    fn draw_parent(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let compact = area.height < 20;
        let counts_height = if compact { 2 } else { 3 };
        let upcoming_height = area.height.saturating_sub(counts_height + 4).clamp(3, 6);
        let [counts, upcoming, courses] = Layout::vertical([
            Constraint::Length(counts_height),
            Constraint::Length(upcoming_height),
            Constraint::Fill(1),
        ])
        .areas(area);
        self.draw_unread(frame, counts, compact, theme);
        self.draw_upcoming(frame, upcoming, theme);
        self.draw_courses(frame, courses, theme);
    }

    /// The grading queue, the doubts and the unread count, side by side.
    fn draw_counts(&self, frame: &mut Frame, area: Rect, compact: bool, theme: Theme) {
        let [grading, doubts, unread] = Layout::horizontal([
            Constraint::Percentage(40),
            Constraint::Percentage(30),
            Constraint::Percentage(30),
        ])
        .areas(area);
        self.draw_grading(frame, grading, compact, theme);
        self.draw_doubts(frame, doubts, compact, theme);
        self.draw_unread(frame, unread, compact, theme);
    }

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

    /// `This month: INR 399.20 · In all: INR 1234.00`, each currency sold in listed in
    /// both, on one line after `Revenue (net)` when that fits.
    fn draw_revenue(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let line = match &self.revenue {
            None | Some(Load::Loading | Load::Failed(_)) => one_line(self.revenue.as_ref(), theme),
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
        let title = Span::styled("Revenue (net): ", theme.title());
        let spans = if title.width() + line.width() <= usize::from(area.width) {
            let mut spans = vec![title];
            spans.extend(line.spans);
            spans
        } else {
            line.spans
        };
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
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
            Err(lines) => {
                return frame.render_widget(
                    Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
                    area,
                );
            }
            Ok(classes) if classes.is_empty() => {
                return frame.render_widget(
                    Paragraph::new("No live classes scheduled.").block(block),
                    area,
                );
            }
            Ok(classes) => classes,
        };
        // Narrow (beside a chart), the course gives way to the class's title.
        let wide = area.width >= 70;
        let rows = classes.iter().take(rows_in(area)).map(|c| {
            let selected = self.is_selected(&Goto::Class { id: c.id, at: c.at });
            let mut cells = vec![
                Cell::from(theme.zone.local(c.at).format("%a %d %b %H:%M").to_string()),
                Cell::from(c.title.clone()),
            ];
            if wide {
                cells.push(Cell::from(c.course.clone()));
            }
            cells.push(Cell::from(format!("{:>3} min", c.minutes)));
            marked_row(selected, cells, theme)
        });
        let (widths, header): (Vec<Constraint>, Vec<&str>) = if wide {
            (
                vec![
                    Constraint::Length(1),
                    Constraint::Length(16),
                    Constraint::Fill(1),
                    Constraint::Percentage(30),
                    Constraint::Length(7),
                ],
                vec!["", "WHEN", "CLASS", "COURSE", "LENGTH"],
            )
        } else {
            (
                vec![
                    Constraint::Length(1),
                    Constraint::Length(16),
                    Constraint::Fill(1),
                    Constraint::Length(7),
                ],
                vec!["", "WHEN", "CLASS", "LENGTH"],
            )
        };
        frame.render_widget(
            table(
                rows.collect(),
                &widths,
                &header,
                area.height.saturating_sub(2),
                theme,
            )
            .block(block),
            area,
        );
    }

    fn draw_courses(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let title = match &self.data {
            Some(Load::Ready(data)) => format!("Your courses ({})", data.total_courses),
            _ => "Your courses".to_owned(),
        };
        let block = panel(&title, theme);
        let data = match pending(self.data.as_ref(), theme) {
            Err(lines) => {
                return frame.render_widget(
                    Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
                    area,
                );
            }
            Ok(data) => data,
        };
        if data.courses.is_empty() {
            let hint = if self.staff() {
                "No courses yet. Press 2 for Courses, then n to create one."
            } else {
                "No courses yet."
            };
            frame.render_widget(
                Paragraph::new(hint)
                    .wrap(ratatui::widgets::Wrap { trim: true })
                    .block(block),
                area,
            );
            return;
        }
        // Narrow (beside the enrollments), the status gives way to the title.
        let (wide, narrow) = (area.width >= 60, area.width < 40);
        let rows = data.courses.iter().take(rows_in(area)).map(|c| {
            let selected = self.is_selected(&Goto::Course(c.id));
            let mut cells = vec![Cell::from(c.title.clone())];
            if !narrow {
                cells.push(Cell::from(c.status.as_str()));
            }
            cells.push(Cell::from(if wide {
                format!("{} students", c.total_students)
            } else {
                c.total_students.to_string()
            }));
            marked_row(selected, cells, theme)
        });
        let mut widths = vec![Constraint::Length(1), Constraint::Fill(1)];
        let mut header = vec!["", "COURSE"];
        if !narrow {
            widths.push(Constraint::Length(9));
            header.push("STATUS");
        }
        widths.push(Constraint::Length(if wide { 14 } else { 8 }));
        header.push(if wide { "ENROLLED" } else { "STUDENTS" });
        frame.render_widget(
            table(
                rows.collect(),
                &widths,
                &header,
                area.height.saturating_sub(2),
                theme,
            )
            .block(block),
            area,
        );
    }
}

/// Students at risk as table rows (`›` marker, who, where, how far, why) for a table
/// `width` columns wide and `lines` high, keeping `selected` in view: the reasons on
/// one line when they fit, else one reason a line. The widths to give the table come
/// with them.
pub(super) fn at_risk_rows(
    students: &[AtRiskStudent],
    with_course: bool,
    width: u16,
    lines: usize,
    selected: Option<usize>,
    theme: Theme,
) -> (Vec<Row<'static>>, Vec<Constraint>) {
    let course_width = if with_course {
        (width * 2 / 9).max(8)
    } else {
        0
    };
    let mut widths = vec![Constraint::Length(1), Constraint::Length(14)];
    if with_course {
        widths.push(Constraint::Length(course_width));
    }
    widths.extend([Constraint::Length(4), Constraint::Fill(1)]);
    let fixed = 1 + 14 + course_width + 4 + (widths.len() as u16 - 1);
    let why = usize::from(width.saturating_sub(fixed));
    // One line when they fit; else a reason a line, a long one wrapped (three lines
    // at most, the last cut with `…`).
    let reasons = |s: &AtRiskStudent| -> Vec<String> {
        let joined = s.reasons.join("; ");
        if joined.chars().count() <= why {
            return vec![joined];
        }
        let mut lines: Vec<String> = s
            .reasons
            .iter()
            .flat_map(|r| super::charts::wrap(r, why.max(1)))
            .collect();
        if lines.len() > 3 {
            lines.truncate(3);
            let last = format!("{}…", lines[2]);
            lines[2] = super::charts::fit(&last, why.max(1));
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    };
    let heights: Vec<usize> = students.iter().map(|s| reasons(s).len()).collect();
    // The first row shown: the selected one's lines end in view.
    let mut offset = 0;
    if let Some(selected) = selected {
        while offset < selected && heights[offset..=selected].iter().sum::<usize>() > lines {
            offset += 1;
        }
    }
    let mut used = 0;
    let mut rows = Vec::new();
    for (i, s) in students.iter().enumerate().skip(offset) {
        let why_lines = reasons(s);
        if used + why_lines.len() > lines && !rows.is_empty() {
            break;
        }
        used += why_lines.len();
        let mut cells = vec![Cell::from(super::charts::fit(
            &format!("{} {}", s.student.first_name, s.student.last_name),
            14,
        ))];
        if with_course {
            cells.push(Cell::from(s.course.title.clone()));
        }
        cells.push(Cell::from(format!("{:>3}%", s.progress_percent)));
        let height = why_lines.len() as u16;
        cells.push(Cell::from(ratatui::text::Text::from(
            why_lines.into_iter().map(Line::from).collect::<Vec<_>>(),
        )));
        rows.push(marked_row(selected == Some(i), cells, theme).height(height));
    }
    (rows, widths)
}
