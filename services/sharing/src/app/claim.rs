//! Claims: taking a quantity of a material (all of it, or what is left when the caller
//! accepts less), collecting or cancelling a claim (the quantity returns to the stock),
//! and listing them as claimant, owner or admin.

use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::refusal::Shared;
use fabrique_platform::{Error, db, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{CONFLICT_RETRIES, Sharing, acting_member};
use crate::domain::{Claim, ClaimState, ClaimTransition, Milli, claim_name};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

impl Sharing {
    /// Claims `amount` of a material for the caller's member, HELD. When less is left
    /// and `accept_less`, claims what is left instead. A create retried with the same
    /// `request_id` by the same member returns what the first made.
    pub async fn create_claim(
        &self,
        caller: &Caller,
        resource_id: Uuid,
        amount: Milli,
        accept_less: bool,
        request_id: Option<Uuid>,
    ) -> Result<Claim, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) =
                request::replay(store::claim_by_request(&self.db, request_id).await?, |e| {
                    caller.is_member(e.claimant)
                })?
        {
            return Ok(existing);
        }
        let claimant = acting_member(caller)?;
        let resource = self.get_resource(resource_id).await?;
        let unit = resource.claimable_by(claimant)?;
        self.ensure_active(claimant, "claimant").await?;
        let mut wanted = amount;
        for _ in 0..CONFLICT_RETRIES {
            let now = fabrique_platform::time::now();
            let claim = Claim::hold(&resource, claimant, wanted, unit, now);
            if let Some(made) = self.take(claim, &caller.subject, request_id).await? {
                return Ok(made);
            }
            let remaining = self
                .get_resource(resource.id)
                .await?
                .remaining()
                .unwrap_or(Milli::from_milli(0));
            if remaining.milli() == 0 || !accept_less {
                return Err(Refusal::NotEnoughLeft {
                    resource: resource.name(),
                    remaining: remaining.amount(),
                    asked: amount.amount(),
                    unit: unit.as_str(),
                }
                .into());
            }
            // Less is left than asked: ask for that, unless another claim takes it first.
            wanted = remaining.min(amount);
        }
        Err(Shared::ConcurrentChange {
            resource: Some(resource.name()),
        }
        .into())
    }

    /// Takes `claim`'s quantity from the stock and writes the claim with its event, in
    /// one transaction; `None` when that much is no longer left. A unique `request_id`
    /// decides between two copies of one retried request (the second gets the first's).
    async fn take(
        &self,
        claim: Claim,
        created_by: &str,
        request_id: Option<Uuid>,
    ) -> Result<Option<Claim>, Error> {
        let txn = self.db.begin().await?;
        if !store::take_stock(&txn, claim.resource, claim.quantity).await? {
            txn.rollback().await?;
            return Ok(None);
        }
        if let Err(error) = store::insert_claim(&txn, &claim, created_by, request_id).await {
            let _ = txn.rollback().await;
            if db::violates(&error, &store::CLAIM_REQUEST_ID_KEY)
                && let Some(request_id) = request_id
                && let Some(existing) = store::claim_by_request(&self.db, request_id).await?
            {
                return Ok(Some(existing));
            }
            return Err(error.into());
        }
        let remaining = store::remaining(&txn, claim.resource).await?;
        self.commit(
            txn,
            vec![events::claim(
                events::CLAIM_MADE,
                &claim,
                remaining,
                Some(claim.claimant),
                "",
            )],
        )
        .await?;
        Ok(Some(claim))
    }

    /// A claim the caller takes part in (else NOT_FOUND).
    async fn get_claim(&self, caller: &Caller, resource: Uuid, id: Uuid) -> Result<Claim, Error> {
        match store::get_claim(&self.db, id).await? {
            Some(c)
                if c.resource == resource
                    && (caller.is_admin()
                        || caller.is_member(c.claimant)
                        || caller.is_member(c.owner)) =>
            {
                Ok(c)
            }
            _ => Err(Error::not_found(claim_name(resource, id))),
        }
    }

    /// Collects (owner) or cancels (claimant or owner, the quantity returns) a claim, as
    /// the domain allows; of two racing calls, the database lets one through.
    pub async fn finish_claim(
        &self,
        caller: &Caller,
        resource: Uuid,
        id: Uuid,
        transition: ClaimTransition,
    ) -> Result<Claim, Error> {
        let claim = self.get_claim(caller, resource, id).await?;
        if transition == ClaimTransition::Collect {
            caller.require_admin_or_member(claim.owner, "mark a claim collected")?;
        }
        let finished = claim.next(transition, fabrique_platform::time::now())?;
        let txn = self.db.begin().await?;
        if !store::set_claim_state(&txn, &finished, claim.state).await? {
            txn.rollback().await?;
            return Err(Refusal::ClaimNotHeld {
                claim: claim.name(),
            }
            .into());
        }
        if finished.state != ClaimState::Collected {
            store::return_stock(&txn, resource, claim.quantity).await?;
        }
        let remaining = store::remaining(&txn, resource).await?;
        let subject = events::claim_subject(transition);
        let by = events::made_by(caller);
        let event = events::claim(subject, &finished, remaining, by, "");
        self.commit(txn, vec![event]).await?;
        Ok(finished)
    }

    /// A page of claims on `resource` by `claimant` (`None`: any); a caller other than
    /// an admin sees only those its member made or owns the material of.
    pub async fn list_claims(
        &self,
        caller: &Caller,
        resource: Option<Uuid>,
        claimant: Option<Uuid>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Claim>, Error> {
        let involving = if caller.is_admin() {
            None
        } else {
            Some(acting_member(caller)?)
        };
        let fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListClaims")
            .with(resource.map(|r| r.to_string()).unwrap_or_default())
            .with(claimant.map(|r| r.to_string()).unwrap_or_default())
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_claims(
            &self.db,
            resource,
            claimant,
            involving,
            after,
            page_size + 1,
        )
        .await?;
        Ok(Page::of(items, page_size, fingerprint, |c: &Claim| c.id))
    }
}
