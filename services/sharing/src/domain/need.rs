//! Needs: what a member is looking for (a kind, words, a place and radius, a slot, a
//! quantity), matched against what is on offer, and their lifecycle — OPEN → CLOSED —
//! decided by [`Need::next`].

use chrono::{DateTime, Utc};
use fabrique_types::Location;
use uuid::Uuid;

use super::need_name;
use super::quantity::{Milli, QuantityUnit};
use super::resource::ResourceKind;
use super::slot::Slot;
use crate::refusal::Refusal;

/// The widest radius a search or a need may ask for, in km.
pub const MAX_RADIUS_KM: f64 = 1000.0;

fabrique_types::string_enum!(
    /// Where a need is in its lifecycle; matches are listed for any.
    NeedState {
        /// Still sought.
        Open => "open",
        /// Met, or no longer needed: closed by its member or an admin, for good.
        Closed => "closed",
    }
);

/// What a member is looking for.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    /// Named `needs/{id}` in the contract.
    pub id: Uuid,
    /// The member that posted it.
    pub member: Uuid,
    /// `None`: any kind.
    pub kind: Option<ResourceKind>,
    /// Its words are matched against resources' titles and descriptions.
    pub description: String,
    /// The registry place it is wanted at, if any.
    pub place: Option<Uuid>,
    /// Given, or the coordinates of its place: distances are measured from here.
    pub location: Option<Location>,
    /// Resources further than this are not matched; `None`: any distance.
    pub radius_km: Option<f64>,
    /// When a bookable resource must be free.
    pub slot: Option<Slot>,
    /// How much of a material is needed.
    pub quantity: Option<(Milli, QuantityUnit)>,
    /// Where it is in its lifecycle; changed only by [`Need::next`].
    pub state: NeedState,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// When it was last changed: posted or closed.
    pub updated_at: DateTime<Utc>,
}

/// What a new need is made of.
#[derive(Debug, Clone)]
pub struct NeedDraft {
    /// `None`: any kind.
    pub kind: Option<ResourceKind>,
    /// What is sought, in words; 1 to 500 characters.
    pub description: String,
    /// The registry place it is wanted at; must be known here and not closed.
    pub place: Option<Uuid>,
    /// `None` with a place: the place's coordinates.
    pub location: Option<Location>,
    /// Resources further than this are not matched; at most [`MAX_RADIUS_KM`].
    pub radius_km: Option<f64>,
    /// When a bookable resource must be free.
    pub slot: Option<Slot>,
    /// How much of a material is needed.
    pub quantity: Option<(Milli, QuantityUnit)>,
}

/// A need lifecycle call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedTransition {
    /// Its member (or an admin) says it is met or no longer needed.
    Close,
}

impl Need {
    /// A new need of `member`, OPEN. `location`: the draft's, or its place's coordinates.
    pub fn open(
        member: Uuid,
        draft: NeedDraft,
        location: Option<Location>,
        now: DateTime<Utc>,
    ) -> Self {
        Need {
            id: Uuid::now_v7(),
            member,
            kind: draft.kind,
            description: draft.description,
            place: draft.place,
            location,
            radius_km: draft.radius_km,
            slot: draft.slot,
            quantity: draft.quantity,
            state: NeedState::Open,
            created_at: now,
            updated_at: now,
        }
    }

    /// `needs/{id}`.
    pub fn name(&self) -> String {
        need_name(self.id)
    }

    /// The need after `transition` at `now`, or why not: the one place a need's
    /// lifecycle is decided. Only an OPEN need closes.
    pub fn next(&self, transition: NeedTransition, now: DateTime<Utc>) -> Result<Need, Refusal> {
        match (transition, self.state) {
            (NeedTransition::Close, NeedState::Open) => {
                let mut next = self.clone();
                next.state = NeedState::Closed;
                next.updated_at = now;
                Ok(next)
            }
            (NeedTransition::Close, NeedState::Closed) => {
                Err(Refusal::NeedClosed { need: self.name() })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::refusal::Refusal as _;

    use super::*;
    use crate::domain::slot::tests::at;

    #[test]
    fn one_function_decides_a_need_s_lifecycle() {
        let draft = NeedDraft {
            kind: None,
            description: "Une remorque pour samedi".into(),
            place: None,
            location: None,
            radius_km: None,
            slot: None,
            quantity: None,
        };
        let opened = Need::open(Uuid::now_v7(), draft, None, at(8));
        // Close is the only transition: OPEN → CLOSED, refused from CLOSED.
        for from in NeedState::ALL {
            let mut current = opened.clone();
            current.state = *from;
            match (from, current.next(NeedTransition::Close, at(9))) {
                (NeedState::Open, Ok(next)) => {
                    assert_eq!(next.state, NeedState::Closed);
                    assert_eq!(next.updated_at, at(9));
                }
                (NeedState::Closed, Err(refusal)) => {
                    assert_eq!(refusal.code(), "NEED_CLOSED");
                    assert!(refusal.message().contains(&opened.name()));
                }
                (from, result) => panic!("{from:?} + Close: {result:?}"),
            }
        }
    }
}
