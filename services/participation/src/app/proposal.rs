//! Proposals: a participant proposes while the active step opens proposals, withdraws
//! an unsupported one; the organiser answers; everyone reads them, and a participant
//! learns which they wrote and support.

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::page::{self, Page};
use fabrique_platform::{Error, db, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::Participation;
use crate::domain::{
    Action, NewProposal, Participant, Process, Proposal, ProposalState, Seen, proposal_name,
};
use crate::events;
use crate::store::{self, proposal::Cursor, proposal::Filter};

/// A proposal as a caller reads it: with its process's threshold and what the caller
/// did with it.
#[derive(Debug, Clone)]
pub struct ProposalView {
    /// The proposal.
    pub proposal: Proposal,
    /// Its process's support threshold.
    pub threshold: u32,
    /// Whether the caller wrote it, supports it.
    pub seen: Seen,
}

impl Participation {
    /// What `caller` (a participant or not) did with `proposals`.
    async fn views(
        &self,
        caller: Option<&Caller>,
        process: &Process,
        proposals: Vec<Proposal>,
    ) -> Result<Vec<ProposalView>, Error> {
        let participant = match caller {
            Some(caller) if caller.is_citizen() => {
                store::participant_of(&self.db, &caller.subject).await?
            }
            _ => None,
        };
        let supported = match &participant {
            Some(p) => {
                let ids: Vec<Uuid> = proposals.iter().map(|q| q.id).collect();
                store::proposal::supported_by(&self.db, p.id, &ids).await?
            }
            None => Default::default(),
        };
        Ok(proposals
            .into_iter()
            .map(|proposal| ProposalView {
                seen: Seen {
                    authored: participant
                        .as_ref()
                        .is_some_and(|p| p.id == proposal.author),
                    supported: supported.contains(&proposal.id),
                },
                threshold: process.support_threshold,
                proposal,
            })
            .collect())
    }

    /// `proposal` of `process` as `caller` sees it: whether they wrote it, whether they
    /// support it.
    pub(super) async fn view(
        &self,
        caller: Option<&Caller>,
        process: &Process,
        proposal: Proposal,
    ) -> Result<ProposalView, Error> {
        let mut views = self.views(caller, process, vec![proposal]).await?;
        views
            .pop()
            .ok_or_else(|| Error::internal("a proposal vanished"))
    }

    /// A proposal of `process`, or NOT_FOUND.
    pub(super) async fn proposal(&self, process: Uuid, id: Uuid) -> Result<Proposal, Error> {
        store::proposal::get(&self.db, process, id)
            .await?
            .ok_or_else(|| Error::not_found(proposal_name(process, id)))
    }

    /// A participant proposes, while the active step opens proposals. A theme must be
    /// one of the process's; a place, one the registry lists and has not closed.
    pub async fn create_proposal(
        &self,
        caller: &Caller,
        process: Uuid,
        new: NewProposal,
        request_id: Option<Uuid>,
    ) -> Result<ProposalView, Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        if let Some(request_id) = request_id
            && let Some(existing) = self.proposal_by_request(&participant, request_id).await?
        {
            return self.view(Some(caller), &process, existing).await;
        }
        process.require_open(Action::Propose)?;
        if let Some(theme) = &new.theme
            && !process.themes.contains(theme)
        {
            return Err(Error::invalid(
                "proposal.theme",
                format!(
                    "must be one of the process's themes: {}",
                    process.themes.join(", ")
                ),
            ));
        }
        if let Some(place) = new.place {
            self.ensure_listed_place(place, "proposal.place").await?;
        }
        let now = fabrique_platform::time::now();
        let proposal = Proposal::publish(&process, &participant, new, now);
        let txn = self.db.begin().await?;
        if let Err(error) = store::proposal::insert(&txn, &proposal, request_id).await {
            let _ = txn.rollback().await;
            if db::violates(&error, &store::proposal::REQUEST_KEY)
                && let Some(request_id) = request_id
                && let Some(existing) = self.proposal_by_request(&participant, request_id).await?
            {
                return self.view(Some(caller), &process, existing).await;
            }
            return Err(error.into());
        }
        let event = events::proposal_changed(events::PROPOSAL_PUBLISHED, &process, &proposal, now);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        self.view(Some(caller), &process, proposal).await
    }

    async fn proposal_by_request(
        &self,
        participant: &Participant,
        request_id: Uuid,
    ) -> Result<Option<Proposal>, Error> {
        request::replay(
            store::proposal::by_request(&self.db, request_id).await?,
            |proposal| proposal.author == participant.id,
        )
    }

    /// A place proposals and meetings may name: LISTED in the registry and not closed,
    /// as place events told; otherwise the field is invalid.
    async fn ensure_listed_place(&self, place: Uuid, field: &str) -> Result<(), Error> {
        match fabrique_replicas::places::get(&self.db, place).await? {
            Some(known) if known.state == "listed" => Ok(()),
            Some(known) => Err(Error::invalid(
                field,
                format!(
                    "{} is {}, not a listed place",
                    known.display_name, known.state
                ),
            )),
            None => Err(Error::invalid(field, "is not a place of the registry")),
        }
    }

    /// One proposal: public.
    pub async fn get_proposal(
        &self,
        caller: Option<&Caller>,
        process: Uuid,
        id: Uuid,
    ) -> Result<ProposalView, Error> {
        let process = self.process(process).await?;
        let proposal = self.proposal(process.id, id).await?;
        self.view(caller, &process, proposal).await
    }

    /// A process's proposals: public. Withdrawn ones only when asked for.
    pub async fn list_proposals(
        &self,
        caller: Option<&Caller>,
        process: Uuid,
        mut filter: Filter,
        most_supported: bool,
        page_size: u64,
        page_token: &str,
    ) -> Result<Page<ProposalView>, Error> {
        let process = self.process(process).await?;
        if filter.states.is_empty() {
            filter.states = ProposalState::ALL
                .iter()
                .copied()
                .filter(|s| *s != ProposalState::Withdrawn)
                .collect();
        }
        let mut fingerprint = page::Fingerprint::new("ListProposals")
            .with(process.id.as_bytes())
            .with(filter.theme.clone().unwrap_or_default())
            .with([u8::from(most_supported)]);
        for state in &filter.states {
            fingerprint = fingerprint.with(state.as_str());
        }
        let fingerprint = fingerprint.finish();
        let (proposals, next_page_token) = if most_supported {
            self.most_supported(process.id, &filter, page_size, page_token, fingerprint)
                .await?
        } else {
            let after = page::decode_id(page_token, fingerprint)?;
            let proposals = store::proposal::list(
                &self.db,
                process.id,
                &filter,
                Cursor::Newest(after),
                page_size + 1,
            )
            .await?;
            let page = Page::of(proposals, page_size, fingerprint, |p| p.id);
            (page.items, page.next_page_token)
        };
        Ok(Page {
            items: self.views(caller, &process, proposals).await?,
            next_page_token,
        })
    }

    /// A page of the most supported first: the token carries how many came before.
    async fn most_supported(
        &self,
        process: Uuid,
        filter: &Filter,
        page_size: u64,
        page_token: &str,
        fingerprint: u64,
    ) -> Result<(Vec<Proposal>, String), Error> {
        let skip = page::decode_offset(page_token, fingerprint)?;
        let proposals = store::proposal::list(
            &self.db,
            process,
            filter,
            Cursor::MostSupported(skip),
            page_size + 1,
        )
        .await?;
        let page = page::Page::at_offset(proposals, skip, page_size, fingerprint);
        Ok((page.items, page.next_page_token))
    }

    /// Its author withdraws a PUBLISHED proposal nobody supports.
    pub async fn withdraw_proposal(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
    ) -> Result<ProposalView, Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        let current = self.proposal(process.id, id).await?;
        if current.author != participant.id {
            return Err(Error::permission_denied(
                "only its author withdraws a proposal",
            ));
        }
        let now = fabrique_platform::time::now();
        let next = current.withdraw(now)?;
        self.save(&process, &current, &next, events::PROPOSAL_WITHDRAWN, false)
            .await?;
        self.view(Some(caller), &process, next).await
    }

    /// The organiser (or an admin) answers: EVALUATING, ACCEPTED or REJECTED, the last
    /// two with a text.
    pub async fn answer_proposal(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
        state: ProposalState,
        text: Option<String>,
        etag: Option<i64>,
    ) -> Result<ProposalView, Error> {
        let process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, "answer this process's proposals")?;
        let current = self.proposal(process.id, id).await?;
        if etag.is_some_and(|version| version != current.version) {
            return Err(Error::stale_etag(&current.name()));
        }
        if state != ProposalState::Evaluating && text.is_none() {
            return Err(Error::invalid(
                "answer",
                "an accepted or rejected proposal needs its answer, saying why",
            ));
        }
        let now = fabrique_platform::time::now();
        let next = current.answer(state, text, now)?;
        self.save(
            &process,
            &current,
            &next,
            events::answered(state),
            etag.is_some(),
        )
        .await?;
        tracing::info!(proposal = %next.name(), state = state.as_str(), "proposal answered");
        self.view(Some(caller), &process, next).await
    }

    /// Writes `next` over `current` with its event, or refuses a concurrent change
    /// (as a stale etag when the caller sent one).
    async fn save(
        &self,
        process: &Process,
        current: &Proposal,
        next: &Proposal,
        subject: &str,
        etag_given: bool,
    ) -> Result<(), Error> {
        let txn = self.db.begin().await?;
        if !store::proposal::update(&txn, current, next).await? {
            txn.rollback().await?;
            return Err(super::changed_meanwhile(&current.name(), etag_given));
        }
        // The count as this transaction sees it, not as read before it.
        let mut announced = next.clone();
        if let Some(now) = store::proposal::get(&txn, process.id, next.id).await? {
            announced.support_count = now.support_count;
        }
        let event = events::proposal_changed(subject, process, &announced, next.updated_at);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(())
    }
}
