//! The schedule popup: a form for a new class whose refusals (bad fields, a clash naming
//! the other class) show under the fields.

use chrono::Datelike;
use crossterm::event::{KeyCode, KeyEvent};
use edupro_server::api::LivePlatform;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph};
use serde_json::{Value, json};

use super::LiveView;
use crate::tui::action::live::{LiveAction, LiveEffect, ScheduleChoices, Span};
use crate::tui::action::{Effect, Failure};
use crate::tui::theme::Theme;
use crate::tui::views::{Load, Out};
use crate::tui::widgets::form::{Field, Form, Kind, Outcome, centered};

const WHOLE_COURSE: &str = "whole course";

/// The schedule popup.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Schedule {
    /// Waiting for the caller's courses.
    Loading,
    Form {
        form: Form,
        choices: ScheduleChoices,
    },
}

/// Sets a choice field's options, keeping its value when it is still one of them.
fn set_choices(form: &mut Form, name: &str, options: Vec<String>) {
    if let Some(field) = form.fields.iter_mut().find(|f| f.name == name) {
        if !options.contains(&field.value) {
            field.value = options.first().cloned().unwrap_or_default();
        }
        field.kind = Kind::Choice(options);
    }
}

fn schedule_form(choices: &ScheduleChoices) -> Form {
    let titles: Vec<&str> = choices.courses.iter().map(|c| c.title.as_str()).collect();
    let first = titles.first().copied().unwrap_or_default();
    let start = (choices.zone.date_of(choices.now) + chrono::Days::new(1))
        .and_hms_opt(10, 0, 0)
        .map(|d| d.format(crate::when::FORMAT).to_string())
        .unwrap_or_default();

    let platforms = LivePlatform::ALL.iter().map(|p| p.as_str()).collect();
    let mut form = Form::new(
        format!("Schedule a class · times in {}", choices.zone),
        vec![
            Field::choice("courseId", "Course", titles.clone(), first),
            Field::choice("batchId", "Batch", vec![WHOLE_COURSE], WHOLE_COURSE),
            Field::text("title", "Title", ""),
            Field::text("scheduledAt", "Start", start),
            Field::number("duration", "Minutes", 60),
            Field::number("capacity", "Capacity", "").optional(),
            Field::choice("platform", "Platform", platforms, "BUILTIN"),
            Field::text("meetingUrl", "Meeting URL", "").optional(),
        ],
    );
    form.submit_label = "schedule";
    // The title is what is typed first.
    form.focus = 2;
    update_batches(&mut form, choices);
    form
}

/// The batch choices of the course the form names.
fn update_batches(form: &mut Form, choices: &ScheduleChoices) {
    let course = form.value("courseId").to_owned();
    let mut options = vec![WHOLE_COURSE.to_owned()];
    if let Some(c) = choices.courses.iter().find(|c| c.title == course) {
        options.extend(c.batches.iter().map(|(_, name)| name.clone()));
    }
    set_choices(form, "batchId", options);
}

/// The form's body as `POST /live-classes` wants it; field errors when it can't be.
fn schedule_body(form: &mut Form, choices: &ScheduleChoices) -> Option<Value> {
    let mut body = form.body()?;
    let course = form.value("courseId").to_owned();
    let Some(course) = choices.courses.iter().find(|c| c.title == course) else {
        form.refused("Choose a course.", &[]);
        return None;
    };
    body["courseId"] = json!(course.id);
    let batch = form.value("batchId").to_owned();
    body["batchId"] = match course.batches.iter().find(|(_, name)| *name == batch) {
        Some((id, _)) => json!(id),
        None => Value::Null,
    };
    let start = form.value("scheduledAt").to_owned();
    match choices.zone.parse(&start) {
        Ok(at) => body["scheduledAt"] = json!(at),
        Err(problem) => {
            form.refused(
                "The start is not a date and time.",
                &[edupro_server::api::FieldError {
                    field: "scheduledAt".into(),
                    message: problem,
                }],
            );
            return None;
        }
    }
    Some(body)
}

impl LiveView {
    pub(super) fn open_schedule(&mut self, out: &mut Out) {
        self.schedule = Some(Schedule::Loading);
        out.effect(Effect::Live(LiveEffect::LoadChoices));
    }

    pub(super) fn on_schedule_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(Schedule::Form { form, choices }) = self.schedule.as_mut() else {
            if key.code == KeyCode::Esc {
                self.schedule = None;
            }
            return;
        };
        let course = form.value("courseId").to_owned();
        match form.on_key(key) {
            Outcome::Editing => {
                if form.value("courseId") != course {
                    update_batches(form, choices);
                }
            }
            Outcome::Cancel => self.schedule = None,
            Outcome::Submit => {
                if let Some(body) = schedule_body(form, choices) {
                    form.busy = true;
                    out.effect(Effect::Live(LiveEffect::Schedule { body }));
                }
            }
        }
    }

    /// The answers to the popup: the courses to choose from, and the scheduling.
    pub(super) fn on_schedule_answer(&mut self, action: LiveAction, out: &mut Out) {
        match action {
            LiveAction::Choices(answer) => {
                if self.schedule.is_none() {
                    return;
                }
                match answer {
                    Ok(choices) if choices.courses.is_empty() => {
                        self.schedule = None;
                        out.error(&Failure::msg(
                            "You have no courses to schedule a class in; create one under Courses.",
                        ));
                    }
                    Ok(choices) => {
                        self.schedule = Some(Schedule::Form {
                            form: schedule_form(&choices),
                            choices,
                        })
                    }
                    Err(f) => {
                        self.schedule = None;
                        out.error(&f);
                    }
                }
            }
            LiveAction::Scheduled(answer) => match answer {
                Ok(class) => {
                    let zone = match self.schedule.take() {
                        Some(Schedule::Form { choices, .. }) => choices.zone,
                        _ => crate::when::Zone::UTC,
                    };
                    out.info(format!(
                        "Scheduled “{}” on {}",
                        class.title,
                        zone.local(class.scheduled_at).format("%a %d %b %H:%M %Z")
                    ));
                    // Show the span the new class is in, with it selected.
                    if let Some(Load::Ready(a)) = &self.agenda {
                        let days = (a.zone.date_of(class.scheduled_at) - a.today).num_days();
                        self.offset = match self.span {
                            Span::Day => days,
                            Span::Week => {
                                let monday = i64::from(a.today.weekday().num_days_from_monday());
                                (days + monday).div_euclid(7)
                            }
                        };
                    }
                    self.select_after = Some(class.id);
                    self.load(out);
                }
                Err(f) => {
                    if let Some(Schedule::Form { form, .. }) = self.schedule.as_mut() {
                        form.refused(&f.message, &f.fields);
                        // A clash names the other class under Start; say it once.
                        if f.status == Some(409) && f.fields.iter().any(|e| e.message == f.message)
                        {
                            form.error = Some("This time clashes with another class:".into());
                        }
                    }
                    out.error(&f);
                }
            },
            _ => {}
        }
    }

    /// The popup over the page: loading the courses, or the form.
    pub(super) fn draw_schedule(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        match &self.schedule {
            Some(Schedule::Loading) => {
                let popup = centered(area, 40, 3);
                frame.render_widget(ratatui::widgets::Clear, popup);
                frame.render_widget(
                    Paragraph::new("Loading your courses…").block(
                        Block::default()
                            .borders(Borders::ALL)
                            .title(" Schedule a class "),
                    ),
                    popup,
                );
            }
            Some(Schedule::Form { form, .. }) => form.draw(frame, area, theme),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_start_that_is_not_a_date_stays_on_the_form_and_one_is_read_in_the_zone() {
        let choices = ScheduleChoices {
            courses: vec![crate::tui::action::live::CourseChoice {
                id: Uuid::from_u128(7),
                title: "Rust".into(),
                batches: vec![(Uuid::from_u128(8), "Morning".into())],
            }],
            now: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            zone: "Asia/Kolkata".parse().unwrap(),
        };
        let mut form = schedule_form(&choices);
        assert_eq!(form.title, "Schedule a class · times in Asia/Kolkata");
        form.fields[2].value = "Q&A".into();
        form.fields[3].value = "tomorrow".into();
        assert_eq!(schedule_body(&mut form, &choices), None);
        let error = form.fields[3].error.clone().unwrap();
        assert!(
            error.contains("use `2026-12-07 10:30` (in Asia/Kolkata"),
            "{error}"
        );
        form.fields[3].value = "2027-01-15 09:30".into();
        form.fields[1].value = "Morning".into();
        let body = schedule_body(&mut form, &choices).unwrap();
        // 09:30 in Kolkata (UTC+5:30).
        assert_eq!(body["scheduledAt"], "2027-01-15T04:00:00Z");
        assert_eq!(body["courseId"], Uuid::from_u128(7).to_string());
        assert_eq!(body["batchId"], Uuid::from_u128(8).to_string());
        assert_eq!(body["duration"], 60);
        assert!(body.get("capacity").is_none());
    }
}
