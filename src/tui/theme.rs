//! Colours in one place. With `NO_COLOR` (or `--no-color`) every style keeps only its
//! modifiers (bold, reversed, dim), so the TUI stays readable in monochrome.

use ratatui::style::{Color, Modifier, Style};

use crate::when::Zone;

/// How things look: colours, and the time zone times are shown in (`--tz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub zone: Zone,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set (to anything non-empty) or `no_color` is asked for.
    pub fn detect(no_color: bool, zone: Zone) -> Self {
        let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: !(no_color || env_off),
            zone,
        }
    }

    /// No colour, times in UTC: what tests draw with.
    pub fn plain() -> Self {
        Self {
            color: false,
            zone: Zone::UTC,
        }
    }

    fn paint(self, style: Style, color: Color) -> Style {
        if self.color { style.fg(color) } else { style }
    }

    /// The selected row of a list.
    pub fn selected(self) -> Style {
        let base = Style::default().add_modifier(Modifier::REVERSED);
        if self.color {
            Style::default().bg(Color::Blue).fg(Color::White)
        } else {
            base
        }
    }

    pub fn title(self) -> Style {
        self.paint(Style::default().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    pub fn error(self) -> Style {
        self.paint(Style::default().add_modifier(Modifier::BOLD), Color::Red)
    }

    pub fn ok(self) -> Style {
        self.paint(Style::default(), Color::Green)
    }

    pub fn warn(self) -> Style {
        self.paint(Style::default(), Color::Yellow)
    }

    pub fn dim(self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    pub fn header(self) -> Style {
        self.paint(Style::default().add_modifier(Modifier::BOLD), Color::White)
    }

    pub fn key(self) -> Style {
        self.paint(Style::default().add_modifier(Modifier::BOLD), Color::Yellow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_colour_no_style_sets_a_colour() {
        let t = Theme::plain();
        for s in [
            t.selected(),
            t.title(),
            t.error(),
            t.ok(),
            t.warn(),
            t.dim(),
            t.header(),
            t.key(),
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert!(t.selected().add_modifier.contains(Modifier::REVERSED));
    }
}
