//! Users (admins): a searchable list, one user's details, change role, deactivate or
//! reactivate, and a bulk import — plan first, then apply — with its progress and
//! failed rows as the server answers them.

use crossterm::event::{KeyCode, KeyEvent};
use edupro_server::api::{
    ImportCounts, ImportKind, ImportMode, ImportRow, ImportSummary, Role, User,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Wrap};

use super::{Out, Search, SearchOutcome, View};
use crate::tui::action::{Action, Effect, Failure};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Field, Form, Outcome, centered};
use crate::tui::widgets::list::{PagedList, draw_table};

/// At most this many failed rows are kept for the import panel.
const KEPT_ERRORS: usize = 500;

/// Where an import stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportPhase {
    /// Choosing the file.
    Choosing(Form),
    Running(ImportMode),
    Done(ImportSummary),
    Failed(Failure),
}

/// The import panel.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPanel {
    pub phase: ImportPhase,
    pub path: String,
    pub kind: ImportKind,
    pub counts: ImportCounts,
    pub errors: Vec<ImportRow>,
}

/// A popup of the Users tab.
#[derive(Debug, Clone, PartialEq)]
enum Popup {
    Role(Form, uuid::Uuid),
    Confirm {
        user: uuid::Uuid,
        email: String,
        active: bool,
    },
    Import(ImportPanel),
}

/// The Users tab.
#[derive(Debug, Clone, Default)]
pub struct UsersView {
    pub list: PagedList<User>,
    search: Search,
    loaded: bool,
    detail: bool,
    popup: Option<Popup>,
}

fn import_form(path: &str, kind: ImportKind) -> Form {
    Form::new(
        "Import (a plan first; nothing is written until you apply)",
        vec![
            Field::text("file", "File", path),
            Field::choice("kind", "Kind", vec!["users", "courses"], kind.as_str()),
        ],
    )
}

impl UsersView {
    fn reload(&mut self, out: &mut Out) {
        self.loaded = true;
        let generation = self.list.reset();
        out.effect(Effect::LoadUsers {
            generation,
            page: 1,
            search: self.search.query.clone(),
        });
    }

    fn start_import(panel: &mut ImportPanel, mode: ImportMode, out: &mut Out) {
        panel.counts = ImportCounts::default();
        panel.errors.clear();
        panel.phase = ImportPhase::Running(mode);
        out.effect(Effect::Import {
            path: panel.path.clone(),
            kind: panel.kind,
            mode,
        });
    }
}

impl View for UsersView {
    fn captures_text(&self) -> bool {
        self.search.editing.is_some()
            || matches!(
                self.popup,
                Some(Popup::Role(..) | Popup::Confirm { .. })
                    | Some(Popup::Import(ImportPanel {
                        phase: ImportPhase::Choosing(_),
                        ..
                    }))
            )
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        match self.popup.as_mut() {
            Some(Popup::Role(form, user)) => match form.on_key(key) {
                Outcome::Editing => {}
                Outcome::Cancel => self.popup = None,
                Outcome::Submit => {
                    if let Ok(role) = form.value("role").parse::<Role>() {
                        form.busy = true;
                        out.effect(Effect::ChangeRole { user: *user, role });
                    }
                }
            },
            Some(Popup::Confirm { user, active, .. }) => match key.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    out.effect(Effect::SetActive {
                        user: *user,
                        active: *active,
                    });
                    self.popup = None;
                }
                KeyCode::Char('n') | KeyCode::Esc => self.popup = None,
                _ => {}
            },
            Some(Popup::Import(panel)) => {
                if let ImportPhase::Choosing(form) = &mut panel.phase {
                    match form.on_key(key) {
                        Outcome::Editing => {}
                        Outcome::Cancel => self.popup = None,
                        Outcome::Submit => {
                            panel.path = form.value("file").trim().to_owned();
                            panel.kind = form.value("kind").parse().unwrap_or(ImportKind::Users);
                            if panel.path.is_empty() {
                                form.refused(
                                    "Name the file to import.",
                                    &[edupro_server::api::FieldError {
                                        field: "file".into(),
                                        message: "a CSV or JSON-lines file".into(),
                                    }],
                                );
                            } else {
                                Self::start_import(panel, ImportMode::Plan, out);
                            }
                        }
                    }
                }
            }
            None => {
                if self.search.on_key(key) == SearchOutcome::Apply {
                    self.reload(out);
                }
            }
        }
    }

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        if let Some(Popup::Import(panel)) = self.popup.as_mut() {
            match (command, &panel.phase) {
                (Command::Apply, ImportPhase::Done(s)) if s.mode == ImportMode::Plan => {
                    Self::start_import(panel, ImportMode::Apply, out)
                }
                (Command::Back, ImportPhase::Running(_)) => out
                    .info("The import goes on on the server; its result shows here when it ends."),
                (Command::Back, _) => self.popup = None,
                (Command::Import, ImportPhase::Done(_) | ImportPhase::Failed(_)) => {
                    panel.phase = ImportPhase::Choosing(import_form(&panel.path, panel.kind))
                }
                _ => {}
            }
            // The panel is modal.
            return !matches!(command, Command::Quit | Command::Help);
        }
        if self.list.navigate(command, out.page) {
            if let Some((generation, page)) = self.list.wants_more() {
                out.effect(Effect::LoadUsers {
                    generation,
                    page,
                    search: self.search.query.clone(),
                });
            }
            return true;
        }
        match command {
            Command::Search => self.search.start(),
            Command::Refresh => self.reload(out),
            Command::Open => self.detail = !self.detail && self.list.current().is_some(),
            Command::Back if self.detail => self.detail = false,
            Command::Back if !self.search.query.is_empty() => {
                self.search.query.clear();
                self.reload(out);
            }
            Command::Role => {
                if let Some(user) = self.list.current() {
                    let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
                    self.popup = Some(Popup::Role(
                        Form::new(
                            format!("Role of {}", user.email),
                            vec![Field::choice("role", "Role", roles, user.role.as_str())],
                        ),
                        user.id,
                    ));
                }
            }
            Command::Deactivate => {
                if let Some(user) = self.list.current() {
                    self.popup = Some(Popup::Confirm {
                        user: user.id,
                        email: user.email.clone(),
                        active: !user.is_active,
                    });
                }
            }
            Command::Import => {
                self.popup = Some(Popup::Import(ImportPanel {
                    phase: ImportPhase::Choosing(import_form("", ImportKind::Users)),
                    path: String::new(),
                    kind: ImportKind::Users,
                    counts: ImportCounts::default(),
                    errors: Vec::new(),
                }))
            }
            _ => return false,
        }
        true
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        match action {
            Action::Users { generation, answer } => {
                if let Err(f) = &answer {
                    out.error(f);
                }
                self.list.accept(
                    generation,
                    answer.map(|l| {
                        (
                            l.users,
                            l.pagination.page,
                            l.pagination.has_next,
                            l.pagination.total,
                        )
                    }),
                );
            }
            Action::UserChanged(answer) => match answer {
                Ok((message, user)) => {
                    out.info(message);
                    if matches!(self.popup, Some(Popup::Role(..))) {
                        self.popup = None;
                    }
                    if let Some(row) = self.list.items.iter_mut().find(|u| u.id == user.id) {
                        *row = user;
                    }
                }
                Err(f) => {
                    if let Some(Popup::Role(form, _)) = self.popup.as_mut() {
                        form.refused(&f.message, &f.fields);
                    }
                    out.error(&f);
                }
            },
            Action::ImportProgress { counts, errors } => {
                if let Some(Popup::Import(panel)) = self.popup.as_mut() {
                    panel.counts = counts;
                    let room = KEPT_ERRORS.saturating_sub(panel.errors.len());
                    panel.errors.extend(errors.into_iter().take(room));
                }
            }
            Action::ImportDone(answer) => {
                let Some(Popup::Import(panel)) = self.popup.as_mut() else {
                    match answer {
                        Ok(s) => out.info(format!("Import finished: {} rows", s.counts.total)),
                        Err(f) => out.error(&f),
                    }
                    return;
                };
                match answer {
                    Ok(summary) => {
                        panel.counts = summary.counts;
                        if summary.mode == ImportMode::Apply {
                            out.info(format!(
                                "Import applied: {} created, {} updated, {} failed",
                                summary.counts.create, summary.counts.update, summary.counts.error
                            ));
                            self.reload_after_import(out);
                        }
                        if let Some(Popup::Import(panel)) = self.popup.as_mut() {
                            panel.phase = ImportPhase::Done(summary);
                        }
                    }
                    Err(f) => {
                        out.error(&f);
                        if f.fields.iter().any(|e| e.field == "file") {
                            let mut form = import_form(&panel.path, panel.kind);
                            form.refused(&f.message, &f.fields);
                            panel.phase = ImportPhase::Choosing(form);
                        } else {
                            panel.phase = ImportPhase::Failed(f);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if !self.loaded {
            self.reload(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        match &self.popup {
            Some(Popup::Import(_)) => vec![
                (Command::Apply, "apply the plan (write it)"),
                (Command::Import, "import another file"),
                (Command::Back, "close"),
            ],
            Some(_) => vec![],
            None => vec![
                (Command::Open, "show or hide the user's details"),
                (Command::Search, "search email and names"),
                (Command::Role, "change role"),
                (Command::Deactivate, "deactivate or reactivate"),
                (Command::Import, "import users or courses from a file"),
                (Command::Refresh, "reload"),
                (Command::Back, "close details / clear the search"),
            ],
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let mut area = area;
        if let Some(line) = self.search.line() {
            let [search, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
            frame.render_widget(Paragraph::new(line).style(theme.key()), search);
            area = rest;
        }
        let (list_area, detail_area) = if self.detail {
            let [l, d] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(area);
            (l, Some(d))
        } else {
            (area, None)
        };
        draw_table(
            frame,
            list_area,
            theme,
            "Users",
            &self.list,
            &["EMAIL", "NAME", "ROLE", "ACTIVE"],
            &[
                Constraint::Min(12),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(6),
            ],
            |u: &User| {
                vec![
                    Cell::from(u.email.clone()),
                    Cell::from(u.full_name()),
                    Cell::from(u.role.as_str()),
                    Cell::from(if u.is_active { "yes" } else { "no" }),
                ]
            },
            if self.search.query.is_empty() {
                "No users."
            } else {
                "No user matches the search."
            },
        );
        if let (Some(d), Some(user)) = (detail_area, self.list.current()) {
            let line = |k: &str, v: String| {
                Line::from(vec![
                    ratatui::text::Span::styled(format!("{k:<11}"), theme.dim()),
                    ratatui::text::Span::raw(v),
                ])
            };
            let lines = vec![
                line("name", user.full_name()),
                line("email", user.email.clone()),
                line("role", user.role.to_string()),
                line("active", if user.is_active { "yes" } else { "no" }.into()),
                line(
                    "verified",
                    if user.is_email_verified { "yes" } else { "no" }.into(),
                ),
                line(
                    "2fa",
                    if user.two_factor_enabled { "on" } else { "off" }.into(),
                ),
                line("phone", user.phone.clone().unwrap_or_else(|| "—".into())),
                line(
                    "last login",
                    user.last_login
                        .map(|d| theme.zone.format(d))
                        .unwrap_or_else(|| "never".into()),
                ),
                line("joined", user.created_at.format("%Y-%m-%d").to_string()),
                line("id", user.id.to_string()),
            ];
            frame.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: true }).block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(Line::styled(" User ", theme.title())),
                ),
                d,
            );
        }
        match &self.popup {
            Some(Popup::Role(form, _)) => form.draw(frame, area, theme),
            Some(Popup::Confirm { email, active, .. }) => {
                let verb = if *active { "Reactivate" } else { "Deactivate" };
                let popup = centered(area, 60, 5);
                frame.render_widget(Clear, popup);
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::from(format!("{verb} {email}?")),
                        Line::styled(
                            if *active {
                                "They can sign in again.  y yes · n no"
                            } else {
                                "They are signed out everywhere.  y yes · n no"
                            },
                            theme.dim(),
                        ),
                    ])
                    .block(
                        Block::default()
                            .borders(Borders::ALL)
                            .title(format!(" {verb} ")),
                    ),
                    popup,
                );
            }
            Some(Popup::Import(panel)) => draw_import(frame, area, theme, panel),
            None => {}
        }
    }
}

impl UsersView {
    fn reload_after_import(&mut self, out: &mut Out) {
        let generation = self.list.reset();
        out.effect(Effect::LoadUsers {
            generation,
            page: 1,
            search: self.search.query.clone(),
        });
    }
}

fn draw_import(frame: &mut Frame, area: Rect, theme: Theme, panel: &ImportPanel) {
    if let ImportPhase::Choosing(form) = &panel.phase {
        form.draw(frame, area, theme);
        return;
    }
    // The panel covers the list: it is modal, and failed rows need the room.
    let popup = area;
    frame.render_widget(Clear, popup);
    let c = panel.counts;
    let mut lines = vec![Line::from(format!("{} ({})", panel.path, panel.kind))];
    let (head, hint) = match &panel.phase {
        ImportPhase::Running(ImportMode::Plan) => ("Planning…".to_owned(), ""),
        ImportPhase::Running(ImportMode::Apply) => ("Applying…".to_owned(), ""),
        ImportPhase::Done(s) if s.mode == ImportMode::Plan => (
            "Plan ready: nothing was written.".to_owned(),
            "a apply · i another file · esc close",
        ),
        ImportPhase::Done(_) => ("Applied.".to_owned(), "i another file · esc close"),
        ImportPhase::Failed(f) => (format!("Failed: {}", f.message), "i try again · esc close"),
        ImportPhase::Choosing(_) => (String::new(), ""),
    };
    lines.push(Line::styled(
        head,
        if matches!(panel.phase, ImportPhase::Failed(_)) {
            theme.error()
        } else {
            theme.title()
        },
    ));
    let planning = match &panel.phase {
        ImportPhase::Done(s) => s.mode == ImportMode::Plan,
        ImportPhase::Running(mode) => *mode == ImportMode::Plan,
        _ => false,
    };
    lines.push(Line::from(if planning {
        format!(
            "{} rows: {} to create, {} to update, {} unchanged, {} failing, {} skipped",
            c.total, c.create, c.update, c.unchanged, c.error, c.skipped
        )
    } else {
        format!(
            "{} rows: {} created, {} updated, {} unchanged, {} failed, {} skipped",
            c.total, c.create, c.update, c.unchanged, c.error, c.skipped
        )
    }));
    if let ImportPhase::Done(s) = &panel.phase {
        if let Some(problem) = &s.file_error {
            lines.push(Line::styled(
                format!("The file stopped the import: {problem}"),
                theme.error(),
            ));
        }
        if s.stopped {
            lines.push(Line::styled(
                "Stopped at the error limit; the rest was skipped.",
                theme.warn(),
            ));
        }
    }
    if !panel.errors.is_empty() {
        lines.push(Line::styled(
            format!("Failed rows ({}):", c.error),
            theme.error(),
        ));
        let room = usize::from(popup.height.saturating_sub(lines.len() as u16 + 4));
        for row in panel.errors.iter().take(room) {
            let key = row.key.as_deref().unwrap_or("-");
            for e in &row.errors {
                lines.push(Line::from(format!(
                    "  line {}: {key}: {}: {}",
                    row.line, e.field, e.message
                )));
            }
        }
    }
    lines.push(Line::default());
    lines.push(Line::styled(hint, theme.dim()));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Line::styled(" Import ", theme.title())),
        ),
        popup,
    );
}
