//! A dead letter handled again on request (an admin's `ReplayDeadLetter`) by the
//! consumer that gave up on it: the transaction of a delivery (its id recorded, then the
//! handler), once and now, so that whoever asked learns at once whether it went through.
//! Only that consumer sees the event again; the others handled it long ago.

use super::ConsumerRunner;
use super::apply::{Failure, Outcome};
use super::dlq::DLQ_SUBJECT;
use super::transaction::LaneDb;
use crate::bus::StoredMessage;
use crate::event::IncomingEvent;
use crate::metrics;

/// What handling a dead letter again did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replayed {
    /// The handler applied it.
    Applied,
    /// Its id was recorded already (handled since, by a replay or a redelivery).
    AlreadyHandled,
}

impl ConsumerRunner {
    /// The consumer's durable name.
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// Whether this consumer receives events published on `subject` (full).
    pub fn receives(&self, subject: &str) -> bool {
        self.def
            .subjects
            .iter()
            .any(|pattern| crate::bus::subject_matches(&self.subjects.full(pattern), subject))
    }

    /// Handles `letter`, a dead letter of this consumer, once; the reason when it still
    /// cannot be handled (nothing is changed then).
    pub async fn replay(&self, letter: &StoredMessage) -> Result<Replayed, String> {
        let full = letter
            .headers
            .get(DLQ_SUBJECT)
            .ok_or_else(|| format!("the dead letter has no {DLQ_SUBJECT} header"))?;
        let subject = self.subjects.strip(full).to_string();
        let event = IncomingEvent::parse(&subject, &letter.headers, letter.payload.clone())?;
        let mut lane = LaneDb::new(self.db.clone());
        let applied = self.apply(&mut lane, &event).await;
        lane.release().await;
        match applied {
            Ok(outcome) => {
                metrics::event_consumed(&self.def.name, &subject, outcome.label());
                Ok(match outcome {
                    Outcome::Applied => Replayed::Applied,
                    Outcome::Duplicate => Replayed::AlreadyHandled,
                })
            }
            Err(Failure::Handler(error)) => Err(error.to_string()),
            Err(Failure::Unavailable(error)) => Err(format!("database unavailable: {error}")),
        }
    }
}
