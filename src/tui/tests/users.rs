//! The Users tab on `TestBackend` (admins only): the list, its details, changing a role,
//! deactivating, and an import planned, then applied.

use crossterm::event::KeyCode;
use edupro_server::api::{
    FieldError, ImportCounts, ImportKind, ImportMode, ImportRow, ImportSummary, Role, RowOutcome,
    User, UserList,
};

use super::{Harness, admin, failure, id, on_courses, page, teacher, user};
use crate::tui::action::{Action, Effect, Failure};

fn users() -> Vec<User> {
    let mut student = user(3, "Chen", "Wei", Role::Student);
    student.is_active = false;
    vec![admin(), teacher(), student]
}

fn user_list(users: Vec<User>) -> Action {
    let n = users.len();
    Action::Users {
        generation: 1,
        answer: Ok(UserList {
            users,
            pagination: page(n, n as u64, false),
        }),
    }
}

fn on_users() -> Harness {
    let mut h = Harness::signed_in(admin());
    h.settle();
    h.press(KeyCode::Char('7'));
    h
}

#[test]
fn a_teacher_has_no_users_tab() {
    let mut h = on_courses();
    h.effects();
    h.press(KeyCode::Char('7'));
    assert!(h.effects().is_empty());
    assert!(!h.shows("Users"));
}

#[test]
fn users_loading() {
    let mut h = on_users();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn users_empty() {
    let mut h = on_users();
    h.answer(user_list(vec![]));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn users_error() {
    let mut h = on_users();
    h.answer(Action::Users {
        generation: 1,
        answer: Err(failure("You need the ADMIN role")),
    });
    insta::assert_snapshot!(h.screen());
}

#[test]
fn users_filled_with_details() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.press(KeyCode::Down).press(KeyCode::Enter);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn changing_a_role_picks_from_the_roles_and_updates_the_row() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.effects();
    h.press(KeyCode::Down).chars("r").press(KeyCode::Right);
    insta::assert_snapshot!(h.screen());
    h.press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::ChangeRole {
            user: id(1),
            role: Role::Student
        }]
    );
    let mut changed = teacher();
    changed.role = Role::Student;
    h.answer(Action::UserChanged(Ok((
        "ada@school.test is now STUDENT".into(),
        changed,
    ))));
    assert!(h.shows("ada@school.test is now STUDENT"));
}

#[test]
fn deactivating_asks_first() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.effects();
    h.press(KeyCode::Down).chars("d");
    insta::assert_snapshot!(h.screen());
    h.chars("y");
    assert_eq!(
        h.effects(),
        [Effect::SetActive {
            user: id(1),
            active: false
        }]
    );
    // A deactivated user is offered reactivation.
    h.press(KeyCode::Down).chars("d");
    assert!(h.shows("Reactivate chen@school.test?"));
}

#[test]
fn an_import_plans_first_shows_failed_rows_then_applies() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.effects();
    h.chars("i").chars("/tmp/users.csv").press(KeyCode::Enter);
    assert_eq!(
        h.effects(),
        [Effect::Import {
            path: "/tmp/users.csv".into(),
            kind: ImportKind::Users,
            mode: ImportMode::Plan
        }]
    );
    let counts = ImportCounts {
        total: 3,
        create: 1,
        update: 1,
        unchanged: 0,
        error: 1,
        skipped: 0,
    };
    h.answer(Action::ImportProgress {
        counts,
        errors: vec![ImportRow {
            line: 3,
            key: Some("s-17".into()),
            outcome: RowOutcome::Error,
            changes: vec![],
            errors: vec![FieldError {
                field: "email".into(),
                message: "not an email address".into(),
            }],
        }],
    });
    insta::assert_snapshot!("import_running", h.screen());
    let summary = ImportSummary {
        import_id: id(900),
        kind: ImportKind::Users,
        mode: ImportMode::Plan,
        counts,
        stopped: false,
        file_error: None,
    };
    h.answer(Action::ImportDone(Ok(summary.clone())));
    insta::assert_snapshot!("import_planned", h.screen());
    h.chars("a");
    assert_eq!(
        h.effects(),
        [Effect::Import {
            path: "/tmp/users.csv".into(),
            kind: ImportKind::Users,
            mode: ImportMode::Apply
        }]
    );
    h.answer(Action::ImportDone(Ok(ImportSummary {
        mode: ImportMode::Apply,
        ..summary
    })));
    assert!(h.shows("Import applied: 1 created, 1 updated, 1 failed"));
    assert!(
        matches!(&h.effects()[..], [Effect::LoadUsers { page: 1, .. }]),
        "the list reloads after an apply"
    );
}

#[test]
fn an_unreadable_import_file_is_named_on_the_form() {
    let mut h = on_users();
    h.answer(user_list(users()));
    h.chars("i").chars("/nope.csv").press(KeyCode::Enter);
    h.answer(Action::ImportDone(Err(Failure {
        fields: vec![FieldError {
            field: "file".into(),
            message: "cannot read it: No such file or directory".into(),
        }],
        ..failure("cannot read /nope.csv: No such file or directory")
    })));
    insta::assert_snapshot!(h.screen());
}
