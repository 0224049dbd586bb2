//! A multi-line text editor for prose (an answer to a doubt): Enter starts a new line,
//! ctrl-s (or alt-enter) submits, Esc cancels; arrows, Home/End, Backspace and Delete
//! move and edit as in any text box. It wraps long lines and keeps the cursor in view.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::form::Outcome;
use crate::tui::theme::Theme;

/// Lines of text and a cursor (`row`, and `col` in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    lines: Vec<String>,
    row: usize,
    col: usize,
    /// Why the last submit was refused (shown above the text).
    pub error: Option<String>,
    /// Submitted, waiting for the server: keys other than Esc are ignored.
    pub busy: bool,
}

impl Default for Editor {
    fn default() -> Self {
        Self::new("")
    }
}

/// The byte index of character `col` of `line` (its end when past it).
fn byte_at(line: &str, col: usize) -> usize {
    line.char_indices().nth(col).map_or(line.len(), |(i, _)| i)
}

impl Editor {
    /// An editor holding `text`, the cursor at its end.
    pub fn new(text: &str) -> Self {
        let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        Self {
            lines,
            row,
            col,
            error: None,
            busy: false,
        }
    }

    /// The whole text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    fn line_len(&self, row: usize) -> usize {
        self.lines.get(row).map_or(0, |l| l.chars().count())
    }

    fn insert(&mut self, c: char) {
        let line = &mut self.lines[self.row];
        line.insert(byte_at(line, self.col), c);
        self.col += 1;
    }

    fn newline(&mut self) {
        let line = &mut self.lines[self.row];
        let rest = line.split_off(byte_at(line, self.col));
        self.row += 1;
        self.col = 0;
        self.lines.insert(self.row, rest);
    }

    fn backspace(&mut self) {
        if self.col > 0 {
            let line = &mut self.lines[self.row];
            self.col -= 1;
            line.remove(byte_at(line, self.col));
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = self.line_len(self.row);
            self.lines[self.row].push_str(&line);
        }
    }

    fn delete(&mut self) {
        if self.col < self.line_len(self.row) {
            let line = &mut self.lines[self.row];
            line.remove(byte_at(line, self.col));
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            self.lines[self.row].push_str(&next);
        }
    }

    /// Applies one key press.
    pub fn on_key(&mut self, key: &KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if self.busy {
            return match key.code {
                KeyCode::Esc => Outcome::Cancel,
                _ => Outcome::Editing,
            };
        }
        match key.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Char('c') if ctrl => return Outcome::Cancel,
            KeyCode::Char('s') if ctrl => return Outcome::Submit,
            KeyCode::Enter if alt || ctrl => return Outcome::Submit,
            KeyCode::Enter => self.newline(),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left if self.col > 0 => self.col -= 1,
            KeyCode::Left if self.row > 0 => {
                self.row -= 1;
                self.col = self.line_len(self.row);
            }
            KeyCode::Right if self.col < self.line_len(self.row) => self.col += 1,
            KeyCode::Right if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = 0;
            }
            KeyCode::Up if self.row > 0 => {
                self.row -= 1;
                self.col = self.col.min(self.line_len(self.row));
            }
            KeyCode::Down if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = self.col.min(self.line_len(self.row));
            }
            KeyCode::Home => self.col = 0,
            KeyCode::End => self.col = self.line_len(self.row),
            KeyCode::Tab => {
                for _ in 0..4 {
                    self.insert(' ');
                }
            }
            KeyCode::Char(c) if !ctrl && !alt => self.insert(c),
            _ => {}
        }
        Outcome::Editing
    }

    /// Draws the editor boxed in `area`, titled `title`; the cursor shows as `▏`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme, title: &str) {
        let hint = if self.busy {
            " Sending… "
        } else {
            " ctrl-s send · enter new line · esc cancel "
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(format!(" {title} "), theme.title()))
            .title_bottom(Line::styled(hint, theme.dim()).right_aligned());
        let inner = block.inner(area);
        let width = usize::from(inner.width).max(1);
        let mut lines = Vec::new();
        if let Some(error) = &self.error {
            lines.push(Line::styled(error.clone(), theme.error()));
        }
        // Rows taken before the cursor's, to scroll it into view.
        let mut cursor_at = lines.len();
        for (i, text) in self.lines.iter().enumerate() {
            if i == self.row {
                let at = byte_at(text, self.col);
                let shown = format!("{}▏{}", &text[..at], &text[at..]);
                cursor_at += self.col / width;
                lines.push(Line::raw(shown));
            } else {
                if i < self.row {
                    cursor_at += text.chars().count().max(1).div_ceil(width);
                }
                lines.push(Line::raw(text.clone()));
            }
        }
        let height = usize::from(inner.height).max(1);
        let scroll = (cursor_at + 1).saturating_sub(height);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
                .block(block),
            area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    fn typed(editor: &mut Editor, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            editor.on_key(&key(code, KeyModifiers::NONE));
        }
    }

    #[test]
    fn enter_starts_a_new_line_and_ctrl_s_submits_the_whole_text() {
        let mut editor = Editor::default();
        typed(&mut editor, "Use a reference.\nLike &x.");
        assert_eq!(editor.text(), "Use a reference.\nLike &x.");
        assert_eq!(
            editor.on_key(&key(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            Outcome::Submit
        );
        assert_eq!(
            editor.on_key(&key(KeyCode::Enter, KeyModifiers::ALT)),
            Outcome::Submit
        );
        assert_eq!(
            editor.on_key(&key(KeyCode::Esc, KeyModifiers::NONE)),
            Outcome::Cancel
        );
    }

    #[test]
    fn arrows_move_and_backspace_and_delete_join_lines() {
        let mut editor = Editor::new("ab\ncd");
        editor.on_key(&key(KeyCode::Home, KeyModifiers::NONE));
        editor.on_key(&key(KeyCode::Backspace, KeyModifiers::NONE));
        assert_eq!(editor.text(), "abcd");
        editor.on_key(&key(KeyCode::Left, KeyModifiers::NONE));
        typed(&mut editor, "é\n");
        assert_eq!(editor.text(), "aé\nbcd");
        editor.on_key(&key(KeyCode::Up, KeyModifiers::NONE));
        editor.on_key(&key(KeyCode::End, KeyModifiers::NONE));
        editor.on_key(&key(KeyCode::Delete, KeyModifiers::NONE));
        assert_eq!(editor.text(), "aébcd");
        editor.on_key(&key(KeyCode::Right, KeyModifiers::NONE));
        typed(&mut editor, "-");
        assert_eq!(editor.text(), "aéb-cd");
    }
}
