//! The event bus: one trait with two implementations behind the same tests —
//! [`nats::NatsBus`] (JetStream, production) and [`memory::MemoryBus`] (in-process, the
//! embedded default). Both keep streams of messages captured by subject patterns,
//! de-duplicate on `Nats-Msg-Id`, and serve durable consumers with explicit acks,
//! delivery counts and redelivery.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;

pub mod memory;
pub mod nats;

pub use crate::config::StreamLimits;

/// Message headers, in order. Names compare case-sensitively, as NATS does. Names are
/// mostly the platform's constants, kept without a copy (the relay builds ten headers
/// per event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(Cow<'static, str>, String)>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `headers` without growing: the relay knows how many an event carries.
    pub fn with_capacity(headers: usize) -> Self {
        Self(Vec::with_capacity(headers))
    }

    /// Sets `name`, replacing an earlier value.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// The value of `name`, when set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }
}

impl IntoIterator for Headers {
    type Item = (Cow<'static, str>, String);
    type IntoIter = std::vec::IntoIter<Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The header JetStream de-duplicates on.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// A message to publish.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    /// Full subject, the environment's prefix included.
    pub subject: String,
    /// Its headers; `Nats-Msg-Id` makes a repeat within the window a duplicate.
    pub headers: Headers,
    /// The encoded event.
    pub payload: Bytes,
}

/// The bus stored the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishAck {
    /// The stream that stored it.
    pub stream: String,
    /// Its sequence in that stream (of the first copy, for a duplicate).
    pub sequence: u64,
    /// The message id was seen within the duplicate window: nothing was stored.
    pub duplicate: bool,
}

/// Resolves when the bus acknowledges (or refuses) a published message.
pub type PendingAck = BoxFuture<'static, Result<PublishAck, BusError>>;

/// A stream as the platform wants it; [`Bus::ensure_stream`] makes it so.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    /// Stream name (see [`Subjects::stream_name`]).
    pub name: String,
    /// Subject patterns captured by the stream (`*` one token, `>` the rest).
    pub subjects: Vec<String>,
    /// Window in which a repeated `Nats-Msg-Id` is dropped.
    pub duplicate_window: Duration,
    /// How much it keeps: configuration, see [`StreamLimits`].
    pub limits: StreamLimits,
    /// What the stream does when a limit is reached: the stream's own choice, not
    /// configuration.
    pub discard: Discard,
    /// Messages kept per subject (`None`: all): a private stream keeps only the last
    /// snapshot of each aggregate, so personal data removed at the source leaves it.
    pub max_per_subject: Option<i64>,
}

impl StreamSpec {
    /// The same stream with the configured limits (a spec starts unlimited).
    pub fn with_limits(mut self, limits: StreamLimits) -> Self {
        self.limits = limits;
        self
    }
}

/// What a full stream does with the next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Discard {
    /// Refuses it: the publisher keeps it (the outbox) until there is room, and no
    /// consumer loses an event it has not read yet.
    #[default]
    New,
    /// Stores it and removes the oldest messages (for the dead letters, which must never
    /// block a consumer).
    Old,
}

/// A message as its stream keeps it (a dead letter, read back).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// Its place in the stream.
    pub sequence: u64,
    /// Full subject, the environment's prefix included.
    pub subject: String,
    /// Its headers as published.
    pub headers: Headers,
    /// The encoded event.
    pub payload: Bytes,
}

/// A durable consumer as a consumer runner binds it.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// The stream it reads, which must exist already.
    pub stream: String,
    /// Durable name: the consumer's position survives restarts and is shared by replicas.
    pub durable_name: String,
    /// Only messages whose subject matches one of these patterns are delivered.
    pub filter_subjects: Vec<String>,
    /// A delivered message that is neither acked nor nak'ed within this time is
    /// delivered again.
    pub ack_wait: Duration,
}

/// One delivery of a stored message to a durable consumer.
pub struct Delivery {
    /// Full subject, the environment's prefix included.
    pub subject: String,
    /// The headers as published.
    pub headers: Headers,
    /// The encoded event.
    pub payload: Bytes,
    /// 1 on the first delivery, then counts redeliveries.
    pub delivered: u64,
    /// Its place in the stream: what a dead letter cites to find the original.
    pub stream_sequence: u64,
    /// Settles this delivery; dropped unsettled, it is delivered again after the ack
    /// wait.
    pub acker: Box<dyn Acker>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.subject)
            .field("delivered", &self.delivered)
            .field("stream_sequence", &self.stream_sequence)
            .finish_non_exhaustive()
    }
}

/// How a consumer settles one delivery.
#[async_trait]
pub trait Acker: Send + Sync {
    /// Done: never deliver it again.
    async fn ack(&self) -> Result<(), BusError>;
    /// Not done: deliver it again after `delay`.
    async fn nak(&self, delay: Duration) -> Result<(), BusError>;
    /// Still working on it: restart the ack-wait clock.
    async fn in_progress(&self) -> Result<(), BusError>;
}

/// The deliveries of a durable consumer, in stream order (redeliveries aside).
#[async_trait]
pub trait Subscription: Send {
    /// The next delivery; `None` when the subscription ended.
    async fn next(&mut self) -> Option<Result<Delivery, BusError>>;
}

/// What the platform needs from a bus; the same contract tests run against both
/// implementations.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Creates the stream, or updates its subjects and window; safe to call at every start.
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError>;

    /// Sends a message in order with earlier sends; the returned future resolves with the
    /// bus's acknowledgement. Awaiting several such futures pipelines publishes.
    async fn publish(&self, message: OutgoingMessage) -> Result<PendingAck, BusError>;

    /// Binds to (creating if needed) a durable consumer of an existing stream.
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError>;

    /// Waits until the bus is reachable, or `timeout` passed.
    async fn ready(&self, timeout: Duration) -> Result<(), BusError>;

    /// The messages `stream` keeps whose subject matches `filter`, oldest first, at most
    /// `limit`, read without changing anything; none when the stream does not exist.
    async fn stored(
        &self,
        stream: &str,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, BusError>;

    /// Removes message `sequence` from `stream`; `false` when it was not there.
    async fn remove(&self, stream: &str, sequence: u64) -> Result<bool, BusError>;

    /// `"nats"` or `"in-process"`, for logs.
    fn kind(&self) -> &'static str;

    /// Sends what the client still buffers (consumers' acks), at shutdown.
    async fn flush(&self) -> Result<(), BusError> {
        Ok(())
    }
}

/// Why the bus did not do what was asked; `Unavailable` and `StreamFull` pass with
/// time, the others need a fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BusError {
    /// The bus cannot be reached now; try again later.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// No stream captures the subject (JetStream "no responders").
    #[error("no stream captures subject {0}")]
    NoStream(String),
    /// The stream to consume does not exist (yet: its service creates it at start).
    #[error("stream {0} not found")]
    StreamNotFound(String),
    /// The stream that captures the subject reached its limit, or the server's store is
    /// full: nothing is stored until room returns.
    #[error("stream full: {0}")]
    StreamFull(String),
    /// Anything else: a refused configuration, a permission, a bad header.
    #[error("bus error: {0}")]
    Other(String),
}

/// Whether `subject` matches `pattern`: tokens are separated by `.`, `*` matches exactly
/// one token and `>` (last token only) matches one or more tokens — NATS semantics.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut pattern_tokens = pattern.split('.');
    let mut subject_tokens = subject.split('.');
    loop {
        match (pattern_tokens.next(), subject_tokens.next()) {
            (Some(">"), Some(token)) => return !token.is_empty(),
            (Some("*"), Some(token)) if !token.is_empty() => {}
            (Some(p), Some(s)) if p == s && !s.is_empty() => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The subjects and stream names of one environment (its subject prefix applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// `prefix` is empty or ends with a dot (see [`crate::config::normalize_prefix`]).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix, empty or ending with a dot.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `fabrique.members.member.joined` → `<prefix>fabrique.members.member.joined`.
    pub fn full(&self, subject: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + subject.len());
        full.push_str(&self.prefix);
        full.push_str(subject);
        full
    }

    /// Removes the prefix from a received subject.
    pub fn strip<'a>(&self, subject: &'a str) -> &'a str {
        subject
            .strip_prefix(self.prefix.as_str())
            .unwrap_or(subject)
    }

    /// The stream a service owns: every subject under `fabrique.<service>.`.
    pub fn service_stream(&self, service: &str) -> StreamSpec {
        StreamSpec {
            name: self.stream_name(service),
            subjects: vec![self.full(&format!("fabrique.{service}.>"))],
            duplicate_window: Duration::from_secs(120),
            limits: StreamLimits::default(),
            discard: Discard::New,
            max_per_subject: None,
        }
    }

    /// The stream of a service's personal data (contact e-mails…), kept out of its
    /// public stream, which every service and outside subscriber reads: every subject
    /// under `fabrique.private.<service>.`, one subject per aggregate, of which only the
    /// last message is kept. Only the consumers that need it may read it (`nats.conf`).
    pub fn private_stream(&self, service: &str) -> StreamSpec {
        StreamSpec {
            name: self.private_stream_name(service),
            subjects: vec![self.full(&format!("fabrique.private.{service}.>"))],
            duplicate_window: Duration::from_secs(120),
            limits: StreamLimits::default(),
            discard: Discard::New,
            max_per_subject: Some(1),
        }
    }

    /// `members` → `FABRIQUE_PRIVATE_MEMBERS` (with the prefix).
    pub fn private_stream_name(&self, service: &str) -> String {
        self.stream_name(&format!("private_{service}"))
    }

    /// The stream of dead letters of every service: `fabrique.dlq.<service>`.
    pub fn dlq_stream(&self) -> StreamSpec {
        StreamSpec {
            name: self.stream_name("dlq"),
            subjects: vec![self.full("fabrique.dlq.>")],
            duplicate_window: Duration::from_secs(120),
            limits: StreamLimits::default(),
            discard: Discard::Old,
            max_per_subject: None,
        }
    }

    /// Where `service`'s consumers put their dead letters.
    pub fn dlq_subject(&self, service: &str) -> String {
        self.full(&format!("fabrique.dlq.{service}"))
    }

    /// Stream names cannot hold dots: `staging.` + members → `STAGING_FABRIQUE_MEMBERS`.
    pub fn stream_name(&self, service: &str) -> String {
        format!("{}fabrique_{service}", self.prefix)
            .replace(['.', '-'], "_")
            .to_ascii_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_nats_semantics() {
        assert!(subject_matches("a.b.c", "a.b.c"));
        assert!(!subject_matches("a.b.c", "a.b"));
        assert!(!subject_matches("a.b", "a.b.c"));
        assert!(subject_matches("a.*.c", "a.x.c"));
        assert!(!subject_matches("a.*.c", "a.x.y.c"));
        assert!(subject_matches("a.*", "a.x"));
        assert!(!subject_matches("a.*", "a"));
        assert!(subject_matches("a.>", "a.x"));
        assert!(subject_matches("a.>", "a.x.y.z"));
        assert!(!subject_matches("a.>", "a"));
        assert!(subject_matches(">", "a"));
        assert!(subject_matches("*.b.>", "a.b.c"));
        assert!(!subject_matches("*.b.>", "a.c.c"));
        assert!(!subject_matches("a.*", "a."));
    }

    #[test]
    fn prefixes_apply_to_subjects_and_streams() {
        let subjects = Subjects::new("t-1.");
        assert_eq!(
            subjects.full("fabrique.members.member.joined"),
            "t-1.fabrique.members.member.joined"
        );
        assert_eq!(subjects.strip("t-1.fabrique.x"), "fabrique.x");
        assert_eq!(subjects.stream_name("members"), "T_1_FABRIQUE_MEMBERS");
        assert_eq!(Subjects::new("").stream_name("members"), "FABRIQUE_MEMBERS");
        assert_eq!(subjects.dlq_subject("members"), "t-1.fabrique.dlq.members");
    }

    #[test]
    fn headers_replace_on_insert() {
        let mut headers = Headers::new();
        headers.insert("a", "1");
        headers.insert("b", "2");
        headers.insert("a", "3");
        assert_eq!(headers.get("a"), Some("3"));
        assert_eq!(headers.iter().count(), 2);
    }
}
