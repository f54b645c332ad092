//! How an e-mail leaves: through an SMTP server (`FABRIQUE_SMTP_URL`, lettre: STARTTLS
//! or TLS and authentication as the URL says), or, without one, as `.eml` files in a
//! folder (the embedded default: what would be sent can be read, nothing is lost).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::Delivery;

/// How long one SMTP exchange may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where e-mails go.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this folder.
    Files(PathBuf),
    /// Not yet: no SMTP server is configured off the embedded default (a pod's file
    /// system is no mailbox). E-mails are written and stay pending; none is sent until
    /// the service runs with `FABRIQUE_SMTP_URL`.
    Hold,
    /// Nowhere: e-mails are recorded as sent and go nowhere. What the service has until
    /// `serve` configures it (the binary's list of services, the tests of other
    /// services), never what `serve` runs.
    Discard,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// May work later (the server is down, busy, or answered 4xx): tried again.
    Transient(String),
    /// Will not work (a 5xx answer such as an unknown mailbox, or an e-mail that cannot
    /// be built): given up at once.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(e) | SendError::Permanent(e) => f.write_str(e),
        }
    }
}

impl Transport {
    /// An SMTP server from its URL (`smtp://user:password@host:587?tls=required`,
    /// `smtps://host:465`, `smtp://127.0.0.1:2525` for a server without TLS on loopback).
    pub fn smtp(url: &str) -> Result<Transport, String> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("FABRIQUE_SMTP_URL: {e}"))?;
        Ok(Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
    }

    /// Sends `message`.
    pub async fn send(&self, id: uuid::Uuid, message: Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Transport::Files(folder) => {
                let write = async {
                    tokio::fs::create_dir_all(folder).await?;
                    tokio::fs::write(folder.join(format!("{id}.eml")), message.formatted()).await
                };
                write
                    .await
                    .map_err(|e| SendError::Transient(format!("{}: {e}", folder.display())))
            }
            Transport::Discard => Ok(()),
            // The sender does not run with it ([`Transport::Hold`]).
            Transport::Hold => Err(SendError::Transient("no SMTP server configured".into())),
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies and mailing lists
/// leave it alone.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

/// The e-mail of `delivery`, from `from`: plain text and HTML alternatives, and a
/// Message-ID of its own, the same at every attempt, so that a copy sent twice (a
/// crash between sending and recording it) is recognised by mail software.
pub fn message(delivery: &Delivery, from: &Mailbox) -> Result<Message, SendError> {
    let to: Mailbox = delivery.recipient.as_str().parse().map_err(|e| {
        SendError::Permanent(format!("recipient {}: {e}", delivery.recipient.as_str()))
    })?;
    let domain = from.email.domain().to_string();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(delivery.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", delivery.id)))
        .header(AutoSubmitted)
        .multipart(MultiPart::alternative_plain_html(
            delivery.text.clone(),
            delivery.html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))
}
