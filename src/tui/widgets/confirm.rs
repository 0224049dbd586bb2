//! A yes/no question drawn over a view: `y` says yes; `n` or Esc says no; any other key
//! leaves the question up. The views keep what the question is about; this draws it
//! and reads the answer.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::form::centered;
use crate::tui::theme::Theme;

/// The answer `key` gives: `Some(true)` for y, `Some(false)` for n or Esc, else `None`.
pub fn answer(key: &KeyEvent) -> Option<bool> {
    match key.code {
        KeyCode::Char('y' | 'Y') => Some(true),
        KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(false),
        _ => None,
    }
}

/// Draws the question: a titled box centred in `area` with `lines`, then `keys` dimmed.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    title: &str,
    lines: Vec<Line>,
    keys: &str,
) {
    let popup = centered(area, 64, 7);
    frame.render_widget(Clear, popup);
    let mut text = lines;
    text.push(Line::styled(keys.to_owned(), theme.dim()));
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ")),
        ),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;

    #[test]
    fn y_says_yes_n_and_esc_say_no_and_other_keys_wait() {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        assert_eq!(answer(&key(KeyCode::Char('y'))), Some(true));
        assert_eq!(answer(&key(KeyCode::Char('N'))), Some(false));
        assert_eq!(answer(&key(KeyCode::Esc)), Some(false));
        assert_eq!(answer(&key(KeyCode::Enter)), None);
    }
}
