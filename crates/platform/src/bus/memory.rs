//! The in-process bus of the embedded default: streams live in memory, in one process,
//! with the same subject matching, de-duplication and durable-consumer behaviour as
//! JetStream. Nothing survives a restart; the outbox still guarantees that an event
//! committed before a crash is published after it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{
    Acker, Bus, BusError, ConsumerSpec, Delivery, Headers, MSG_ID_HEADER, OutgoingMessage,
    PendingAck, PublishAck, StoredMessage, StreamSpec, Subscription, subject_matches,
};

/// Oldest messages are dropped beyond this, like a JetStream `max_msgs` limit, so a
/// long-running embedded process keeps bounded memory.
const MAX_MESSAGES_PER_STREAM: usize = 1_000_000;

/// The in-process bus: streams and durable consumers kept in memory, for one process
/// (the embedded default and tests). Clones share the same streams.
#[derive(Clone, Default)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    /// Woken on every publish, ack and nak; waiters re-check their state.
    changed: Notify,
}

#[derive(Default)]
struct State {
    streams: HashMap<String, Stream>,
    consumers: HashMap<(String, String), ConsumerState>,
}

struct Stream {
    spec: StreamSpec,
    /// Sequence of `messages[0]`.
    first_seq: u64,
    messages: std::collections::VecDeque<Stored>,
    recent_ids: HashMap<String, (u64, Instant)>,
}

struct Stored {
    subject: String,
    headers: Headers,
    payload: Bytes,
    /// Removed ([`Bus::remove`]): kept as a hole so that sequences stay positions.
    removed: bool,
}

struct ConsumerState {
    filters: Vec<String>,
    ack_wait: Duration,
    /// Next stream sequence not yet delivered.
    next_seq: u64,
    /// Delivered, not yet acked: sequence → (deliveries so far, when to deliver again).
    outstanding: BTreeMap<u64, (u64, Instant)>,
}

impl MemoryBus {
    /// An empty bus: its streams are created by the services that start on it.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner)
    }
}

fn lock(inner: &Inner) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves plain data behind; keep serving it.
    inner
        .state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Stream {
    fn last_seq(&self) -> u64 {
        self.first_seq + self.messages.len() as u64 - 1
    }

    fn get(&self, seq: u64) -> Option<&Stored> {
        let index = seq.checked_sub(self.first_seq)?;
        self.messages
            .get(usize::try_from(index).ok()?)
            .filter(|stored| !stored.removed)
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        let mut state = self.lock();
        for (name, other) in &state.streams {
            if *name != spec.name
                && other
                    .spec
                    .subjects
                    .iter()
                    .any(|s| spec.subjects.contains(s))
            {
                return Err(BusError::Other(format!(
                    "subjects of stream {} overlap stream {name}",
                    spec.name
                )));
            }
        }
        state
            .streams
            .entry(spec.name.clone())
            .and_modify(|stream| stream.spec = spec.clone())
            .or_insert_with(|| Stream {
                spec: spec.clone(),
                first_seq: 1,
                messages: Default::default(),
                recent_ids: HashMap::new(),
            });
        Ok(())
    }

    async fn publish(&self, message: OutgoingMessage) -> Result<PendingAck, BusError> {
        let ack = {
            let mut state = self.lock();
            let stream = state
                .streams
                .values_mut()
                .find(|s| {
                    s.spec
                        .subjects
                        .iter()
                        .any(|p| subject_matches(p, &message.subject))
                })
                .ok_or_else(|| BusError::NoStream(message.subject.clone()))?;
            let now = Instant::now();
            let window = stream.spec.duplicate_window;
            stream
                .recent_ids
                .retain(|_, (_, at)| now.duration_since(*at) < window);
            let msg_id = message.headers.get(MSG_ID_HEADER).map(str::to_owned);
            match msg_id.as_ref().and_then(|id| stream.recent_ids.get(id)) {
                Some((seq, _)) => PublishAck {
                    stream: stream.spec.name.clone(),
                    sequence: *seq,
                    duplicate: true,
                },
                None => {
                    stream.messages.push_back(Stored {
                        subject: message.subject,
                        headers: message.headers,
                        payload: message.payload,
                        removed: false,
                    });
                    if stream.messages.len() > MAX_MESSAGES_PER_STREAM {
                        stream.messages.pop_front();
                        stream.first_seq += 1;
                    }
                    let seq = stream.last_seq();
                    if let Some(id) = msg_id {
                        stream.recent_ids.insert(id, (seq, now));
                    }
                    PublishAck {
                        stream: stream.spec.name.clone(),
                        sequence: seq,
                        duplicate: false,
                    }
                }
            }
        };
        self.inner.changed.notify_waiters();
        Ok(Box::pin(async move { Ok(ack) }))
    }

    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        let mut state = self.lock();
        if !state.streams.contains_key(&spec.stream) {
            return Err(BusError::StreamNotFound(spec.stream.clone()));
        }
        let key = (spec.stream.clone(), spec.durable_name.clone());
        let consumer = state
            .consumers
            .entry(key.clone())
            .or_insert_with(|| ConsumerState {
                filters: Vec::new(),
                ack_wait: spec.ack_wait,
                next_seq: 1,
                outstanding: BTreeMap::new(),
            });
        consumer.filters = spec.filter_subjects.clone();
        consumer.ack_wait = spec.ack_wait;
        Ok(Box::new(MemorySubscription {
            inner: self.inner.clone(),
            key,
        }))
    }

    async fn ready(&self, _timeout: Duration) -> Result<(), BusError> {
        Ok(())
    }

    async fn stored(
        &self,
        stream: &str,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, BusError> {
        let state = self.lock();
        let Some(stream) = state.streams.get(stream) else {
            return Ok(Vec::new());
        };
        Ok(
            (stream.first_seq..stream.first_seq + stream.messages.len() as u64)
                .filter_map(|seq| stream.get(seq).map(|stored| (seq, stored)))
                .filter(|(_, stored)| subject_matches(filter, &stored.subject))
                .take(limit)
                .map(|(sequence, stored)| StoredMessage {
                    sequence,
                    subject: stored.subject.clone(),
                    headers: stored.headers.clone(),
                    payload: stored.payload.clone(),
                })
                .collect(),
        )
    }

    async fn remove(&self, stream: &str, sequence: u64) -> Result<bool, BusError> {
        let mut state = self.lock();
        let Some(stream) = state.streams.get_mut(stream) else {
            return Ok(false);
        };
        let Some(index) = sequence
            .checked_sub(stream.first_seq)
            .and_then(|i| usize::try_from(i).ok())
        else {
            return Ok(false);
        };
        Ok(match stream.messages.get_mut(index) {
            Some(stored) if !stored.removed => {
                stored.removed = true;
                stored.payload = Bytes::new();
                true
            }
            _ => false,
        })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}

struct MemorySubscription {
    inner: Arc<Inner>,
    key: (String, String),
}

impl MemorySubscription {
    /// The next delivery if one is due now, else when to look again.
    fn poll_once(&self) -> Result<Result<Delivery, Option<Instant>>, BusError> {
        let mut guard = lock(&self.inner);
        let state = &mut *guard;
        let stream = state
            .streams
            .get(&self.key.0)
            .ok_or_else(|| BusError::StreamNotFound(self.key.0.clone()))?;
        let consumer = state
            .consumers
            .get_mut(&self.key)
            .ok_or_else(|| BusError::Other("consumer deleted".into()))?;
        let now = Instant::now();

        // Redeliveries first, oldest sequence first, as JetStream does.
        let due = consumer
            .outstanding
            .iter()
            .find(|(_, (_, at))| *at <= now)
            .map(|(seq, _)| *seq);
        if let Some(seq) = due {
            match stream.get(seq) {
                Some(stored) => {
                    let entry = consumer.outstanding.get_mut(&seq).expect("found above");
                    entry.0 += 1;
                    entry.1 = now + consumer.ack_wait;
                    return Ok(Ok(self.delivery(seq, entry.0, stored)));
                }
                None => {
                    consumer.outstanding.remove(&seq);
                }
            }
        }

        let last = if stream.messages.is_empty() {
            0
        } else {
            stream.last_seq()
        };
        let mut seq = consumer.next_seq.max(stream.first_seq);
        while seq <= last {
            // A removed message is a hole: nothing to deliver.
            if let Some(stored) = stream.get(seq)
                && (consumer.filters.is_empty()
                    || consumer
                        .filters
                        .iter()
                        .any(|f| subject_matches(f, &stored.subject)))
            {
                consumer.next_seq = seq + 1;
                consumer
                    .outstanding
                    .insert(seq, (1, now + consumer.ack_wait));
                return Ok(Ok(self.delivery(seq, 1, stored)));
            }
            seq += 1;
        }
        consumer.next_seq = seq;
        Ok(Err(consumer.outstanding.values().map(|(_, at)| *at).min()))
    }

    fn delivery(&self, seq: u64, delivered: u64, stored: &Stored) -> Delivery {
        Delivery {
            subject: stored.subject.clone(),
            headers: stored.headers.clone(),
            payload: stored.payload.clone(),
            delivered,
            stream_sequence: seq,
            acker: Box::new(MemoryAcker {
                inner: self.inner.clone(),
                key: self.key.clone(),
                seq,
            }),
        }
    }
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.poll_once() {
                Err(error) => return Some(Err(error)),
                Ok(Ok(delivery)) => return Some(Ok(delivery)),
                Ok(Err(Some(at))) => {
                    tokio::select! {
                        _ = changed => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                Ok(Err(None)) => changed.await,
            }
        }
    }
}

struct MemoryAcker {
    inner: Arc<Inner>,
    key: (String, String),
    seq: u64,
}

impl MemoryAcker {
    fn update(&self, f: impl FnOnce(&mut BTreeMap<u64, (u64, Instant)>, Duration)) {
        {
            let mut state = lock(&self.inner);
            if let Some(consumer) = state.consumers.get_mut(&self.key) {
                let ack_wait = consumer.ack_wait;
                f(&mut consumer.outstanding, ack_wait);
            }
        }
        self.inner.changed.notify_waiters();
    }
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(&self) -> Result<(), BusError> {
        let seq = self.seq;
        self.update(|outstanding, _| {
            outstanding.remove(&seq);
        });
        Ok(())
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        let seq = self.seq;
        self.update(|outstanding, _| {
            if let Some(entry) = outstanding.get_mut(&seq) {
                entry.1 = Instant::now() + delay;
            }
        });
        Ok(())
    }

    async fn in_progress(&self) -> Result<(), BusError> {
        let seq = self.seq;
        self.update(|outstanding, ack_wait| {
            if let Some(entry) = outstanding.get_mut(&seq) {
                entry.1 = Instant::now() + ack_wait;
            }
        });
        Ok(())
    }
}
