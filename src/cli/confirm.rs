//! Asking before a destructive or noisy action (`courses delete|archive|publish`,
//! `import revert`, `users deactivate`), as `gh` does: on a terminal a `[y/N]` question
//! that names what will happen; `--yes` for scripts; off a terminal without `--yes`,
//! exit 2 with a hint, so a script never hangs on a question nobody sees.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use crate::error::{ClientError, Result};

/// The `--yes` flag of a command that asks first.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct YesArg {
    /// Do it without asking (needed when standard input is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Whether to ask before `action` ("publish the course"): `Ok(false)` with `--yes`,
/// `Ok(true)` on a terminal, and exit 2 off one. Called before anything is fetched.
pub fn must_ask(yes: YesArg, action: &str) -> Result<bool> {
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    decide(yes, terminal, action)
}

fn decide(yes: YesArg, terminal: bool, action: &str) -> Result<bool> {
    if yes.yes {
        Ok(false)
    } else if terminal {
        Ok(true)
    } else {
        Err(ClientError::ConfirmationNeeded {
            action: action.to_owned(),
        })
    }
}

/// Asks `question [y/N]` on stderr and reads the answer from stdin; anything but
/// `y`/`yes` cancels (exit 2, nothing changed).
pub fn ask(question: &str) -> Result<()> {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{question} [y/N] ").and_then(|()| stderr.flush());
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if is_yes(&line) {
        Ok(())
    } else {
        Err(ClientError::Cancelled)
    }
}

/// `y` or `yes`, in any case, around spaces; an empty answer is the default: no.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_confirms_and_enter_alone_declines() {
        for yes in ["y\n", "Y\n", "yes\n", " YES \r\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["\n", "", "n\n", "no\n", "yep\n", "sure\n"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn the_yes_flag_skips_the_question_on_and_off_a_terminal() {
        let yes = YesArg { yes: true };
        assert!(!decide(yes, true, "publish the course").unwrap());
        assert!(!decide(yes, false, "publish the course").unwrap());
        assert!(decide(YesArg::default(), true, "publish the course").unwrap());
    }

    #[test]
    fn off_a_terminal_without_yes_the_hint_names_the_flag_and_the_action() {
        let err = decide(YesArg::default(), false, "publish the course").unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert_eq!(
            err.hint().as_deref(),
            Some("pass --yes to publish the course without being asked")
        );
    }
}
