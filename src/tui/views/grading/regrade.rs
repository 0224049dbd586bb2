//! The regrade panel: an objective question's new key, shown as a dry run (old and new
//! score of each attempt it changes) before it is applied.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use edupro_server::api::{FieldError, Question, QuestionType, RegradeReport, Test};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{GradingView, Page, marks, one_line, set_choices};
use crate::tui::action::grading::{GradingChoices, GradingEffect};
use crate::tui::action::{Answer, Effect, Failure};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::views::{Load, Out};
use crate::tui::widgets::form::{Field, Form, Outcome};

/// Where the regrade view stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RegradeStep {
    /// Choosing the question and its new key.
    Form(Form),
    /// Sent (a dry run, or the real one).
    Running {
        form: Form,
        dry_run: bool,
    },
    Report {
        form: Form,
        report: RegradeReport,
    },
}

/// The random end of an id (UUIDv7s of one moment share their start).
fn short_id(id: Uuid) -> String {
    let s = id.simple().to_string();
    s[s.len() - 8..].to_owned()
}

fn is_objective(q: &Question) -> bool {
    q.question_type != QuestionType::LongAnswer
}

/// The label of a question in the regrade form.
fn question_label(q: &Question) -> String {
    format!("Q{}. {}", q.order, one_line(&q.question_text, 40))
}

/// Option letters: A, B, C…
fn letter(i: usize) -> char {
    char::from(b'A' + u8::try_from(i % 26).unwrap_or(0))
}

/// Tests with an objective question.
fn regradable(choices: &GradingChoices) -> Vec<&Test> {
    choices
        .tests
        .iter()
        .filter(|t| {
            t.questions
                .as_ref()
                .is_some_and(|qs| qs.iter().any(is_objective))
        })
        .collect()
}

fn regrade_form(choices: &GradingChoices) -> Form {
    let tests: Vec<&str> = regradable(choices)
        .iter()
        .map(|t| t.title.as_str())
        .collect();
    let first = tests.first().copied().unwrap_or_default();
    let mut form = Form::new(
        "Regrade a question (a dry run first)",
        vec![
            Field::choice("test", "Test", tests.clone(), first),
            Field::choice("question", "Question", vec![], ""),
            Field::text("marks", "Marks", ""),
            Field::text("key", "Correct", ""),
        ],
    );
    form.submit_label = "dry run";
    regrade_questions(&mut form, choices);
    form
}

fn chosen_test<'a>(form: &Form, choices: &'a GradingChoices) -> Option<&'a Test> {
    let title = form.value("test");
    regradable(choices).into_iter().find(|t| t.title == title)
}

fn chosen_question<'a>(form: &Form, choices: &'a GradingChoices) -> Option<&'a Question> {
    let label = form.value("question");
    chosen_test(form, choices)?
        .questions
        .as_ref()?
        .iter()
        .find(|q| is_objective(q) && question_label(q) == label)
}

/// The question choices of the chosen test.
fn regrade_questions(form: &mut Form, choices: &GradingChoices) {
    let options = chosen_test(form, choices)
        .and_then(|t| t.questions.as_ref())
        .map(|qs| {
            qs.iter()
                .filter(|q| is_objective(q))
                .map(question_label)
                .collect()
        })
        .unwrap_or_default();
    set_choices(form, "question", options);
    regrade_key(form, choices);
}

/// The marks and key fields, as the chosen question has them now.
fn regrade_key(form: &mut Form, choices: &GradingChoices) {
    let Some(q) = chosen_question(form, choices) else {
        return;
    };
    let options: Vec<String> = q
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{}. {}", letter(i), one_line(&o.text, 30)))
        .collect();
    let correct: Vec<usize> = q
        .options
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_correct)
        .map(|(i, _)| i)
        .collect();
    let key = match q.question_type {
        QuestionType::Mcq | QuestionType::TrueFalse => Field::choice(
            "key",
            "Correct",
            options.iter().map(String::as_str).collect(),
            correct
                .first()
                .and_then(|i| options.get(*i))
                .map_or("", String::as_str),
        ),
        QuestionType::MultipleSelect => Field::text(
            "key",
            "Correct (A,C…)",
            correct
                .iter()
                .map(|i| letter(*i).to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => Field::text("key", "Accepted (a, b)", q.accepted_answers.join(", ")),
    };
    for field in &mut form.fields {
        match field.name {
            "marks" => {
                field.value = marks(q.marks);
                field.error = None;
            }
            "key" => *field = key.clone(),
            _ => {}
        }
    }
}

/// The body of `POST /questions/{id}/regrade`; field errors when it can't be made.
fn regrade_body(form: &mut Form, choices: &GradingChoices, dry_run: bool) -> Option<(Uuid, Value)> {
    for f in &mut form.fields {
        f.error = None;
    }
    let Some(q) = chosen_question(form, choices) else {
        form.refused("Choose a question.", &[]);
        return None;
    };
    let refuse = |form: &mut Form, field: &str, message: &str| {
        form.refused(
            "Check the marked field.",
            &[FieldError {
                field: field.into(),
                message: message.into(),
            }],
        );
    };
    let m = match form.value("marks").trim().parse::<f64>() {
        Ok(m) if m > 0.0 && m.is_finite() => m,
        _ => {
            refuse(form, "marks", "a number greater than 0");
            return None;
        }
    };
    let mut body = json!({ "dryRun": dry_run, "marks": m });
    let key = form.value("key").trim().to_owned();
    match q.question_type {
        QuestionType::Mcq | QuestionType::TrueFalse => {
            let at = q
                .options
                .iter()
                .enumerate()
                .position(|(i, o)| format!("{}. {}", letter(i), one_line(&o.text, 30)) == key);
            match at {
                Some(i) => body["correctOptions"] = json!([q.options[i].id]),
                None => {
                    refuse(form, "correctOptions", "choose the correct option");
                    return None;
                }
            }
        }
        QuestionType::MultipleSelect => {
            let mut ids = Vec::new();
            for part in key.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let found = part
                    .chars()
                    .next()
                    .filter(|_| part.chars().count() == 1)
                    .map(|c| c.to_ascii_uppercase())
                    .and_then(|c| (0..q.options.len()).find(|i| letter(*i) == c));
                match found {
                    Some(i) => ids.push(q.options[i].id),
                    None => {
                        refuse(form, "correctOptions", "option letters, like A,C");
                        return None;
                    }
                }
            }
            body["correctOptions"] = json!(ids);
        }
        _ => {
            let accepted: Vec<&str> = key
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect();
            body["acceptedAnswers"] = json!(accepted);
        }
    }
    Some((q.id, body))
}

impl GradingView {
    /// The regrade form, when one of the tests has an objective question.
    pub(super) fn open_regrade(&mut self, choices: &GradingChoices, out: &mut Out) {
        if !choices.tests.iter().any(|t| {
            t.questions
                .as_ref()
                .is_some_and(|qs| qs.iter().any(is_objective))
        }) {
            out.error(&Failure::msg(
                "None of your tests has an objective question to regrade.",
            ));
            return;
        }
        self.page = Page::Regrade(RegradeStep::Form(regrade_form(choices)));
    }

    /// Keys in the regrade form: submit sends a dry run.
    pub(super) fn on_regrade_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let choices = self.choices_ready().cloned();
        let Page::Regrade(step) = &mut self.page else {
            return;
        };
        let RegradeStep::Form(form) = step else {
            return;
        };
        let Some(choices) = choices else {
            return;
        };
        let (test, question) = (
            form.value("test").to_owned(),
            form.value("question").to_owned(),
        );
        match form.on_key(key) {
            Outcome::Editing => {
                if form.value("test") != test {
                    regrade_questions(form, &choices);
                } else if form.value("question") != question {
                    regrade_key(form, &choices);
                }
            }
            Outcome::Cancel => self.page = Page::Queue,
            Outcome::Submit => {
                if let Some((question, body)) = regrade_body(form, &choices, true) {
                    form.busy = true;
                    *step = RegradeStep::Running {
                        form: form.clone(),
                        dry_run: true,
                    };
                    out.effect(Effect::Grading(GradingEffect::Regrade { question, body }));
                }
            }
        }
    }

    /// Commands on the regrade page: back, and apply the dry run shown. The page is modal.
    pub(super) fn regrade_command(&mut self, command: Command, out: &mut Out) -> bool {
        let Page::Regrade(step) = &mut self.page else {
            return false;
        };
        match (command, &mut *step) {
            (Command::Back, RegradeStep::Report { form, .. }) => {
                let mut form = form.clone();
                form.busy = false;
                *step = RegradeStep::Form(form);
            }
            (Command::Back, _) => self.page = Page::Queue,
            (Command::Apply, RegradeStep::Report { form, report }) if report.dry_run => {
                let mut form = form.clone();
                if let Some(Load::Ready(choices)) = &self.choices
                    && let Some((question, body)) = regrade_body(&mut form, choices, false)
                {
                    *step = RegradeStep::Running {
                        form,
                        dry_run: false,
                    };
                    out.effect(Effect::Grading(GradingEffect::Regrade { question, body }));
                }
            }
            _ => {}
        }
        // The view is modal.
        !matches!(command, Command::Quit | Command::Help)
    }

    /// The answer to a regrade: its report, or the refusal on the form.
    pub(super) fn on_regraded(&mut self, answer: Answer<RegradeReport>, out: &mut Out) {
        let Page::Regrade(step) = &mut self.page else {
            return;
        };
        let form = match step {
            RegradeStep::Running { form, .. }
            | RegradeStep::Form(form)
            | RegradeStep::Report { form, .. } => form.clone(),
        };
        match answer {
            Ok(report) => {
                if report.dry_run {
                    out.info(format!(
                        "Dry run: {} of {} attempts would change; nothing was written",
                        report.affected.len(),
                        report.examined
                    ));
                } else {
                    out.info(format!(
                        "Regraded: {} attempts rescored",
                        report.affected.len()
                    ));
                    // The keys changed: read them again next time.
                    self.choices = None;
                }
                *step = RegradeStep::Report { form, report };
            }
            Err(f) => {
                let mut form = form;
                form.refused(&f.message, &f.fields);
                *step = RegradeStep::Form(form);
                out.error(&f);
            }
        }
    }
}

pub(super) fn draw_regrade(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    step: &RegradeStep,
    choices: Option<&GradingChoices>,
    names: &HashMap<Uuid, String>,
) {
    let (form, report, running) = match step {
        RegradeStep::Form(form) => (form, None, None),
        RegradeStep::Running { form, dry_run } => (form, None, Some(*dry_run)),
        RegradeStep::Report { form, report } => (form, Some(report), None),
    };
    let Some(report) = report else {
        // The question's options, so the key can be read against them.
        let options: Vec<Line> = choices
            .and_then(|c| chosen_question(form, c))
            .map(|q| {
                let mut lines = vec![Line::styled(
                    format!("{} ({}):", one_line(&q.question_text, 70), q.question_type),
                    theme.dim(),
                )];
                lines.extend(q.options.iter().enumerate().map(|(i, o)| {
                    Line::styled(
                        format!(
                            "  {}. {}{}",
                            letter(i),
                            one_line(&o.text, 60),
                            if o.is_correct { "  (correct now)" } else { "" }
                        ),
                        theme.dim(),
                    )
                }));
                lines
            })
            .unwrap_or_default();
        let height = u16::try_from(options.len()).unwrap_or(0);
        let [top, rest] =
            Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(area);
        frame.render_widget(Paragraph::new(options), top);
        form.draw(frame, rest, theme);
        if let Some(dry_run) = running {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    if dry_run {
                        "Working out what would change…"
                    } else {
                        "Regrading…"
                    },
                    theme.key(),
                )),
                Rect { height: 1, ..area },
            );
        }
        return;
    };
    let title = if report.dry_run {
        format!(
            " Dry run: {} of {} attempts would change · nothing written ",
            report.affected.len(),
            report.examined
        )
    } else {
        format!(
            " Regraded: {} of {} attempts rescored ",
            report.affected.len(),
            report.examined
        )
    };
    let hint = if report.dry_run {
        " a apply · esc change the key "
    } else {
        " esc back "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(title, theme.title()))
        .title_bottom(Line::styled(hint, theme.dim()).right_aligned());
    if report.affected.is_empty() {
        frame.render_widget(
            Paragraph::new("No attempt's score changes with this key.").block(block),
            area,
        );
        return;
    }
    let height = usize::from(area.height.saturating_sub(3));
    let rows = report.affected.iter().take(height).map(|c| {
        let delta = c.new_score - c.old_score;
        Row::new(vec![
            Cell::from(short_id(c.attempt_id)),
            Cell::from(
                names
                    .get(&c.student_id)
                    .cloned()
                    .unwrap_or_else(|| format!("student {}", short_id(c.student_id))),
            ),
            Cell::from(format!("{:>6}", marks(c.old_score))),
            Cell::from(format!("{:>6}", marks(c.new_score))),
            Cell::from(format!(
                "{:>7}",
                format!("{}{}", if delta >= 0.0 { "+" } else { "" }, marks(delta))
            )),
        ])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(10),
                Constraint::Length(20),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(8),
            ],
        )
        .header(
            Row::new(["ATTEMPT", "STUDENT", "   OLD", "   NEW", " CHANGE"]).style(theme.header()),
        )
        .block(block),
        area,
    );
}
