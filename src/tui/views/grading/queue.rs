//! The queue panel: the long answers waiting for marks, and the filter popup that
//! narrows them to one course or test.

use crossterm::event::KeyEvent;
use edupro_server::api::GradingItem;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Cell, Paragraph};

use super::{GradingView, marks, one_line, set_choices, student_name};
use crate::tui::action::grading::GradingChoices;
use crate::tui::theme::Theme;
use crate::tui::views::{Load, Out};
use crate::tui::widgets::form::{Field, Form, Outcome};
use crate::tui::widgets::list::draw_table;

const ALL_COURSES: &str = "all courses";
const ALL_TESTS: &str = "all tests";

impl GradingView {
    /// The filter popup, set to the filter in force.
    pub(super) fn open_filter(&mut self, choices: &GradingChoices) {
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

    /// Keys in the filter popup: apply narrows the queue and reloads it.
    pub(super) fn on_filter_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(form) = self.filter_form.as_mut() else {
            return;
        };
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

    pub(super) fn draw_queue(&self, frame: &mut Frame, area: Rect, theme: Theme) {
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
