//! Hiding a doubt: `h` asks first (students stop seeing it), `y` hides it, `n` or Esc
//! keeps it. Staff still see a hidden doubt; the CLI unhides it.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{DoubtsView, name};
use crate::tui::action::Effect;
use crate::tui::action::doubts::DoubtsEffect;
use crate::tui::theme::Theme;
use crate::tui::views::Out;
use crate::tui::widgets::confirm;

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
        match confirm::answer(key) {
            Some(true) => out.effect(Effect::Doubts(DoubtsEffect::Hide { doubt: doubt.id })),
            Some(false) => out.info(format!("“{}” stays visible.", doubt.title)),
            None => return,
        }
        self.hide = None;
    }

    pub(super) fn draw_hide(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let Some(doubt) = &self.hide else {
            return;
        };
        let lines = vec![
            Line::from(format!(
                "Hide “{}” by {}?",
                doubt.title,
                name(&doubt.author)
            )),
            Line::from("Its students no longer see it; staff still do, and can unhide it."),
        ];
        confirm::draw(
            frame,
            area,
            theme,
            "Hide a doubt",
            lines,
            "y hide it · n keep it",
        );
    }
}
