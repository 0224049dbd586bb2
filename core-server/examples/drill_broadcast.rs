//! The broadcast-kill drill (`scripts/drills/broadcast-kill.sh` runs it): kill -9 the
//! real `edupro-server` during a 10k-notification broadcast while 1,000 WebSocket
//! clients listen, restart it, and check that every client ends up with every
//! notification addressed to it exactly once after de-duplication by id.
//!
//!     drill_broadcast SERVER_BIN [STUDENTS=1000] [ROUNDS=10]
//!
//! The server's data dir and address come from `EDUPRO_DATA_DIR` and `EDUPRO_BIND` (the
//! script sets them, with the drill's other `EDUPRO_*` settings, and this program starts
//! the binary with them). "A 10k broadcast" is ROUNDS course announcements, posted back
//! to back, to a course with STUDENTS enrolled students, every one of them connected:
//! 10 x 1,000 notification rows, each pushed to its student's socket. The server is
//! killed at a random moment after a random announcement was accepted, while the rows
//! of the earlier ones are being made and fanned out, and started again at once. An
//! announcement whose POST the kill cut off is posted again with the same
//! `Idempotency-Key`, as a careful client does. Each client reconnects with
//! `since=<last id it has>` and drops ids it already has.
//!
//! Setup happens before the server starts, through the library on the same database:
//! a teacher and the students with their sessions (so no password is hashed 1,000
//! times); the course is made over HTTP and the enrollments are written as rows.
//!
//! The notifications table is the oracle: at the end each client must hold exactly the
//! ids stored for its user. Prints delivered, duplicates dropped, lost (must be 0),
//! unexpected (must be 0) and the reconnect times; exits 1 when a property fails.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use edupro_server::api::Role;
use edupro_server::domain::{Email, PersonName};
use edupro_server::platform::config::ServerArgs;
use edupro_server::platform::state::AppState;
use edupro_server::service::accounts::{self, NewAccount, SignIn};
use edupro_server::store::entity::{enrollment, notification};
use futures_util::StreamExt;
use sea_orm::{EntityTrait, PaginatorTrait, QuerySelect, Set};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use uuid::Uuid;

/// How long the clients get to catch up after the last announcement.
const SETTLE: Duration = Duration::from_secs(120);

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(bin) = args.first() else {
        anyhow::bail!("usage: drill_broadcast SERVER_BIN [STUDENTS] [ROUNDS]");
    };
    let students: usize = args.get(1).map_or(Ok(1000), |s| s.parse())?;
    let rounds: usize = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let data_dir = PathBuf::from(std::env::var("EDUPRO_DATA_DIR")?);
    let bind = std::env::var("EDUPRO_BIND")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let failed = runtime.block_on(drill(PathBuf::from(bin), data_dir, bind, students, rounds))?;
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// The server binary, started and killed by the drill.
struct Server {
    bin: PathBuf,
    log_dir: PathBuf,
    base: String,
    child: Option<Child>,
    starts: usize,
}

impl Server {
    /// Starts the binary and waits until `/health` answers; returns how long that took.
    async fn start(&mut self) -> anyhow::Result<Duration> {
        self.starts += 1;
        let log = std::fs::File::create(self.log_dir.join(format!("server-{}.log", self.starts)))?;
        let started = Instant::now();
        self.child = Some(
            Command::new(&self.bin)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?,
        );
        let http = reqwest::Client::new();
        loop {
            if let Ok(answer) = http.get(format!("{}/health", self.base)).send().await
                && answer.status().is_success()
            {
                return Ok(started.elapsed());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                anyhow::bail!("the server exited at start: {status}");
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not answer /health within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, and reap.
    fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A teacher and `students` students with sessions, made through the library on the
/// server's database before the server runs: (teacher token, [(student id, token)]).
async fn setup_accounts(
    state: &AppState,
    students: usize,
) -> anyhow::Result<(String, Vec<(Uuid, String)>)> {
    let account = |email: String, role: Role| -> anyhow::Result<NewAccount> {
        Ok(NewAccount {
            email: Email::parse(&email).map_err(anyhow::Error::msg)?,
            password: None,
            first_name: PersonName::parse("Drill").map_err(anyhow::Error::msg)?,
            last_name: PersonName::parse("User").map_err(anyhow::Error::msg)?,
            phone: None,
            role,
            external_id: None,
        })
    };
    let session = |user| async move {
        accounts::start_session(state, &user, None, "127.0.0.1", SignIn::Registered)
            .await
            .map(|s| s.access_token)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    };
    let (teacher, _) = accounts::create(
        &state.db,
        account("teacher@drill.test".into(), Role::Teacher)?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let teacher_token = session(teacher).await?;
    let mut tokens = Vec::with_capacity(students);
    for i in 0..students {
        let (student, _) = accounts::create(
            &state.db,
            account(format!("student{i}@drill.test"), Role::Student)?,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let id = student.id;
        tokens.push((id, session(student).await?));
    }
    Ok((teacher_token, tokens))
}

/// What a client reports.
enum Event {
    /// Caught up after connecting (`reconnect`: not the first time).
    CaughtUp { client: usize, reconnect: bool },
    /// Its connection ended.
    Dropped,
}

/// What a client holds at the end.
#[derive(Default)]
struct Received {
    ids: HashSet<i64>,
    duplicates: u64,
    connects: u64,
}

/// One student's client: connects with `since=<last id>` again whenever its connection
/// ends, keeps the ids it has, counts the ones it gets twice, until `done`.
async fn client(
    index: usize,
    ws_url: String,
    token: String,
    events: mpsc::UnboundedSender<Event>,
    mut done: watch::Receiver<bool>,
) -> Received {
    let mut received = Received::default();
    let mut last: i64 = 0;
    // Small buffers: 1,000 clients share two cores with the server.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    while !*done.borrow() {
        let connected = async {
            let mut request = format!("{ws_url}?since={last}").into_client_request()?;
            request.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            );
            let (ws, _) =
                tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
            Ok::<_, anyhow::Error>(ws)
        };
        let mut ws = match connected.await {
            Ok(ws) => ws,
            Err(_) => {
                // Refused while the server restarts: try again shortly, spread out.
                let pause = 50 + (index as u64 * 7919) % 100;
                tokio::time::sleep(Duration::from_millis(pause)).await;
                continue;
            }
        };
        received.connects += 1;
        loop {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = done.changed() => None,
            };
            let Some(Ok(frame)) = frame else {
                break;
            };
            let Message::Text(text) = frame else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            match message["type"].as_str() {
                Some("caughtUp") => {
                    let _ = events.send(Event::CaughtUp {
                        client: index,
                        reconnect: received.connects > 1,
                    });
                }
                Some("notification") => {
                    if let Some(id) = message["notification"]["id"].as_i64() {
                        if received.ids.insert(id) {
                            last = last.max(id);
                        } else {
                            received.duplicates += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        if !*done.borrow() {
            let _ = events.send(Event::Dropped);
        }
    }
    received
}

/// Posts announcement `round`, again with the same `Idempotency-Key` until answered 201.
async fn announce(base: &str, teacher_token: &str, course: Uuid, round: usize) -> u32 {
    let http = reqwest::Client::new();
    let key = Uuid::now_v7().to_string();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let answer = http
            .post(format!("{base}/api/v1/courses/{course}/announcements"))
            .bearer_auth(teacher_token)
            .header("Idempotency-Key", &key)
            .json(&json!({ "title": format!("Broadcast {round}"), "message": "to everyone" }))
            .send()
            .await;
        if let Ok(answer) = answer
            && answer.status().as_u16() == 201
        {
            return attempts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn drill(
    bin: PathBuf,
    data_dir: PathBuf,
    bind: String,
    students: usize,
    rounds: usize,
) -> anyhow::Result<bool> {
    let setup = Instant::now();
    let settings = ServerArgs {
        data_dir: Some(data_dir.clone()),
        bind: Some(bind.parse()?),
        ..ServerArgs::default()
    }
    .resolve()?;
    let db = edupro_server::store::db::connect(&settings.database, 4).await?;
    edupro_server::store::migration::Migrator::up(&db, None).await?;
    let state = AppState::new(db.clone(), settings)?;
    let (teacher_token, tokens) = setup_accounts(&state, students).await?;

    let base = format!("http://{bind}");
    let log_dir = data_dir
        .parent()
        .map_or_else(|| data_dir.clone(), PathBuf::from);
    let mut server = Server {
        bin,
        log_dir,
        base: base.clone(),
        child: None,
        starts: 0,
    };
    server.start().await?;
    let course = support::published_course(&base, &teacher_token, "Drill broadcast").await?;
    let now = chrono::Utc::now();
    let rows: Vec<enrollment::ActiveModel> = tokens
        .iter()
        .map(|(student, _)| enrollment::ActiveModel {
            id: Set(Uuid::now_v7()),
            course_id: Set(course),
            student_id: Set(*student),
            status: Set(edupro_server::api::EnrollmentStatus::Active),
            enrolled_at: Set(now),
            completed_at: Set(None),
            expires_at: Set(None),
            progress_percent: Set(0),
            last_accessed_at: Set(None),
            batch_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    for chunk in rows.chunks(500) {
        enrollment::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await?;
    }

    // The clients, each caught up.
    let ws_url = format!("{}/api/v1/ws", base.replacen("http://", "ws://", 1));
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = watch::channel(false);
    let mut clients = Vec::with_capacity(students);
    // In waves of 200, each caught up before the next, so the listen backlog never
    // overflows.
    for wave in tokens.chunks(200) {
        for (_, token) in wave {
            clients.push(tokio::spawn(client(
                clients.len(),
                ws_url.clone(),
                token.clone(),
                events_tx.clone(),
                done_rx.clone(),
            )));
        }
        let mut caught = 0;
        while caught < wave.len() {
            match events.recv().await {
                Some(Event::CaughtUp { .. }) => caught += 1,
                Some(Event::Dropped) => anyhow::bail!("a client lost its connection at setup"),
                None => anyhow::bail!("the clients stopped"),
            }
        }
    }
    let before = notification::Entity::find().count(&db).await?;
    println!(
        "broadcast-kill: {students} students connected, set up in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // The broadcast, and the kill inside it.
    let kill_after_round = 1 + rand::random_range(0..rounds.max(1));
    let kill_delay = Duration::from_millis(rand::random_range(0..300));
    let (posted_tx, mut posted) = watch::channel(0usize);
    let poster = {
        let (base, teacher_token) = (base.clone(), teacher_token.clone());
        tokio::spawn(async move {
            let mut retried = 0;
            for round in 1..=rounds {
                let attempts = announce(&base, &teacher_token, course, round).await;
                retried += attempts - 1;
                let _ = posted_tx.send(round);
            }
            retried
        })
    };
    let broadcast_start = Instant::now();
    while *posted.borrow() < kill_after_round {
        posted.changed().await?;
    }
    tokio::time::sleep(kill_delay).await;
    let stored_at_kill = notification::Entity::find().count(&db).await? - before;
    server.kill()?;
    let killed_at = Instant::now();
    println!(
        "broadcast-kill: kill -9 {:.0} ms after announcement {kill_after_round} of {rounds} was accepted ({} ms into the broadcast); notifications stored then: {stored_at_kill}",
        ms(kill_delay),
        ms(killed_at - broadcast_start) as u64
    );
    let restart = server.start().await?;
    let restarted_at = Instant::now();
    println!(
        "broadcast-kill: restarted; /health answered in {:.0} ms",
        ms(restart)
    );
    let retried = poster.await?;

    // Every client reconnects (its socket died with the server) and catches up.
    let mut reconnected = Vec::with_capacity(students);
    let mut reconnected_clients = HashSet::new();
    let mut drops = 0u64;
    let settle = tokio::time::sleep(SETTLE);
    tokio::pin!(settle);
    let expected_total = (students * rounds) as u64;
    let mut stored = 0;
    let mut check = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::CaughtUp { client, reconnect: true }) => {
                    if reconnected_clients.insert(client) {
                        reconnected.push(restarted_at.elapsed());
                    }
                }
                Some(Event::CaughtUp { .. }) => {}
                Some(Event::Dropped) => drops += 1,
                None => break,
            },
            _ = check.tick() => {
                // Done when the consumer has made every row and every client has
                // reconnected; the rows then reach the clients live or by replay.
                stored = notification::Entity::find().count(&db).await? - before;
                if stored >= expected_total && reconnected_clients.len() == students {
                    break;
                }
            }
            () = &mut settle => break,
        }
    }
    // The last pushes still on their way.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = killed_at.elapsed();
    done_tx.send(true)?;
    let mut received = Vec::with_capacity(students);
    for handle in clients {
        received.push(handle.await?);
    }

    // The oracle: every id stored for each student.
    let mut expected: HashMap<Uuid, HashSet<i64>> = HashMap::new();
    let rows: Vec<(i64, Uuid)> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .column(notification::Column::UserId)
        .into_tuple()
        .all(&db)
        .await?;
    for (id, user) in rows {
        expected.entry(user).or_default().insert(id);
    }
    let (mut delivered, mut duplicates, mut lost, mut unexpected) = (0usize, 0u64, 0usize, 0usize);
    let mut short_clients = 0;
    for ((user, _), got) in tokens.iter().zip(&received) {
        let want = expected.remove(user).unwrap_or_default();
        delivered += got.ids.len();
        duplicates += got.duplicates;
        let missing = want.difference(&got.ids).count();
        lost += missing;
        unexpected += got.ids.difference(&want).count();
        if missing > 0 {
            short_clients += 1;
        }
    }
    let announcements = stored / students.max(1) as u64;
    reconnected.sort();
    let p = |q: f64| {
        reconnected
            .get(((reconnected.len() as f64 * q) as usize).min(reconnected.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "broadcast-kill: {stored} notifications stored for {students} students ({announcements} announcements of {rounds}; {retried} POSTs retried with their Idempotency-Key)"
    );
    println!(
        "broadcast-kill: delivered {delivered} distinct, duplicates dropped {duplicates}, lost {lost} (clients short: {short_clients}), unexpected {unexpected}"
    );
    println!(
        "broadcast-kill: {} of {students} clients reconnected with since (connections dropped: {drops}); caught up after the restart in p50 {:.0} ms, max {:.0} ms; all settled {:.1} s after the kill",
        reconnected_clients.len(),
        ms(p(0.5)),
        ms(p(1.0)),
        settled.as_secs_f64()
    );
    let mut failures = Vec::new();
    if lost > 0 {
        failures.push(format!("{lost} notifications lost"));
    }
    if unexpected > 0 {
        failures.push(format!(
            "{unexpected} notifications not addressed to their client"
        ));
    }
    if stored != expected_total {
        failures.push(format!(
            "{stored} notifications stored, want {expected_total} ({rounds} announcements x {students})"
        ));
    }
    if reconnected_clients.len() != students {
        failures.push(format!(
            "{} of {students} clients reconnected",
            reconnected_clients.len()
        ));
    }
    for failure in &failures {
        eprintln!("broadcast-kill: FAILED: {failure}");
    }
    server.kill()?;
    Ok(!failures.is_empty())
}
