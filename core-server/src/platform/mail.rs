//! Outgoing mail: SMTP when `EDUPRO_SMTP_URL` is set, otherwise a development outbox
//! kept in the database and readable by admins at `GET /api/v1/admin/outbox`.

use chrono::Utc;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

use crate::store::entity::outbox_message;

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

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

    /// Sends many messages: one multi-row insert per 500 into the outbox, or each
    /// handed to SMTP delivery in the background.
    pub async fn send_all(&self, messages: Vec<Mail>) -> anyhow::Result<()> {
        match self {
            Self::Outbox { db } => {
                let now = Utc::now();
                let first = messages.first().map(|m| (m.to.clone(), m.subject.clone()));
                let count = messages.len();
                let rows: Vec<outbox_message::ActiveModel> = messages
                    .into_iter()
                    .map(|m| outbox_message::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        recipient: Set(m.to),
                        subject: Set(m.subject),
                        body: Set(m.body),
                        created_at: Set(now),
                        updated_at: Set(now),
                    })
                    .collect();
                for chunk in rows.chunks(500) {
                    outbox_message::Entity::insert_many(chunk.to_vec())
                        .exec_without_returning(db)
                        .await?;
                }
                match (count, first) {
                    (1, Some((recipient, subject))) => tracing::info!(
                        %recipient,
                        %subject,
                        "mail kept in the development outbox (GET /api/v1/admin/outbox)"
                    ),
                    (count, _) => tracing::info!(
                        count,
                        "mail kept in the development outbox (GET /api/v1/admin/outbox)"
                    ),
                }
                Ok(())
            }
            Self::Smtp { .. } => {
                for m in messages {
                    self.send(&m.to, &m.subject, m.body).await?;
                }
                Ok(())
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A minimal SMTP server that accepts one message and hands back its DATA.
    /// (lettre pools connections, so no QUIT comes after the message.)
    async fn smtp_sink() -> (u16, tokio::sync::oneshot::Receiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
            let mut data = String::new();
            let mut in_data = false;
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        write.write_all(b"250 queued\r\n").await.unwrap();
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(std::mem::take(&mut data));
                        }
                    } else {
                        data.push_str(&line);
                        data.push('\n');
                    }
                    continue;
                }
                let verb = line
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 sink\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                write.write_all(reply).await.unwrap();
            }
        });
        (port, rx)
    }

    #[tokio::test]
    async fn with_an_smtp_url_mail_is_delivered_over_smtp() {
        let (port, received) = smtp_sink().await;
        // The outbox database is never touched on this path; a lazy, unused connection
        // stands in for it.
        let db = sea_orm::DatabaseConnection::default();
        let mailer = Mailer::new(
            Some(&format!("smtp://127.0.0.1:{port}")),
            "EduPro+ <no-reply@school.test>",
            db,
        )
        .unwrap();
        assert!(!mailer.is_outbox());
        mailer
            .send(
                "ada@school.test",
                "Your code",
                "Your code is 123456.".into(),
            )
            .await
            .unwrap();
        let data = tokio::time::timeout(std::time::Duration::from_secs(10), received)
            .await
            .expect("delivered within 10 s")
            .unwrap();
        assert!(data.contains("Subject: Your code"), "{data}");
        assert!(data.contains("To: ada@school.test"), "{data}");
        assert!(data.contains("Your code is 123456."), "{data}");
    }

    #[test]
    fn a_bad_smtp_url_is_refused_at_start() {
        let err = Mailer::new(
            Some("carrier-pigeon://x"),
            "a@b.io",
            sea_orm::DatabaseConnection::default(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("smtp_url"), "{err}");
    }
}
