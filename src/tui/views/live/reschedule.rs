//! Moving a class: `e` on the agenda opens its start and length, in `--tz`; the server's
//! refusals (a clash naming the other class, a start in the past) show under the fields.
//! Only this occurrence moves; the CLI's `live reschedule --scope` moves more.

use crossterm::event::KeyEvent;
use edupro_server::api::{FieldError, LiveClass, LiveClassStatus, UpdateLiveClass};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::LiveView;
use crate::tui::action::live::{LiveEffect, Span};
use crate::tui::action::{Answer, Effect, Failure};
use crate::tui::theme::Theme;
use crate::tui::views::{Load, Out};
use crate::tui::widgets::form::{Field, Form, Outcome};
use crate::when::Zone;

/// The reschedule popup: the class and its form.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reschedule {
    class: Box<LiveClass>,
    form: Form,
}

impl LiveView {
    /// The zone the agenda's times are in.
    fn zone(&self) -> Zone {
        match &self.agenda {
            Some(Load::Ready(a)) => a.zone,
            _ => Zone::UTC,
        }
    }

    /// `e`: opens the selected class's start and length.
    pub(super) fn open_reschedule(&mut self, out: &mut Out) {
        let zone = self.zone();
        let Some(class) = self.current() else {
            return;
        };
        if class.status != LiveClassStatus::Scheduled {
            out.error(&Failure::msg(format!(
                "Only a class that has not started can be moved; “{}” is {}.",
                class.title,
                class.status.to_string().to_lowercase()
            )));
            return;
        }
        let mut form = Form::new(
            format!("Move “{}” · times in {zone}", class.title),
            vec![
                Field::text("scheduledAt", "Start", zone.format(class.scheduled_at)),
                Field::number("duration", "Minutes", class.duration),
            ],
        );
        form.submit_label = "move";
        self.reschedule = Some(Reschedule {
            class: Box::new(class.clone()),
            form,
        });
    }

    pub(super) fn on_reschedule_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let zone = self.zone();
        let Some(popup) = self.reschedule.as_mut() else {
            return;
        };
        match popup.form.on_key(key) {
            Outcome::Editing => {}
            Outcome::Cancel => self.reschedule = None,
            Outcome::Submit => {
                if let Some(body) = reschedule_body(&mut popup.form, zone) {
                    popup.form.busy = true;
                    out.effect(Effect::Live(LiveEffect::Reschedule {
                        class: popup.class.id,
                        body,
                    }));
                }
            }
        }
    }

    /// The server's answer: the agenda shows the class where it went, or the form its
    /// refusal.
    pub(super) fn on_rescheduled(&mut self, answer: Answer<LiveClass>, out: &mut Out) {
        match answer {
            Ok(class) => {
                self.reschedule = None;
                let zone = self.zone();
                out.info(format!(
                    "Moved “{}” to {}",
                    class.title,
                    zone.local(class.scheduled_at).format("%a %d %b %H:%M %Z")
                ));
                if let Some(Load::Ready(a)) = &self.agenda
                    && self.span == Span::Day
                {
                    self.offset = (a.zone.date_of(class.scheduled_at) - a.today).num_days();
                }
                self.select_after = Some(class.id);
                self.load(out);
            }
            Err(f) => {
                if let Some(popup) = self.reschedule.as_mut() {
                    popup.form.refused(&f.message, &f.fields);
                    if f.status == Some(409) && f.fields.iter().any(|e| e.message == f.message) {
                        popup.form.error = Some("This time clashes with another class:".into());
                    }
                }
                out.error(&f);
            }
        }
    }

    pub(super) fn draw_reschedule(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        if let Some(popup) = &self.reschedule {
            popup.form.draw(frame, area, theme);
        }
    }
}

/// The form as `PATCH /live-classes/{id}` wants it; field errors when it can't be.
fn reschedule_body(form: &mut Form, zone: Zone) -> Option<UpdateLiveClass> {
    let body = form.body()?;
    let at = match zone.parse(form.value("scheduledAt")) {
        Ok(at) => at,
        Err(problem) => {
            form.refused(
                "The start is not a date and time.",
                &[FieldError {
                    field: "scheduledAt".into(),
                    message: problem,
                }],
            );
            return None;
        }
    };
    let duration = body["duration"]
        .as_i64()
        .and_then(|d| i32::try_from(d).ok());
    Some(UpdateLiveClass {
        scheduled_at: Some(at),
        duration,
        ..UpdateLiveClass::default()
    })
}
