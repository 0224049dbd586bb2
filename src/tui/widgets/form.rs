//! Forms in a popup: text and choice fields, focus with Tab/Up/Down, Enter submits,
//! Esc cancels. The server validates; its VALIDATION_FAILED field errors are shown
//! under the fields they name.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use edupro_server::api::FieldError;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use serde_json::{Map, Value};

use crate::tui::theme::Theme;

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Shown as dots.
    Secret,
    /// A whole number (sent as a JSON number).
    Number,
    /// One of these (Left/Right or Space cycle).
    Choice(Vec<String>),
    /// yes / no (sent as a JSON boolean).
    Flag,
}

/// One field: its wire name (as the server names it in errors), label, value, error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub value: String,
    pub error: Option<String>,
    /// Left out of the body when empty.
    pub optional: bool,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, value: impl Into<String>) -> Self {
        Self {
            name,
            label,
            kind: Kind::Text,
            value: value.into(),
            error: None,
            optional: false,
        }
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn number(name: &'static str, label: &'static str, value: impl ToString) -> Self {
        Self {
            kind: Kind::Number,
            ..Self::text(name, label, value.to_string())
        }
    }

    pub fn choice(
        name: &'static str,
        label: &'static str,
        options: Vec<&str>,
        value: &str,
    ) -> Self {
        Self {
            kind: Kind::Choice(options.into_iter().map(str::to_owned).collect()),
            ..Self::text(name, label, value)
        }
    }

    pub fn flag(name: &'static str, label: &'static str, value: bool) -> Self {
        Self {
            kind: Kind::Flag,
            ..Self::text(name, label, if value { "yes" } else { "no" })
        }
    }

    pub fn secret(name: &'static str, label: &'static str) -> Self {
        Self {
            kind: Kind::Secret,
            ..Self::text(name, label, "")
        }
    }

    fn cycle(&mut self, forward: bool) {
        let options: Vec<&str> = match &self.kind {
            Kind::Choice(options) => options.iter().map(String::as_str).collect(),
            Kind::Flag => vec!["yes", "no"],
            _ => return,
        };
        if options.is_empty() {
            return;
        }
        let at = options.iter().position(|o| *o == self.value).unwrap_or(0);
        let next = if forward {
            (at + 1) % options.len()
        } else {
            (at + options.len() - 1) % options.len()
        };
        self.value = options[next].to_owned();
    }
}

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Editing,
    Submit,
    Cancel,
}

/// A titled list of fields with one in focus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// An error that names no field (or a field not on the form).
    pub error: Option<String>,
    /// Submitted, waiting for the server.
    pub busy: bool,
    /// What Enter does, for the hint line ("save", "sign in").
    pub submit_label: &'static str,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>) -> Self {
        Self {
            title: title.into(),
            fields,
            focus: 0,
            error: None,
            busy: false,
            submit_label: "save",
        }
    }

    /// Applies one key press.
    pub fn on_key(&mut self, key: &KeyEvent) -> Outcome {
        if self.busy {
            return match key.code {
                KeyCode::Esc => Outcome::Cancel,
                _ => Outcome::Editing,
            };
        }
        let count = self.fields.len();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Char('c') if ctrl => return Outcome::Cancel,
            KeyCode::Enter => return Outcome::Submit,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % count,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + count - 1) % count,
            _ => {
                let Some(field) = self.fields.get_mut(self.focus) else {
                    return Outcome::Editing;
                };
                match (&field.kind, key.code) {
                    (Kind::Choice(_) | Kind::Flag, KeyCode::Right | KeyCode::Char(' ')) => {
                        field.cycle(true)
                    }
                    (Kind::Choice(_) | Kind::Flag, KeyCode::Left) => field.cycle(false),
                    (Kind::Choice(_) | Kind::Flag, _) => {}
                    (_, KeyCode::Backspace) => {
                        field.value.pop();
                    }
                    (_, KeyCode::Char(c)) if !ctrl => field.value.push(c),
                    _ => {}
                }
            }
        }
        Outcome::Editing
    }

    pub fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
            .unwrap_or("")
    }

    /// The JSON body; `Err` (shown on the field) when a number is not a number.
    pub fn body(&mut self) -> Option<Value> {
        let mut map = Map::new();
        let mut ok = true;
        for field in &mut self.fields {
            field.error = None;
            let value = field.value.trim();
            if field.optional && value.is_empty() {
                continue;
            }
            let json = match field.kind {
                Kind::Number => match value.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        field.error = Some("must be a whole number".into());
                        ok = false;
                        continue;
                    }
                },
                Kind::Flag => Value::Bool(value == "yes"),
                _ => Value::String(value.to_owned()),
            };
            map.insert(field.name.to_owned(), json);
        }
        self.error = None;
        ok.then_some(Value::Object(map))
    }

    /// Shows the server's refusal: each field error under its field, the rest on top.
    pub fn refused(&mut self, message: &str, errors: &[FieldError]) {
        self.busy = false;
        for field in &mut self.fields {
            field.error = None;
        }
        let mut unplaced = Vec::new();
        for e in errors {
            match self.fields.iter_mut().find(|f| f.name == e.field) {
                Some(field) => field.error = Some(e.message.clone()),
                None => unplaced.push(format!("{}: {}", e.field, e.message)),
            }
        }
        if let Some(first) = self.fields.iter().position(|f| f.error.is_some()) {
            self.focus = first;
        }
        self.error = Some(if unplaced.is_empty() {
            message.to_owned()
        } else {
            format!("{message} ({})", unplaced.join("; "))
        });
    }

    /// Draws the form as a popup centred in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let mut lines = Vec::new();
        if let Some(error) = &self.error {
            lines.push(Line::styled(error.clone(), theme.error()));
        }
        for (i, field) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let shown = match field.kind {
                Kind::Secret => "•".repeat(field.value.chars().count()),
                Kind::Choice(_) | Kind::Flag => format!("‹ {} ›", field.value),
                _ => field.value.clone(),
            };
            let cursor = if focused && !matches!(field.kind, Kind::Choice(_) | Kind::Flag) {
                "▏"
            } else {
                ""
            };
            let marker = if focused { "› " } else { "  " };
            let label = Span::styled(
                format!("{marker}{:<14} ", field.label),
                if focused { theme.key() } else { theme.dim() },
            );
            lines.push(Line::from(vec![
                label,
                Span::raw(format!("{shown}{cursor}")),
            ]));
            if let Some(error) = &field.error {
                lines.push(Line::styled(format!("{:17}{error}", ""), theme.error()));
            }
        }
        lines.push(Line::default());
        lines.push(Line::styled(
            if self.busy {
                "Sending…".to_owned()
            } else {
                {
                    let choice = self
                        .fields
                        .iter()
                        .any(|f| matches!(f.kind, Kind::Choice(_) | Kind::Flag));
                    format!(
                        "enter {} · tab next field{} · esc cancel",
                        self.submit_label,
                        if choice {
                            " · ←/→ change choice"
                        } else {
                            ""
                        }
                    )
                }
            },
            theme.dim(),
        ));
        let width = area.width.min(70);
        // Long lines (a clash message under its field) wrap: count the rows they take.
        let inner = usize::from(width.saturating_sub(2)).max(1);
        let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
        let height = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(area.height);
        let popup = centered(area, width, height);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Line::styled(format!(" {} ", self.title), theme.title())),
            ),
            popup,
        );
    }
}

/// A `width`×`height` rectangle in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn typing_fills_the_focused_field_and_the_body_has_typed_values() {
        let mut form = Form::new(
            "New",
            vec![
                Field::text("title", "Title", ""),
                Field::number("price", "Price", 0),
                Field::flag("isPublished", "Published", false),
            ],
        );
        for c in "Rust".chars() {
            form.on_key(&key(KeyCode::Char(c)));
        }
        form.on_key(&key(KeyCode::Tab));
        form.on_key(&key(KeyCode::Backspace));
        for c in "499".chars() {
            form.on_key(&key(KeyCode::Char(c)));
        }
        form.on_key(&key(KeyCode::Tab));
        form.on_key(&key(KeyCode::Right));
        assert_eq!(form.on_key(&key(KeyCode::Enter)), Outcome::Submit);
        assert_eq!(
            form.body().unwrap(),
            serde_json::json!({"title": "Rust", "price": 499, "isPublished": true})
        );
    }

    #[test]
    fn server_field_errors_land_under_their_fields_and_focus_the_first() {
        let mut form = Form::new(
            "New",
            vec![
                Field::text("title", "Title", ""),
                Field::text("slug", "Slug", ""),
            ],
        );
        form.refused(
            "validation failed",
            &[
                FieldError {
                    field: "slug".into(),
                    message: "taken".into(),
                },
                FieldError {
                    field: "price".into(),
                    message: "too big".into(),
                },
            ],
        );
        assert_eq!(form.fields[1].error.as_deref(), Some("taken"));
        assert_eq!(form.focus, 1);
        assert_eq!(
            form.error.as_deref(),
            Some("validation failed (price: too big)")
        );
    }
}
