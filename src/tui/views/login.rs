//! Sign-in: email and password, then the two-factor code when the server asks for one.
//! The tokens are stored as `edupro login` stores them.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::Out;
use crate::tui::action::{Action, Effect};
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Field, Form, Outcome};

/// The login screen.
#[derive(Debug, Clone)]
pub struct LoginView {
    pub server: String,
    form: Form,
    /// The challenge of the 2FA step, once the password was accepted.
    challenge: Option<String>,
    email: String,
    /// Why sign-in is needed (a session that ended).
    pub notice: Option<String>,
}

/// What the login screen asks of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Stay,
    Quit,
}

impl LoginView {
    pub fn new(server: &str, notice: Option<String>) -> Self {
        Self {
            server: server.to_owned(),
            form: Self::password_form(""),
            challenge: None,
            email: String::new(),
            notice,
        }
    }

    fn password_form(email: &str) -> Form {
        let mut form = Form::new(
            "Sign in",
            vec![
                Field::text("email", "Email", email),
                Field::secret("password", "Password"),
            ],
        );
        form.submit_label = "sign in";
        if !email.is_empty() {
            form.focus = 1;
        }
        form
    }

    pub fn on_key(&mut self, key: &KeyEvent, out: &mut Out) -> LoginOutcome {
        match self.form.on_key(key) {
            Outcome::Editing => LoginOutcome::Stay,
            Outcome::Cancel if self.challenge.is_some() => {
                self.challenge = None;
                self.form = Self::password_form(&self.email);
                LoginOutcome::Stay
            }
            Outcome::Cancel => LoginOutcome::Quit,
            Outcome::Submit => {
                if let Some(challenge) = &self.challenge {
                    let code = self.form.value("code").trim().to_owned();
                    self.form.busy = true;
                    out.effect(Effect::VerifyMfa {
                        challenge: challenge.clone(),
                        code,
                    });
                } else if self.form.focus == 0 && self.form.value("password").is_empty() {
                    self.form.focus = 1;
                } else {
                    self.email = self.form.value("email").trim().to_owned();
                    self.form.busy = true;
                    out.effect(Effect::Login {
                        email: self.email.clone(),
                        password: self.form.value("password").to_owned(),
                    });
                }
                LoginOutcome::Stay
            }
        }
    }

    pub fn on_action(&mut self, action: Action) {
        match action {
            Action::MfaRequired { challenge } => {
                self.challenge = Some(challenge);
                self.form = Form::new("Two-factor code", vec![Field::text("code", "Code", "")]);
                self.form.submit_label = "verify";
                self.form.error = Some(
                    "Enter the 6-digit code from your authenticator app (or a recovery code)."
                        .into(),
                );
            }
            Action::LoginRefused(failure) => {
                let fields = failure.fields.clone();
                self.form.refused(&failure.message, &fields);
                if let Some(f) = self.form.fields.iter_mut().find(|f| f.name == "password") {
                    f.value.clear();
                }
            }
            _ => {}
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let mut lines = vec![
            Line::styled("EduPro+", theme.title()),
            Line::from(format!("Server: {}", self.server)),
        ];
        if let Some(notice) = &self.notice {
            lines.push(Line::styled(notice.clone(), theme.warn()));
        }
        lines.push(Line::styled(
            if self.challenge.is_some() {
                "esc goes back"
            } else {
                "esc quits"
            },
            theme.dim(),
        ));
        frame.render_widget(Paragraph::new(lines).centered(), area);
        let form_area = Rect {
            y: area.y + 4,
            height: area.height.saturating_sub(4),
            ..area
        };
        self.form.draw(frame, form_area, theme);
    }
}
