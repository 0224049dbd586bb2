//! End to end: the real `edupro tui` binary in a real terminal (tmux) against the real
//! server (in-process, port 0, SQLite or `EDUPRO_TEST_DATABASE_URL`). Keys go in with
//! `send-keys`; what a person would see is read back with `capture-pane`.

#![allow(clippy::unwrap_used)]

#[path = "support/cli_harness.rs"]
mod harness;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{
    PASSWORD, Server, Terminal, access_token, create_admin, register, spawn_server, totp_now,
};
use serde_json::Value;

/// A tmux server of its own (`-L`), running one `edupro tui`.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `edupro tui` in `term`'s config dir (its stored credentials, if any).
    fn start(term: &Terminal) -> Self {
        Self::start_command(term, "tui")
    }

    /// Starts `edupro ARGS` in `term`'s config dir, in a 100×30 terminal.
    fn start_command(term: &Terminal, args: &str) -> Self {
        Self::start_sized(term, args, 100, 30)
    }

    /// Starts `edupro ARGS` in `term`'s config dir, in a `width`×`height` terminal.
    fn start_sized(term: &Terminal, args: &str, width: u16, height: u16) -> Self {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "these tests need tmux: apt-get install -y tmux (.ci/run installs it)"
        );
        let socket = format!("edupro-tui-{}", uuid::Uuid::now_v7().simple());
        let binary = env!("CARGO_BIN_EXE_edupro");
        let config = term.config.path().display().to_string();
        let command = format!(
            "env XDG_CONFIG_HOME={config} HOME={config} EDUPRO_KEYRING=file NO_COLOR=1 TZ=UTC \
             EDUPRO_SERVER={} {binary} {args}",
            term.server
        );
        let tmux = Self { socket };
        // Esc reaches the app at once instead of after tmux's 500 ms wait for a sequence.
        let (width, height) = (width.to_string(), height.to_string());
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width,
            "-y",
            &height,
            &command,
        ]);
        tmux.run(&["set-option", "-s", "escape-time", "0"]);
        tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p"])
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-l", text]);
    }

    /// Presses named keys (`Enter`, `Escape`, `Down`…), one at a time.
    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", key]);
            // A key on its own: Esc then a letter must not read as alt-letter.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Waits until the screen shows `text` (the app answers asynchronously).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the screen passes `check`, described by `what` for the failure.
    fn wait_until(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn pane_dead(&self) -> bool {
        self.run(&["display-message", "-p", "#{pane_dead}"]).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

async fn published_courses(server: &Server, search: &str) -> Vec<Value> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/courses", server.url))
        .query(&[("search", search)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"]["courses"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_signs_in_on_the_login_screen_builds_a_course_and_publishes_it() {
    let server = spawn_server().await;
    register(&server, "ada@school.test", "TEACHER").await;
    let term = Terminal::new(&server);
    let term = tokio::task::spawn_blocking({
        move || {
            let tui = Tmux::start(&term);
            tui.wait_for("Sign in");
            tui.type_text("ada@school.test");
            tui.keys(&["Enter"]);
            tui.type_text("wrong-password");
            tui.keys(&["Enter"]);
            tui.wait_for("Invalid credentials");
            tui.type_text(PASSWORD);
            tui.keys(&["Enter"]);
            tui.wait_for("Signed in as ada@school.test (TEACHER)");
            let today = tui.wait_for("Your courses (0)");
            assert!(today.contains("Ada Lovelace · TEACHER"), "{today}");
            // The header's dot is the WebSocket once signed in.
            tui.wait_for("● live");

            tui.keys(&["2"]);
            tui.wait_for("No courses yet. Press n to create one.");
            // The server's field error shows under the field.
            tui.keys(&["n"]);
            tui.wait_for("New course");
            tui.keys(&["Enter"]);
            let refused = tui.wait_for("Validation failed");
            assert!(refused.contains("Title"), "{refused}");
            tui.type_text("Intro to Rust");
            tui.keys(&["Enter"]);
            tui.wait_for("Created course “Intro to Rust” (a draft)");
            tui.wait_for("DRAFT");

            tui.keys(&["Enter"]);
            tui.wait_for("No sections yet. Press N to add one.");
            tui.keys(&["N"]);
            tui.wait_for("New section");
            tui.type_text("Basics");
            tui.keys(&["Enter"]);
            tui.wait_for("1. Basics");
            for title in ["Hello, world", "Ownership"] {
                tui.keys(&["n"]);
                tui.wait_for("New lesson");
                tui.type_text(title);
                tui.keys(&["Enter"]);
                tui.wait_for(&format!(". {title}"));
            }
            // The last lesson moves up, above the first.
            tui.keys(&["End", "K"]);
            let moved = tui.wait_for("Lesson moved");
            let first = moved.find("1. Ownership").expect(&moved);
            let second = moved.find("2. Hello, world").expect(&moved);
            assert!(first < second, "{moved}");

            tui.keys(&["p"]);
            tui.wait_for("Publish “Intro to Rust”?");
            tui.keys(&["y"]);
            tui.wait_for("Course published");
            tui.keys(&["?"]);
            tui.wait_for("new lesson in this section");
            tui.keys(&["Escape"]);
            tui.keys(&["q"]);
            let deadline = Instant::now() + Duration::from_secs(10);
            while !tui.pane_dead() {
                assert!(
                    Instant::now() < deadline,
                    "q did not quit:\n{}",
                    tui.screen()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            assert!(
                term.credentials_file().exists(),
                "the login screen stores the tokens as `edupro login` does"
            );
            drop(tui);
            term
        }
    })
    .await
    .unwrap();

    let courses = published_courses(&server, "Intro to Rust").await;
    assert_eq!(courses.len(), 1, "{courses:?}");
    assert_eq!(courses[0]["status"], "PUBLISHED");

    // Stored credentials: the next start skips the login screen.
    tokio::task::spawn_blocking(move || {
        let again = Tmux::start(&term);
        again.wait_for("Signed in as ada@school.test (TEACHER)");
        again.wait_for("Intro to Rust");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_answers_the_two_factor_step_changes_a_role_and_imports_users() {
    let server = spawn_server().await;
    let secret = create_admin(&server, "root@school.test").await;
    register(&server, "ada@school.test", "STUDENT").await;
    let term = Terminal::new(&server);
    let csv = term.config.path().join("users.csv");
    std::fs::write(
        &csv,
        "user_id,email,first_name,last_name,role,status\n\
         u1,ann@tui.test,Ann,One,student,active\n\
         u2,bob@tui.test,Bob,Two,teacher,active\n\
         u3,not-an-email,Cy,Three,student,active\n",
    )
    .unwrap();
    let csv = csv.display().to_string();
    let term = tokio::task::spawn_blocking(move || {
        let tui = Tmux::start(&term);
        tui.wait_for("Sign in");
        tui.type_text("root@school.test");
        tui.keys(&["Tab"]);
        tui.type_text(PASSWORD);
        tui.keys(&["Enter"]);
        tui.wait_for("Two-factor code");
        tui.type_text(&totp_now(&secret));
        tui.keys(&["Enter"]);
        tui.wait_for("Signed in as root@school.test (ADMIN)");
        tui.keys(&["7"]);
        tui.wait_for("ada@school.test");
        tui.keys(&["/"]);
        tui.type_text("ada");
        tui.keys(&["Enter"]);
        tui.wait_for("search: “ada”");
        // One row left: ada (the selection counter reads 1/1).
        let found = tui.wait_for(" 1/1 ");
        assert!(found.contains("› ada@school.test"), "{found}");
        tui.keys(&["r", "Left", "Enter"]);
        tui.wait_for("ada@school.test is now TEACHER");
        tui.keys(&["Enter"]);
        tui.wait_for("last login");

        // An import: the plan first (nothing written), its failed row, then apply.
        tui.keys(&["Escape", "Escape"]);
        tui.type_text("i");
        tui.wait_for("Import (a plan first");
        tui.type_text(&csv);
        tui.keys(&["Enter"]);
        let plan = tui.wait_for("Plan ready: nothing was written.");
        assert!(
            plan.contains("3 rows: 2 to create, 0 to update, 0 unchanged, 1 failing"),
            "{plan}"
        );
        assert!(
            plan.contains("line 4: u3: email: must be an email address"),
            "{plan}"
        );
        tui.keys(&["a"]);
        let applied = tui.wait_for("Import applied: 2 created, 0 updated, 1 failed");
        assert!(applied.contains("Applied."), "{applied}");
        tui.keys(&["Escape"]);
        tui.wait_for("ann@tui.test");
        tui.keys(&["q"]);
        drop(tui);
        term
    })
    .await
    .unwrap();
    // The tokens the login screen stored serve the CLI too.
    let users = term
        .run(&["users", "list", "--search", "ada", "--json"])
        .await;
    assert_eq!(users.code, 0, "{}", users.stderr);
    assert_eq!(users.json()[0]["role"], "TEACHER");
}

#[test]
fn edupro_demo_on_a_terminal_opens_the_tui_as_the_demo_teacher() {
    let term = Terminal {
        server: "http://127.0.0.1:1".into(),
        config: tempfile::tempdir().unwrap(),
    };
    let tui = Tmux::start_command(&term, "demo --port 0");
    tui.wait_for("Signed in as teacher1@demo.edupro.example (TEACHER)");
    let today = tui.wait_for("Rust for Beginners");
    assert!(today.contains("Recent enrollments"), "{today}");
    tui.keys(&["2"]);
    tui.wait_for("Algebra I");
    // Newest first: Algebra I, then the published course with its students.
    tui.keys(&["Down", "s"]);
    tui.wait_for("Students of Rust for Beginners");
    let roster = tui.wait_for("83%");
    assert!(roster.contains("  0%"), "{roster}");
    tui.keys(&["Escape", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tui.pane_dead() {
        assert!(
            Instant::now() < deadline,
            "q did not end the demo:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_demo_teacher_sees_their_dashboard_and_opens_a_course_and_a_student_at_risk() {
    let term = Terminal {
        server: "http://127.0.0.1:1".into(),
        config: tempfile::tempdir().unwrap(),
    };
    let tui = Tmux::start_command(&term, "demo --port 0");
    tui.wait_for("Signed in as teacher1@demo.edupro.example (TEACHER)");
    // Today: the server's teacher dashboard, read and drawn (the titles show while
    // it loads; the figures and the count of students at risk once it is in).
    let today = tui.wait_for("2 courses · ");
    assert!(today.contains("Active students per day"), "{today}");
    assert!(today.contains("Students at risk ("), "{today}");
    // The published course's analytics, from the course list.
    tui.keys(&["2"]);
    tui.wait_for("Algebra I");
    tui.keys(&["Down", "v"]);
    tui.wait_for("Rust for Beginners · analytics");
    let page = tui.wait_for(" enrolled · ");
    assert!(page.contains("Lessons completed"), "{page}");
    assert!(page.contains("1. Installing Rust"), "{page}");
    // Enter on the first student at risk: their analytics, and why.
    tui.keys(&["Enter"]);
    let student = tui.wait_for("At risk in Rust for Beginners:");
    assert!(student.contains("Progress per course"), "{student}");
    tui.keys(&["Escape"]);
    tui.wait_for("Rust for Beginners · analytics");
    tui.keys(&["Escape"]);
    tui.wait_for("v analytics · s students");
    tui.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tui.pane_dead() {
        assert!(
            Instant::now() < deadline,
            "q did not end the demo:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn edupro_demo_on_a_taken_port_says_so_and_suggests_port_0() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let term = Terminal {
        server: "http://127.0.0.1:1".into(),
        config: tempfile::tempdir().unwrap(),
    };
    let output = term
        .command(&["demo", "--headless", "--port", &port])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("error: port {port} is already in use"))
            && stderr.contains("hint: pass --port 0 to pick a free port"),
        "{stderr}"
    );
    drop(taken);
}

#[test]
fn edupro_demo_off_a_terminal_prints_the_url_and_sign_ins_and_serves() {
    use std::io::BufRead;
    let term = Terminal {
        server: "http://127.0.0.1:1".into(),
        config: tempfile::tempdir().unwrap(),
    };
    // No --port: a demo picks a free port rather than the server's 5001.
    let mut child = term
        .command(&["demo"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line == "Press Ctrl-C to stop.";
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = lines.join("\n");
    assert!(
        text.starts_with("EduPro+ demo running on http://127.0.0.1:"),
        "{text}"
    );
    let port: u16 = text["EduPro+ demo running on http://127.0.0.1:".len()..]
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a port in {text}"));
    assert_ne!(port, 5001, "the default is a free port: {text}");
    assert!(
        text.contains("teacher:  teacher1@demo.edupro.example / Demo-pass1!"),
        "{text}"
    );
    assert!(
        text.contains("edupro login --email teacher1@demo.edupro.example"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn edupro_tui_off_a_terminal_exits_2_and_says_why() {
    let server = spawn_server().await;
    let run = Terminal::new(&server).run(&["tui"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("`edupro tui` needs a terminal"),
        "{}",
        run.stderr
    );
}

/// A child process killed when dropped, passing or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port (bound and released: the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `edupro server ARGS` on `data` (and the suite's PostgreSQL, when set).
fn server_command(data: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edupro"));
    command
        .args(["server", "--data-dir"])
        .arg(data)
        .args(["--log-level", "warn"])
        .env_remove("EDUPRO_DATABASE_URL");
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    command
}

/// Serves `data` on `port` as its own process, so the test can kill it.
fn start_server(data: &std::path::Path, port: u16, database_url: Option<&str>) -> Killed {
    let mut command = server_command(data, database_url);
    command
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Killed(command.spawn().unwrap())
}

async fn wait_until_up(url: &str) {
    for _ in 0..1200 {
        if let Ok(answer) = reqwest::get(format!("{url}/health")).await
            && answer.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server at {url} did not come up");
}

/// The first admin, made as a school would (`create-admin`); its TOTP secret.
fn create_admin_with_the_cli(data: &std::path::Path, database_url: Option<&str>) -> String {
    use std::io::Write;
    let mut child = server_command(data, database_url)
        .args([
            "create-admin",
            "--email",
            "root@school.test",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret: "))
        .unwrap_or_else(|| panic!("no secret in {stdout}"))
        .to_owned()
}

/// The lines of the screen between the tab row and the detail box: the feed's rows.
fn feed_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with('└'))
        .collect()
}

/// Teachers receive no notification from this server yet (every event notifies
/// students, or the admin who ran an import), so the live feed is watched as the
/// admin, whose imports finishing are real notifications.
#[tokio::test(flavor = "multi_thread")]
async fn a_notification_arrives_live_and_survives_a_server_restart_without_a_duplicate() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("EDUPRO_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(harness::fresh_pg_database(&url).await),
        _ => None,
    };
    let secret = create_admin_with_the_cli(data.path(), database_url.as_deref());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = start_server(data.path(), port, database_url.as_deref());
    wait_until_up(&url).await;

    let term = Terminal {
        server: url.clone(),
        config: tempfile::tempdir().unwrap(),
    };
    let login = term
        .run_with(
            &[
                "login",
                "--email",
                "root@school.test",
                "--password-stdin",
                "--code",
                &totp_now(&secret),
            ],
            &format!("{PASSWORD}\n"),
            &[],
        )
        .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let seed = term.run(&["seed", "demo"]).await;
    assert_eq!(seed.code, 0, "{}", seed.stderr);
    let csv = term.config.path().join("staff.csv");
    std::fs::write(
        &csv,
        "user_id,email,first_name,last_name,role,status\n\
         t1,tara@tui.test,Tara,Nair,teacher,active\n",
    )
    .unwrap();
    let csv = csv.display().to_string();

    // The TUI, 80×24, signed in with the stored tokens, until the socket is live.
    let (tui, term) = tokio::task::spawn_blocking(move || {
        let tui = Tmux::start_sized(&term, "tui", 80, 24);
        tui.wait_for("Signed in as root@school.test (ADMIN)");
        tui.wait_for("● live");
        tui.wait_for("All read.");
        (tui, term)
    })
    .await
    .unwrap();

    // A real event: the admin's import plan finishes, on the Today tab.
    let plan = term.run(&["import", "users", &csv, "--dry-run"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let tui = tokio::task::spawn_blocking(move || {
        let toast = tui.wait_for("New notification");
        assert!(toast.contains("Import plan of users finished"), "{toast}");
        tui.wait_for("1 unread");
        tui.wait_for("6 Notifications (1)");
        tui
    })
    .await
    .unwrap();

    // The server dies: the header says so; it comes back on the same data and port,
    // and an import finishes before the TUI's next attempt: `since` replays it.
    drop(server);
    let tui = tokio::task::spawn_blocking(move || {
        tui.wait_until("the link going down", |s| {
            let header = s.lines().next().unwrap_or_default();
            header.contains("◐ reconnecting") || header.contains("○ offline")
        });
        tui
    })
    .await
    .unwrap();
    let _server = start_server(data.path(), port, database_url.as_deref());
    wait_until_up(&url).await;
    let apply = term.run(&["import", "users", &csv]).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    tokio::task::spawn_blocking(move || {
        tui.wait_until("the link live again", |s| {
            s.lines().next().unwrap_or_default().contains("● live")
        });
        tui.wait_for("6 Notifications (2)");
        tui.keys(&["6"]);
        tui.wait_for("Notifications (2 unread)");
        // Once the toast has gone, each notification is one row, newest first.
        let screen = tui.wait_until("the feed without the toast", |s| {
            !s.contains("New notification")
        });
        let rows = feed_rows(&screen);
        let applied = rows
            .iter()
            .filter(|r| r.contains("Import of users finished"))
            .count();
        let planned = rows
            .iter()
            .filter(|r| r.contains("Import plan of users finished"))
            .count();
        assert_eq!((applied, planned), (1, 1), "{screen}");
        let first = screen.find("Import of users finished").unwrap();
        let second = screen.find("Import plan of users finished").unwrap();
        assert!(first < second, "{screen}");

        // Read it: the count follows, on the tab and on Today.
        tui.keys(&["Enter"]);
        tui.wait_for("Marked read: Import plan of users finished");
        tui.wait_for("6 Notifications (1)");
        tui.keys(&["M"]);
        tui.wait_for("Marked 1 read");
        tui.keys(&["1"]);
        tui.wait_for("All read.");
        tui.keys(&["q"]);
    })
    .await
    .unwrap();
}

async fn get_as(server: &Server, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/v1{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The demo's data, as `edupro seed demo` makes it (the accounts, the teacher's courses,
/// a test with submitted attempts, doubts, upcoming classes): the demo teacher's email
/// and access token.
async fn seeded_demo(server: &Server) -> (&'static str, String) {
    let secret = create_admin(server, "root@school.test").await;
    let admin_token = access_token(&server.url, "root@school.test", PASSWORD, Some(&secret)).await;
    let seeding = Terminal::new(server)
        .run_with(&["seed", "demo"], "", &[("EDUPRO_TOKEN", &admin_token)])
        .await;
    assert_eq!(seeding.code, 0, "{}", seeding.stderr);
    let teacher_email = "teacher1@demo.edupro.example";
    let token = access_token(
        &server.url,
        teacher_email,
        edupro::seed::DEMO_PASSWORD,
        None,
    )
    .await;
    (teacher_email, token)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_schedules_a_class_sees_a_clash_inline_and_grades_an_answer_from_the_queue() {
    use edupro::seed::DEMO_PASSWORD;
    let server = spawn_server().await;
    let (teacher_email, teacher_token) = seeded_demo(&server).await;
    let queue = get_as(&server, &teacher_token, "/grading/queue").await;
    assert_eq!(queue["data"]["pagination"]["total"], 6, "{queue}");
    let oldest = queue["data"]["items"][0]["answerId"]
        .as_str()
        .unwrap()
        .to_owned();

    let term = Terminal::new(&server);
    term.login(teacher_email, DEMO_PASSWORD).await;
    let later = (chrono::Utc::now().date_naive() + chrono::Days::new(3))
        .format("%Y-%m-%d 16:00")
        .to_string();
    let runtime = tokio::runtime::Handle::current();
    let server = std::sync::Arc::new(server);
    let teacher_token = std::sync::Arc::new(teacher_token);
    let (srv, tok) = (server.clone(), teacher_token.clone());
    tokio::task::spawn_blocking(move || {
        let (server, teacher_token) = (srv, tok);
        let tui = Tmux::start_sized(&term, "tui", 80, 24);
        tui.wait_for("Signed in as teacher1@demo.edupro.example (TEACHER)");
        tui.keys(&["3"]);
        tui.wait_for("(today) · UTC");
        tui.type_text("]");
        let tomorrow = tui.wait_for("(tomorrow) · UTC");
        let tomorrow = if tomorrow.contains("Ownership Q&A") {
            tomorrow
        } else {
            tui.wait_for("Ownership Q&A")
        };
        assert!(tomorrow.contains("10:00–11:00 Ownership Q&A"), "{tomorrow}");

        // A class three days out: the agenda moves to its day and selects it.
        tui.keys(&["n"]);
        tui.wait_for("Schedule a class");
        tui.wait_for("Schedule a class · times in UTC");
        tui.type_text("Office hours");
        // The course: the newest (Algebra I) comes first; the one with students next.
        tui.keys(&["Up", "Up", "Right"]);
        tui.wait_for("‹ Rust for Beginners ›");
        tui.keys(&["Down", "Down", "Down"]);
        for _ in 0..16 {
            tui.keys(&["BSpace"]);
        }
        tui.type_text(&later);
        tui.keys(&["Enter"]);
        tui.wait_for("Scheduled “Office hours”");
        let agenda = tui.wait_for("› 16:00–17:00 Office hours");
        assert!(!agenda.contains("Schedule a class"), "{agenda}");
        assert!(
            agenda
                .lines()
                .any(|l| l.contains("Office hours") && l.contains("Rust for Beginners")),
            "{agenda}"
        );

        // Its room's chat, live: the teacher writes, a student answers from elsewhere.
        tui.keys(&["c"]);
        tui.wait_for("Chat · Office hours · SCHEDULED · 1 here");
        tui.wait_for("No messages yet. Say hello.");
        tui.type_text("Welcome, everyone");
        tui.keys(&["Enter"]);
        tui.wait_for(": Welcome, everyone");
        let student = runtime.block_on(async {
            let classes = get_as(&server, &teacher_token, "/live-classes?limit=100").await;
            let room = classes["data"]["classes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["title"] == "Office hours")
                .and_then(|c| c["room"].as_str())
                .unwrap()
                .to_owned();
            let token = access_token(
                &server.url,
                "student1@demo.edupro.example",
                DEMO_PASSWORD,
                None,
            )
            .await;
            let client = edupro::api::ApiClient::with_token(&server.url, &token).unwrap();
            let mut joined = edupro::api::room::join(&client, &room).await.unwrap();
            assert_eq!(
                joined.messages.len(),
                1,
                "the teacher's message is replayed"
            );
            joined.sender.chat("Hello from a student").await.unwrap();
            joined
        });
        let chat = tui.wait_for(": Hello from a student");
        assert!(chat.contains(" joined"), "{chat}");
        assert!(chat.contains("2 here"), "{chat}");
        drop(student);
        tui.keys(&["Escape"]);
        tui.wait_for("› 16:00–17:00 Office hours");

        // The default start (tomorrow 10:00) clashes with the seeded Q&A: inline.
        tui.keys(&["n"]);
        tui.wait_for("Schedule a class · times in UTC");
        tui.type_text("Clash test");
        tui.keys(&["Enter"]);
        let clash = tui.wait_for("This time clashes with another class:");
        assert!(clash.contains("clashes"), "{clash}");
        assert!(clash.contains("\"Ownership Q&A\""), "{clash}");
        assert!(
            clash.contains("Schedule a class"),
            "the form stays open: {clash}"
        );
        tui.keys(&["Escape"]);

        // Grading: the oldest answer first, marks and feedback, then the next one.
        tui.keys(&["4"]);
        tui.wait_for("Grading queue (6 waiting)");
        tui.keys(&["Enter"]);
        tui.wait_for("› Marks");
        tui.type_text("9");
        tui.keys(&["Enter"]);
        tui.wait_for("must be between 0 and 5");
        tui.keys(&["BSpace"]);
        tui.type_text("4");
        tui.keys(&["Tab"]);
        tui.type_text("Good start; add an example.");
        tui.keys(&["Enter"]);
        tui.wait_for("Saved 4/5");
        tui.keys(&["u"]);
        tui.wait_for("5 waiting");
        // The first Esc leaves the marks field, the second the answer.
        tui.keys(&["Escape", "Escape"]);
        tui.wait_for("Grading queue (5 waiting)");
        // Today, read at sign-in with 6 waiting, shows the grade without ctrl-r.
        tui.keys(&["1"]);
        tui.wait_for("5 answers wait for marks");
        tui.keys(&["q"]);
    })
    .await
    .unwrap();

    let graded = get_as(
        &server,
        &teacher_token,
        &format!("/grading/answers/{oldest}"),
    )
    .await;
    assert_eq!(graded["data"]["marks"], 4.0, "{graded}");
    assert_eq!(graded["data"]["feedback"], "Good start; add an example.");
    assert_eq!(graded["data"]["outcome"], "GRADED");
    let classes = get_as(&server, &teacher_token, "/live-classes?limit=100").await;
    let titles: Vec<&str> = classes["data"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert!(titles.contains(&"Office hours"), "{titles:?}");
    assert!(!titles.contains(&"Clash test"), "{titles:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_doubt_asked_while_the_teacher_watches_the_queue_appears_live_and_is_answered() {
    use edupro::seed::DEMO_PASSWORD;
    use edupro_server::api::NewDoubt;
    let server = spawn_server().await;
    let (teacher_email, teacher_token) = seeded_demo(&server).await;
    let student_token = access_token(
        &server.url,
        "student1@demo.edupro.example",
        DEMO_PASSWORD,
        None,
    )
    .await;
    // The published course student1 is enrolled in.
    let course = published_courses(&server, "Rust for Beginners").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let term = Terminal::new(&server);
    term.login(teacher_email, DEMO_PASSWORD).await;
    // The Terminal keeps the config dir (the stored tokens) for as long as the TUI runs.
    let (tui, _term) = tokio::task::spawn_blocking(move || {
        let tui = Tmux::start_sized(&term, "tui", 80, 24);
        tui.wait_for("Signed in as teacher1@demo.edupro.example (TEACHER)");
        tui.wait_for("● live");
        // The demo's two unanswered doubts.
        tui.wait_for("2 unanswered");
        tui.keys(&["5"]);
        tui.wait_for("Unanswered doubts (2 waiting)");
        (tui, term)
    })
    .await
    .unwrap();

    // A student asks, elsewhere; the teacher presses nothing.
    let student = edupro::api::ApiClient::with_token(&server.url, &student_token).unwrap();
    let doubt = student
        .ask_doubt(
            &course,
            &NewDoubt {
                title: "Why does my loop not compile?".into(),
                body: "I push to a Vec while iterating over it.".into(),
                link: None,
                lesson_id: None,
            },
        )
        .await
        .unwrap();

    tokio::task::spawn_blocking(move || {
        let queue = tui.wait_for("Unanswered doubts (3 waiting)");
        assert!(queue.contains("Why does my loop not"), "{queue}");
        // Oldest first: the new one is third.
        tui.keys(&["Down", "Down"]);
        tui.wait_for("I push to a Vec while iterating over it.");
        tui.wait_for("No answers yet");
        // Today counted it too, without ctrl-r.
        tui.keys(&["1"]);
        tui.wait_for("3 unanswered");
        tui.keys(&["5"]);
        tui.wait_for("I push to a Vec while iterating over it.");

        // Two lines in the editor, sent with ctrl-s.
        tui.keys(&["a"]);
        tui.wait_for("Your answer to");
        tui.type_text("Collect the new items first,");
        tui.keys(&["Enter"]);
        tui.type_text("then push them after the loop.");
        tui.wait_for("then push them after the loop.▏");
        tui.keys(&["C-s"]);
        tui.wait_for("Answer posted · 2 left");
        tui.wait_for("Unanswered doubts (2 waiting)");
        tui.keys(&["1"]);
        tui.wait_for("2 unanswered");
        tui.keys(&["q"]);
    })
    .await
    .unwrap();

    let thread = get_as(&server, &teacher_token, &format!("/doubts/{}", doubt.id)).await;
    assert_eq!(thread["data"]["doubt"]["status"], "ANSWERED", "{thread}");
    let answers = thread["data"]["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "{thread}");
    assert_eq!(
        answers[0]["body"],
        "Collect the new items first,\nthen push them after the loop."
    );
    assert_eq!(answers[0]["byStaff"], true);
}
