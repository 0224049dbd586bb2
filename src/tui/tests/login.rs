//! Sign-in on `TestBackend`: the login form, typing and submitting, a refusal, the
//! two-factor step, and an ended session bringing the form back.

use crossterm::event::KeyCode;

use super::{Harness, failure};
use crate::tui::action::{Action, Effect, Failure};

#[test]
fn login_screen_empty() {
    let mut h = Harness::new(false);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn connecting_with_stored_credentials_is_the_loading_state() {
    let mut h = Harness::new(true);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn login_typing_and_submitting_sends_the_login() {
    let mut h = Harness::new(false);
    h.chars("ada@school.test").press(KeyCode::Enter);
    assert!(
        h.effects().is_empty(),
        "enter on the email moves to the password"
    );
    h.chars("Secret-pass1").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Login {
            email: "ada@school.test".into(),
            password: "Secret-pass1".into()
        }]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn login_refused_shows_the_error_and_clears_the_password() {
    let mut h = Harness::new(false);
    h.chars("ada@school.test")
        .press(KeyCode::Tab)
        .chars("wrong")
        .press(KeyCode::Enter);
    h.answer(Action::LoginRefused(Failure {
        status: Some(401),
        ..failure("Invalid email or password")
    }));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn login_asks_for_the_two_factor_code_when_the_server_does() {
    let mut h = Harness::new(false);
    h.chars("root@school.test")
        .press(KeyCode::Tab)
        .chars("pw")
        .press(KeyCode::Enter);
    h.effects();
    h.answer(Action::MfaRequired {
        challenge: "challenge-token".into(),
    });
    h.chars("123456").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::VerifyMfa {
            challenge: "challenge-token".into(),
            code: "123456".into()
        }]
    );
    insta::assert_snapshot!(h.screen());
}

#[test]
fn an_ended_session_brings_back_the_login_with_a_notice() {
    let mut h = Harness::new(true);
    h.answer(Action::SignInNeeded(Some(
        "Your session has ended; sign in again.".into(),
    )));
    assert!(h.shows("Your session has ended"));
    h.ctrl('c');
    assert!(h.app.quit, "ctrl-c quits from the login screen");
}
