//! The administration page's "Événements en échec": each service's dead letters (the
//! events one of its consumers gave up on), asked of the process that runs it, with what
//! happened and why it failed; "Traiter à nouveau" hands one back to that consumer
//! (`ReplayDeadLetter`).

use fabrique_api::operations as op;

use crate::Web;
use crate::api::authed;
use crate::fr;
use crate::texts::Texts;

/// The subject of an e-mail notify gave up on (`fabrique.dlq.notify`).
const GIVEN_UP_E_MAIL: &str = "fabrique.notify.delivery.given_up";

/// One service's part of the section.
pub struct ServiceLetters {
    /// `Projets : 2 événements en échec`, or that the service did not answer.
    pub heading: String,
    /// Its dead letters, oldest first; empty when it did not answer.
    pub rows: Vec<LetterRow>,
}

/// A dead letter as the table shows it.
pub struct LetterRow {
    /// `deadLetters/{service}/{sequence}`.
    pub name: String,
    /// What happened, in French when the site knows the event.
    pub what: String,
    /// When it happened, Paris time.
    pub when: String,
    /// The consumer that gave up.
    pub consumer: String,
    /// Why, as the consumer said it.
    pub reason: String,
    /// How many times it was tried.
    pub deliveries: String,
}

/// The dead letters of every service that has some, or that did not answer.
pub async fn sections(web: &Web, token: &str) -> Vec<ServiceLetters> {
    let t = web.texts;
    let mut sections = Vec::new();
    for (service, mut client) in web.api.dead_letters() {
        let label = t.administration.service_label(service);
        let request = op::ListDeadLettersRequest {
            service: service.to_string(),
            page_size: 100,
        };
        match client.list_dead_letters(authed(request, token)).await {
            Ok(listed) => {
                let listed = listed.into_inner();
                // The e-mails notify gave up on are the section "Courriels en échec",
                // which sends them again; their letters are not shown twice.
                let rows: Vec<LetterRow> = listed
                    .dead_letters
                    .iter()
                    .filter(|l| l.event_subject != GIVEN_UP_E_MAIL)
                    .map(|l| row(t, l))
                    .collect();
                let hidden = listed.dead_letters.len() - rows.len();
                let count = i64::from(listed.total_size) - hidden as i64;
                if count <= 0 {
                    continue;
                }
                sections.push(ServiceLetters {
                    heading: t.administration.dead_count(label, count),
                    rows,
                });
            }
            Err(status) => {
                tracing::warn!(service, %status, "the dead letters could not be read");
                sections.push(ServiceLetters {
                    heading: t.administration.dead_unavailable.replace("{}", label),
                    rows: Vec::new(),
                });
            }
        }
    }
    sections
}

fn row(t: &Texts, letter: &op::DeadLetter) -> LetterRow {
    LetterRow {
        name: letter.name.clone(),
        what: t
            .account
            .change_label(&letter.event_subject)
            .map(str::to_string)
            .unwrap_or_else(|| letter.event_subject.clone()),
        when: letter
            .event_time
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(fr::date_time)
            .unwrap_or_default(),
        consumer: letter.consumer.clone(),
        reason: letter.reason.clone(),
        deliveries: fr::integer(letter.deliveries),
    }
}

/// Hands `name` (`deadLetters/{service}/{sequence}`) back to its consumer.
pub async fn replay(web: &Web, token: &str, name: String) -> Result<(), tonic::Status> {
    let service = name.split('/').nth(1).unwrap_or_default();
    let Some((_, mut client)) = web
        .api
        .dead_letters()
        .into_iter()
        .find(|(s, _)| *s == service)
    else {
        return Err(tonic::Status::not_found(name));
    };
    client
        .replay_dead_letter(authed(op::ReplayDeadLetterRequest { name }, token))
        .await
        .map(drop)
}
