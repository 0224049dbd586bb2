//! The Live classes tab's requests, and its rooms: each joined room is one WebSocket,
//! owned by a task that posts what happens in it and sends what the view asks for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use edupro_server::api::{CourseFilter, LiveClassFilter, NewLiveClass, Role};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::Net;
use crate::api::room::{self, RoomEvent};
use crate::api::{self, read_body};
use crate::tui::action::live::{
    Agenda, CourseChoice, LiveAction, LiveEffect, ScheduleChoices, Span,
};
use crate::tui::action::{Action, Answer, Failure};

/// What a room's task is asked to do.
#[derive(Debug)]
enum RoomCommand {
    Chat(String),
    Leave,
}

/// The open rooms, by name.
#[derive(Debug, Clone, Default)]
pub struct Rooms(Arc<Mutex<HashMap<String, UnboundedSender<RoomCommand>>>>);

impl Rooms {
    fn take(&self, room: &str) -> Option<UnboundedSender<RoomCommand>> {
        self.0.lock().ok().and_then(|mut m| m.remove(room))
    }

    fn get(&self, room: &str) -> Option<UnboundedSender<RoomCommand>> {
        self.0.lock().ok().and_then(|m| m.get(room).cloned())
    }

    fn put(&self, room: &str, tx: UnboundedSender<RoomCommand>) {
        if let Ok(mut m) = self.0.lock()
            && let Some(old) = m.insert(room.to_owned(), tx)
        {
            let _ = old.send(RoomCommand::Leave);
        }
    }
}

impl Net {
    pub(super) async fn run_live(&self, effect: LiveEffect) -> Action {
        Action::Live(match effect {
            LiveEffect::LoadAgenda {
                generation,
                span,
                offset,
            } => LiveAction::Agenda {
                generation,
                answer: self.agenda(span, offset).await,
            },
            LiveEffect::LoadChoices => LiveAction::Choices(self.schedule_choices().await),
            LiveEffect::Schedule { body } => LiveAction::Scheduled(
                self.with_client(|c| async move {
                    let body: NewLiveClass = read_body(body)?;
                    c.schedule_live_class(&body).await
                })
                .await
                .map(|created| created.class),
            ),
            LiveEffect::Start { class } => LiveAction::Changed(
                self.with_client(|c| async move { c.start_live_class(class).await })
                    .await
                    .map(|c| (format!("“{}” is live", c.title), c)),
            ),
            LiveEffect::End { class } => LiveAction::Changed(
                self.with_client(|c| async move { c.end_live_class(class).await })
                    .await
                    .map(|c| (format!("“{}” has ended", c.title), c)),
            ),
            LiveEffect::Reschedule { class, body } => LiveAction::Rescheduled(
                self.with_client(|c| async move {
                    the_class(class, c.update_live_class(class, &OCCURRENCE, &body).await?)
                })
                .await,
            ),
            LiveEffect::Cancel { class } => LiveAction::Changed(
                self.with_client(|c| async move {
                    the_class(class, c.cancel_live_class(class, &OCCURRENCE).await?)
                })
                .await
                .map(|c| {
                    (
                        format!("“{}” is cancelled; its students were told", c.title),
                        c,
                    )
                }),
            ),
            LiveEffect::LoadAttendance { class } => LiveAction::Attendance(
                self.with_client(|c| async move { c.attendance(class).await })
                    .await,
            ),
            LiveEffect::JoinRoom { room } => self.join_room(room).await,
            LiveEffect::SendChat { room, text } => {
                match self.rooms.get(&room) {
                    Some(tx) if tx.send(RoomCommand::Chat(text)).is_ok() => {}
                    _ => {
                        return Action::Live(LiveAction::RoomError {
                            room,
                            message: "not connected to the room; ctrl-r joins again".into(),
                        });
                    }
                }
                LiveAction::Sent
            }
            LiveEffect::LeaveRoom { room } => {
                if let Some(tx) = self.rooms.take(&room) {
                    let _ = tx.send(RoomCommand::Leave);
                }
                LiveAction::Sent
            }
        })
    }

    async fn agenda(&self, span: Span, offset: i64) -> Answer<Agenda> {
        let zone = self.zone;
        let today = zone.date_of(Utc::now());
        let (from, to) = span.range(today, offset);
        let at = |d: NaiveDate| zone.start_of(d);
        let filter = LiveClassFilter {
            from: Some(at(from)),
            to: Some(at(to)),
            ..LiveClassFilter::default()
        };
        let client = self.client()?;
        let mut classes = Vec::new();
        let mut page = 1u64;
        loop {
            let list = client.live_classes(&filter, api::page(page, 100)).await?;
            classes.extend(list.classes);
            // A day or a week: a few pages at most.
            if !list.pagination.has_next || page >= 10 {
                break;
            }
            page += 1;
        }
        Ok(Agenda {
            zone,
            today,
            span,
            offset,
            from,
            to,
            classes,
        })
    }

    async fn schedule_choices(&self) -> Answer<ScheduleChoices> {
        let client = self.client()?;
        let me = client.me().await?;
        let filter = CourseFilter {
            creator: (me.role != Role::Admin).then_some(me.id),
            ..CourseFilter::default()
        };
        let list = client.courses(&filter, api::first(100)).await?;
        let client = &client;
        let courses =
            futures_util::future::try_join_all(list.courses.into_iter().map(|course| async move {
                let batches = client.batches(&course.id.to_string()).await?;
                Ok::<_, Failure>(CourseChoice {
                    id: course.id,
                    title: course.title,
                    batches: batches
                        .batches
                        .into_iter()
                        .map(|b| (b.id, b.name))
                        .collect(),
                })
            }))
            .await?;
        Ok(ScheduleChoices {
            courses,
            now: Utc::now(),
            zone: self.zone,
        })
    }

    async fn join_room(&self, room: String) -> LiveAction {
        let client = match self.client() {
            Ok(c) => c,
            Err(f) => {
                return LiveAction::RoomRefused {
                    room,
                    reason: f.message,
                };
            }
        };
        let joined = match room::join(&client, &room).await {
            Ok(joined) => joined,
            Err(err) => {
                return LiveAction::RoomRefused {
                    room,
                    reason: Failure::from(err).message,
                };
            }
        };
        let (tx, mut rx) = unbounded_channel();
        self.rooms.put(&room, tx.clone());
        let room::JoinedRoom {
            members,
            messages,
            mut sender,
            mut receiver,
        } = joined;
        let post = self.tx.clone();
        let rooms = self.rooms.clone();
        let name = room.clone();
        tokio::spawn(async move {
            let closed = loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some(RoomCommand::Chat(text)) => {
                            if let Err(err) = sender.chat(&text).await {
                                break Some(Failure::from(err).message);
                            }
                        }
                        Some(RoomCommand::Leave) | None => {
                            sender.leave().await;
                            break None;
                        }
                    },
                    event = receiver.next() => {
                        let action = match event {
                            Ok(RoomEvent::Chat(message)) => LiveAction::RoomChat { room: name.clone(), message },
                            Ok(RoomEvent::Presence { member, joined }) => LiveAction::RoomPresence { room: name.clone(), member, joined },
                            Ok(RoomEvent::Event(event)) => LiveAction::RoomEvent { room: name.clone(), event },
                            Ok(RoomEvent::Error(message)) => LiveAction::RoomError { room: name.clone(), message },
                            Err(reason) => break Some(reason),
                        };
                        if post.send(Action::Live(action)).is_err() {
                            break None;
                        }
                    }
                }
            };
            if let Some(reason) = closed {
                // Only forget the room if it is still this connection's.
                if rooms.get(&name).is_some_and(|t| t.same_channel(&tx)) {
                    rooms.take(&name);
                }
                let _ = post.send(Action::Live(LiveAction::RoomClosed { room: name, reason }));
            }
        });
        LiveAction::RoomJoined {
            room,
            members,
            messages,
        }
    }
}

/// The TUI moves and cancels one occurrence (the CLI's `--scope` does more).
const OCCURRENCE: edupro_server::api::ScopeQuery = edupro_server::api::ScopeQuery {
    scope: Some(edupro_server::api::SeriesScope::Occurrence),
};

/// The class `id` among those a change answered with.
fn the_class(
    id: uuid::Uuid,
    changed: edupro_server::api::LiveClassesChanged,
) -> crate::error::Result<edupro_server::api::LiveClass> {
    changed
        .classes
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| {
            crate::error::ClientError::Other(anyhow::anyhow!(
                "the server's answer did not include class {id}"
            ))
        })
}
