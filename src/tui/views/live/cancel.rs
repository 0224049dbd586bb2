//! Cancelling a class: `X` on the agenda asks first (its students are notified), `y`
//! cancels that one class, `n` or Esc keeps it. The rest of a series stays; the CLI's
//! `live cancel --scope` cancels more.

use crossterm::event::KeyEvent;
use edupro_server::api::{LiveClass, LiveClassStatus};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::LiveView;
use crate::tui::action::live::LiveEffect;
use crate::tui::action::{Effect, Failure};
use crate::tui::theme::Theme;
use crate::tui::views::Out;
use crate::tui::widgets::confirm;

impl LiveView {
    /// `X`: asks whether to cancel the selected class.
    pub(super) fn ask_cancel(&mut self, out: &mut Out) {
        let Some(class) = self.current() else {
            return;
        };
        if class.status != LiveClassStatus::Scheduled {
            out.error(&Failure::msg(format!(
                "Only a class that has not started can be cancelled; “{}” is {}.",
                class.title,
                class.status.to_string().to_lowercase()
            )));
            return;
        }
        self.cancel = Some(Box::new(class.clone()));
    }

    /// `y` cancels; `n` or Esc keeps the class.
    pub(super) fn on_cancel_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(class) = &self.cancel else {
            return;
        };
        match confirm::answer(key) {
            Some(true) => out.effect(Effect::Live(LiveEffect::Cancel { class: class.id })),
            Some(false) => out.info(format!("“{}” stays scheduled.", class.title)),
            None => return,
        }
        self.cancel = None;
    }

    pub(super) fn draw_cancel(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let Some(class) = &self.cancel else {
            return;
        };
        let when = theme
            .zone
            .local(class.scheduled_at)
            .format("%a %d %b %H:%M");
        let lines = vec![
            Line::from(format!("Cancel “{}” on {when}?", class.title)),
            Line::from(audience(class)),
        ];
        confirm::draw(
            frame,
            area,
            theme,
            "Cancel a class",
            lines,
            "y cancel it · n keep it",
        );
    }
}

/// Who hears of it.
fn audience(class: &LiveClass) -> String {
    let who = match class.batch_id {
        Some(_) => "The students of its batch".to_owned(),
        None => format!("The students of {}", class.course.title),
    };
    let series = if class.series_id.is_some() {
        " Only this occurrence; the rest of the series stays."
    } else {
        ""
    };
    format!("{who} are notified.{series}")
}
