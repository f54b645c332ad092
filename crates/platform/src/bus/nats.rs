//! The production bus: NATS JetStream through async-nats. Publishes are pipelined (the
//! returned future awaits the PubAck); consumers are durable pull consumers with
//! explicit acks, which survive restarts and are shared by replicas.

use std::borrow::Cow;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, message::PublishMessage, stream};
use async_trait::async_trait;
use futures::StreamExt;

use super::{
    Acker, Bus, BusError, ConsumerSpec, Delivery, Discard, Headers, OutgoingMessage, PendingAck,
    PublishAck, StoredMessage, StreamSpec, Subscription,
};
use crate::config::NatsSettings;

/// The JetStream bus; clones share one connection.
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream_replicas: usize,
}

impl NatsBus {
    /// Connects in the background: the call returns at once, and the client keeps
    /// reconnecting forever, so a service starts (NOT_SERVING) while NATS is down.
    pub async fn connect(settings: &NatsSettings, client_name: &str) -> Result<Self, BusError> {
        let mut options = match &settings.credentials {
            Some(path) => async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| {
                    BusError::Other(format!("NATS credentials file {}: {e}", path.display()))
                })?,
            None => async_nats::ConnectOptions::new(),
        };
        if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
            options = options.user_and_password(user.clone(), password.expose().to_string());
        }
        if let Some(ca) = &settings.tls_ca {
            options = options.add_root_certificates(ca.clone());
        }
        if let Some(prefix) = &settings.inbox_prefix {
            options = options.custom_inbox_prefix(prefix);
        }
        let client = options
            .name(client_name)
            .require_tls(settings.tls_required)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(3))
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(
                    (100 * 2u64.saturating_pow(attempts.min(6) as u32)).min(2_000),
                )
            })
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => tracing::info!("connected to NATS"),
                    async_nats::Event::Disconnected => tracing::warn!("disconnected from NATS"),
                    // Permission violations, slow consumers: the server refused something.
                    async_nats::Event::ServerError(error) => {
                        tracing::warn!(error = %error, "NATS server error")
                    }
                    other => tracing::info!(event = %other, "NATS event"),
                }
            })
            .connect(settings.url.as_str())
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .max_ack_inflight(4096)
            .backpressure_on_inflight(true)
            .build(client.clone());
        Ok(Self {
            client,
            jetstream,
            stream_replicas: settings.stream_replicas.max(1),
        })
    }

    /// The connection, for tools that need more of JetStream than the [`Bus`] trait
    /// (`fabrique dlq` reads and deletes dead letters).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    fn connected(&self) -> bool {
        matches!(
            self.client.connection_state(),
            async_nats::connection::State::Connected
        )
    }

    /// A failure about `spec`'s stream: while disconnected, `Unavailable` (the caller
    /// waits for NATS); connected, the stream's own problem, named.
    fn stream_error(&self, spec: &StreamSpec, error: String) -> BusError {
        if self.connected() {
            BusError::Other(format!("stream {}: {error}", spec.name))
        } else {
            BusError::Unavailable(error)
        }
    }

    /// The byte limit to give `spec`'s stream (`-1`: none): the configured one, unless
    /// the stream already holds more. JetStream makes room for a lowered limit by
    /// deleting the oldest messages, which consumers may not have read: a limit below
    /// what the stream holds keeps the stream's current one until the operator frees
    /// room.
    async fn byte_limit_to_set(&self, spec: &StreamSpec, max_bytes: i64) -> Result<i64, BusError> {
        match self.jetstream.get_stream(&spec.name).await {
            Ok(mut stream) => {
                let info = stream
                    .info()
                    .await
                    .map_err(|e| self.stream_error(spec, e.to_string()))?;
                let held = i64::try_from(info.state.bytes).unwrap_or(i64::MAX);
                let current = info.config.max_bytes;
                if max_bytes >= 0 && held > max_bytes {
                    tracing::warn!(
                        stream = %spec.name,
                        held_bytes = held,
                        configured_max_bytes = max_bytes,
                        kept_max_bytes = current,
                        "the configured stream limit is below what the stream holds: the current \
                         limit is kept, since lowering it would delete events"
                    );
                    return Ok(current);
                }
                Ok(max_bytes)
            }
            Err(error)
                if matches!(
                    error.kind(),
                    jetstream::context::GetStreamErrorKind::JetStream(ref j)
                        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                ) =>
            {
                Ok(max_bytes)
            }
            Err(error) => Err(self.stream_error(spec, error.to_string())),
        }
    }
}

/// Moves the values and borrows the static names: the relay sends ten headers with
/// every event, and copying each name and value again was a tenth of its time.
fn to_nats_headers(headers: Headers) -> Result<async_nats::HeaderMap, BusError> {
    let mut map = async_nats::HeaderMap::new();
    for (name, value) in headers {
        let name = match name {
            Cow::Borrowed(name) => async_nats::header::HeaderName::from_static(name),
            Cow::Owned(name) => name
                .parse()
                .map_err(|e| BusError::Other(format!("header name {name:?}: {e}")))?,
        };
        map.insert(name, value);
    }
    Ok(map)
}

fn from_nats_headers(map: Option<&async_nats::HeaderMap>) -> Headers {
    let mut headers = Headers::new();
    if let Some(map) = map {
        for (name, values) in map.iter() {
            if let Some(value) = values.first() {
                headers.insert(name.to_string(), value.as_str());
            }
        }
    }
    headers
}

#[async_trait]
impl Bus for NatsBus {
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        let max_bytes = spec
            .limits
            .max_bytes
            .map_or(-1, |bytes| i64::try_from(bytes).unwrap_or(i64::MAX));
        let max_bytes = self.byte_limit_to_set(spec, max_bytes).await?;
        let config = stream::Config {
            name: spec.name.clone(),
            subjects: spec.subjects.clone(),
            duplicate_window: spec.duplicate_window,
            storage: stream::StorageType::File,
            num_replicas: self.stream_replicas,
            max_bytes,
            max_age: spec.limits.max_age.unwrap_or_default(),
            discard: match spec.discard {
                Discard::New => stream::DiscardPolicy::New,
                Discard::Old => stream::DiscardPolicy::Old,
            },
            max_messages_per_subject: spec.max_per_subject.unwrap_or(-1),
            ..Default::default()
        };
        self.jetstream
            .create_or_update_stream(config)
            .await
            .map(|_| ())
            .map_err(|e| {
                let text = e.to_string();
                if text.contains("insufficient storage") {
                    self.stream_error(
                        spec,
                        format!(
                            "{text}: the stream's byte limit does not fit in what the JetStream \
                             store has left (max_file_store, less the other streams' limits)"
                        ),
                    )
                } else {
                    self.stream_error(spec, text)
                }
            })
    }

    async fn publish(&self, message: OutgoingMessage) -> Result<PendingAck, BusError> {
        let publish = PublishMessage::build()
            .payload(message.payload)
            .headers(to_nats_headers(message.headers)?);
        let subject = message.subject;
        let pending = self
            .jetstream
            .send_publish(subject.clone(), publish)
            .await
            .map_err(|e| publish_error(&subject, e))?;
        Ok(Box::pin(async move {
            let ack = pending.await.map_err(|e| publish_error(&subject, e))?;
            Ok(PublishAck {
                stream: ack.stream,
                sequence: ack.sequence,
                duplicate: ack.duplicate,
            })
        }))
    }

    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        let stream = self
            .jetstream
            .get_stream(&spec.stream)
            .await
            .map_err(|e| match e.kind() {
                jetstream::context::GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    BusError::StreamNotFound(spec.stream.clone())
                }
                _ => BusError::Unavailable(e.to_string()),
            })?;
        let (filter_subject, filter_subjects) = match spec.filter_subjects.as_slice() {
            [one] => (one.clone(), Vec::new()),
            many => (String::new(), many.to_vec()),
        };
        let config = pull::Config {
            durable_name: Some(spec.durable_name.clone()),
            filter_subject,
            filter_subjects,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            // The consumer runner counts deliveries itself and dead-letters; the server
            // must keep redelivering until it does.
            max_deliver: -1,
            max_ack_pending: 1024,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        };
        let consumer: jetstream::consumer::Consumer<pull::Config> =
            match stream.create_consumer(config.clone()).await {
                Ok(consumer) => consumer,
                Err(_) => stream
                    .update_consumer(config)
                    .await
                    .map_err(|e| BusError::Other(format!("consumer {}: {e}", spec.durable_name)))?,
            };
        // Messages are handled one at a time: a small batch keeps those waiting in the
        // client well within their ack wait.
        let messages = consumer
            .stream()
            .max_messages_per_batch(64)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        Ok(Box::new(NatsSubscription { messages }))
    }

    async fn ready(&self, timeout: Duration) -> Result<(), BusError> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.connected() {
            if tokio::time::Instant::now() >= deadline {
                return Err(BusError::Unavailable("not connected to NATS".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Through a short-lived consumer of its own with no acks: its name and filter are
    /// in the subject of its creation, which `nats.conf` lets each service make on the
    /// dead letters for its own subject only.
    async fn stored(
        &self,
        stream: &str,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, BusError> {
        let stream = match self.jetstream.get_stream_no_info(stream).await {
            Ok(stream) => stream,
            Err(error) => return Err(BusError::Unavailable(error.to_string())),
        };
        let config = pull::Config {
            name: Some(format!("read-{}", uuid::Uuid::new_v4().simple())),
            filter_subject: filter.to_string(),
            ack_policy: jetstream::consumer::AckPolicy::None,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            inactive_threshold: Duration::from_secs(30),
            memory_storage: true,
            ..Default::default()
        };
        let mut consumer = match stream.create_consumer(config).await {
            Ok(consumer) => consumer,
            Err(error) if error.to_string().contains("stream not found") => {
                return Ok(Vec::new());
            }
            Err(error) => return Err(BusError::Other(format!("reading {filter}: {error}"))),
        };
        let pending = consumer
            .info()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?
            .num_pending;
        let wanted = usize::try_from(pending).unwrap_or(usize::MAX).min(limit);
        let mut stored = Vec::with_capacity(wanted);
        if wanted > 0 {
            let mut messages = consumer
                .fetch()
                .max_messages(wanted)
                .expires(Duration::from_secs(5))
                .messages()
                .await
                .map_err(|e| BusError::Unavailable(e.to_string()))?;
            while let Some(message) = messages.next().await {
                let message = message.map_err(|e| BusError::Unavailable(e.to_string()))?;
                let info = message.info().map_err(|e| BusError::Other(e.to_string()))?;
                stored.push(StoredMessage {
                    sequence: info.stream_sequence,
                    subject: message.subject.to_string(),
                    headers: from_nats_headers(message.headers.as_ref()),
                    payload: message.payload.clone(),
                });
            }
        }
        let name = consumer.cached_info().name.clone();
        let _ = stream.delete_consumer(&name).await;
        Ok(stored)
    }

    async fn remove(&self, stream: &str, sequence: u64) -> Result<bool, BusError> {
        let stream = self
            .jetstream
            .get_stream_no_info(stream)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        match stream.delete_message(sequence).await {
            Ok(removed) => Ok(removed),
            Err(error) if error.to_string().contains("no message found") => Ok(false),
            Err(error) => Err(BusError::Other(error.to_string())),
        }
    }

    fn kind(&self) -> &'static str {
        "nats"
    }

    async fn flush(&self) -> Result<(), BusError> {
        self.client
            .flush()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }
}

fn publish_error(subject: &str, error: jetstream::context::PublishError) -> BusError {
    use jetstream::context::PublishErrorKind as Kind;
    match error.kind() {
        Kind::StreamNotFound => BusError::NoStream(subject.to_string()),
        Kind::TimedOut | Kind::BrokenPipe | Kind::MaxAckPending => {
            BusError::Unavailable(error.to_string())
        }
        _ if is_full(&error) => BusError::StreamFull(format!("{subject}: {error}")),
        _ => BusError::Other(error.to_string()),
    }
}

/// JetStream's answer when the stream reached its limits with the `new` discard policy
/// (10077, "maximum bytes exceeded") or the server's store has no room left (10023,
/// "insufficient resources").
fn is_full(error: &jetstream::context::PublishError) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<jetstream::Error>())
        .is_some_and(|j| {
            matches!(
                j.error_code(),
                jetstream::ErrorCode::STREAM_STORE_FAILED
                    | jetstream::ErrorCode::INSUFFICIENT_RESOURCES
            )
        })
}

struct NatsSubscription {
    messages: pull::Stream,
}

#[async_trait]
impl Subscription for NatsSubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        let message = match self.messages.next().await? {
            Ok(message) => message,
            Err(error) => return Some(Err(BusError::Unavailable(error.to_string()))),
        };
        let (delivered, stream_sequence) = match message.info() {
            Ok(info) => (
                u64::try_from(info.delivered).unwrap_or(1),
                info.stream_sequence,
            ),
            Err(error) => return Some(Err(BusError::Other(error.to_string()))),
        };
        let (message, acker) = message.split();
        Some(Ok(Delivery {
            subject: message.subject.to_string(),
            headers: from_nats_headers(message.headers.as_ref()),
            payload: message.payload,
            delivered,
            stream_sequence,
            acker: Box::new(NatsAcker(acker)),
        }))
    }
}

struct NatsAcker(jetstream::message::Acker);

#[async_trait]
impl Acker for NatsAcker {
    async fn ack(&self) -> Result<(), BusError> {
        // A plain ack: waiting for the server to confirm each one held a lane for a
        // round trip after every transaction (event-latency at 500/s: p50 7-10 ms with
        // confirmed acks, 4 ms without). An ack lost on the way is a redelivery, which
        // the processed-event record turns into a duplicate that changes nothing.
        self.0
            .ack()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.0
            .ack_with(jetstream::AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }

    async fn in_progress(&self) -> Result<(), BusError> {
        self.0
            .ack_with(jetstream::AckKind::Progress)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }
}
