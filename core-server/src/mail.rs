//! Outgoing mail: SMTP when `EDUPRO_SMTP_URL` is set, otherwise a development outbox
//! kept in the database and readable by admins at `GET /api/v1/admin/outbox`.

use chrono::Utc;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use uuid::Uuid;

use crate::entity::outbox_message;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// Stored in `outbox_messages`; the log says a message is waiting, never its body
    /// (which holds codes).
    Outbox { db: DatabaseConnection },
    /// Delivered over SMTP, in the background.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl Mailer {
    /// SMTP for `smtp_url` (`smtps://user:pass@host:465`), else the outbox.
    pub fn new(smtp_url: Option<&str>, from: &str, db: DatabaseConnection) -> anyhow::Result<Self> {
        match smtp_url {
            None => Ok(Self::Outbox { db }),
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
                    .build();
                let from = from
                    .parse()
                    .map_err(|e| anyhow::anyhow!("mail_from: `{from}` is not a mailbox: {e}"))?;
                Ok(Self::Smtp { transport, from })
            }
        }
    }

    /// Whether mail is kept in the outbox rather than delivered.
    pub fn is_outbox(&self) -> bool {
        matches!(self, Self::Outbox { .. })
    }

    /// Sends a plain-text message. Outbox writes are awaited (so the message is readable
    /// once the request that sent it returns); SMTP delivery runs in the background and
    /// its failures are logged.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        match self {
            Self::Outbox { db } => {
                let now = Utc::now();
                let id = Uuid::now_v7();
                outbox_message::ActiveModel {
                    id: Set(id),
                    recipient: Set(to.to_owned()),
                    subject: Set(subject.to_owned()),
                    body: Set(body),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(db)
                .await?;
                tracing::info!(%id, recipient = to, subject, "mail kept in the development outbox (GET /api/v1/admin/outbox)");
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(to
                        .parse()
                        .map_err(|e| anyhow::anyhow!("recipient `{to}`: {e}"))?)
                    .subject(subject)
                    .body(body)?;
                let transport = transport.clone();
                let (to, subject) = (to.to_owned(), subject.to_owned());
                tokio::spawn(async move {
                    match transport.send(message).await {
                        Ok(_) => tracing::info!(recipient = %to, subject = %subject, "mail sent"),
                        Err(err) => {
                            tracing::error!(recipient = %to, subject = %subject, error = %err, "mail delivery failed")
                        }
                    }
                });
                Ok(())
            }
        }
    }
}
