//! Grading (teachers and admins): the queue of long answers waiting for marks, narrowed
//! by course or test, with a blind mode that hides who wrote them; an answer read in
//! full with its marks and feedback entered in place (marks checked against 0..max
//! before anything is sent); one key to the next ungraded answer; and a regrade of an
//! objective question, shown as a dry run (old and new score of each attempt it
//! changes) before it is applied.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use edupro_server::api::{
    FieldError, GradedAnswer, GradingItem, Question, QuestionType, RegradeReport, Test,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Load, Out, View};
use crate::tui::action::grading::{GradingAction, GradingChoices, GradingEffect, QueueFilter};
use crate::tui::action::{Action, Effect, Failure};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::form::{Field, Form, Kind, Outcome, centered};
use crate::tui::widgets::list::{PagedList, draw_table};

const ALL_COURSES: &str = "all courses";
const ALL_TESTS: &str = "all tests";

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
            Waiting::Filter => {
                let mut courses = vec![ALL_COURSES];
                courses.extend(choices.courses.iter().map(|c| c.title.as_str()));
                let course = self
                    .filter
                    .course
                    .and_then(|id| choices.courses.iter().find(|c| c.id == id))
                    .map_or(ALL_COURSES, |c| c.title.as_str());
                let mut form = Form::new(
                    "Show the answers of",
                    vec![
                        Field::choice("course", "Course", courses, course),
                        Field::choice("test", "Test", vec![ALL_TESTS], ALL_TESTS),
                    ],
                );
                form.submit_label = "apply";
                filter_tests(&mut form, choices);
                if let Some(test) = self
                    .filter
                    .test
                    .and_then(|id| choices.tests.iter().find(|t| t.id == id))
                    && let Some(f) = form.fields.iter_mut().find(|f| f.name == "test")
                {
                    f.value = test.title.clone();
                }
                self.filter_form = Some(form);
            }
            Waiting::Regrade => {
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
        }
    }

    fn open_answer(&mut self, item: GradingItem) {
        let form = grade_form(&item);
        self.page = Page::Answer(Box::new(AnswerPage {
            item,
            form,
            editing: true,
            saved: None,
        }));
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
            GradingAction::Graded(answer) => {
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
            GradingAction::Regraded(answer) => {
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
    }
}

/// The test choices of the course the filter form names.
fn filter_tests(form: &mut Form, choices: &GradingChoices) {
    let course = form.value("course").to_owned();
    let course = choices.courses.iter().find(|c| c.title == course);
    let mut options = vec![ALL_TESTS.to_owned()];
    options.extend(
        choices
            .tests
            .iter()
            .filter(|t| course.is_none_or(|c| c.id == t.course_id))
            .map(|t| t.title.clone()),
    );
    set_choices(form, "test", options);
}

fn set_choices(form: &mut Form, name: &str, options: Vec<String>) {
    if let Some(field) = form.fields.iter_mut().find(|f| f.name == name) {
        if !options.contains(&field.value) {
            field.value = options.first().cloned().unwrap_or_default();
        }
        field.kind = Kind::Choice(options);
    }
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

impl View for GradingView {
    fn captures_text(&self) -> bool {
        self.filter_form.is_some()
            || matches!(&self.page, Page::Answer(p) if p.editing)
            || matches!(&self.page, Page::Regrade(RegradeStep::Form(_)))
    }

    fn on_text_key(&mut self, key: &KeyEvent, out: &mut Out) {
        if let Some(form) = self.filter_form.as_mut() {
            let course = form.value("course").to_owned();
            match form.on_key(key) {
                Outcome::Editing => {
                    if form.value("course") != course
                        && let Some(Load::Ready(choices)) = &self.choices
                    {
                        filter_tests(form, choices);
                    }
                }
                Outcome::Cancel => self.filter_form = None,
                Outcome::Submit => {
                    let (course, test) = (
                        form.value("course").to_owned(),
                        form.value("test").to_owned(),
                    );
                    if let Some(Load::Ready(choices)) = &self.choices {
                        let course = choices.courses.iter().find(|c| c.title == course);
                        self.filter.course = course.map(|c| c.id);
                        self.filter.test = choices
                            .tests
                            .iter()
                            .find(|t| t.title == test && course.is_none_or(|c| c.id == t.course_id))
                            .map(|t| t.id);
                    }
                    self.filter_form = None;
                    self.reload(out);
                }
            }
            return;
        }
        let choices = self.choices_ready().cloned();
        match &mut self.page {
            Page::Answer(page) => match page.form.on_key(key) {
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
            },
            Page::Regrade(step) => {
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
            Page::Regrade(step) => {
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
                return !matches!(command, Command::Quit | Command::Help);
            }
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

impl GradingView {
    fn filter_line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(choices) = self.choices_ready() {
            if let Some(c) = self
                .filter
                .course
                .and_then(|id| choices.courses.iter().find(|c| c.id == id))
            {
                parts.push(format!("course “{}”", c.title));
            }
            if let Some(t) = self
                .filter
                .test
                .and_then(|id| choices.tests.iter().find(|t| t.id == id))
            {
                parts.push(format!("test “{}”", t.title));
            }
        }
        if self.filter.blind {
            parts.push("blind".into());
        }
        parts.join(" · ")
    }

    fn draw_queue(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let mut area = area;
        let filter = self.filter_line();
        if !filter.is_empty() {
            let [line, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
            frame.render_widget(
                Paragraph::new(format!(
                    "showing: {filter}  (f filter · b blind · esc clears)"
                ))
                .style(theme.key()),
                line,
            );
            area = rest;
        }
        let title = format!("Grading queue ({} waiting)", self.list.total);
        draw_table(
            frame,
            area,
            theme,
            &title,
            &self.list,
            &["TEST", "Q", "STUDENT", "MAX", "ANSWER"],
            &[
                Constraint::Length(18),
                Constraint::Length(3),
                Constraint::Length(16),
                Constraint::Length(4),
                Constraint::Fill(1),
            ],
            |i: &GradingItem| {
                vec![
                    Cell::from(i.test_title.clone()),
                    Cell::from(i.question_order.to_string()),
                    Cell::from(student_name(i)),
                    Cell::from(marks(i.max_marks)),
                    Cell::from(one_line(i.answer.as_deref().unwrap_or("(no answer)"), 60)),
                ]
            },
            "Nothing to grade. Answers of submitted tests show up here. R regrades a question.",
        );
    }
}

fn draw_answer(frame: &mut Frame, area: Rect, theme: Theme, page: &AnswerPage, blind: bool) {
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
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
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

fn draw_regrade(
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
