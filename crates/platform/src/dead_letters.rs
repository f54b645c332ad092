//! The dead letters of the services a process runs, for admins, through
//! `fabrique.operations.v1.DeadLetterService` (every process serves it): read back from
//! `fabrique.dlq.<service>`, and handed again to the consumer that gave up on each, in
//! this process, so that only that consumer sees the event again and no service
//! publishes on another's subjects (which `nats.conf` forbids). A letter leaves the
//! stream once handled.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use fabrique_api::operations as proto;
use fabrique_api::operations::dead_letter_service_server::DeadLetterService;
use tonic::{Request, Response, Status};

use crate::Error;
use crate::bus::{Bus, StoredMessage, Subjects};
use crate::consumer::{
    ConsumerRunner, DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON, DLQ_SUBJECT, Replayed,
};
use crate::event::{CE_ID, CE_TIME, CE_TYPE};
use crate::refusal::Refusal;

/// The most letters a list counts: enough to tell "a few" from "a flood".
const COUNTED: usize = 10_000;

/// The dead letters of the process's services, and the consumers that can take them back.
pub struct DeadLetters {
    bus: Arc<dyn Bus>,
    subjects: Subjects,
    services: Vec<&'static str>,
    runners: RwLock<HashMap<&'static str, Vec<Arc<ConsumerRunner>>>>,
}

/// A dead letter that still cannot be handled: the handler's error, the letter kept.
struct StillFailing {
    consumer: String,
    error: String,
}

impl Refusal for StillFailing {
    fn code(&self) -> &'static str {
        "DEAD_LETTER_STILL_FAILING"
    }

    fn message(&self) -> String {
        format!(
            "{} still cannot handle this event: {}",
            self.consumer, self.error
        )
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        vec![("consumer", self.consumer.clone())]
    }
}

impl DeadLetters {
    /// For `services`, the ones this process runs.
    pub fn new(bus: Arc<dyn Bus>, subjects: Subjects, services: Vec<&'static str>) -> Arc<Self> {
        Arc::new(Self {
            bus,
            subjects,
            services,
            runners: RwLock::default(),
        })
    }

    /// `service`'s consumer, started: its letters can be replayed from now on.
    pub fn register(&self, service: &'static str, runner: Arc<ConsumerRunner>) {
        self.runners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(service)
            .or_default()
            .push(runner);
    }

    fn service(&self, field: &str, service: &str) -> Result<&'static str, Error> {
        self.services
            .iter()
            .copied()
            .find(|s| *s == service)
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    format!(
                        "must name a service this process runs: {}",
                        self.services.join(", ")
                    ),
                )
            })
    }

    async fn letters(&self, service: &str, limit: usize) -> Result<Vec<StoredMessage>, Error> {
        self.bus
            .stored(
                &self.subjects.dlq_stream().name,
                &self.subjects.dlq_subject(service),
                limit,
            )
            .await
            .map_err(|e| Error::unavailable(format!("the dead letters cannot be read: {e}")))
    }

    /// `service`'s dead letters, oldest first, and how many there are.
    pub async fn list(
        &self,
        request: &proto::ListDeadLettersRequest,
    ) -> Result<proto::ListDeadLettersResponse, Error> {
        let service = self.service("service", &request.service)?;
        let page_size = match request.page_size {
            0 => 50,
            n @ 1..=500 => n as usize,
            _ => return Err(Error::invalid("page_size", "must be between 0 and 500")),
        };
        let letters = self.letters(service, COUNTED).await?;
        Ok(proto::ListDeadLettersResponse {
            total_size: i32::try_from(letters.len()).unwrap_or(i32::MAX),
            dead_letters: letters
                .iter()
                .take(page_size)
                .map(|letter| self.to_proto(service, letter))
                .collect(),
        })
    }

    fn to_proto(&self, service: &str, letter: &StoredMessage) -> proto::DeadLetter {
        let header = |name: &str| letter.headers.get(name).unwrap_or_default().to_string();
        proto::DeadLetter {
            name: format!("deadLetters/{service}/{}", letter.sequence),
            consumer: header(DLQ_CONSUMER),
            event_subject: self.subjects.strip(&header(DLQ_SUBJECT)).to_string(),
            event_id: header(CE_ID),
            event_type: header(CE_TYPE),
            reason: header(DLQ_REASON),
            deliveries: header(DLQ_DELIVERIES).parse().unwrap_or_default(),
            event_time: chrono::DateTime::parse_from_rfc3339(&header(CE_TIME))
                .ok()
                .map(|t| crate::time::timestamp(t.to_utc())),
        }
    }

    /// Hands `deadLetters/{service}/{sequence}` to the consumer that gave up on it (or,
    /// for a letter a service's own background work wrote, to its consumer of that
    /// subject), and removes it once handled.
    pub async fn replay(
        &self,
        request: &proto::ReplayDeadLetterRequest,
    ) -> Result<proto::ReplayDeadLetterResponse, Error> {
        let invalid = || Error::invalid("name", "must be deadLetters/{service}/{sequence}");
        let mut parts = request.name.split('/');
        let (Some("deadLetters"), Some(service), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let service = self.service("name", service)?;
        let sequence: u64 = sequence.parse().map_err(|_| invalid())?;
        let letter = self
            .letters(service, COUNTED)
            .await?
            .into_iter()
            .find(|letter| letter.sequence == sequence)
            .ok_or_else(|| Error::not_found(request.name.clone()))?;
        let runner = self.runner_for(service, &letter)?;
        match runner.replay(&letter).await {
            Ok(replayed) => {
                let stream = self.subjects.dlq_stream().name;
                self.bus
                    .remove(&stream, sequence)
                    .await
                    .map_err(|e| Error::unavailable(format!("the letter stays: {e}")))?;
                tracing::info!(letter = %request.name, consumer = runner.name(), ?replayed, "dead letter replayed");
                Ok(proto::ReplayDeadLetterResponse {
                    consumer: runner.name().to_string(),
                    applied: replayed == Replayed::Applied,
                })
            }
            Err(error) => Err(Error::refused(&StillFailing {
                consumer: runner.name().to_string(),
                error,
            })),
        }
    }

    /// The consumer the letter names, else the service's consumer of its subject.
    fn runner_for(
        &self,
        service: &str,
        letter: &StoredMessage,
    ) -> Result<Arc<ConsumerRunner>, Error> {
        let runners = self.runners.read().unwrap_or_else(|e| e.into_inner());
        let runners = runners.get(service).map(Vec::as_slice).unwrap_or_default();
        let named = letter.headers.get(DLQ_CONSUMER).unwrap_or_default();
        let subject = letter.headers.get(DLQ_SUBJECT).unwrap_or_default();
        runners
            .iter()
            .find(|r| r.name() == named)
            .or_else(|| runners.iter().find(|r| r.receives(subject)))
            .cloned()
            .ok_or_else(|| {
                Error::unavailable(format!(
                    "no consumer of {service} takes {subject} here yet (is the service started?)"
                ))
            })
    }
}

/// The gRPC face of [`DeadLetters`]: admins only.
pub struct DeadLetterGrpc(pub Arc<DeadLetters>);

#[tonic::async_trait]
impl DeadLetterService for DeadLetterGrpc {
    async fn list_dead_letters(
        &self,
        request: Request<proto::ListDeadLettersRequest>,
    ) -> Result<Response<proto::ListDeadLettersResponse>, Status> {
        crate::auth::caller(&request)?.require_admin("read the dead letters")?;
        Ok(Response::new(self.0.list(request.get_ref()).await?))
    }

    async fn replay_dead_letter(
        &self,
        request: Request<proto::ReplayDeadLetterRequest>,
    ) -> Result<Response<proto::ReplayDeadLetterResponse>, Status> {
        crate::auth::caller(&request)?.require_admin("replay dead letters")?;
        Ok(Response::new(self.0.replay(request.get_ref()).await?))
    }
}
