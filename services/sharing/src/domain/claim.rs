//! Claims: a quantity of a material taken from its stock by a claimant, and their
//! lifecycle — HELD → COLLECTED (the owner hands it over), CANCELLED or EXPIRED (not
//! handed over in time; either way the quantity returns to the stock) — decided by
//! [`Claim::next`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::claim_name;
use super::quantity::{Milli, QuantityUnit};
use super::resource::Resource;
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// Where a claim is in its lifecycle; only a HELD claim keeps its quantity aside.
    ClaimState {
        /// Set aside for the claimant, taken from the stock already.
        Held => "held",
        /// Handed over by the owner: for good.
        Collected => "collected",
        /// Called off: its quantity went back to the stock.
        Cancelled => "cancelled",
        /// Not handed over by its `answer_by`: its quantity went back to the stock.
        Expired => "expired",
    }
);

/// A quantity of a material set aside for a claimant until collected or cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Named `resources/{resource}/claims/{id}` in the contract.
    pub id: Uuid,
    /// The material it is taken from.
    pub resource: Uuid,
    /// The material's owner when it was claimed: who marks it collected.
    pub owner: Uuid,
    /// The member it is set aside for.
    pub claimant: Uuid,
    /// What was granted: less than asked when the claimant accepted less.
    pub quantity: Milli,
    /// The unit of the material's stock.
    pub unit: QuantityUnit,
    /// Where it is in its lifecycle; changed only by [`Claim::next`].
    pub state: ClaimState,
    /// When it expires unless handed over: the material's answer window after it was
    /// made; `None` for claims made before deadlines existed.
    pub answer_by: Option<DateTime<Utc>>,
    /// When it was claimed (and the stock taken).
    pub created_at: DateTime<Utc>,
    /// When it was last collected or cancelled, or claimed.
    pub updated_at: DateTime<Utc>,
}

/// A claim lifecycle call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimTransition {
    /// The owner hands the quantity over.
    Collect,
    /// The claimant or the owner calls it off; the quantity returns to the stock.
    Cancel,
    /// The platform lets a claim not handed over by its `answer_by` go; the quantity
    /// returns to the stock.
    Expire,
}

impl Claim {
    /// A new claim of `quantity` from `resource` by `claimant`, HELD. Whether the
    /// claimant may claim is [`Resource::claimable_by`]'s call, and whether that much is
    /// left is the store's (it takes the stock and refuses to go below zero).
    pub fn hold(
        resource: &Resource,
        claimant: Uuid,
        quantity: Milli,
        unit: QuantityUnit,
        now: DateTime<Utc>,
    ) -> Self {
        Claim {
            id: Uuid::now_v7(),
            resource: resource.id,
            owner: resource.owner,
            claimant,
            quantity,
            unit,
            state: ClaimState::Held,
            answer_by: Some(now + resource.rules.answer_window()),
            created_at: now,
            updated_at: now,
        }
    }

    /// `resources/{resource}/claims/{id}`.
    pub fn name(&self) -> String {
        claim_name(self.resource, self.id)
    }

    /// The claim after `transition` at `now`, or why not: the one place a claim's
    /// lifecycle is decided. Only a HELD claim moves, to COLLECTED or CANCELLED.
    pub fn next(&self, transition: ClaimTransition, now: DateTime<Utc>) -> Result<Claim, Refusal> {
        let overdue = self.answer_by.is_some_and(|by| by <= now);
        if self.state != ClaimState::Held || (transition == ClaimTransition::Expire && !overdue) {
            return Err(Refusal::ClaimNotHeld { claim: self.name() });
        }
        let mut next = self.clone();
        next.state = match transition {
            ClaimTransition::Collect => ClaimState::Collected,
            ClaimTransition::Cancel => ClaimState::Cancelled,
            ClaimTransition::Expire => ClaimState::Expired,
        };
        next.updated_at = now;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::refusal::Refusal as _;

    use super::*;
    use crate::domain::resource::tests::resource;
    use crate::domain::resource::{ResourceKind, ResourceState};
    use crate::domain::slot::tests::at;

    #[test]
    fn a_claim_not_handed_over_in_time_expires() {
        let mut stock = resource(ResourceKind::Material, ResourceState::Available);
        stock.rules.answer_within = Some(chrono::Duration::hours(2));
        let claim = Claim::hold(
            &stock,
            Uuid::now_v7(),
            Milli::from_milli(500),
            QuantityUnit::Tonne,
            at(8),
        );
        assert_eq!(claim.answer_by, Some(at(10)));
        assert_eq!(
            claim
                .next(ClaimTransition::Expire, at(9))
                .unwrap_err()
                .code(),
            "CLAIM_NOT_HELD",
            "not yet"
        );
        let expired = claim.next(ClaimTransition::Expire, at(10)).expect("due");
        assert_eq!(expired.state, ClaimState::Expired);
        let old = Claim {
            answer_by: None,
            ..claim
        };
        assert!(
            old.next(ClaimTransition::Expire, at(20)).is_err(),
            "no deadline"
        );
    }

    #[test]
    fn one_function_decides_a_claim_s_lifecycle() {
        use ClaimState::*;
        use ClaimTransition::*;
        let stock = resource(ResourceKind::Material, ResourceState::Available);
        let (claimant, now) = (Uuid::now_v7(), at(9));
        let allowed = [(Held, Collect, Collected), (Held, Cancel, Cancelled)];
        for from in ClaimState::ALL {
            for transition in [Collect, Cancel] {
                let mut current = Claim::hold(
                    &stock,
                    claimant,
                    Milli::from_milli(500),
                    QuantityUnit::Tonne,
                    at(8),
                );
                current.state = *from;
                let result = current.next(transition, now);
                match allowed
                    .iter()
                    .find(|(f, t, _)| f == from && *t == transition)
                {
                    Some((_, _, to)) => {
                        let next = result.expect("allowed");
                        assert_eq!(next.state, *to, "{from:?} + {transition:?}");
                        assert_eq!(next.updated_at, now);
                        assert_eq!(next.quantity, current.quantity);
                    }
                    None => {
                        let refusal = result.expect_err("refused");
                        assert_eq!(
                            refusal.code(),
                            "CLAIM_NOT_HELD",
                            "{from:?} + {transition:?}"
                        );
                        assert!(refusal.message().contains("/claims/"));
                    }
                }
            }
        }
    }
}
