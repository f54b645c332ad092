//! Supports: a participant supports a proposal once, within the process's limit, while
//! the active step opens supports, and may take it back. The limit and the counts hold
//! in the database under any concurrency (`store::proposal::add_support`); the proposal
//! that reaches the process's threshold is announced once.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Participation, ProposalView};
use crate::domain::{Action, process_name};
use crate::events;
use crate::refusal::Refusal;
use crate::store::{self, proposal::Added};

impl Participation {
    /// The calling participant supports a proposal; supporting again changes nothing.
    pub async fn support(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
    ) -> Result<ProposalView, Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        let proposal = self.proposal(process.id, id).await?;
        process.require_open(Action::Support)?;
        process.require_eligible(&participant)?;
        if !proposal.state.takes_supports() {
            return Err(self.state_refusal(process.id, id).await);
        }
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        let added = store::proposal::add_support(
            &txn,
            process.id,
            proposal.id,
            participant.id,
            (process.support_limit, process.support_threshold),
            now,
        )
        .await?;
        match added {
            Added::Counted(count, first_at_threshold) => {
                if first_at_threshold {
                    let mut reached = proposal.clone();
                    reached.support_count = count;
                    let event = events::proposal_changed(
                        events::THRESHOLD_REACHED,
                        &process,
                        &reached,
                        now,
                    );
                    outbox::enqueue(&txn, vec![event]).await?;
                    txn.commit().await?;
                    self.outbox.notify();
                } else {
                    txn.commit().await?;
                }
            }
            Added::Already => txn.rollback().await?,
            Added::OverLimit => {
                txn.rollback().await?;
                return Err(Refusal::SupportLimit {
                    process: process_name(process.id),
                    limit: process.support_limit,
                }
                .into());
            }
            Added::Closed => {
                txn.rollback().await?;
                return Err(self.state_refusal(process.id, id).await);
            }
        }
        self.reread(caller, &process, id).await
    }

    /// The calling participant takes their support back, while supports are open; not
    /// supporting it changes nothing.
    pub async fn withdraw_support(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
    ) -> Result<ProposalView, Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        let proposal = self.proposal(process.id, id).await?;
        process.require_open(Action::Support)?;
        let txn = self.db.begin().await?;
        match store::proposal::remove_support(&txn, process.id, proposal.id, participant.id).await?
        {
            Some(Added::Counted(..)) => txn.commit().await?,
            None => txn.rollback().await?,
            Some(_) => {
                txn.rollback().await?;
                return Err(self.state_refusal(process.id, id).await);
            }
        }
        self.reread(caller, &process, id).await
    }

    /// The refusal for a proposal that stopped taking supports meanwhile.
    async fn state_refusal(&self, process: Uuid, id: Uuid) -> Error {
        match self.proposal(process, id).await {
            Ok(proposal) => Refusal::ProposalState {
                proposal: proposal.name(),
                state: proposal.state.as_str(),
                rule: "only a PUBLISHED or EVALUATING proposal takes supports",
            }
            .into(),
            Err(error) => error,
        }
    }

    /// Proposal `id` as `caller` now sees it, `process` read already: only its count
    /// moved.
    async fn reread(
        &self,
        caller: &Caller,
        process: &crate::domain::Process,
        id: Uuid,
    ) -> Result<ProposalView, Error> {
        let proposal = self.proposal(process.id, id).await?;
        self.view(Some(caller), process, proposal).await
    }
}
