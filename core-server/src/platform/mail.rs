//! Outgoing mail: the SMTP transport (when `EDUPRO_SMTP_URL` is set) and the signal that
//! wakes the mail drainer. Mail is never sent from a request: it is written to the
//! outbox in the transaction of what it announces (`service::outbox::enqueue`) and
//! delivered by the drainer (`service::outbox::start_drainer`). Without SMTP the outbox
//! keeps it, readable by admins at `GET /api/v1/admin/outbox`.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where mail goes: SMTP, or (without it) nowhere but the development outbox.
#[derive(Clone)]
pub struct Mailer {
    smtp: Option<Smtp>,
    /// Wakes this instance's drainer when mail has been committed to the outbox.
    wake: Arc<Notify>,
}

#[derive(Clone)]
struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// An attempt that takes longer than this is given up (and retried later).
    timeout: Duration,
}

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Worth trying again later: no connection, a timeout, a 4xx answer.
    Transient(String),
    /// Never going to work: a bad address, a 5xx answer.
    Permanent(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(why) | Self::Permanent(why) => f.write_str(why),
        }
    }
}

impl Mailer {
    /// SMTP for `smtp_url` (`smtps://user:pass@host:465`), else the outbox. An attempt
    /// is cut off after `timeout`.
    pub fn new(smtp_url: Option<&str>, from: &str, timeout: Duration) -> anyhow::Result<Self> {
        let smtp = match smtp_url {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
                    .timeout(Some(timeout))
                    .build();
                let from = from
                    .parse()
                    .map_err(|e| anyhow::anyhow!("mail_from: `{from}` is not a mailbox: {e}"))?;
                Some(Smtp {
                    transport,
                    from,
                    timeout,
                })
            }
        };
        Ok(Self {
            smtp,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Whether mail is kept in the outbox rather than delivered.
    pub fn is_outbox(&self) -> bool {
        self.smtp.is_none()
    }

    /// Tells this instance's drainer that mail is waiting (call after the commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Mailer::wake`] (a wake before the wait is not lost).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Hands `mail` to the SMTP server and waits for its answer. Without SMTP nothing
    /// delivers mail: that is a permanent error.
    pub async fn deliver(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let Some(smtp) = &self.smtp else {
            return Err(DeliveryError::Permanent(
                "no SMTP server is configured".into(),
            ));
        };
        let to = mail.to.parse().map_err(|e| {
            DeliveryError::Permanent(format!("recipient `{}` is not a mailbox: {e}", mail.to))
        })?;
        let message = Message::builder()
            .from(smtp.from.clone())
            .to(to)
            .subject(&mail.subject)
            .body(mail.body.clone())
            .map_err(|e| DeliveryError::Permanent(format!("the message does not build: {e}")))?;
        match tokio::time::timeout(smtp.timeout, smtp.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) if err.is_permanent() => Err(DeliveryError::Permanent(err.to_string())),
            Ok(Err(err)) => Err(DeliveryError::Transient(err.to_string())),
            Err(_) => Err(DeliveryError::Transient(format!(
                "no answer from the SMTP server within {:?}",
                smtp.timeout
            ))),
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
        let mailer = Mailer::new(
            Some(&format!("smtp://127.0.0.1:{port}")),
            "EduPro+ <no-reply@school.test>",
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(!mailer.is_outbox());
        mailer
            .deliver(&Mail {
                to: "ada@school.test".into(),
                subject: "Your code".into(),
                body: "Your code is 123456.".into(),
            })
            .await
            .unwrap();
        let data = tokio::time::timeout(Duration::from_secs(10), received)
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
            Duration::from_secs(10),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("smtp_url"), "{err}");
    }
}
