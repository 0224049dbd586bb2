//! The terminal UI (`edupro tui`, and `edupro demo` on a terminal).
//!
//! - [`app`]: state and the update function (keys → commands → views → effects).
//! - [`action`]: effects (requests) and actions (answers, ticks).
//! - [`net`]: runs effects in tokio tasks that post actions back; never blocks drawing.
//! - [`realtime`]: the WebSocket task (notifications, live) and the header's link state.
//! - [`views`]: login, Today, Courses, Live classes, Grading, Notifications, Users;
//!   [`widgets`]: lists and forms.
//! - [`keymap`]: keys as data, overridable in `tui.toml`; [`theme`]: colours, `NO_COLOR`.
//!
//! The loop `select!`s over terminal events, answers from tasks and a 100 ms tick, and
//! draws after each. `ratatui::init` puts the terminal in raw mode on the alternate
//! screen and installs a panic hook that restores it; [`TerminalGuard`] restores it on
//! every other way out.

pub mod action;
pub mod app;
pub mod keymap;
pub mod net;
pub mod realtime;
pub mod theme;
pub mod views;
pub mod widgets;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use self::action::Action;
use self::app::App;
use self::keymap::Keymap;
use self::net::Net;
use self::theme::Theme;
use crate::api::ApiClient;
use crate::config::{Target, config_dir};

/// How the TUI starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub no_color: bool,
    /// Where times are typed and shown.
    pub zone: crate::when::Zone,
    /// Write how long the first full frame took (ms) to this file (for the figures).
    pub first_frame_report: Option<std::path::PathBuf>,
}

/// Where `tui.toml` lives.
pub fn keymap_path() -> anyhow::Result<std::path::PathBuf> {
    Ok(config_dir()?.join("tui.toml"))
}

/// Restores the terminal when dropped (a normal return, an error, or `?`).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Runs the TUI against `target` until the user quits.
pub async fn run(target: Target, options: Options) -> anyhow::Result<()> {
    let started = Instant::now();
    // A bad keymap is reported before the terminal changes mode.
    let keymap = Keymap::load(&keymap_path()?)?;
    let theme = Theme::detect(options.no_color, options.zone);
    let client = ApiClient::authenticated(&target).ok();
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let net = Net::new(target.clone(), client, tx.clone()).with_zone(options.zone);
    let mut app = App::new(&target.server, keymap, theme, net.signed_in());

    let mut terminal = ratatui::init();
    let _guard = TerminalGuard;
    if let Ok(size) = terminal.size() {
        app.update(Action::Resize(size.width, size.height));
    }
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first_frame_report = options.first_frame_report.clone();
    loop {
        for effect in app.take_effects() {
            net.spawn(effect);
        }
        terminal.draw(|frame| app.draw(frame))?;
        if !app.busy()
            && let Some(path) = first_frame_report.take()
        {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            std::fs::write(&path, format!("{ms:.1}\n"))?;
        }
        if app.quit {
            break;
        }
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => app.on_key(key),
                Some(Ok(Event::Resize(w, h))) => app.update(Action::Resize(w, h)),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(err.into()),
                None => break,
            },
            Some(action) = rx.recv() => {
                app.update(action);
                // Take every answer that is already there before drawing again.
                while let Ok(action) = rx.try_recv() {
                    app.update(action);
                }
            }
            _ = tick.tick() => app.update(Action::Tick),
        }
    }
    Ok(())
}
