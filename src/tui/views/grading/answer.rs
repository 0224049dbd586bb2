//! The answer panel: one long answer read in full, with its marks and feedback entered
//! in place (marks checked against 0..max before anything is sent).

use crossterm::event::KeyEvent;
use edupro_server::api::{FieldError, GradedAnswer, GradingItem};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{GradingView, Page, marks, student_name};
use crate::tui::action::grading::GradingEffect;
use crate::tui::action::{Answer, Effect};
use crate::tui::theme::Theme;
use crate::tui::views::Out;
use crate::tui::widgets::form::{Field, Form, Outcome};

/// One answer, read in full, with its marks form.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerPage {
    pub item: GradingItem,
    pub form: Form,
    /// The form has the keyboard.
    pub editing: bool,
    /// The last save's answer.
    pub saved: Option<GradedAnswer>,
}

fn grade_form(item: &GradingItem) -> Form {
    let mut form = Form::new(
        format!("Marks (0 to {})", marks(item.max_marks)),
        vec![
            Field::text("marks", "Marks", item.marks.map(marks).unwrap_or_default()),
            Field::text(
                "feedback",
                "Feedback",
                item.feedback.clone().unwrap_or_default(),
            )
            .optional(),
        ],
    );
    form.submit_label = "save";
    form
}

/// The marks typed, when they are a number from 0 to `max` with two decimals at most.
pub fn parse_marks(text: &str, max: f64) -> Result<f64, String> {
    let text = text.trim();
    let value: f64 = text
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("a number from 0 to {}", marks(max)))?;
    if !(0.0..=max).contains(&value) {
        return Err(format!("must be between 0 and {}", marks(max)));
    }
    if text.split_once('.').is_some_and(|(_, d)| d.len() > 2) {
        return Err("two decimals at most".into());
    }
    Ok(value)
}

impl GradingView {
    pub(super) fn open_answer(&mut self, item: GradingItem) {
        let form = grade_form(&item);
        self.page = Page::Answer(Box::new(AnswerPage {
            item,
            form,
            editing: true,
            saved: None,
        }));
    }

    /// The answer to a save: the page shows the marks, and the queue drops the answer.
    pub(super) fn on_graded(&mut self, answer: Answer<GradedAnswer>, out: &mut Out) {
        let Page::Answer(page) = &mut self.page else {
            if let Err(f) = answer {
                out.error(&f);
            }
            return;
        };
        match answer {
            Ok(graded) => {
                out.info(format!(
                    "Saved {}/{} · attempt score {}{} · u next ungraded",
                    marks(graded.item.marks.unwrap_or_default()),
                    marks(graded.item.max_marks),
                    marks(graded.attempt_score),
                    if graded.grading_complete {
                        " (fully graded)"
                    } else {
                        ""
                    }
                ));
                let id = graded.item.answer_id;
                // The student stays hidden in blind mode.
                let student = page.item.student.clone();
                page.item = graded.item.clone();
                page.item.student = student;
                page.form = grade_form(&page.item);
                page.editing = false;
                page.saved = Some(graded);
                if let Some(at) = self.list.items.iter().position(|i| i.answer_id == id) {
                    self.list.items.remove(at);
                    self.list.total = self.list.total.saturating_sub(1);
                    self.list.selected = self
                        .list
                        .selected
                        .min(self.list.items.len().saturating_sub(1));
                }
            }
            Err(f) => {
                page.form.refused(&f.message, &f.fields);
                page.editing = true;
                out.error(&f);
            }
        }
    }
}

/// Keys in the marks form: save checks the marks before sending them.
pub(super) fn on_answer_key(page: &mut AnswerPage, key: &KeyEvent, out: &mut Out) {
    match page.form.on_key(key) {
        Outcome::Editing => {}
        Outcome::Cancel => {
            page.form.busy = false;
            page.editing = false;
        }
        Outcome::Submit => {
            let max = page.item.max_marks;
            match parse_marks(page.form.value("marks"), max) {
                Ok(value) => {
                    let feedback = page.form.value("feedback").trim();
                    let feedback = (!feedback.is_empty()).then(|| feedback.to_owned());
                    page.form.busy = true;
                    page.form.error = None;
                    for f in &mut page.form.fields {
                        f.error = None;
                    }
                    out.effect(Effect::Grading(GradingEffect::Grade {
                        answer: page.item.answer_id,
                        marks: value,
                        feedback,
                    }));
                }
                Err(message) => page.form.refused(
                    "Check the marks.",
                    &[FieldError {
                        field: "marks".into(),
                        message,
                    }],
                ),
            }
        }
    }
}

pub(super) fn draw_answer(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    page: &AnswerPage,
    blind: bool,
) {
    let item = &page.item;
    let status = match (&page.saved, item.marks) {
        (Some(g), _) => format!(
            "graded {}/{} · attempt score {}",
            marks(g.item.marks.unwrap_or_default()),
            marks(item.max_marks),
            marks(g.attempt_score)
        ),
        (None, Some(m)) => format!("graded {}/{}", marks(m), marks(item.max_marks)),
        (None, None) => format!("ungraded · out of {}", marks(item.max_marks)),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            format!(" {} · question {} ", item.test_title, item.question_order),
            theme.title(),
        ))
        .title_bottom(
            Line::styled(
                if page.editing {
                    " enter save · tab next field · esc stop editing "
                } else {
                    " e edit marks · u next ungraded · esc back to the queue "
                },
                theme.dim(),
            )
            .right_aligned(),
        );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The form's lines: its error, each field and its error, a blank.
    let form_height = 1
        + u16::from(page.form.error.is_some())
        + page
            .form
            .fields
            .iter()
            .map(|f| 1 + u16::from(f.error.is_some()))
            .sum::<u16>();
    let [head, body, form] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(form_height),
    ])
    .areas(inner);
    let who = if blind || item.student.is_none() {
        "(hidden: blind mode)".to_owned()
    } else {
        student_name(item)
    };
    let submitted = item
        .submitted_at
        .map(|d| theme.zone.format(d))
        .unwrap_or_else(|| "—".into());
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled("Q: ", theme.dim()),
                Span::raw(item.question_text.clone()),
            ]),
            Line::from(vec![
                Span::styled("by ", theme.dim()),
                Span::raw(format!("{who} · submitted {submitted} · ")),
                Span::styled(
                    status,
                    if item.marks.is_some() {
                        theme.ok()
                    } else {
                        theme.warn()
                    },
                ),
            ]),
        ])
        .wrap(Wrap { trim: true }),
        head,
    );
    frame.render_widget(
        Paragraph::new(item.answer.clone().unwrap_or_else(|| "(no answer)".into()))
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(Line::styled(" Answer ", theme.dim())),
            ),
        body,
    );
    let mut lines = Vec::new();
    if let Some(error) = &page.form.error {
        lines.push(Line::styled(error.clone(), theme.error()));
    }
    for (i, field) in page.form.fields.iter().enumerate() {
        let focused = page.editing && i == page.form.focus;
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{:<9} ", if focused { "› " } else { "  " }, field.label),
                if focused { theme.key() } else { theme.dim() },
            ),
            Span::raw(format!("{}{}", field.value, if focused { "▏" } else { "" })),
            Span::styled(
                if field.name == "marks" {
                    format!("  / {}", marks(item.max_marks))
                } else {
                    String::new()
                },
                theme.dim(),
            ),
        ]));
        if let Some(error) = &field.error {
            lines.push(Line::styled(format!("{:13}{error}", ""), theme.error()));
        }
    }
    if page.form.busy {
        lines.push(Line::styled("Saving…", theme.dim()));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP)),
        form,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_must_be_a_number_within_the_question_and_two_decimals() {
        assert_eq!(parse_marks("4.5", 5.0), Ok(4.5));
        assert_eq!(parse_marks(" 0 ", 5.0), Ok(0.0));
        assert_eq!(parse_marks("5", 5.0), Ok(5.0));
        assert_eq!(parse_marks("6", 5.0), Err("must be between 0 and 5".into()));
        assert_eq!(
            parse_marks("-1", 5.0),
            Err("must be between 0 and 5".into())
        );
        assert_eq!(
            parse_marks("1.255", 5.0),
            Err("two decimals at most".into())
        );
        assert_eq!(
            parse_marks("four", 2.5),
            Err("a number from 0 to 2.5".into())
        );
        assert_eq!(marks(4.25), "4.25");
        assert_eq!(marks(4.0), "4");
    }
}
