//! The app's state and its update function: keys become commands, commands and
//! answers update views, views ask for effects. The real loop ([`super::run`]) and the
//! tests drive the same [`App::on_key`] / [`App::update`]; `draw(&self)` is pure.

use crossterm::event::{KeyEvent, KeyEventKind};
use edupro_server::api::{NotificationType, Role, User};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs};

use super::action::analytics::AnalyticsAction;
use super::action::{Action, Effect, Realtime};
use super::keymap::{Command, Keymap};
use super::realtime::Link;
use super::theme::Theme;
use super::views::courses::CoursesView;
use super::views::doubts::DoubtsView;
use super::views::grading::GradingView;
use super::views::live::LiveView;
use super::views::login::{LoginOutcome, LoginView};
use super::views::notifications::NotificationsView;
use super::views::today::TodayView;
use super::views::users::UsersView;
use super::views::{Goto, Out, StatusLine, View};
use super::widgets::form::centered;
use super::widgets::toast::Toast;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// A status message and whose it is.
#[derive(Debug)]
struct Posted {
    tab: Option<Tab>,
    line: StatusLine,
    seq: u64,
}

/// Ticks (100 ms) between two connection checks.
const PING_EVERY: u64 = 50;

/// A tab of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Today,
    Courses,
    Live,
    Grading,
    Doubts,
    Notifications,
    Users,
}

impl Tab {
    /// What the tab bar calls it when every full title does not fit.
    fn short_title(self) -> &'static str {
        match self {
            Self::Grading => "Grade",
            Self::Notifications => "Notifs",
            other => other.title(),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Today => "Today",
            Self::Courses => "Courses",
            Self::Live => "Live",
            Self::Grading => "Grading",
            Self::Doubts => "Doubts",
            Self::Notifications => "Notifications",
            Self::Users => "Users",
        }
    }
}

/// What fills the screen.
#[derive(Debug)]
enum Screen {
    /// Checking stored credentials.
    Connecting,
    Login(LoginView),
    Main(Box<Main>),
}

/// The signed-in app.
#[derive(Debug)]
struct Main {
    me: User,
    tabs: Vec<Tab>,
    active: usize,
    today: TodayView,
    courses: CoursesView,
    live: LiveView,
    grading: GradingView,
    doubts: DoubtsView,
    notifications: NotificationsView,
    users: UsersView,
}

impl Main {
    fn new(me: User) -> Self {
        let mut tabs = vec![Tab::Today, Tab::Courses, Tab::Live];
        if matches!(me.role, Role::Teacher | Role::Admin) {
            tabs.push(Tab::Grading);
            tabs.push(Tab::Doubts);
        }
        tabs.push(Tab::Notifications);
        if me.role == Role::Admin {
            tabs.push(Tab::Users);
        }
        Self {
            today: TodayView::new(&me),
            courses: CoursesView::default(),
            live: LiveView::new(me.id),
            grading: GradingView::default(),
            doubts: DoubtsView::default(),
            notifications: NotificationsView::default(),
            users: UsersView::default(),
            me,
            tabs,
            active: 0,
        }
    }

    fn view(&self) -> &dyn View {
        match self.tabs[self.active] {
            Tab::Today => &self.today,
            Tab::Courses => &self.courses,
            Tab::Live => &self.live,
            Tab::Grading => &self.grading,
            Tab::Doubts => &self.doubts,
            Tab::Notifications => &self.notifications,
            Tab::Users => &self.users,
        }
    }

    fn view_mut(&mut self) -> &mut dyn View {
        match self.tabs[self.active] {
            Tab::Today => &mut self.today,
            Tab::Courses => &mut self.courses,
            Tab::Live => &mut self.live,
            Tab::Grading => &mut self.grading,
            Tab::Doubts => &mut self.doubts,
            Tab::Notifications => &mut self.notifications,
            Tab::Users => &mut self.users,
        }
    }

    /// Today shows the unread count the Notifications tab keeps.
    fn sync_today(&mut self) {
        self.today.set_unread(self.notifications.unread());
    }

    fn tab_title(&self, tab: Tab, short: bool) -> String {
        let title = if short {
            tab.short_title()
        } else {
            tab.title()
        };
        match (tab, self.notifications.unread()) {
            (Tab::Notifications, super::views::Load::Ready(n)) if n > 0 => {
                format!("{title} ({n})")
            }
            _ => title.to_owned(),
        }
    }

    /// The tab bar for `width` columns: padded titles when they fit, else unpadded, else
    /// short titles (7 tabs for an admin at 80 columns, 6 for a teacher at 60).
    fn tab_bar(&self, width: u16, theme: Theme) -> Tabs<'static> {
        let titles = |short: bool| -> Vec<String> {
            self.tabs
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{} {}", i + 1, self.tab_title(*t, short)))
                .collect()
        };
        // Titles, and a divider between two.
        let needed = |titles: &[String], padding: usize| -> usize {
            titles
                .iter()
                .map(|t| t.chars().count() + padding)
                .sum::<usize>()
                + titles.len().saturating_sub(1)
        };
        let width = usize::from(width);
        let full = titles(false);
        let (titles, padded) = if needed(&full, 2) <= width {
            (full, true)
        } else if needed(&full, 0) <= width {
            (full, false)
        } else {
            (titles(true), false)
        };
        let bar = Tabs::new(titles)
            .select(self.active)
            .highlight_style(theme.selected());
        if padded { bar } else { bar.padding("", "") }
    }
}

/// The whole TUI's state.
#[derive(Debug)]
pub struct App {
    pub server: String,
    pub keymap: Keymap,
    pub theme: Theme,
    pub width: u16,
    pub height: u16,
    screen: Screen,
    /// The status line's messages: the newest of each tab's and of the app's own
    /// (`tab` None: sign-in, the connection, the session). A tab shows its own or the
    /// app's, whichever is newer, never another tab's.
    statuses: Vec<Posted>,
    /// Numbers the messages, to tell the newer.
    posted: u64,
    help: bool,
    /// Requests out (the spinner turns while > 0).
    pending: usize,
    ticks: u64,
    online: Option<bool>,
    /// The WebSocket, once asked for.
    link: Option<Link>,
    toast: Option<Toast>,
    effects: Vec<Effect>,
    pub quit: bool,
}

impl App {
    /// A new app; `signed_in` says whether stored credentials are there to try.
    pub fn new(server: &str, keymap: Keymap, theme: Theme, signed_in: bool) -> Self {
        let mut app = Self {
            server: server.to_owned(),
            keymap,
            theme,
            width: 80,
            height: 24,
            screen: if signed_in {
                Screen::Connecting
            } else {
                Screen::Login(LoginView::new(server, None))
            },
            statuses: Vec::new(),
            posted: 0,
            help: false,
            pending: 0,
            ticks: 0,
            online: None,
            link: None,
            toast: None,
            effects: Vec::new(),
            quit: false,
        };
        app.push(Effect::Ping);
        if signed_in {
            app.push(Effect::Me);
        }
        app
    }

    fn push(&mut self, effect: Effect) {
        if matches!(effect, Effect::Watch { .. }) {
            self.link = Some(Link::Connecting);
        }
        if effect.shows_spinner() {
            self.pending += 1;
        }
        self.effects.push(effect);
    }

    /// The effects asked for since the last call, for the network layer to run.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Whether requests are out.
    pub fn busy(&self) -> bool {
        self.pending > 0
    }

    fn page(&self) -> usize {
        usize::from(self.height.saturating_sub(8)).max(1)
    }

    /// The tab on screen (None before signing in).
    fn active_tab(&self) -> Option<Tab> {
        match &self.screen {
            Screen::Main(main) => Some(main.tabs[main.active]),
            _ => None,
        }
    }

    /// Shows the tab `goto` names, at what it names.
    fn goto(&mut self, goto: Goto) {
        let page = self.page();
        let Screen::Main(main) = &mut self.screen else {
            return;
        };
        let tab = match goto {
            Goto::Grading => Tab::Grading,
            Goto::Doubts => Tab::Doubts,
            Goto::Notifications => Tab::Notifications,
            Goto::Class { .. } => Tab::Live,
            Goto::Course(_) | Goto::AtRisk(_) => Tab::Courses,
        };
        let Some(index) = main.tabs.iter().position(|t| *t == tab) else {
            return;
        };
        let mut out = Out::new(page);
        main.active = index;
        match goto {
            Goto::Class { id, at } => main.live.show_class(id, at, &mut out),
            Goto::Course(id) => main.courses.show_course(id, &mut out),
            Goto::AtRisk(student) => main.courses.show_student(*student, &mut out),
            Goto::Grading | Goto::Doubts | Goto::Notifications => {
                main.view_mut().activate(&mut out)
            }
        }
        self.apply(out, Some(tab));
    }

    /// Runs what a view asked for; its status message belongs to `origin`.
    fn apply(&mut self, mut out: Out, origin: Option<Tab>) {
        if let Some(goto) = out.goto.take() {
            self.goto(goto);
        }
        for effect in out.effects {
            self.push(effect);
        }
        if let Some(status) = out.status {
            // The connection and the session concern every tab.
            let origin = if status.offline || status.session_ended {
                None
            } else {
                origin
            };
            if status.offline {
                self.online = Some(false);
            }
            if status.session_ended && matches!(self.screen, Screen::Main(_)) {
                self.link = None;
                self.toast = None;
                self.screen = Screen::Login(LoginView::new(
                    &self.server,
                    Some(format!("{} Sign in again.", status.text)),
                ));
            }
            self.post(origin, status);
        }
    }

    fn post(&mut self, tab: Option<Tab>, line: StatusLine) {
        self.posted += 1;
        self.statuses.retain(|p| p.tab != tab);
        self.statuses.push(Posted {
            tab,
            line,
            seq: self.posted,
        });
    }

    /// The message the status line shows now.
    fn status(&self) -> Option<&StatusLine> {
        let active = self.active_tab();
        self.statuses
            .iter()
            .filter(|p| p.tab.is_none() || p.tab == active)
            .max_by_key(|p| p.seq)
            .map(|p| &p.line)
    }

    /// A key press (releases and repeats of other kinds are ignored).
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        if self.help {
            self.help = false;
            return;
        }
        let mut out = Out::new(self.page());
        match &mut self.screen {
            Screen::Connecting => {
                if self.keymap.command(&key) == Some(Command::Quit) {
                    self.quit = true;
                }
            }
            Screen::Login(login) => {
                if login.on_key(&key, &mut out) == LoginOutcome::Quit {
                    self.quit = true;
                }
            }
            Screen::Main(main) => {
                if main.view().captures_text() {
                    main.view_mut().on_text_key(&key, &mut out);
                } else if let Some(command) = self.keymap.command(&key) {
                    let tab = match command {
                        Command::NextTab => Some((main.active + 1) % main.tabs.len()),
                        Command::PrevTab => {
                            Some((main.active + main.tabs.len() - 1) % main.tabs.len())
                        }
                        Command::Tab1 => Some(0),
                        Command::Tab2 => Some(1),
                        Command::Tab3 => Some(2),
                        Command::Tab4 => Some(3),
                        Command::Tab5 => Some(4),
                        Command::Tab6 => Some(5),
                        Command::Tab7 => Some(6),
                        _ => None,
                    };
                    if let Some(tab) = tab {
                        if tab < main.tabs.len() {
                            main.active = tab;
                            main.view_mut().activate(&mut out);
                        }
                    } else if !main.view_mut().on_command(command, &mut out) {
                        match command {
                            Command::Quit => self.quit = true,
                            Command::Help => self.help = true,
                            _ => {}
                        }
                    }
                }
                main.sync_today();
            }
        }
        let origin = self.active_tab();
        self.apply(out, origin);
    }

    /// An answer, a tick or a resize.
    pub fn update(&mut self, action: Action) {
        if action.ends_request() {
            self.pending = self.pending.saturating_sub(1);
        }
        let mut out = Out::new(self.page());
        // Whose message an answer's status is: the tab that asked (the app's own for
        // sign-in, the connection and ticks).
        let mut origin = None;
        match action {
            Action::Tick => {
                self.ticks += 1;
                if self.ticks.is_multiple_of(PING_EVERY) {
                    self.push(Effect::Ping);
                }
                if self.toast.as_ref().is_some_and(|t| t.until <= self.ticks) {
                    self.toast = None;
                }
                if let Screen::Main(main) = &mut self.screen {
                    match main.tabs[main.active] {
                        Tab::Today => main.today.refresh_if_stale(&mut out),
                        Tab::Doubts => main.doubts.refresh_if_stale(&mut out),
                        _ => {}
                    }
                }
            }
            Action::Realtime(event) => self.realtime(event, &mut out),
            Action::Resize(w, h) => {
                self.width = w;
                self.height = h;
            }
            Action::Reachable(up) => self.online = Some(up),
            Action::Note(text) => out.info(text),
            Action::SignedIn(me) => {
                self.online = Some(true);
                out.info(format!("Signed in as {} ({})", me.email, me.role));
                let mut main = Main::new(me);
                main.view_mut().activate(&mut out);
                // The feed loads now: its unread count is in the tab title and on
                // Today, and its newest id is where the WebSocket resumes.
                main.notifications.activate(&mut out);
                main.sync_today();
                self.screen = Screen::Main(Box::new(main));
            }
            Action::SignInNeeded(notice) => {
                self.screen = Screen::Login(LoginView::new(&self.server, notice));
            }
            action @ (Action::LoginRefused(_) | Action::MfaRequired { .. }) => {
                if let Screen::Login(login) = &mut self.screen {
                    if let Action::LoginRefused(f) = &action {
                        out.error(f);
                    } else {
                        self.statuses.retain(|p| p.tab.is_some());
                    }
                    login.on_action(action);
                }
            }
            other => {
                if let Screen::Main(main) = &mut self.screen {
                    if other.changes_today() {
                        main.today.mark_stale();
                    }
                    let tab = match &other {
                        Action::Today(_)
                        | Action::Upcoming(_)
                        | Action::GradingCount(_)
                        | Action::DoubtCount(_)
                        | Action::Revenue(_)
                        | Action::Analytics(AnalyticsAction::Dashboard(_)) => {
                            main.today.on_action(other, &mut out);
                            Tab::Today
                        }
                        Action::Notifications { .. }
                        | Action::MarkedRead(_)
                        | Action::MarkedAllRead(_) => {
                            main.notifications.on_action(other, &mut out);
                            Tab::Notifications
                        }
                        Action::Live(_) => {
                            main.live.on_action(other, &mut out);
                            Tab::Live
                        }
                        Action::Grading(_) => {
                            main.grading.on_action(other, &mut out);
                            Tab::Grading
                        }
                        Action::Doubts(_) => {
                            main.doubts.on_action(other, &mut out);
                            Tab::Doubts
                        }
                        Action::Users { .. }
                        | Action::UserChanged(_)
                        | Action::ImportProgress { .. }
                        | Action::ImportDone(_) => {
                            main.users.on_action(other, &mut out);
                            Tab::Users
                        }
                        _ => {
                            main.courses.on_action(other, &mut out);
                            Tab::Courses
                        }
                    };
                    origin = Some(tab);
                    main.sync_today();
                }
            }
        }
        self.apply(out, origin);
    }

    /// What the WebSocket task reports: the header's link, and live notifications
    /// into the feed with a toast.
    fn realtime(&mut self, event: Realtime, out: &mut super::views::Out) {
        let Screen::Main(main) = &mut self.screen else {
            // A task of an ended session: nothing of it shows on the login screen.
            return;
        };
        self.link = Some(self.link.unwrap_or(Link::Connecting).after(&event));
        match event {
            Realtime::Connected { .. } => self.online = Some(true),
            Realtime::Notification(n) => {
                let (title, message) = (n.title.clone(), n.message.clone());
                // What happened (an enrollment, a submission, a class) may be on Today.
                main.today.mark_stale();
                // A new doubt: the queue reads its first page again, at once if on screen.
                if n.kind == NotificationType::DoubtAsked {
                    main.doubts.mark_stale();
                    if main.tabs[main.active] == Tab::Doubts {
                        main.doubts.refresh_if_stale(out);
                    }
                }
                if main.notifications.arrived(*n) {
                    self.toast = Some(Toast::arrived(
                        self.toast.take(),
                        &title,
                        &message,
                        self.ticks,
                    ));
                }
                main.sync_today();
            }
            Realtime::Ended(failure) => out.error(&failure),
            Realtime::Started | Realtime::Disconnected { .. } => {}
        }
    }

    /// Draws the whole screen.
    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        let [header, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.draw_header(frame, header);
        match &self.screen {
            Screen::Connecting => frame.render_widget(
                Paragraph::new(format!("Signing in to {}…", self.server)).centered(),
                centered(body, body.width, 3),
            ),
            Screen::Login(login) => login.draw(frame, body, self.theme),
            Screen::Main(main) => {
                let [tabs, view] =
                    Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(body);
                frame.render_widget(main.tab_bar(tabs.width, self.theme), tabs);
                main.view().draw(frame, view, self.theme);
            }
        }
        self.draw_status(frame, status);
        if let Some(toast) = &self.toast {
            toast.draw(frame, body, self.theme);
        }
        if self.help {
            self.draw_help(frame, body);
        }
    }

    fn draw_header(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let mut spans = vec![Span::styled("EduPro+ ", t.title())];
        if let Screen::Main(main) = &self.screen {
            spans.push(Span::raw(format!(
                "{} · {} · ",
                main.me.full_name(),
                main.me.role
            )));
        }
        // Signed in, the WebSocket's state; before that, whether the server answers.
        let state = match (self.link, self.online) {
            (Some(link), online) if matches!(self.screen, Screen::Main(_)) => {
                let (text, style) = link.indicator(online, t);
                Span::styled(text, style)
            }
            (_, Some(true)) => Span::styled("● online", t.ok()),
            (_, Some(false)) => Span::styled("○ offline", t.error()),
            (_, None) => Span::styled("◌ checking", t.dim()),
        };
        // On a narrow terminal the server's address gives way, so the state shows whole.
        let server = Span::raw(format!("{} ", self.server));
        let width: usize =
            spans.iter().map(Span::width).sum::<usize>() + server.width() + state.width();
        if width <= usize::from(area.width) {
            spans.push(server);
        }
        spans.push(state);
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let mut spans = Vec::new();
        if self.busy() {
            let frame_no = usize::try_from(self.ticks).unwrap_or(0) % SPINNER.len();
            spans.push(Span::styled(format!("{} ", SPINNER[frame_no]), t.key()));
        }
        if let Some(status) = self.status() {
            spans.push(Span::styled(
                status.text.clone(),
                if status.error { t.error() } else { t.ok() },
            ));
        }
        let hint = format!(
            "{} help · {} quit",
            self.keymap.first_key(Command::Help),
            self.keymap.first_key(Command::Quit)
        );
        let [left, right] = Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(hint.chars().count() as u16 + 1),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(Line::from(spans)), left);
        frame.render_widget(
            Paragraph::new(Span::styled(hint, t.dim())).right_aligned(),
            right,
        );
    }

    fn draw_help(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let mut entries: Vec<(Command, &str)> = match &self.screen {
            Screen::Main(main) => main.view().help(),
            _ => Vec::new(),
        };
        entries.extend([
            (Command::Up, "move up"),
            (Command::Down, "move down"),
            (Command::PageDown, "page down"),
            (Command::NextTab, "next tab (or its number)"),
            (Command::Help, "this help"),
            (Command::Quit, "quit"),
        ]);
        let mut lines: Vec<Line> = entries
            .iter()
            .map(|(command, what)| {
                Line::from(vec![
                    Span::styled(format!("{:>24}  ", self.keymap.keys_of(*command)), t.key()),
                    Span::raw(*what),
                ])
            })
            .collect();
        lines.push(Line::styled("any key closes this", t.dim()));
        let popup = centered(area, 76, lines.len() as u16 + 2);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Line::styled(" Keys ", t.title())),
            ),
            popup,
        );
    }
}
