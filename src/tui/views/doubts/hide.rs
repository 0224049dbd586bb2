//! Hiding a doubt: `h` asks first (students stop seeing it), `y` hides it, `n` or Esc
//! keeps it. Staff still see a hidden doubt; the CLI unhides it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{DoubtsView, name};
use crate::tui::action::Effect;
use crate::tui::action::doubts::DoubtsEffect;
use crate::tui::theme::Theme;
use crate::tui::views::Out;
use crate::tui::widgets::form::centered;

impl DoubtsView {
    /// `h`: asks whether to hide the selected doubt.
    pub(super) fn ask_hide(&mut self) {
        self.hide = self.list.current().cloned().map(Box::new);
    }

    /// `y` hides; `n` or Esc keeps the doubt.
    pub(super) fn on_hide_key(&mut self, key: &KeyEvent, out: &mut Out) {
        let Some(doubt) = &self.hide else {
            return;
        };
        match key.code {
            KeyCode::Char('y' | 'Y') => {
                out.effect(Effect::Doubts(DoubtsEffect::Hide { doubt: doubt.id }));
                self.hide = None;
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                out.info(format!("“{}” stays visible.", doubt.title));
                self.hide = None;
            }
            _ => {}
        }
    }

    pub(super) fn draw_hide(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let Some(doubt) = &self.hide else {
            return;
        };
        let popup = centered(area, 64, 7);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(format!(
                    "Hide “{}” by {}?",
                    doubt.title,
                    name(&doubt.author)
                )),
                Line::from("Its students no longer see it; staff still do, and can unhide it."),
                Line::styled("y hide it · n keep it", theme.dim()),
            ])
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Hide a doubt "),
            ),
            popup,
        );
    }
}
