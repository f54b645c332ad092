//! `fabrique dlq`: read a service's dead letters and replay them.
//!
//! A dead letter keeps the event's payload and CloudEvents headers, plus `fabrique-dlq-*`
//! headers saying why it failed, where it was published and after how many deliveries
//! (see `fabrique_platform::consumer`). Replaying publishes the event again on its
//! original subject. Every consumer of that stream then sees it again, and those that
//! had applied it skip it (each records the ids of the events it applied in the same
//! transaction as their effect), so a replay only changes what had failed.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use bytes::Bytes;
use fabrique_platform::bus::nats::NatsBus;
use fabrique_platform::bus::{MSG_ID_HEADER, Subjects};
use fabrique_platform::config::{NatsArgs, normalize_prefix};
use fabrique_platform::consumer::{
    DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_STREAM_SEQUENCE, DLQ_SUBJECT,
};
use fabrique_platform::event::{CE_ID, CE_TYPE};
use futures::StreamExt;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print the dead letters, oldest first: DLQ sequence, consumer, original subject,
    /// deliveries, event id and type, and why it failed.
    List {
        /// Only this service's dead letters.
        #[arg(long)]
        service: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        nats: NatsArgs,
    },
    /// Publish dead letters again on their original subjects, then remove them from the
    /// DLQ (unless --keep).
    Replay {
        /// Only this service's dead letters.
        #[arg(long)]
        service: Option<String>,
        /// DLQ sequence numbers (as `list` prints them); repeat the flag for several.
        #[arg(long = "sequence")]
        sequences: Vec<u64>,
        /// Every dead letter (of --service, if given).
        #[arg(long, conflicts_with = "sequences")]
        all: bool,
        /// Keep the dead letters after replaying them.
        #[arg(long)]
        keep: bool,
        #[command(flatten)]
        nats: NatsArgs,
    },
}

/// A message of the DLQ stream.
#[derive(Clone)]
struct Letter {
    sequence: u64,
    headers: HeaderMap,
    payload: Bytes,
}

impl Letter {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.as_str()).unwrap_or("")
    }
}

pub async fn run(action: Action) -> anyhow::Result<()> {
    match action {
        Action::List {
            service,
            json,
            nats,
        } => {
            let dlq = Dlq::connect(&nats, service.as_deref()).await?;
            for letter in dlq.letters().await? {
                print_letter(&letter, json);
            }
            Ok(())
        }
        Action::Replay {
            service,
            sequences,
            all,
            keep,
            nats,
        } => {
            if !all && sequences.is_empty() {
                bail!("say which dead letters to replay: --sequence N (repeatable) or --all");
            }
            let dlq = Dlq::connect(&nats, service.as_deref()).await?;
            let letters = dlq.letters().await?;
            let mut chosen = Vec::new();
            if all {
                chosen.extend(letters);
            } else {
                for wanted in &sequences {
                    let position = letters
                        .iter()
                        .position(|l| l.sequence == *wanted)
                        .ok_or_else(|| {
                            anyhow!("no dead letter with sequence {wanted}{}", dlq.scope())
                        })?;
                    chosen.push(letters[position].clone());
                }
            }
            for letter in &chosen {
                let subject = dlq.replay(letter).await?;
                if !keep {
                    dlq.delete(letter.sequence).await?;
                }
                println!(
                    "replayed {} ({} {}) on {subject}{}",
                    letter.sequence,
                    letter.header(CE_TYPE),
                    letter.header(CE_ID),
                    if keep { ", kept in the DLQ" } else { "" }
                );
            }
            if chosen.is_empty() {
                println!("no dead letters{}", dlq.scope());
            }
            Ok(())
        }
    }
}

fn print_letter(letter: &Letter, json: bool) {
    if json {
        let mut headers = serde_json::Map::new();
        for (name, values) in letter.headers.iter() {
            if let Some(value) = values.first() {
                headers.insert(name.to_string(), value.as_str().into());
            }
        }
        let line = serde_json::json!({
            "sequence": letter.sequence,
            "consumer": letter.header(DLQ_CONSUMER),
            "subject": letter.header(DLQ_SUBJECT),
            "deliveries": letter.header(DLQ_DELIVERIES).parse::<u64>().ok(),
            "stream_sequence": letter.header(DLQ_STREAM_SEQUENCE).parse::<u64>().ok(),
            "id": letter.header(CE_ID),
            "type": letter.header(CE_TYPE),
            "reason": letter.header(DLQ_REASON),
            "payload_bytes": letter.payload.len(),
            "headers": headers,
        });
        println!("{line}");
    } else {
        println!(
            "{}\t{}\t{}\tdeliveries={}\t{}\t{}\t{}",
            letter.sequence,
            letter.header(DLQ_CONSUMER),
            letter.header(DLQ_SUBJECT),
            letter.header(DLQ_DELIVERIES),
            letter.header(CE_ID),
            letter.header(CE_TYPE),
            letter.header(DLQ_REASON),
        );
    }
}

struct Dlq {
    jetstream: jetstream::Context,
    stream: String,
    filter: String,
    service: Option<String>,
}

impl Dlq {
    async fn connect(nats: &NatsArgs, service: Option<&str>) -> anyhow::Result<Self> {
        // Any service may dead-letter an event: the binary's list of services.
        let services: Vec<&str> = fabrique::services::all().iter().map(|s| s.name()).collect();
        if let Some(service) = service
            && !services.contains(&service)
        {
            bail!(
                "--service {service:?} is not one of {}",
                services.join(", ")
            );
        }
        let settings = nats.settings()?.ok_or_else(|| {
            anyhow!("FABRIQUE_NATS_URL is required: dead letters are kept in JetStream")
        })?;
        let subjects = Subjects::new(normalize_prefix(&nats.subject_prefix)?);
        let bus = NatsBus::connect(&settings, "fabrique-dlq")
            .await
            .with_context(|| format!("cannot connect to NATS at {}", settings.url))?;
        let jetstream = jetstream::new(bus.client().clone());
        let filter = match service {
            Some(service) => subjects.dlq_subject(service),
            None => subjects.full("fabrique.dlq.>"),
        };
        Ok(Self {
            jetstream,
            stream: subjects.dlq_stream().name,
            filter,
            service: service.map(str::to_string),
        })
    }

    fn scope(&self) -> String {
        self.service
            .as_ref()
            .map(|s| format!(" for {s}"))
            .unwrap_or_default()
    }

    /// Every dead letter under the filter, oldest first, read with an ordered consumer
    /// (nothing is acknowledged or changed).
    async fn letters(&self) -> anyhow::Result<Vec<Letter>> {
        let stream = match self.jetstream.get_stream(&self.stream).await {
            Ok(stream) => stream,
            Err(error) => {
                if matches!(
                    error.kind(),
                    jetstream::context::GetStreamErrorKind::JetStream(ref j)
                        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                ) {
                    return Ok(Vec::new());
                }
                return Err(anyhow!("cannot read stream {}: {error}", self.stream));
            }
        };
        let mut consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: self.filter.clone(),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .with_context(|| format!("cannot read {}", self.stream))?;
        let mut remaining = consumer.info().await?.num_pending;
        let mut letters = Vec::new();
        if remaining == 0 {
            return Ok(letters);
        }
        let mut messages = consumer.messages().await?;
        while remaining > 0 {
            let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
                .await
                .map_err(|_| anyhow!("timed out reading {}", self.stream))?
                .ok_or_else(|| anyhow!("{} ended early", self.stream))??;
            let info = message.info().map_err(|e| anyhow!("{e}"))?;
            remaining = info.pending;
            letters.push(Letter {
                sequence: info.stream_sequence,
                headers: message.headers.clone().unwrap_or_default(),
                payload: message.payload.clone(),
            });
        }
        Ok(letters)
    }

    /// Publishes the event again on its original subject, without the DLQ headers.
    async fn replay(&self, letter: &Letter) -> anyhow::Result<String> {
        let subject = letter.header(DLQ_SUBJECT).to_string();
        if subject.is_empty() {
            bail!(
                "dead letter {} has no {DLQ_SUBJECT} header",
                letter.sequence
            );
        }
        let mut headers = HeaderMap::new();
        for (name, values) in letter.headers.iter() {
            let name = name.to_string();
            if name.starts_with("fabrique-dlq-") || name == MSG_ID_HEADER {
                continue;
            }
            for value in values {
                headers.append(name.as_str(), value.as_str());
            }
        }
        // Replaying the same dead letter twice within the stream's duplicate window
        // publishes it once.
        headers.insert(
            MSG_ID_HEADER,
            format!("replay-{}-{}", self.stream, letter.sequence).as_str(),
        );
        self.jetstream
            .publish_with_headers(subject.clone(), headers, letter.payload.clone())
            .await
            .with_context(|| format!("cannot publish on {subject}"))?
            .await
            .with_context(|| format!("no stream took {subject}"))?;
        Ok(subject)
    }

    async fn delete(&self, sequence: u64) -> anyhow::Result<()> {
        let stream = self.jetstream.get_stream(&self.stream).await?;
        stream
            .delete_message(sequence)
            .await
            .with_context(|| format!("cannot delete dead letter {sequence}"))?;
        Ok(())
    }
}
