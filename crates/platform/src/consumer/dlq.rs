//! Dead letters: an event that can never be handled, or failed `max_deliver` times,
//! goes to `fabrique.dlq.<service>` with headers saying why, and is acked there, so
//! that a poison message never blocks its stream. `fabrique dlq` reads them back.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ConsumerRunner;
use crate::bus::{Delivery, Headers, MSG_ID_HEADER, OutgoingMessage};
use crate::metrics;

/// Header of a dead letter: why it could not be handled.
pub const DLQ_REASON: &str = "fabrique-dlq-reason";
/// Header of a dead letter: the subject it was published on.
pub const DLQ_SUBJECT: &str = "fabrique-dlq-subject";
/// Header of a dead letter: the durable consumer that gave up.
pub const DLQ_CONSUMER: &str = "fabrique-dlq-consumer";
/// Header of a dead letter: how many deliveries were attempted.
pub const DLQ_DELIVERIES: &str = "fabrique-dlq-deliveries";
/// Header of a dead letter: the stream sequence of the original message.
pub const DLQ_STREAM_SEQUENCE: &str = "fabrique-dlq-stream-sequence";

impl ConsumerRunner {
    /// Publishes the message to `fabrique.dlq.<service>` with the reason, then acks it.
    /// Retries until the bus takes it (or shutdown, when the message is handed back).
    pub(super) async fn dead_letter(
        &self,
        delivery: &Delivery,
        deliveries: u64,
        reason: &str,
        shutdown: &CancellationToken,
    ) {
        let message = self.dead_letter_message(delivery, deliveries, reason);
        let mut retry = Duration::from_millis(100);
        loop {
            let published = match self.bus.publish(message.clone()).await {
                Ok(ack) => ack.await,
                Err(error) => Err(error),
            };
            match published {
                Ok(_) => {
                    tracing::warn!(consumer = %self.def.name, subject = %delivery.subject, reason, "event dead-lettered");
                    metrics::event_dead_lettered(
                        &self.def.name,
                        self.subjects.strip(&delivery.subject),
                    );
                    let _ = delivery.acker.ack().await;
                    return;
                }
                Err(error) => {
                    tracing::warn!(consumer = %self.def.name, %error, "cannot publish to the DLQ; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = shutdown.cancelled() => {
                    let _ = delivery.acker.nak(Duration::ZERO).await;
                    return;
                }
            }
            retry = (retry * 2).min(Duration::from_secs(5));
        }
    }

    /// The original headers and payload, with why and where it failed. Its message id
    /// names the consumer and the stream sequence: a letter published twice (a crash
    /// before the ack) is stored once, while two consumers giving up on one event each
    /// leave theirs (under the event's own id, the second would be a duplicate).
    fn dead_letter_message(
        &self,
        delivery: &Delivery,
        deliveries: u64,
        reason: &str,
    ) -> OutgoingMessage {
        let mut headers = Headers::new();
        for (name, value) in delivery.headers.iter() {
            if name != MSG_ID_HEADER {
                headers.insert(name.to_string(), value);
            }
        }
        headers.insert(DLQ_REASON, header_safe(reason));
        headers.insert(DLQ_SUBJECT, delivery.subject.as_str());
        headers.insert(DLQ_CONSUMER, self.def.name.as_str());
        headers.insert(DLQ_DELIVERIES, deliveries.to_string());
        headers.insert(DLQ_STREAM_SEQUENCE, delivery.stream_sequence.to_string());
        headers.insert(
            MSG_ID_HEADER,
            format!("dlq-{}-{}", self.def.name, delivery.stream_sequence),
        );
        OutgoingMessage {
            subject: self.subjects.dlq_subject(self.service),
            headers,
            payload: delivery.payload.clone(),
        }
    }
}

/// Header values are one line of printable text, of bounded size.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(1000)
        .collect()
}
