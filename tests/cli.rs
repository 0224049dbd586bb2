//! End to end: the real `edupro` binary against the real server (in-process, port 0,
//! SQLite or `EDUPRO_TEST_DATABASE_URL`), with credentials in a temp config dir.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use std::process::Command;

use harness::{PASSWORD, Terminal, logged_in_admin, register, spawn_server};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_logs_in_with_a_piped_password_and_whoami_shows_them() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "TEACHER").await;
    let term = Terminal::new(&server);
    let login = term
        .run_with(
            &["login", "--email", "ada@school.test", "--password-stdin"],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        login.stderr.contains("Logged in to") && login.stderr.contains("(TEACHER)"),
        "{}",
        login.stderr
    );

    let me = term.run(&["whoami", "--json"]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    let me = me.json();
    assert_eq!(me["email"], "ada@school.test");
    assert_eq!(me["role"], "TEACHER");
    let mut keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avatar",
            "bio",
            "createdAt",
            "email",
            "firstName",
            "id",
            "isActive",
            "isEmailVerified",
            "isPhoneVerified",
            "lastLogin",
            "lastName",
            "phone",
            "referralCode",
            "role",
            "teacherProfile",
            "twoFactorEnabled"
        ],
        "the JSON shape of `whoami --json` is a contract"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(term.credentials_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the credentials file is private");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_logs_in_with_a_totp_code() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let me = term.run(&["whoami", "--json"]).await.json();
    assert_eq!(me["role"], "ADMIN");
    assert_eq!(me["twoFactorEnabled"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_exits_3_and_says_what_to_check() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "STUDENT").await;
    let term = Terminal::new(&server);
    let run = term
        .run_with(
            &["login", "--email", "ada@school.test", "--password-stdin"],
            "Wrong-pass1!\n",
            &[],
        )
        .await;
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("error: Invalid credentials"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: check the email"),
        "{}",
        run.stderr
    );
    assert!(!term.credentials_file().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_without_a_login_exit_3_with_a_hint() {
    let server = spawn_server().await;
    let run = Terminal::new(&server).run(&["users", "list"]).await;
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("not logged in") && run.stderr.contains("edupro login"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_exits_1_and_names_it() {
    let term = Terminal {
        server: "http://127.0.0.1:1".into(),
        config: tempfile::tempdir().unwrap(),
    };
    let run = term
        .run_with(
            &["login", "--email", "a@b.io", "--password-stdin"],
            "x\n",
            &[],
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cannot reach the EduPro+ server at http://127.0.0.1:1"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_lists_and_shows_users_with_stable_exit_codes() {
    let server = spawn_server().await;
    let term = logged_in_admin(&server).await;
    let created = term
        .run_with(
            &[
                "users",
                "create",
                "--email",
                "kid@school.test",
                "--first-name",
                "Kid",
                "--last-name",
                "One",
                "--password-stdin",
                "--json",
            ],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let again = term
        .run(&[
            "users",
            "create",
            "--email",
            "kid@school.test",
            "--first-name",
            "Kid",
            "--last-name",
            "One",
        ])
        .await;
    assert_eq!(again.code, 5, "a duplicate is a conflict: {}", again.stderr);
    assert_eq!(
        again
            .stderr
            .matches("User with this email already exists")
            .count(),
        1,
        "said once, not again under `email:`: {}",
        again.stderr
    );
    assert!(
        again
            .stderr
            .starts_with("error: email: User with this email already exists\n"),
        "{}",
        again.stderr
    );

    let invalid = term
        .run(&[
            "users",
            "create",
            "--email",
            "nope",
            "--first-name",
            "",
            "--last-name",
            "X",
        ])
        .await;
    assert_eq!(invalid.code, 5);
    assert!(
        invalid.stderr.contains("email: must be an email address"),
        "{}",
        invalid.stderr
    );
    assert!(
        invalid.stderr.contains("firstName: is required"),
        "{}",
        invalid.stderr
    );

    let list = term.run(&["users", "list", "--json"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let emails: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, ["root@school.test", "kid@school.test"]);

    let plain = term.run(&["users", "list", "--role", "STUDENT"]).await;
    assert_eq!(plain.stdout.lines().count(), 1);
    assert!(
        plain
            .stdout
            .starts_with(&format!("{id}\tkid@school.test\tKid One\tSTUDENT\t")),
        "{}",
        plain.stdout
    );

    let csv = term.run(&["users", "list", "--csv"]).await;
    assert!(
        csv.stdout
            .starts_with("ID,EMAIL,NAME,ROLE,ACTIVE,2FA,CREATED\n"),
        "{}",
        csv.stdout
    );

    let shown = term.run(&["users", "show", &id, "--json"]).await;
    assert_eq!(shown.json()["email"], "kid@school.test");
    let missing = term
        .run(&["users", "show", "01a213dc-0000-7000-8000-000000000000"])
        .await;
    assert_eq!(missing.code, 4, "{}", missing.stderr);

    let role = term.run(&["users", "role", &id, "TEACHER", "--json"]).await;
    assert_eq!(role.json()["role"], "TEACHER");
    let off = term
        .run(&["users", "deactivate", &id, "--json", "--yes"])
        .await;
    assert_eq!(off.json()["isActive"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_student_is_refused_admin_commands_with_exit_3() {
    let server = spawn_server().await;
    register(&server, "kid@school.test", "STUDENT").await;
    let term = Terminal::new(&server);
    term.run_with(
        &["login", "--email", "kid@school.test", "--password-stdin"],
        &format!("{PASSWORD}\n"),
        &[],
    )
    .await;
    let run = term.run(&["users", "list"]).await;
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("permission"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_is_refreshed_silently_and_stored() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "TEACHER").await;
    let term = Terminal::new(&server);
    term.run_with(
        &["login", "--email", "ada@school.test", "--password-stdin"],
        &format!("{PASSWORD}\n"),
        &[],
    )
    .await;
    let path = term.credentials_file();
    let mut stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let old_refresh = stored["refresh_token"].clone();
    stored["access_token"] = json!("expired.or.garbage");
    std::fs::write(&path, stored.to_string()).unwrap();

    let me = term.run(&["whoami", "--json"]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    assert_eq!(me.json()["email"], "ada@school.test");
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_ne!(after["access_token"], "expired.or.garbage");
    assert_ne!(
        after["refresh_token"], old_refresh,
        "the rotated refresh token is stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_ends_the_session_on_the_server_and_forgets_the_tokens() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "TEACHER").await;
    let term = Terminal::new(&server);
    term.run_with(
        &["login", "--email", "ada@school.test", "--password-stdin"],
        &format!("{PASSWORD}\n"),
        &[],
    )
    .await;
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(term.credentials_file()).unwrap()).unwrap();
    let out = term.run(&["logout"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!term.credentials_file().exists());
    let status = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/me", server.url))
        .bearer_auth(stored["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "the old access token no longer works");
    assert_eq!(term.run(&["whoami"]).await.code, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_personal_access_token_works_from_stdin_and_from_edupro_token() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    let created = admin
        .run(&[
            "auth",
            "tokens",
            "create",
            "--name",
            "ci",
            "--scope",
            "read,admin",
        ])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let token = created.stdout.trim().to_owned();
    assert!(token.starts_with("edupro_pat_"), "{token}");
    assert!(created.stderr.contains("not shown again"));

    let ci = Terminal::new(&server);
    let listed = ci
        .run_with(
            &["users", "list", "--json"],
            "",
            &[("EDUPRO_TOKEN", &token)],
        )
        .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    let write = ci
        .run_with(
            &[
                "users",
                "create",
                "--email",
                "x@school.test",
                "--first-name",
                "X",
                "--last-name",
                "Y",
            ],
            "",
            &[("EDUPRO_TOKEN", &token)],
        )
        .await;
    assert_eq!(
        write.code, 3,
        "a read-only token can't write: {}",
        write.stderr
    );

    let other = Terminal::new(&server);
    let login = other
        .run_with(&["login", "--token-stdin"], &format!("{token}\n"), &[])
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert_eq!(
        other.run(&["whoami", "--json"]).await.json()["email"],
        "root@school.test"
    );

    let tokens = admin
        .run(&["auth", "tokens", "list", "--json"])
        .await
        .json();
    assert_eq!(tokens[0]["name"], "ci");
    assert!(
        !tokens.to_string().contains(&token),
        "listing never shows the secret"
    );
    let id = tokens[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(admin.run(&["auth", "tokens", "revoke", &id]).await.code, 0);
    assert_eq!(
        other.run(&["whoami"]).await.code,
        3,
        "a revoked token stops working"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_listed_and_one_can_be_signed_out() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "TEACHER").await;
    let laptop = Terminal::new(&server);
    let phone = Terminal::new(&server);
    for term in [&laptop, &phone] {
        term.run_with(
            &["login", "--email", "ada@school.test", "--password-stdin"],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    }
    let sessions = laptop
        .run(&["auth", "sessions", "list", "--json"])
        .await
        .json();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(
        sessions.len(),
        3,
        "registering signed in once, then two logins"
    );
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    for other in sessions.iter().filter(|s| s["current"] == false) {
        let id = other["id"].as_str().unwrap();
        assert_eq!(
            laptop.run(&["auth", "sessions", "revoke", id]).await.code,
            0
        );
    }
    assert_eq!(
        phone.run(&["whoami"]).await.code,
        3,
        "the phone was signed out"
    );
    assert_eq!(laptop.run(&["whoami"]).await.code, 0);
}

#[test]
fn help_lists_the_exit_codes_and_a_bad_flag_exits_2() {
    let help = Command::new(env!("CARGO_BIN_EXE_edupro"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Exit codes:") && text.contains("6  an import finished with failed rows"),
        "{text}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_edupro"))
        .args(["users", "list", "--role", "WIZARD"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("WIZARD"));
}

#[test]
fn completions_and_the_man_page_are_generated() {
    let bash = Command::new(env!("CARGO_BIN_EXE_edupro"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bash.stdout).contains("_edupro()"));
    let man = Command::new(env!("CARGO_BIN_EXE_edupro"))
        .arg("man")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH edupro"));
}

#[tokio::test(flavor = "multi_thread")]
async fn seeding_the_demo_twice_changes_nothing_the_second_time() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    let first = admin.run(&["seed", "demo", "--seed", "3", "--json"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.json(),
        json!({"created": 23 + 38 + 7 + 4 + 3 + 595, "unchanged": 0}),
        "19 users and 4 parent links; 2 courses, 3 sections, 8 lessons, 6 enrollments, \
         15 lessons completed, a batch and its 3 members; a test, 3 attempts, 3 classes; \
         3 doubts and an accepted answer; a price, a coupon and a sale; 595 rows of \
         learning history"
    );
    let second = admin.run(&["seed", "demo", "--seed", "3", "--json"]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        second.json(),
        json!({"created": 0, "unchanged": 23 + 2 + 3 + 3 + 595}),
        "the accounts, the teacher's 2 courses, the test, the doubts, the classes, the \
         price, the coupon, the sale and the history are found"
    );
    // The sale: student7 bought Rust for Beginners (INR 499.00) with WELCOME20.
    let payments = admin.run(&["payments", "list", "--json"]).await.json();
    let payments = payments.as_array().unwrap();
    assert_eq!(payments.len(), 1, "one sale, not one per run: {payments:?}");
    assert_eq!(payments[0]["amount"], 39_920);
    assert_eq!(payments[0]["couponCode"], "WELCOME20");
    assert_eq!(payments[0]["courseTitle"], "Rust for Beginners");
    let revenue = admin.run(&["revenue", "--json"]).await.json();
    assert_eq!(revenue["totals"][0]["net"], 39_920, "{revenue}");
    let users = admin.run(&["users", "list", "--json"]).await.json();
    assert_eq!(
        users.as_array().unwrap().len(),
        20,
        "the admin and 19 demo accounts"
    );

    let teacher = Terminal::new(&server);
    let login = teacher
        .run_with(
            &[
                "login",
                "--email",
                "teacher1@demo.edupro.example",
                "--password-stdin",
            ],
            "Demo-pass1!\n",
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "demo accounts sign in: {}", login.stderr);
    let listed = |args: &'static [&'static str]| {
        let teacher = &teacher;
        async move {
            let run = teacher.run(args).await;
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            run.json().as_array().unwrap().len()
        }
    };
    assert_eq!(listed(&["courses", "list", "--json"]).await, 2);
    assert_eq!(
        listed(&["enrollments", "list", "rust-for-beginners", "--json"]).await,
        7,
        "6 enrolled by the teacher, 1 who bought the course"
    );
    let batches = teacher
        .run(&["batches", "list", "rust-for-beginners", "--json"])
        .await
        .json();
    assert_eq!(batches[0]["name"], "Evening cohort", "{batches}");
    assert_eq!(batches[0]["members"], 3, "{batches}");
    assert_eq!(
        listed(&["grade", "queue", "--json"]).await,
        6,
        "two essays from each of 3 attempts wait for marks"
    );
    assert_eq!(
        listed(&["live", "list", "--status", "upcoming", "--json"]).await,
        3
    );

    let student = Terminal::new(&server);
    student
        .login("student1@demo.edupro.example", "Demo-pass1!")
        .await;
    let inbox = student
        .run(&["notifications", "list", "--json"])
        .await
        .json();
    let titles: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["type"].as_str())
        .collect();
    for kind in ["ENROLLED", "CLASS_SCHEDULED", "TEST_PUBLISHED"] {
        assert!(titles.contains(&kind), "{kind} in {titles:?}");
    }
}

/// Runs `command` with stdout a pipe whose reader has already gone (what `| head -2`
/// leaves once `head` has its lines): its exit status and stderr.
fn run_into_a_closed_pipe(mut command: Command) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = command
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A closed pipe ends the command as it ends `gh` and `git`: killed by SIGPIPE (a
/// shell shows 141), nothing on stderr, never a panic (101).
fn assert_quiet_broken_pipe(what: &str, status: std::process::ExitStatus, stderr: &str) {
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
    assert_eq!(stderr, "", "{what} says nothing on a closed pipe");
    assert_ne!(status.code(), Some(101), "{what}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(13),
            "{what} ends by SIGPIPE: {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_piped_into_a_reader_that_closes_early_ends_quietly() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    for format in [None, Some("--json"), Some("--csv")] {
        let mut args = vec!["users", "list"];
        args.extend(format);
        let command = admin.command(&args);
        let (status, stderr) = tokio::task::spawn_blocking(move || run_into_a_closed_pipe(command))
            .await
            .unwrap();
        assert_quiet_broken_pipe(&args.join(" "), status, &stderr);
    }
}

#[test]
fn completions_and_the_man_page_piped_into_head_end_quietly() {
    for args in [&["completions", "zsh"][..], &["man"]] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_edupro"));
        command.args(args);
        let (status, stderr) = run_into_a_closed_pipe(command);
        assert_quiet_broken_pipe(&args.join(" "), status, &stderr);
    }
}

#[test]
fn a_reader_that_takes_a_few_bytes_and_leaves_ends_the_completion_script_quietly() {
    use std::io::Read;
    // The zsh script (~190 kB) outgrows a pipe's buffer (64 kB): the writer is still
    // writing when the reader leaves, as with `| head -c 16`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_edupro"))
        .args(["completions", "zsh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(&first, b"#compdef edupro\n");
    assert_quiet_broken_pipe(
        "completions zsh | head -c 16",
        output.status,
        &String::from_utf8_lossy(&output.stderr),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ci_token_without_the_admin_scope_is_told_which_scope_to_add() {
    let server = spawn_server().await;
    let admin = logged_in_admin(&server).await;
    let token = |scopes: &'static str| {
        let admin = &admin;
        async move {
            let created = admin
                .run(&[
                    "auth", "tokens", "create", "--name", "ci", "--scope", scopes,
                ])
                .await;
            assert_eq!(created.code, 0, "{}", created.stderr);
            created.stdout.trim().to_owned()
        }
    };
    let ci = Terminal::new(&server);

    let read_write = token("read,write").await;
    let refused = ci
        .run_with(&["seed", "demo"], "", &[("EDUPRO_TOKEN", &read_write)])
        .await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("lacks the `admin` scope")
            && refused
                .stderr
                .contains("edupro auth tokens create --name ci --scope read,write,admin"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("role does not allow"),
        "the account is an admin: {}",
        refused.stderr
    );

    let with_admin = token("read,write,admin").await;
    let seeded = ci
        .run_with(
            &["seed", "demo", "--json"],
            "",
            &[("EDUPRO_TOKEN", &with_admin)],
        )
        .await;
    assert_eq!(
        seeded.code, 0,
        "the README's recipe works: {}",
        seeded.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ci_seeds_the_demo_with_the_token_create_admin_wrote_and_no_2fa_step() {
    let server = spawn_server().await;
    let out = tempfile::tempdir().unwrap();
    let token_file = out.path().join("ci-token");
    let ci = Terminal::new(&server);
    let mut args = vec!["server".to_owned()];
    args.extend(server.settings_args());
    args.extend(
        [
            "create-admin",
            "--email",
            "ci@school.test",
            "--password-stdin",
            "--token-out",
        ]
        .map(str::to_owned),
    );
    args.push(token_file.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let made = ci.run_with(&args, &format!("{PASSWORD}\n"), &[]).await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is private");
    }
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(token.starts_with("edupro_pat_"), "{token}");
    assert!(
        !made.stdout.contains(&token),
        "the token is written to the file only"
    );

    let seeded = ci
        .run_with(&["seed", "demo", "--json"], "", &[("EDUPRO_TOKEN", &token)])
        .await;
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    assert!(seeded.json()["created"].as_u64().unwrap() > 0);

    let again = ci.run_with(&args, &format!("{PASSWORD}\n"), &[]).await;
    assert_ne!(again.code, 0, "an existing token file is never overwritten");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap().trim(),
        token,
        "{}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destructive_commands_off_a_terminal_without_yes_exit_2_and_change_nothing() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "STUDENT").await;
    let admin = logged_in_admin(&server).await;
    let users = admin.run(&["users", "list", "--json"]).await.json();
    let ada = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ada@school.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = admin
        .run(&["courses", "create", "--title", "Algebra", "--json"])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let slug = created.json()["slug"].as_str().unwrap().to_owned();

    let import_id = "01a213dc-0000-7000-8000-000000000000";
    for (args, action) in [
        (["users", "deactivate", ada.as_str()], "deactivate the user"),
        (["courses", "publish", slug.as_str()], "publish the course"),
        (["courses", "archive", slug.as_str()], "archive the course"),
        (["courses", "delete", slug.as_str()], "delete the course"),
        (["import", "revert", import_id], "revert the import"),
    ] {
        let run = admin.run(&args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("hint: pass --yes to {action} without being asked")),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let shown = admin.run(&["users", "show", &ada, "--json"]).await.json();
    assert_eq!(shown["isActive"], true, "the user is still active");
    let course = admin.run(&["courses", "show", &slug, "--json"]).await;
    assert_eq!(
        course.code, 0,
        "the course is still there: {}",
        course.stderr
    );
    assert_eq!(course.json()["status"], "DRAFT");

    let deleted = admin.run(&["courses", "delete", &slug, "-y"]).await;
    assert_eq!(deleted.code, 0, "-y is --yes: {}", deleted.stderr);
}
