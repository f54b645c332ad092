//! The e-mail sender: the notify service's background work, on every replica. It takes
//! the deliveries that are due (a lease, so that two replicas never send one at once),
//! sends each, and records the outcome: sent; failed for now, tried again after a wait
//! that doubles ([`Retry`]); or given up — after its last attempt, or at once on a
//! permanent refusal — with a dead letter on `fabrique.dlq.notify` that an operator can
//! replay (`fabrique dlq replay`), which makes it pending again.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fabrique_api::notify as proto;
use fabrique_platform::bus::{Bus, Headers, MSG_ID_HEADER, OutgoingMessage, Subjects};
use fabrique_platform::consumer::{
    DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_STREAM_SEQUENCE, DLQ_SUBJECT,
};
use fabrique_platform::event::{event_headers, source_of};
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::{now, timestamp};
use lettre::message::Mailbox;
use prost::Message as _;
use sea_orm::{DatabaseConnection, DbErr};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{Delivery, Retry};
use crate::store;
use crate::transport::{self, SendError, Transport};

/// The subject a replayed dead letter comes back on.
pub const GIVEN_UP: &str = "fabrique.notify.delivery.given_up";
/// The name dead letters give as their consumer.
pub const SENDER: &str = "notify-sender";

/// How often an idle sender looks for due e-mails: the delay between an event and its
/// e-mail, for the price of one indexed query.
const POLL: Duration = Duration::from_millis(250);
/// Due e-mails taken per pass.
const BATCH: u64 = 20;
/// How long a sender holds an e-mail it is sending: longer than an SMTP exchange may
/// take, so that another replica takes it over only from a sender that died.
const LEASE: Duration = Duration::from_secs(90);

/// Sends the e-mails notify writes.
pub struct Sender {
    /// Notify's database.
    pub db: DatabaseConnection,
    /// Where e-mails go.
    pub transport: Transport,
    /// Who they are from.
    pub from: Mailbox,
    /// How failures are retried.
    pub retry: Retry,
    /// For the dead letters.
    pub bus: Arc<dyn Bus>,
    /// The environment's subjects.
    pub subjects: Subjects,
}

impl Sender {
    /// Sends what is due until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let taken = match self.pass(&stop).await {
                Ok(taken) => taken,
                Err(error) => {
                    tracing::warn!(%error, "notify: cannot read the e-mails to send");
                    0
                }
            };
            if taken as u64 == BATCH {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// One look at what is due; how many deliveries it found.
    async fn pass(&self, stop: &CancellationToken) -> Result<usize, DbErr> {
        let due = store::due(&self.db, now(), BATCH).await?;
        let found = due.len();
        for delivery in due {
            if stop.is_cancelled() {
                break;
            }
            let at = now();
            let until = at + chrono::Duration::from_std(LEASE).unwrap_or_default();
            if store::lease(&self.db, delivery.id, at, until).await? {
                self.attempt(delivery, stop).await?;
            }
        }
        Ok(found)
    }

    async fn attempt(&self, delivery: Delivery, stop: &CancellationToken) -> Result<(), DbErr> {
        let attempts = delivery.attempts + 1;
        let sent = match transport::message(&delivery, &self.from) {
            Ok(message) => self.transport.send(delivery.id, message).await,
            Err(error) => Err(error),
        };
        match sent {
            Ok(()) => {
                tracing::info!(delivery = %delivery.id, kind = %delivery.kind, "e-mail sent");
                store::mark_sent(&self.db, delivery.id, attempts, now()).await
            }
            Err(SendError::Transient(error))
                if !self.retry.gives_up_after(attempts.unsigned_abs()) =>
            {
                let wait = self.retry.wait_after(attempts.unsigned_abs());
                tracing::warn!(delivery = %delivery.id, attempts, %error, retry_in = ?wait, "e-mail not sent");
                let next = now() + chrono::Duration::from_std(wait).unwrap_or_default();
                store::mark_retry(&self.db, delivery.id, attempts, next, &error).await
            }
            Err(error) => {
                let error = error.to_string();
                tracing::warn!(delivery = %delivery.id, attempts, %error, "e-mail given up");
                if self.dead_letter(&delivery, attempts, &error, stop).await {
                    store::mark_failed(&self.db, delivery.id, attempts, &error).await
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Publishes the given-up delivery to the dead letters (retrying until the bus takes
    /// it); `false` when stopped first, leaving the delivery pending.
    async fn dead_letter(
        &self,
        delivery: &Delivery,
        attempts: i32,
        error: &str,
        stop: &CancellationToken,
    ) -> bool {
        let message = self.letter(delivery, attempts, error);
        let mut wait = Duration::from_millis(100);
        loop {
            let published = match self.bus.publish(message.clone()).await {
                Ok(ack) => ack.await,
                Err(error) => Err(error),
            };
            match published {
                Ok(_) => {
                    fabrique_platform::metrics::event_dead_lettered(SENDER, GIVEN_UP);
                    return true;
                }
                Err(error) => {
                    tracing::warn!(%error, "notify: cannot publish a dead letter; retrying")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => return false,
            }
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// A `DeliveryGivenUp` event with the dead-letter headers: replayed, it comes back
    /// on [`GIVEN_UP`]. Its message id names the delivery and the attempt, so a letter
    /// published twice for one give-up is stored once.
    fn letter(&self, delivery: &Delivery, attempts: i32, error: &str) -> OutgoingMessage {
        let at = now();
        let event = proto::DeliveryGivenUp {
            delivery: delivery.name(),
            event_id: delivery.event_id.to_string(),
            kind: delivery.kind.to_proto_i32(),
            attempts,
            error: error.to_string(),
            occurred_at: Some(timestamp(at)),
        };
        let mut headers: Headers = event_headers(
            Uuid::now_v7(),
            &source_of(crate::NAME),
            &<proto::DeliveryGivenUp as prost::Name>::full_name(),
            &delivery.name(),
            at,
        );
        let reason: String = error
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(1000)
            .collect();
        headers.insert(DLQ_REASON, reason);
        headers.insert(DLQ_SUBJECT, self.subjects.full(GIVEN_UP));
        headers.insert(DLQ_CONSUMER, SENDER);
        headers.insert(DLQ_DELIVERIES, attempts.to_string());
        headers.insert(DLQ_STREAM_SEQUENCE, "0");
        headers.insert(
            MSG_ID_HEADER,
            format!("notify-given-up-{}-{attempts}", delivery.id),
        );
        OutgoingMessage {
            subject: self.subjects.dlq_subject(crate::NAME),
            headers,
            payload: Bytes::from(event.encode_to_vec()),
        }
    }
}
