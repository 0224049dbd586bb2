//! Figures for the TUI, printed (never asserted):
//!
//! 1. render time of one frame of the Courses list while scrolling (median and p99 of
//!    500 frames) with 100 rows and with 10k rows at 80×24, and 10k rows at 200×60;
//! 2. time from start to the first full frame (signed in, Today loaded) against a local
//!    server: in-process (app + network layer + `TestBackend`), and for the real
//!    `edupro tui` binary in tmux (`--first-frame-report`), with its RSS then.
//!
//! ```sh
//! cargo build --release --workspace --examples
//! cargo run --release --example tui_figures
//! ```
//!
//! The binary measured is the `edupro` beside this example (`EDUPRO_BIN` to change).

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use edupro::tui::action::Action;
use edupro::tui::app::App;
use edupro::tui::keymap::Keymap;
use edupro::tui::net::Net;
use edupro::tui::theme::Theme;
use edupro_server::api::{Course, CourseList, User};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

const PASSWORD: &str = "Corr3ct-Horse!";

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

fn median_p99(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    (samples[samples.len() / 2], p99)
}

fn sample_user() -> User {
    serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7(), "email": "ada@figures.test", "phone": null,
        "firstName": "Ada", "lastName": "Lovelace", "role": "TEACHER", "avatar": null,
        "bio": null, "isEmailVerified": true, "isPhoneVerified": false, "isActive": true,
        "lastLogin": null, "referralCode": "R", "twoFactorEnabled": false,
        "createdAt": "2026-12-01T00:00:00Z"
    }))
    .unwrap()
}

fn sample_course(i: usize) -> Course {
    serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7(), "title": format!("Course number {i:05}"),
        "slug": format!("course-{i}"), "description": "", "category": null,
        "level": "BEGINNER", "language": "en", "price": 49900, "discountedPrice": null,
        "currency": "INR", "isFree": false, "tags": [], "thumbnail": null,
        "status": "PUBLISHED", "publishedAt": null,
        "teacher": {"id": uuid::Uuid::now_v7(), "firstName": "Ada", "lastName": "Lovelace"},
        "totalStudents": i, "rating": 0.0, "totalReviews": 0,
        "createdAt": "2026-12-01T00:00:00Z", "updatedAt": "2026-12-01T00:00:00Z"
    }))
    .unwrap()
}

fn render_list(rows: usize, width: u16, height: u16) {
    let mut app = App::new(
        "http://127.0.0.1:5001",
        Keymap::default(),
        Theme {
            color: true,
            zone: edupro::when::Zone::UTC,
        },
        true,
    );
    app.update(Action::Resize(width, height));
    app.update(Action::SignedIn(sample_user()));
    app.on_key(key(KeyCode::Char('2')));
    app.update(Action::Courses {
        generation: 1,
        answer: Ok(CourseList {
            courses: (0..rows).map(sample_course).collect(),
            pagination: serde_json::from_value(json!({
                "page": 1, "limit": 100, "total": rows, "pages": 1, "hasNext": false, "hasPrev": false
            }))
            .unwrap(),
        }),
    });
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    let mut samples = Vec::new();
    for i in 0..500 {
        // Down through the list, a page at a time every tenth frame.
        app.on_key(key(if i % 10 == 0 {
            KeyCode::PageDown
        } else {
            KeyCode::Down
        }));
        let start = Instant::now();
        terminal.draw(|f| app.draw(f)).unwrap();
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let (median, p99) = median_p99(samples);
    println!(
        "render, Courses list of {rows} rows at {width}x{height}: median {median:.0} µs, p99 {p99:.0} µs per frame"
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The same frame over 100 and 10k rows: only the visible rows are built.
    for (rows, width, height) in [(100, 80, 24), (10_000, 80, 24), (10_000, 200, 60)] {
        render_list(rows, width, height);
    }

    // A local server with a teacher who has 20 courses.
    let data = tempfile::tempdir()?;
    let settings = edupro_server::platform::config::ServerArgs {
        data_dir: Some(data.path().to_path_buf()),
        bind: Some("127.0.0.1:0".parse()?),
        log_level: Some("error".into()),
        rate_limit_per_ip: Some(100_000),
        rate_limit_per_account: Some(100_000),
        ..Default::default()
    }
    .resolve()?;
    let app = edupro_server::Application::build(settings).await?;
    let url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    http.post(format!("{url}/api/v1/auth/register"))
        .json(&json!({"email": "ada@figures.test", "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace", "role": "TEACHER"}))
        .send()
        .await?
        .error_for_status()?;
    let login: serde_json::Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"email": "ada@figures.test", "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["accessToken"].as_str().unwrap().to_owned();
    for i in 0..20 {
        http.post(format!("{url}/api/v1/courses"))
            .bearer_auth(&token)
            .json(&json!({"title": format!("Course {i}"), "isFree": true}))
            .send()
            .await?
            .error_for_status()?;
    }

    // In-process: from a new app to its first frame with Today loaded.
    let mut samples = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let target = edupro::config::Target {
            profile: "figures".into(),
            server: url.clone(),
        };
        let client = edupro::api::ApiClient::with_token(&url, &token)?;
        let net = Net::new(target, Some(client), tx);
        let mut app = App::new(
            &url,
            Keymap::default(),
            Theme {
                color: true,
                zone: edupro::when::Zone::UTC,
            },
            true,
        );
        let mut terminal = Terminal::new(TestBackend::new(80, 24))?;
        loop {
            for effect in app.take_effects() {
                net.spawn(effect);
            }
            terminal.draw(|f| app.draw(f))?;
            if !app.busy() && terminal.backend().to_string().contains("Course 19") {
                break;
            }
            if let Some(action) = rx.recv().await {
                app.update(action);
            }
        }
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let (median, p99) = median_p99(samples);
    println!(
        "first full frame, in-process against {url}: median {median:.1} ms, max-ish (p99) {p99:.1} ms"
    );

    binary_first_frame(&url)?;
    Ok(())
}

/// The real binary in tmux: stored credentials (`edupro login`), then `edupro tui`.
fn binary_first_frame(url: &str) -> anyhow::Result<()> {
    let bin = std::env::var("EDUPRO_BIN").unwrap_or_else(|_| {
        let exe = std::env::current_exe().unwrap();
        exe.parent()
            .and_then(|examples| examples.parent())
            .unwrap()
            .join("edupro")
            .display()
            .to_string()
    });
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("(tmux is missing: no figures for the binary; apt-get install -y tmux)");
        return Ok(());
    }
    let config = tempfile::tempdir()?;
    let env = |c: &mut Command| {
        c.env("XDG_CONFIG_HOME", config.path())
            .env("HOME", config.path())
            .env("EDUPRO_KEYRING", "file")
            .env("EDUPRO_SERVER", url);
    };
    let mut login = Command::new(&bin);
    env(&mut login);
    let mut child = login
        .args(["login", "--email", "ada@figures.test", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )?;
    anyhow::ensure!(child.wait()?.success(), "edupro login failed");

    let mut times = Vec::new();
    let mut rss = Vec::new();
    for run in 0..5 {
        let socket = format!("edupro-figures-{}-{run}", std::process::id());
        let report = config.path().join(format!("first-frame-{run}"));
        let command = format!(
            "exec env XDG_CONFIG_HOME={dir} HOME={dir} EDUPRO_KEYRING=file EDUPRO_SERVER={url} {bin} tui --first-frame-report {report}",
            dir = config.path().display(),
            report = report.display()
        );
        let tmux = |args: &[&str]| {
            Command::new("tmux")
                .args(["-L", &socket])
                .args(args)
                .output()
        };
        tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            &command,
        ])?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !report.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Ok(text) = std::fs::read_to_string(&report)
            && let Ok(ms) = text.trim().parse::<f64>()
        {
            times.push(ms);
        }
        std::thread::sleep(Duration::from_millis(300));
        let pid = String::from_utf8(tmux(&["display-message", "-p", "#{pane_pid}"])?.stdout)?;
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", pid.trim()))
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        {
            rss.push(kb / 1024.0);
        }
        tmux(&["send-keys", "q"])?;
        std::thread::sleep(Duration::from_millis(200));
        tmux(&["kill-server"])?;
    }
    if times.is_empty() {
        println!("(the binary wrote no first-frame report; is {bin} built?)");
        return Ok(());
    }
    let (median, _) = median_p99(times.clone());
    println!(
        "first full frame, `edupro tui` binary ({bin}) in tmux 80x24: median {median:.1} ms over {} runs {times:?}",
        times.len()
    );
    if !rss.is_empty() {
        let (median, _) = median_p99(rss);
        println!("RSS of `edupro tui` after its first frame: median {median:.1} MiB");
    }
    Ok(())
}
