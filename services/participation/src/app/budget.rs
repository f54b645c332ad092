//! Participatory budgets: the organiser opens one with its envelope and turns proposals
//! into items with a cost; each participant (verified, where the process asks) casts
//! one ballot while the active step opens votes; the organiser closes the vote, which
//! ranks the items and selects the winners within the envelope.

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::{Error, db, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::Participation;
use crate::domain::budget::{Budget, BudgetState, Item, budget_name, results};
use crate::domain::{Action, ProposalState};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

/// A participant's ballot as they read it back.
#[derive(Debug, Clone)]
pub struct CastBallot {
    /// The budget.
    pub budget: Budget,
    /// The items chosen.
    pub items: Vec<Uuid>,
    /// What they cost.
    pub total_cents: i64,
    /// When it was cast.
    pub cast_at: chrono::DateTime<chrono::Utc>,
}

impl Participation {
    async fn budget(&self, process: Uuid, id: Uuid) -> Result<Budget, Error> {
        store::budget::get(&self.db, process, id)
            .await?
            .ok_or_else(|| Error::not_found(budget_name(process, id)))
    }

    /// The organiser (or an admin) opens a budget in its process.
    pub async fn create_budget(
        &self,
        caller: &Caller,
        process: Uuid,
        (title, description, envelope_cents, minimum_basis_points): (String, String, i64, u32),
        request_id: Option<Uuid>,
    ) -> Result<Budget, Error> {
        let process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, "open this process's budgets")?;
        let replay = |found: Option<Budget>| {
            request::replay(found, |b: &Budget| b.created_by == caller.subject)
        };
        if let Some(request_id) = request_id
            && let Some(existing) = replay(store::budget::by_request(&self.db, request_id).await?)?
        {
            return Ok(existing);
        }
        let now = fabrique_platform::time::now();
        let budget = Budget {
            id: Uuid::now_v7(),
            process: process.id,
            title,
            description,
            envelope_cents,
            minimum_basis_points,
            state: BudgetState::Open,
            items: Vec::new(),
            ballots: 0,
            closed_at: None,
            created_by: caller.subject.clone(),
            created_at: now,
        };
        let txn = self.db.begin().await?;
        if let Err(error) = store::budget::insert(&txn, &budget, request_id).await {
            let _ = txn.rollback().await;
            if db::violates(&error, &store::budget::REQUEST_KEY)
                && let Some(request_id) = request_id
                && let Some(existing) =
                    replay(store::budget::by_request(&self.db, request_id).await?)?
            {
                return Ok(existing);
            }
            return Err(error.into());
        }
        let event = events::budget_changed(events::BUDGET_OPENED, &process, &budget, now);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(budget)
    }

    /// One budget with its items: public.
    pub async fn get_budget(&self, process: Uuid, id: Uuid) -> Result<Budget, Error> {
        self.budget(process, id).await
    }

    /// A process's budgets: public.
    pub async fn list_budgets(&self, process: Uuid) -> Result<Vec<Budget>, Error> {
        let process = self.process(process).await?;
        store::budget::list(&self.db, process.id).await
    }

    /// The organiser (or an admin) turns a proposal of the process — neither withdrawn
    /// nor rejected — into an item of an OPEN budget, at a cost within the envelope.
    pub async fn add_budget_item(
        &self,
        caller: &Caller,
        (process, id): (Uuid, Uuid),
        proposal: Uuid,
        cost_cents: i64,
    ) -> Result<Budget, Error> {
        let process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, "fill this process's budgets")?;
        let budget = self.budget(process.id, id).await?;
        budget.require_open()?;
        if cost_cents <= 0 || cost_cents > budget.envelope_cents {
            return Err(Error::invalid(
                "cost_cents",
                format!(
                    "must be over 0 and at most the envelope, {}",
                    budget.envelope_cents
                ),
            ));
        }
        let item = self.item_of(process.id, proposal, cost_cents).await?;
        let txn = self.db.begin().await?;
        match store::budget::add_item(&txn, budget.id, &item, fabrique_platform::time::now()).await
        {
            Ok(true) => txn.commit().await?,
            Ok(false) => {
                txn.rollback().await?;
                return Err(Refusal::BudgetClosed {
                    budget: budget.name(),
                }
                .into());
            }
            Err(error) if db::violates(&error, &store::budget::ITEM_KEY) => {
                txn.rollback().await?;
                return Err(Error::invalid(
                    "proposal",
                    "is an item of this budget already",
                ));
            }
            Err(error) => {
                let _ = txn.rollback().await;
                return Err(error.into());
            }
        }
        self.budget(process.id, id).await
    }

    /// An item made of a proposal of the process, neither withdrawn nor rejected.
    async fn item_of(&self, process: Uuid, proposal: Uuid, cost_cents: i64) -> Result<Item, Error> {
        let proposal = store::proposal::get(&self.db, process, proposal)
            .await?
            .ok_or_else(|| Error::invalid("proposal", "is not a proposal of this process"))?;
        if matches!(
            proposal.state,
            ProposalState::Withdrawn | ProposalState::Rejected
        ) {
            return Err(Error::invalid(
                "proposal",
                "a withdrawn or rejected proposal is not put to the vote",
            ));
        }
        let item = Item {
            id: Uuid::now_v7(),
            proposal: proposal.id,
            title: proposal.title.clone(),
            cost_cents,
            votes: 0,
            rank: 0,
            selected: false,
        };
        Ok(item)
    }

    /// A participant casts their one ballot, while the active step opens votes.
    pub async fn cast_ballot(
        &self,
        caller: &Caller,
        (process, id): (Uuid, Uuid),
        items: Vec<Uuid>,
    ) -> Result<CastBallot, Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        let budget = self.budget(process.id, id).await?;
        process.require_open(Action::Vote)?;
        process.require_eligible(&participant)?;
        for (index, item) in items.iter().enumerate() {
            if !budget.items.iter().any(|i| i.id == *item) {
                return Err(Error::invalid(
                    format!("items[{index}]"),
                    "is not an item of this budget",
                ));
            }
            if items[..index].contains(item) {
                return Err(Error::invalid(format!("items[{index}]"), "is chosen twice"));
            }
        }
        let total = budget.check_ballot(&items)?;
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        match store::budget::cast(&txn, budget.id, participant.id, &items, total, now).await {
            Ok(true) => txn.commit().await?,
            Ok(false) => {
                txn.rollback().await?;
                return Err(Refusal::BudgetClosed {
                    budget: budget.name(),
                }
                .into());
            }
            Err(error) if db::violates(&error, &store::budget::BALLOT_KEY) => {
                txn.rollback().await?;
                return Err(Refusal::AlreadyVoted {
                    budget: budget.name(),
                }
                .into());
            }
            Err(error) => {
                let _ = txn.rollback().await;
                return Err(error.into());
            }
        }
        Ok(CastBallot {
            budget,
            items,
            total_cents: total,
            cast_at: now,
        })
    }

    /// The calling participant's ballot, or NOT_FOUND.
    pub async fn get_ballot(
        &self,
        caller: &Caller,
        (process, id): (Uuid, Uuid),
    ) -> Result<CastBallot, Error> {
        let participant = self.participant(caller).await?;
        let budget = self.budget(process, id).await?;
        let Some((items, total_cents, cast_at)) =
            store::budget::ballot_of(&self.db, id, participant.id).await?
        else {
            return Err(Error::not_found(format!("{}/ballots/me", budget.name())));
        };
        Ok(CastBallot {
            budget,
            items,
            total_cents,
            cast_at,
        })
    }

    /// The organiser (or an admin) closes the vote: every ballot cast before is counted,
    /// none after; the items ranked and the winners selected, announced by an event.
    pub async fn close_budget(
        &self,
        caller: &Caller,
        (process, id): (Uuid, Uuid),
    ) -> Result<Budget, Error> {
        let process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, "close this process's budgets")?;
        let budget = self.budget(process.id, id).await?;
        budget.require_open()?;
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        let Some(votes) = store::budget::close(&txn, budget.id, now).await? else {
            txn.rollback().await?;
            return Err(Refusal::BudgetClosed {
                budget: budget.name(),
            }
            .into());
        };
        let mut counted = store::budget::get(&txn, process.id, id)
            .await?
            .ok_or_else(|| Error::not_found(budget.name()))?;
        for item in &mut counted.items {
            item.votes = votes.get(&item.id).copied().unwrap_or(0);
        }
        let ranked = results(&counted.items, counted.envelope_cents);
        store::budget::write_results(&txn, &ranked).await?;
        for item in &mut counted.items {
            if let Some(result) = ranked.iter().find(|r| r.id == item.id) {
                *item = result.clone();
            }
        }
        let event = events::budget_changed(events::BUDGET_CLOSED, &process, &counted, now);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(budget = %counted.name(), ballots = counted.ballots, "participatory budget closed");
        Ok(counted)
    }
}
