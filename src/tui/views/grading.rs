//! Grading (teachers and admins): the queue of long answers waiting for marks, narrowed
//! by course or test, with a blind mode that hides who wrote them; an answer read in
//! full with its marks and feedback entered in place (marks checked against 0..max
//! before anything is sent); one key to the next ungraded answer; and a regrade of an
//! objective question, shown as a dry run (old and new score of each attempt it
//! changes) before it is applied.
//!
//! This file holds the tab's state and routes keys and answers; each panel (`queue` with
//! its filter popup, `answer`, `regrade`) is a file under `grading/`.

mod answer;
mod queue;
mod regrade;

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use edupro_server::api::GradingItem;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use uuid::Uuid;

use super::{Load, Out, View};
use crate::tui::action::grading::{GradingAction, GradingChoices, GradingEffect, QueueFilter};
use crate::tui::action::{Action, Effect};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Form, Kind, centered};
use crate::tui::widgets::list::PagedList;
use answer::{AnswerPage, draw_answer, on_answer_key};
use regrade::{RegradeStep, draw_regrade};

/// What the tab shows.
#[derive(Debug, Clone, PartialEq, Default)]
enum Page {
    #[default]
    Queue,
    Answer(Box<AnswerPage>),
    Regrade(RegradeStep),
}

/// What waits for the choices to arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Filter,
    Regrade,
}

/// The Grading tab.
#[derive(Debug, Clone, Default)]
pub struct GradingView {
    pub list: PagedList<GradingItem>,
    filter: QueueFilter,
    loaded: bool,
    choices: Option<Load<GradingChoices>>,
    waiting: Option<Waiting>,
    /// The filter popup.
    filter_form: Option<Form>,
    page: Page,
}

fn student_name(item: &GradingItem) -> String {
    item.student
        .as_ref()
        .map(|s| format!("{} {}", s.first_name, s.last_name))
        .unwrap_or_else(|| "(hidden)".into())
}

/// Marks as the server shows them: `4`, `4.5`, `4.25`.
fn marks(m: f64) -> String {
    let s = format!("{m:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn one_line(text: &str, max: usize) -> String {
    let flat = text.replace(['\n', '\r'], " ");
    if flat.chars().count() > max {
        format!(
            "{}…",
            flat.chars().take(max.saturating_sub(1)).collect::<String>()
        )
    } else {
        flat
    }
}

fn set_choices(form: &mut Form, name: &str, options: Vec<String>) {
    if let Some(field) = form.fields.iter_mut().find(|f| f.name == name) {
        if !options.contains(&field.value) {
            field.value = options.first().cloned().unwrap_or_default();
        }
        field.kind = Kind::Choice(options);
    }
}

impl GradingView {
    fn reload(&mut self, out: &mut Out) {
        self.loaded = true;
        let generation = self.list.reset();
        out.effect(Effect::Grading(GradingEffect::LoadQueue {
            generation,
            page: 1,
            filter: self.filter.clone(),
        }));
    }

    /// Shows what waits for the choices, loading them first when needed.
    fn with_choices(&mut self, what: Waiting, out: &mut Out) {
        match &self.choices {
            Some(Load::Ready(choices)) => {
                let choices = choices.clone();
                self.open(what, &choices, out);
            }
            Some(Load::Loading) => self.waiting = Some(what),
            _ => {
                self.waiting = Some(what);
                self.choices = Some(Load::Loading);
                out.effect(Effect::Grading(GradingEffect::LoadChoices));
            }
        }
    }

    fn open(&mut self, what: Waiting, choices: &GradingChoices, out: &mut Out) {
        match what {
            Waiting::Filter => self.open_filter(choices),
            Waiting::Regrade => self.open_regrade(choices, out),
        }
    }

    fn next_ungraded(&mut self, out: &mut Out) {
        out.effect(Effect::Grading(GradingEffect::Next {
            filter: self.filter.clone(),
        }));
    }

    fn choices_ready(&self) -> Option<&GradingChoices> {
        match &self.choices {
            Some(Load::Ready(c)) => Some(c),
            _ => None,
        }
    }

    fn on_grading(&mut self, action: GradingAction, out: &mut Out) {
        match action {
            GradingAction::Queue { generation, answer } => {
                if let Err(f) = &answer {
                    out.error(f);
                }
                self.list.accept(
                    generation,
                    answer.map(|q| {
                        (
                            q.items,
                            q.pagination.page,
                            q.pagination.has_next,
                            q.pagination.total,
                        )
                    }),
                );
            }
            GradingAction::Choices(answer) => match answer {
                Ok(choices) => {
                    self.choices = Some(Load::Ready(choices.clone()));
                    if let Some(what) = self.waiting.take() {
                        self.open(what, &choices, out);
                    }
                }
                Err(f) => {
                    out.error(&f);
                    self.waiting = None;
                    self.choices = Some(Load::Failed(f));
                }
            },
            GradingAction::Graded(answer) => self.on_graded(answer, out),
            GradingAction::Next(answer) => match answer {
                Ok(next) => match next.item {
                    Some(item) => {
                        out.info(format!("{} waiting", next.remaining));
                        self.open_answer(item);
                    }
                    None => {
                        out.info("Nothing left to grade here.");
                        self.page = Page::Queue;
                        self.reload(out);
                    }
                },
                Err(f) => out.error(&f),
            },
            GradingAction::Regraded(answer) => self.on_regraded(answer, out),
        }
    }
}

impl View for GradingView {
    fn captures_text(&self) -> bool {
        self.filter_form.is_some()
            || matches!(&self.page, Page::Answer(p) if p.editing)
            || matches!(&self.page, Page::Regrade(RegradeStep::Form(_)))
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if self.filter_form.is_some() {
            self.on_filter_key(key, out);
            return;
        }
        match &mut self.page {
            Page::Answer(page) => on_answer_key(page, key, out),
            Page::Regrade(_) => self.on_regrade_key(key, out),
            Page::Queue => {}
        }
    }

    fn on_command(&mut self, command: Command, out: &mut Out) -> bool {
        match &mut self.page {
            Page::Answer(page) => {
                match command {
                    Command::Back => self.page = Page::Queue,
                    Command::Open | Command::Edit => {
                        page.editing = true;
                        page.form.busy = false;
                    }
                    Command::NextUngraded => self.next_ungraded(out),
                    _ => return false,
                }
                return true;
            }
            Page::Regrade(_) => return self.regrade_command(command, out),
            Page::Queue => {}
        }
        if self.list.navigate(command, out.page) {
            if let Some((generation, page)) = self.list.wants_more() {
                out.effect(Effect::Grading(GradingEffect::LoadQueue {
                    generation,
                    page,
                    filter: self.filter.clone(),
                }));
            }
            return true;
        }
        match command {
            Command::Refresh => self.reload(out),
            Command::Open => {
                if let Some(item) = self.list.current().cloned() {
                    self.open_answer(item);
                }
            }
            Command::NextUngraded => self.next_ungraded(out),
            Command::Blind => {
                self.filter.blind = !self.filter.blind;
                out.info(if self.filter.blind {
                    "Blind mode: students are hidden"
                } else {
                    "Blind mode off"
                });
                self.reload(out);
            }
            Command::Filter => self.with_choices(Waiting::Filter, out),
            Command::Regrade => self.with_choices(Waiting::Regrade, out),
            Command::Back if self.filter.course.is_some() || self.filter.test.is_some() => {
                self.filter.course = None;
                self.filter.test = None;
                self.reload(out);
            }
            _ => return false,
        }
        true
    }

    fn on_action(&mut self, action: Action, out: &mut Out) {
        if let Action::Grading(action) = action {
            self.on_grading(action, out);
        }
    }

    fn activate(&mut self, out: &mut Out) {
        if !self.loaded {
            self.reload(out);
        }
    }

    fn help(&self) -> Vec<(Command, &'static str)> {
        match &self.page {
            Page::Answer(_) => vec![
                (Command::Edit, "enter or change the marks"),
                (Command::NextUngraded, "next ungraded answer"),
                (Command::Back, "back to the queue"),
            ],
            Page::Regrade(_) => vec![
                (Command::Apply, "apply the regrade shown (write it)"),
                (Command::Back, "back"),
            ],
            Page::Queue => vec![
                (Command::Open, "read and grade the answer"),
                (Command::NextUngraded, "the oldest ungraded answer"),
                (Command::Filter, "only one course or test"),
                (Command::Blind, "blind mode (hide students)"),
                (Command::Regrade, "regrade a question (dry run first)"),
                (Command::Refresh, "reload"),
                (Command::Back, "clear the filter"),
            ],
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        match &self.page {
            Page::Queue => self.draw_queue(frame, area, theme),
            Page::Answer(page) => draw_answer(frame, area, theme, page, self.filter.blind),
            Page::Regrade(step) => {
                // Students the queue names (none in blind mode): a regrade gives ids.
                let names: HashMap<Uuid, String> = self
                    .list
                    .items
                    .iter()
                    .filter_map(|i| Some((i.student.as_ref()?.id, student_name(i))))
                    .collect();
                draw_regrade(frame, area, theme, step, self.choices_ready(), &names)
            }
        }
        if let Some(form) = &self.filter_form {
            form.draw(frame, area, theme);
        } else if self.waiting.is_some() {
            let popup = centered(area, 40, 3);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new("Loading your tests…").block(Block::default().borders(Borders::ALL)),
                popup,
            );
        }
    }
}
