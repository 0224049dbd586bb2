//! Cancelling a class: `X` on the agenda asks first (its students are notified), `y`
//! cancels that one class, `n` or Esc keeps it. The rest of a series stays; the CLI's
//! `live cancel --scope` cancels more.

use crossterm::event::{KeyCode, KeyEvent};
use edupro_server::api::{LiveClass, LiveClassStatus};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::LiveView;
use crate::tui::action::live::LiveEffect;
use crate::tui::action::{Effect, Failure};
use crate::tui::theme::Theme;
use crate::tui::views::Out;
use crate::tui::widgets::form::centered;

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
        match key.code {
            KeyCode::Char('y' | 'Y') => {
                out.effect(Effect::Live(LiveEffect::Cancel { class: class.id }));
                self.cancel = None;
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                out.info(format!("“{}” stays scheduled.", class.title));
                self.cancel = None;
            }
            _ => {}
        }
    }

    pub(super) fn draw_cancel(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let Some(class) = &self.cancel else {
            return;
        };
        let popup = centered(area, 64, 7);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(format!(
                    "Cancel “{}” on {}?",
                    class.title,
                    theme
                        .zone
                        .local(class.scheduled_at)
                        .format("%a %d %b %H:%M")
                )),
                Line::from(audience(class)),
                Line::styled("y cancel it · n keep it", theme.dim()),
            ])
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Cancel a class "),
            ),
            popup,
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
