//! The network side of the TUI: each [`Effect`] runs in its own tokio task with the
//! shared [`ApiClient`] and posts its answer as an [`Action`] on the app's channel.
//! Nothing here ever blocks the draw loop.

mod analytics;
mod doubts;
mod grading;
mod live;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::SubsecRound;
use edupro_server::api::{
    AuthSession, ChangeRole, Course, CourseFilter, EnrollmentFilter, GradingFilter, ImportLine,
    LiveClassFilter, Login, LoginOutcome, NotificationFilter, Role, RowOutcome, UpdateLesson,
    UpdateSection, UserFilter, VerifyMfa,
};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

use super::action::{Action, Answer, Effect, Failure, Realtime, SaveTarget, TodayData};
use crate::api::{self, ApiClient, ImportOptions, read_body};
use crate::config::Target;
use crate::credentials::{CredentialStore, StoredCredentials};

/// Runs effects against one server.
#[derive(Clone)]
pub struct Net {
    target: Target,
    client: Arc<RwLock<Option<Arc<ApiClient>>>>,
    tx: UnboundedSender<Action>,
    health: reqwest::Client,
    /// The WebSocket task, so a new sign-in replaces it rather than adding one.
    watch: Arc<Mutex<Option<tokio::task::AbortHandle>>>,
    /// The class rooms joined (one WebSocket each).
    rooms: live::Rooms,
    /// Where the agenda's days begin and end.
    zone: crate::when::Zone,
}

impl Net {
    /// A network layer posting to `tx`; signed in when `client` is given.
    pub fn new(target: Target, client: Option<ApiClient>, tx: UnboundedSender<Action>) -> Self {
        let health = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self {
            target,
            client: Arc::new(RwLock::new(client.map(Arc::new))),
            tx,
            health,
            watch: Arc::new(Mutex::new(None)),
            rooms: live::Rooms::default(),
            zone: crate::when::Zone::UTC,
        }
    }

    /// Days (the agenda's, the schedule form's) in `zone` rather than UTC.
    pub fn with_zone(mut self, zone: crate::when::Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Whether a client with credentials is set.
    pub fn signed_in(&self) -> bool {
        self.client.read().map(|c| c.is_some()).unwrap_or(false)
    }

    fn client(&self) -> Result<Arc<ApiClient>, Failure> {
        self.client
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| Failure::msg("not signed in"))
    }

    /// Starts `effect` in a task.
    pub fn spawn(&self, effect: Effect) {
        let net = self.clone();
        tokio::spawn(async move {
            let action = net.run(effect).await;
            let _ = net.tx.send(action);
        });
    }

    /// Runs `effect` to its answer (the tests and the figures call this directly).
    pub async fn run(&self, effect: Effect) -> Action {
        match effect {
            Effect::Ping => {
                Action::Reachable(api::health::is_up(&self.health, &self.target.server).await)
            }
            Effect::Login { email, password } => self.login(email, password).await,
            Effect::VerifyMfa { challenge, code } => match self.anonymous() {
                Ok(client) => {
                    let body = VerifyMfa {
                        challenge_token: challenge,
                        code,
                    };
                    match client.verify_mfa(&body).await {
                        Ok(session) => self.signed_in_with(session),
                        Err(err) => Action::LoginRefused(err.into()),
                    }
                }
                Err(f) => Action::LoginRefused(f),
            },
            Effect::Me => match self.client() {
                Err(_) => Action::SignInNeeded(None),
                Ok(client) => match client.me().await {
                    Ok(me) => Action::SignedIn(me),
                    Err(err) => {
                        let failure = Failure::from(err);
                        if failure.status == Some(401) {
                            self.forget_client();
                            Action::SignInNeeded(Some(
                                "Your session has ended; sign in again.".into(),
                            ))
                        } else {
                            Action::SignInNeeded(Some(failure.message))
                        }
                    }
                },
            },
            Effect::LoadToday { role, me } => Action::Today(self.today(role, me).await),
            Effect::LoadCourses {
                generation,
                page,
                search,
            } => {
                let filter = CourseFilter {
                    search: Some(search),
                    ..CourseFilter::default()
                };
                let answer = self
                    .with_client(|c| async move { c.courses(&filter, api::page(page, 100)).await })
                    .await;
                Action::Courses { generation, answer }
            }
            Effect::LoadCourse { id } => Action::Course(
                self.with_client(|c| async move { c.course(&id.to_string()).await })
                    .await,
            ),
            Effect::LoadRoster {
                generation,
                course,
                page,
            } => {
                let answer = self
                    .with_client(|c| async move {
                        let filter = EnrollmentFilter::default();
                        c.enrollments(&course.to_string(), &filter, api::page(page, 100))
                            .await
                    })
                    .await;
                Action::Roster { generation, answer }
            }
            Effect::LoadLesson { id } => Action::Lesson(
                self.with_client(|c| async move { c.lesson(id).await })
                    .await,
            ),
            Effect::Save { target, body } => {
                let answer = self.save(&target, body).await;
                Action::Saved { target, answer }
            }
            Effect::MoveSection {
                course,
                section,
                position,
            } => Action::CourseChanged(
                self.with_client(|c| async move {
                    let body = UpdateSection {
                        title: None,
                        position: Some(position),
                    };
                    c.update_section(section, &body).await?;
                    reload(&c, course, "Section moved").await
                })
                .await,
            ),
            Effect::MoveLesson {
                course,
                lesson,
                position,
            } => Action::CourseChanged(
                self.with_client(|c| async move {
                    let body = UpdateLesson {
                        position: Some(position),
                        ..UpdateLesson::default()
                    };
                    c.update_lesson(lesson, &body).await?;
                    reload(&c, course, "Lesson moved").await
                })
                .await,
            ),
            Effect::SetCourseStatus { course, publish } => Action::CourseChanged(
                self.with_client(|c| async move {
                    let key = course.to_string();
                    if publish {
                        c.publish_course(&key).await?;
                        reload(&c, course, "Course published").await
                    } else {
                        c.archive_course(&key).await?;
                        reload(&c, course, "Course archived").await
                    }
                })
                .await,
            ),
            Effect::LoadUsers {
                generation,
                page,
                search,
            } => {
                let filter = UserFilter {
                    search: Some(search),
                    ..UserFilter::default()
                };
                let answer = self
                    .with_client(|c| async move { c.users(&filter, api::page(page, 100)).await })
                    .await;
                Action::Users { generation, answer }
            }
            Effect::ChangeRole { user, role } => Action::UserChanged(
                self.with_client(
                    |c| async move { c.change_role(user, &ChangeRole { role }).await },
                )
                .await
                .map(|u| (format!("{} is now {}", u.email, u.role), u)),
            ),
            Effect::SetActive { user, active } => {
                let verb = if active { "reactivate" } else { "deactivate" };
                Action::UserChanged(
                    self.with_client(|c| async move {
                        if active {
                            c.reactivate_user(user).await
                        } else {
                            c.deactivate_user(user).await
                        }
                    })
                    .await
                    .map(|u| (format!("{} {verb}d", u.email), u)),
                )
            }
            Effect::Import { path, kind, mode } => {
                Action::ImportDone(self.import(&path, kind, mode).await)
            }
            Effect::LoadNotifications { generation, page } => {
                let answer = self
                    .with_client(|c| async move {
                        let filter = NotificationFilter::default();
                        c.notifications(&filter, api::page(page, 100)).await
                    })
                    .await;
                Action::Notifications { generation, answer }
            }
            Effect::MarkRead { id } => Action::MarkedRead(
                self.with_client(|c| async move { c.mark_read(id).await })
                    .await,
            ),
            Effect::MarkAllRead => Action::MarkedAllRead(
                self.with_client(|c| async move { c.mark_all_read().await })
                    .await,
            ),
            Effect::Watch { since } => Action::Realtime(self.watch(since)),
            Effect::LoadUpcoming => {
                let filter = LiveClassFilter {
                    status: Some("upcoming".to_owned()),
                    from: Some(chrono::Utc::now().trunc_subsecs(0)),
                    ..LiveClassFilter::default()
                };
                Action::Upcoming(
                    self.with_client(
                        |c| async move { c.live_classes(&filter, api::first(5)).await },
                    )
                    .await,
                )
            }
            Effect::LoadGradingCount => Action::GradingCount(
                self.with_client(|c| async move {
                    c.grading_queue(&GradingFilter::default(), api::first(1))
                        .await
                })
                .await
                .map(|q| q.pagination.total),
            ),
            Effect::LoadDoubtCount => Action::DoubtCount(
                self.with_client(|c| async move { c.doubt_queue(api::first(1)).await })
                    .await
                    .map(|q| q.pagination.total),
            ),
            Effect::LoadRevenue => {
                let month = chrono::Utc::now().format("%Y-%m").to_string();
                Action::Revenue(
                    self.with_client(|c| async move {
                        c.revenue(&edupro_server::api::RevenueQuery::default())
                            .await
                    })
                    .await
                    .map(|report| super::action::revenue_by_currency(&report, &month)),
                )
            }
            Effect::Live(effect) => self.run_live(effect).await,
            Effect::Grading(effect) => self.run_grading(effect).await,
            Effect::Doubts(effect) => self.run_doubts(effect).await,
            Effect::Analytics(effect) => self.run_analytics(effect).await,
        }
    }

    /// Starts the WebSocket task (stopping an earlier one).
    fn watch(&self, since: Option<i64>) -> Realtime {
        let client = match self.client() {
            Ok(client) => client,
            Err(failure) => return Realtime::Ended(failure),
        };
        let task = tokio::spawn(super::realtime::watch(client, since, self.tx.clone()));
        if let Ok(mut slot) = self.watch.lock()
            && let Some(old) = slot.replace(task.abort_handle())
        {
            old.abort();
        }
        Realtime::Started
    }

    fn anonymous(&self) -> Result<ApiClient, Failure> {
        ApiClient::anonymous(&self.target.server).map_err(Failure::from)
    }

    fn forget_client(&self) {
        if let Ok(mut slot) = self.client.write() {
            *slot = None;
        }
    }

    async fn login(&self, email: String, password: String) -> Action {
        let client = match self.anonymous() {
            Ok(c) => c,
            Err(f) => return Action::LoginRefused(f),
        };
        match client.login(&Login { email, password }).await {
            Ok(outcome) => match outcome {
                LoginOutcome::Session(session) => self.signed_in_with(*session),
                LoginOutcome::MfaRequired(challenge) => Action::MfaRequired {
                    challenge: challenge.challenge_token,
                },
            },
            Err(err) => Action::LoginRefused(err.into()),
        }
    }

    /// Stores the session's tokens as `edupro login` does, and signs the client in.
    fn signed_in_with(&self, session: AuthSession) -> Action {
        let store = CredentialStore::new(&self.target.profile);
        let credentials = StoredCredentials {
            server: self.target.server.clone(),
            access_token: session.access_token,
            refresh_token: Some(session.refresh_token),
            email: Some(session.user.email.clone()),
        };
        let warning = match store.save_quietly(&credentials) {
            Ok(warning) => warning,
            Err(err) => return Action::LoginRefused(Failure::msg(format!("{err:#}"))),
        };
        match ApiClient::authenticated(&self.target) {
            Ok(client) => {
                if let Ok(mut slot) = self.client.write() {
                    *slot = Some(Arc::new(client));
                }
                if let Some(warning) = warning {
                    let _ = self.tx.send(Action::Note(warning));
                }
                Action::SignedIn(session.user)
            }
            Err(err) => Action::LoginRefused(err.into()),
        }
    }

    /// Runs `call` with the signed-in client; its error as a [`Failure`].
    pub(super) async fn with_client<T, F, Fut>(&self, call: F) -> Answer<T>
    where
        F: FnOnce(Arc<ApiClient>) -> Fut,
        Fut: Future<Output = crate::error::Result<T>>,
    {
        let client = self.client()?;
        Ok(call(client).await?)
    }

    /// Sends a form's body where `target` says, read as that endpoint's wire type.
    async fn save(&self, target: &SaveTarget, body: Value) -> Answer<String> {
        let client = self.client()?;
        Ok(match target {
            SaveTarget::NewCourse => {
                let created = client.create_course(&read_body(body)?).await?;
                format!("Created course “{}” (a draft)", created.title)
            }
            SaveTarget::EditCourse(id) => {
                client
                    .update_course(&id.to_string(), &read_body(body)?)
                    .await?;
                "Course saved".into()
            }
            SaveTarget::NewSection { course } => {
                client
                    .create_section(&course.to_string(), &read_body(body)?)
                    .await?;
                "Section added".into()
            }
            SaveTarget::EditSection(id) => {
                client.update_section(*id, &read_body(body)?).await?;
                "Section saved".into()
            }
            SaveTarget::NewLesson { section } => {
                client.create_lesson(*section, &read_body(body)?).await?;
                "Lesson added".into()
            }
            SaveTarget::EditLesson(id) => {
                client.update_lesson(*id, &read_body(body)?).await?;
                "Lesson saved".into()
            }
        })
    }

    /// The caller's courses (owned, for teachers), newest first.
    async fn today(&self, role: Role, me: uuid::Uuid) -> Answer<TodayData> {
        let client = self.client()?;
        let filter = CourseFilter {
            creator: (role == Role::Teacher).then_some(me),
            ..CourseFilter::default()
        };
        let list = client.courses(&filter, api::first(20)).await?;
        Ok(TodayData {
            total_courses: list.pagination.total,
            courses: list.courses,
        })
    }

    /// Streams the file to `POST /imports/{kind}` and reports progress as rows come back.
    async fn import(
        &self,
        path: &str,
        kind: edupro_server::api::ImportKind,
        mode: edupro_server::api::ImportMode,
    ) -> Answer<edupro_server::api::ImportSummary> {
        let path = std::path::PathBuf::from(path.trim());
        let file = std::fs::File::open(&path).map_err(|e| Failure {
            fields: vec![edupro_server::api::FieldError {
                field: "file".into(),
                message: format!("cannot read it: {e}"),
            }],
            ..Failure::msg(format!("cannot read {}: {e}", path.display()))
        })?;
        let client = self.client()?;
        let content_type = match path.extension().and_then(|e| e.to_str()) {
            Some("ndjson" | "jsonl") => "application/x-ndjson",
            _ => "text/csv",
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let options = ImportOptions {
            mode,
            file_name: Some(file_name),
            ..ImportOptions::default()
        };
        let response = client
            .import(kind, &options, content_type, crate::api::file_body(file))
            .await
            .map_err(Failure::from)?;
        let mut counts = edupro_server::api::ImportCounts::default();
        let mut errors = Vec::new();
        let mut pending = Vec::new();
        let mut last_report = std::time::Instant::now();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Failure::from(client.unreachable(e)))?;
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let parsed: ImportLine = serde_json::from_slice(&line).map_err(|e| {
                    Failure::msg(format!(
                        "unexpected line in the server's import answer: {e}"
                    ))
                })?;
                match parsed {
                    ImportLine::Row(row) => {
                        counts.add(row.outcome);
                        if row.outcome == RowOutcome::Error {
                            errors.push(row);
                        }
                    }
                    ImportLine::Summary(summary) => {
                        let _ = self.tx.send(Action::ImportProgress {
                            counts: summary.counts,
                            errors: std::mem::take(&mut errors),
                        });
                        return Ok(summary);
                    }
                }
                if last_report.elapsed() > Duration::from_millis(100) {
                    last_report = std::time::Instant::now();
                    let _ = self.tx.send(Action::ImportProgress {
                        counts,
                        errors: std::mem::take(&mut errors),
                    });
                }
            }
        }
        Err(Failure::msg(
            "the server's answer ended before its summary; `edupro import list` shows how far it got",
        ))
    }
}

/// The course again after a change to it, with `done` to show.
async fn reload(
    client: &ApiClient,
    course: Uuid,
    done: &str,
) -> crate::error::Result<(String, Course)> {
    let course = client.course(&course.to_string()).await?;
    Ok((done.to_owned(), course))
}
