//! Keys are data: every key press is looked up in a [`Keymap`] that maps it to a
//! [`Command`]; views only ever see commands. `tui.toml` in the edupro config dir can
//! rebind any command:
//!
//! ```toml
//! [keys]
//! quit = "ctrl-q"                 # one key…
//! move_up = ["K", "ctrl-up"]      # …or several; they replace the defaults
//! ```
//!
//! Key syntax: a character (`q`, `Q`, `?`, `/`), or `enter`, `esc`, `tab`, `backtab`,
//! `space`, `backspace`, `delete`, `up`, `down`, `left`, `right`, `home`, `end`,
//! `pageup`, `pagedown`, `f1`…`f12`, with optional `ctrl-` / `alt-` / `shift-` prefixes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::Context;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// What a key asks for. The snake_case name is what `tui.toml` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    Help,
    Search,
    Back,
    NextTab,
    PrevTab,
    Tab1,
    Tab2,
    Tab3,
    Tab4,
    Tab5,
    Tab6,
    Tab7,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Refresh,
    New,
    NewSection,
    Edit,
    MoveUp,
    MoveDown,
    Publish,
    Archive,
    Students,
    Role,
    Deactivate,
    Import,
    Apply,
    MarkRead,
    MarkAllRead,
    ToggleWeek,
    PrevPeriod,
    NextPeriod,
    StartClass,
    EndClass,
    CancelClass,
    Attendance,
    Chat,
    Blind,
    NextUngraded,
    Filter,
    Regrade,
    Hide,
    Analytics,
}

impl Command {
    /// Every command, in the order help lists them.
    pub const ALL: &[Command] = &[
        Self::Quit,
        Self::Help,
        Self::Search,
        Self::Back,
        Self::NextTab,
        Self::PrevTab,
        Self::Tab1,
        Self::Tab2,
        Self::Tab3,
        Self::Tab4,
        Self::Tab5,
        Self::Tab6,
        Self::Tab7,
        Self::Up,
        Self::Down,
        Self::PageUp,
        Self::PageDown,
        Self::Top,
        Self::Bottom,
        Self::Open,
        Self::Refresh,
        Self::New,
        Self::NewSection,
        Self::Edit,
        Self::MoveUp,
        Self::MoveDown,
        Self::Publish,
        Self::Archive,
        Self::Students,
        Self::Role,
        Self::Deactivate,
        Self::Import,
        Self::Apply,
        Self::MarkRead,
        Self::MarkAllRead,
        Self::ToggleWeek,
        Self::PrevPeriod,
        Self::NextPeriod,
        Self::StartClass,
        Self::EndClass,
        Self::CancelClass,
        Self::Attendance,
        Self::Chat,
        Self::Blind,
        Self::NextUngraded,
        Self::Filter,
        Self::Regrade,
        Self::Hide,
        Self::Analytics,
    ];

    fn default_keys(self) -> &'static [&'static str] {
        match self {
            Self::Quit => &["q", "ctrl-c"],
            Self::Help => &["?", "f1"],
            Self::Search => &["/"],
            Self::Back => &["esc", "backspace"],
            Self::NextTab => &["tab"],
            Self::PrevTab => &["backtab"],
            Self::Tab1 => &["1"],
            Self::Tab2 => &["2"],
            Self::Tab3 => &["3"],
            Self::Tab4 => &["4"],
            Self::Tab5 => &["5"],
            Self::Tab6 => &["6"],
            Self::Tab7 => &["7"],
            Self::Up => &["up", "k"],
            Self::Down => &["down", "j"],
            Self::PageUp => &["pageup", "ctrl-b"],
            Self::PageDown => &["pagedown", "ctrl-f", "space"],
            Self::Top => &["home", "g"],
            Self::Bottom => &["end", "G"],
            Self::Open => &["enter", "right", "l"],
            Self::Refresh => &["ctrl-r", "f5"],
            Self::New => &["n"],
            Self::NewSection => &["N"],
            Self::Edit => &["e"],
            Self::MoveUp => &["K", "shift-up"],
            Self::MoveDown => &["J", "shift-down"],
            Self::Publish => &["p"],
            Self::Archive => &["A"],
            Self::Students => &["s"],
            Self::Role => &["r"],
            Self::Deactivate => &["d"],
            Self::Import => &["i"],
            Self::Apply => &["a"],
            Self::MarkRead => &["m"],
            Self::MarkAllRead => &["M"],
            Self::ToggleWeek => &["w"],
            Self::PrevPeriod => &["["],
            Self::NextPeriod => &["]"],
            Self::StartClass => &["S"],
            Self::EndClass => &["E"],
            Self::CancelClass => &["X"],
            Self::Attendance => &["t"],
            Self::Chat => &["c"],
            Self::Blind => &["b"],
            Self::NextUngraded => &["u"],
            Self::Filter => &["f"],
            Self::Regrade => &["R"],
            Self::Hide => &["h"],
            Self::Analytics => &["v"],
        }
    }
}

/// A key with its modifiers, as the keymap compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeKey,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

/// The comparable part of a [`KeyCode`] (crossterm's is not `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeKey {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("space", KeyCode::Char(' ')),
];

impl Key {
    /// The key of a terminal event; `None` for keys no binding can name.
    pub fn from_event(event: &KeyEvent) -> Option<Self> {
        let m = event.modifiers;
        let code = match event.code {
            // Shifted characters arrive as the character itself (`G`, `?`).
            KeyCode::Char(' ') => KeyCodeKey::Named("space"),
            KeyCode::Char(c) => KeyCodeKey::Char(c),
            KeyCode::F(n) => KeyCodeKey::F(n),
            other => KeyCodeKey::Named(NAMED.iter().find(|(_, k)| *k == other)?.0),
        };
        let is_char = matches!(code, KeyCodeKey::Char(_));
        Some(Self {
            code,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            // For characters, shift is already in the character; backtab implies it.
            shift: m.contains(KeyModifiers::SHIFT)
                && !is_char
                && code != KeyCodeKey::Named("backtab"),
        })
    }

    /// Parses `ctrl-r`, `G`, `shift-up`, `f5`…
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rest = text.trim();
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else if rest.len() > 1 && lower.starts_with("shift-") {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if c != ' ' => KeyCodeKey::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCodeKey::F(n)
                } else if let Some((name, _)) = NAMED.iter().find(|(name, _)| *name == lower) {
                    KeyCodeKey::Named(name)
                } else {
                    return Err(format!(
                        "`{text}` is not a key; use a character, or enter, esc, tab, up, pagedown, f5… with ctrl-/alt-/shift-"
                    ));
                }
            }
        };
        if let KeyCodeKey::Char(c) = code
            && shift
        {
            // `shift-g` is `G`.
            return Ok(Self {
                code: KeyCodeKey::Char(c.to_ascii_uppercase()),
                ctrl,
                alt,
                shift: false,
            });
        }
        Ok(Self {
            code,
            ctrl,
            alt,
            shift,
        })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCodeKey::Char(c) => write!(f, "{c}"),
            KeyCodeKey::F(n) => write!(f, "f{n}"),
            KeyCodeKey::Named(name) => f.write_str(name),
        }
    }
}

/// `tui.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    #[serde(default)]
    keys: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Which command each key runs, and the keys of each command (for `?`).
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: BTreeMap<Key, Command>,
    by_command: BTreeMap<Command, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        let mut by_command = BTreeMap::new();
        for &command in Command::ALL {
            let keys = command
                .default_keys()
                .iter()
                .filter_map(|k| Key::parse(k).ok())
                .collect();
            by_command.insert(command, keys);
        }
        Self::from_commands(by_command)
    }
}

impl Keymap {
    fn from_commands(by_command: BTreeMap<Command, Vec<Key>>) -> Self {
        let mut by_key = BTreeMap::new();
        for (command, keys) in &by_command {
            for key in keys {
                by_key.insert(*key, *command);
            }
        }
        Self { by_key, by_command }
    }

    /// The defaults with `text` (the contents of a `tui.toml`) applied.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let file: KeymapFile = toml::from_str(text)?;
        let mut by_command = Self::default().by_command;
        for (name, keys) in file.keys {
            let command: Command =
                serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(&name))
                .map_err(|_| anyhow::anyhow!("[keys] {name}: no such command"))?;
            let keys = match keys {
                OneOrMany::One(k) => vec![k],
                OneOrMany::Many(ks) => ks,
            };
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("[keys] {name}: {e}"))?;
            // A key bound anew leaves the command it had before.
            for other in by_command.values_mut() {
                other.retain(|k| !parsed.contains(k));
            }
            by_command.insert(command, parsed);
        }
        Ok(Self::from_commands(by_command))
    }

    /// Reads `path` when it exists; the defaults otherwise.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                Self::from_toml(&text).with_context(|| format!("{} is not valid", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The command a key press runs.
    pub fn command(&self, event: &KeyEvent) -> Option<Command> {
        self.by_key.get(&Key::from_event(event)?).copied()
    }

    /// The keys of `command`, as help shows them (`q, ctrl-c`).
    pub fn keys_of(&self, command: Command) -> String {
        self.by_command
            .get(&command)
            .map(|keys| {
                keys.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    }

    /// The first key of `command` (for hints), or `?` when it has none.
    pub fn first_key(&self, command: Command) -> String {
        self.by_command
            .get(&command)
            .and_then(|keys| keys.first())
            .map(ToString::to_string)
            .unwrap_or_else(|| "unbound".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn every_default_key_parses_and_no_two_commands_share_one() {
        let map = Keymap::default();
        let total: usize = map.by_command.values().map(Vec::len).sum();
        let declared: usize = Command::ALL.iter().map(|c| c.default_keys().len()).sum();
        assert_eq!(total, declared);
        assert_eq!(map.by_key.len(), total, "a key is bound twice");
    }

    #[test]
    fn shifted_characters_and_control_keys_find_their_commands() {
        let map = Keymap::default();
        assert_eq!(
            map.command(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(
            map.command(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command(&press(KeyCode::Up, KeyModifiers::SHIFT)),
            Some(Command::MoveUp)
        );
        assert_eq!(
            map.command(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Command::PrevTab)
        );
    }

    #[test]
    fn a_config_file_rebinds_a_command_and_frees_the_key_it_takes() {
        let map = Keymap::from_toml("[keys]\nquit = \"ctrl-q\"\nhelp = [\"h\", \"q\"]\n").unwrap();
        assert_eq!(
            map.command(&press(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command(&press(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Command::Help)
        );
        assert_eq!(map.keys_of(Command::Quit), "ctrl-q");
    }

    #[test]
    fn a_bad_config_names_the_command_or_the_key() {
        let err = Keymap::from_toml("[keys]\nfly = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("fly: no such command"), "{err}");
        let err = Keymap::from_toml("[keys]\nquit = \"hyper-x\"\n").unwrap_err();
        assert!(err.to_string().contains("`hyper-x` is not a key"), "{err}");
    }
}
