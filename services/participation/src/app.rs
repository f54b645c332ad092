//! What participation does, one use case per method: who may do it, the domain rules,
//! and the change written with its events in one transaction (then the relay is woken).
//!
//! [`Participation`] and participants are here; by concern: `process` (creating a
//! process and moving its steps), `proposal` (proposing, withdrawing, answering, reading)
//! `support` (supports within a process's limit), `comment` (comments and their
//! moderation), `meeting` (meetings, their seats and waiting list, their calendar) and
//! `budget` (participatory budgets, ballots and results).

mod budget;
mod comment;
mod meeting;
mod process;
mod proposal;
mod support;

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox::OutboxSignal;
use fabrique_platform::{Error, db};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{Participant, Process, member_name, participant_name, process_name};
use crate::refusal::Refusal;
use crate::store;

pub use budget::CastBallot;
pub use proposal::ProposalView;

/// Items per page when a list asks for no size.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page a list may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Participation's use cases over its database. Cheap to clone.
#[derive(Clone)]
pub struct Participation {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

impl Participation {
    /// The use cases over `db`; `outbox` wakes the relay after each commit with events.
    pub fn new(db: DatabaseConnection, outbox: OutboxSignal) -> Self {
        Self { db, outbox }
    }

    /// Who changed `request.resource`, newest first: the audit, for admins only.
    pub async fn list_changes(
        &self,
        caller: &Caller,
        request: &fabrique_api::audit::ListChangesRequest,
    ) -> Result<fabrique_api::audit::ListChangesResponse, Error> {
        caller.require_admin("list a resource's changes")?;
        fabrique_platform::audit::list_changes(&self.db, request).await
    }

    /// Registers the calling citizen under `display_name`; registering again returns
    /// the participant as first registered.
    pub async fn register(
        &self,
        caller: &Caller,
        display_name: String,
    ) -> Result<Participant, Error> {
        if !caller.is_citizen() {
            return Err(Error::permission_denied(
                "only a signed-in citizen (the `citizen` role) registers as a participant",
            ));
        }
        if let Some(existing) = store::participant_of(&self.db, &caller.subject).await? {
            return Ok(existing);
        }
        let participant = Participant {
            id: Uuid::now_v7(),
            subject: caller.subject.clone(),
            display_name,
            verified_by: Vec::new(),
            created_at: fabrique_platform::time::now(),
        };
        match store::insert_participant(&self.db, &participant).await {
            Ok(()) => Ok(participant),
            Err(error) if db::violates(&error, &store::SUBJECT_KEY) => {
                store::participant_of(&self.db, &caller.subject)
                    .await?
                    .ok_or_else(|| Error::internal("a participant vanished"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The calling participant, or the refusal saying to register.
    async fn participant(&self, caller: &Caller) -> Result<Participant, Error> {
        if !caller.is_citizen() {
            return Err(Error::permission_denied(
                "only a registered citizen (the `citizen` role) takes part",
            ));
        }
        store::participant_of(&self.db, &caller.subject)
            .await?
            .ok_or_else(|| Refusal::NotAParticipant.into())
    }

    /// `participants/me` for the caller; another participant for an admin only.
    pub async fn get_participant(
        &self,
        caller: &Caller,
        id: Option<Uuid>,
    ) -> Result<Participant, Error> {
        let Some(id) = id else {
            return self.participant(caller).await;
        };
        let found = store::participant(&self.db, id).await?;
        match found {
            Some(p) if caller.is_admin() || p.subject == caller.subject => Ok(p),
            _ => Err(Error::not_found(participant_name(id))),
        }
    }

    /// The caller acting for `organiser`, or an admin, records that it verified the
    /// participant's residence.
    pub async fn verify(
        &self,
        caller: &Caller,
        participant: Uuid,
        organiser: Uuid,
    ) -> Result<Participant, Error> {
        caller.require_admin_or_member(organiser, "verify participants for this organiser")?;
        self.ensure_active_organiser(organiser, "organiser").await?;
        let Some(_) = store::participant(&self.db, participant).await? else {
            return Err(Error::not_found(participant_name(participant)));
        };
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        store::add_verification(&txn, participant, organiser, &caller.subject, now).await?;
        txn.commit().await?;
        tracing::info!(participant = %participant_name(participant), organiser = %member_name(organiser), "participant verified");
        store::participant(&self.db, participant)
            .await?
            .ok_or_else(|| Error::not_found(participant_name(participant)))
    }

    /// A participant erases their account (an admin any): their pseudonym, sign-in and
    /// verifications go; what they did stays counted, anonymous.
    pub async fn erase(&self, caller: &Caller, id: Option<Uuid>) -> Result<Participant, Error> {
        // Oneself, or anyone for an admin; another's id is NOT_FOUND.
        let participant = self.get_participant(caller, id).await?;
        let txn = self.db.begin().await?;
        store::erase_participant(&txn, participant.id).await?;
        txn.commit().await?;
        tracing::info!(participant = %participant_name(participant.id), "participant erased");
        Ok(participant)
    }

    /// A process's proposals but those withdrawn, with their answers, as CSV: public.
    pub async fn export_proposals(&self, process: Uuid) -> Result<(Vec<u8>, usize), Error> {
        let process = self.process(process).await?;
        let filter = store::proposal::Filter {
            states: crate::domain::ProposalState::ALL
                .iter()
                .copied()
                .filter(|s| *s != crate::domain::ProposalState::Withdrawn)
                .collect(),
            theme: None,
        };
        let mut proposals = Vec::new();
        let mut after = None;
        loop {
            let page = store::proposal::list(
                &self.db,
                process.id,
                &filter,
                store::proposal::Cursor::Newest(after),
                500,
            )
            .await?;
            after = page.last().map(|p| p.id);
            let done = page.len() < 500;
            proposals.extend(page);
            if done {
                break;
            }
        }
        proposals.reverse();
        crate::opendata::proposals(&process, &proposals).map_err(Error::internal)
    }

    /// A budget's results as CSV: public.
    pub async fn export_budget_results(
        &self,
        process: Uuid,
        id: Uuid,
    ) -> Result<(Vec<u8>, usize), Error> {
        let budget = self.get_budget(process, id).await?;
        crate::opendata::budget_results(&budget).map_err(Error::internal)
    }

    /// The organiser must be an active member, as the replica knows it.
    async fn ensure_active_organiser(&self, organiser: Uuid, field: &str) -> Result<(), Error> {
        match fabrique_replicas::members::require_active(&self.db, organiser).await? {
            Ok(_) => Ok(()),
            Err(inactive) => Err(Refusal::OrganiserNotActive {
                field: field.to_string(),
                organiser: member_name(organiser),
                state: inactive.state,
            }
            .into()),
        }
    }

    /// A process, or NOT_FOUND.
    async fn process(&self, id: Uuid) -> Result<Process, Error> {
        store::process(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(process_name(id)))
    }
}

/// A resource that changed between reading and writing: a stale etag when the caller
/// sent one, a concurrent change (retry) otherwise.
fn changed_meanwhile(resource: &str, etag_given: bool) -> Error {
    if etag_given {
        Error::stale_etag(resource)
    } else {
        fabrique_platform::refusal::Shared::ConcurrentChange {
            resource: Some(resource.to_string()),
        }
        .into()
    }
}
