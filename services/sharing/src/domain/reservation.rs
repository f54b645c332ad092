//! Reservations: a slot of a bookable resource asked for by a borrower, and their
//! lifecycle — REQUESTED → CONFIRMED | DECLINED, REQUESTED → EXPIRED (the owner did not
//! answer in time), REQUESTED | CONFIRMED → CANCELLED (until the slot ends), CONFIRMED →
//! COMPLETED (once it started) — decided by
//! [`ReservationTransition::apply`] and applied by [`Reservation::next`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::reservation_name;
use super::resource::Resource;
use super::slot::{Slot, check_rules};
use crate::refusal::{Refusal, RefusalCode};

fabrique_types::string_enum!(
    /// Where a reservation is in its lifecycle.
    ReservationState {
        /// Waiting for the owner; the slot is held already.
        Requested => "requested",
        /// Accepted by the owner; the slot stays held.
        Confirmed => "confirmed",
        /// Refused by the owner; the slot is free again.
        Declined => "declined",
        /// Called off by either side before its slot ended; the slot is free again.
        Cancelled => "cancelled",
        /// Took place, as the owner recorded once its slot started.
        Completed => "completed",
        /// Its owner did not answer by `answer_by`; the slot is free again.
        Expired => "expired",
    }
);

impl ReservationState {
    /// Whether a reservation in this state keeps its slot from others.
    pub fn holds(&self) -> bool {
        matches!(self, Self::Requested | Self::Confirmed)
    }
}

/// A borrower's use of a bookable resource for a slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// Named `resources/{resource}/reservations/{id}` in the contract.
    pub id: Uuid,
    /// The bookable resource it uses.
    pub resource: Uuid,
    /// The resource's owner when it was asked for: who confirms, declines, completes.
    pub owner: Uuid,
    /// The member who asked for it.
    pub borrower: Uuid,
    /// The time asked for, without the turnaround.
    pub slot: Slot,
    /// End of the slot plus the resource's turnaround when booked: what it keeps from others.
    pub held_end: DateTime<Utc>,
    /// When a request still unanswered expires: the resource's answer window after it
    /// was made, or its slot's start if sooner.
    pub answer_by: DateTime<Utc>,
    /// What the borrower tells the owner; at most 1,000 characters.
    pub note: Option<String>,
    /// Where it is in its lifecycle; changed only by [`Reservation::next`].
    pub state: ReservationState,
    /// Why it was declined or cancelled, as its last transition gave it.
    pub state_reason: Option<String>,
    /// The subject of the token that asked for it: a retried create is recognised by it.
    pub created_by: String,
    /// When it was asked for (and the slot held).
    pub created_at: DateTime<Utc>,
    /// When its last version was made.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; the etag is made from it.
    pub version: i64,
}

impl Reservation {
    /// A new reservation of `resource` by `borrower`, REQUESTED, if `slot` keeps to the
    /// resource's booking rules at `now`; it holds the slot and the turnaround after it.
    /// Whether `borrower` may reserve at all is [`Resource::bookable_by`]'s call.
    pub fn request(
        resource: &Resource,
        borrower: Uuid,
        slot: Slot,
        note: Option<String>,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Result<Self, Refusal> {
        check_rules(&slot, &resource.rules, now)?;
        Ok(Reservation {
            id: Uuid::now_v7(),
            resource: resource.id,
            owner: resource.owner,
            borrower,
            slot,
            held_end: slot.end() + resource.rules.turnaround,
            answer_by: (now + resource.rules.answer_window()).min(slot.start()),
            note,
            state: ReservationState::Requested,
            state_reason: None,
            created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// `resources/{resource}/reservations/{id}`.
    pub fn name(&self) -> String {
        reservation_name(self.resource, self.id)
    }

    /// What a client sends back to change it.
    pub fn etag(&self) -> String {
        fabrique_types::change::etag_of(self.version)
    }

    /// The reservation after `transition` at `now`, with `reason` as its state reason,
    /// or why not (see [`ReservationTransition::apply`], which decides).
    pub fn next(
        &self,
        transition: ReservationTransition,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Reservation, Refusal> {
        let state = transition.apply(self, now)?;
        let mut next = self.clone();
        next.state = state;
        next.state_reason = reason;
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }
}

/// A reservation lifecycle call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationTransition {
    /// The owner accepts it.
    Confirm,
    /// The owner refuses it.
    Decline,
    /// Either side calls it off before its slot ends (or the member left).
    Cancel,
    /// The owner records that it took place.
    Complete,
    /// The platform lets a request nobody answered go, once its `answer_by` passed.
    Expire,
}

impl ReservationTransition {
    /// Whether only the resource's owner (or an admin) may make it: the borrower may
    /// cancel, nothing else.
    pub fn owner_only(&self) -> bool {
        !matches!(self, Self::Cancel)
    }

    /// The next state of `reservation` at `now`, or why not: the one place a
    /// reservation's lifecycle is decided.
    pub fn apply(
        &self,
        reservation: &Reservation,
        now: DateTime<Utc>,
    ) -> Result<ReservationState, Refusal> {
        use ReservationState::*;
        let illegal = |code, rule| Refusal::IllegalTransition {
            code,
            reservation: reservation.name(),
            state: reservation.state.as_str(),
            rule,
        };
        match (self, reservation.state) {
            (Self::Confirm, Requested) => Ok(Confirmed),
            (Self::Decline, Requested) => Ok(Declined),
            (Self::Cancel, Requested | Confirmed) if reservation.slot.end() > now => Ok(Cancelled),
            (Self::Cancel, Requested | Confirmed) => Err(Refusal::ReservationOver {
                reservation: reservation.name(),
            }),
            (Self::Complete, Confirmed) if reservation.slot.start() <= now => Ok(Completed),
            (Self::Complete, Confirmed) => Err(Refusal::ReservationNotStarted {
                reservation: reservation.name(),
            }),
            (Self::Expire, Requested) if reservation.answer_by <= now => Ok(Expired),
            (Self::Expire, _) => Err(illegal(
                RefusalCode::ReservationNotRequested,
                "only a request unanswered past its deadline expires",
            )),
            (Self::Confirm | Self::Decline, _) => Err(illegal(
                RefusalCode::ReservationNotRequested,
                "only a requested reservation can be confirmed or declined",
            )),
            (Self::Cancel, _) => Err(illegal(
                RefusalCode::ReservationClosed,
                "it cannot be cancelled",
            )),
            (Self::Complete, _) => Err(illegal(
                RefusalCode::ReservationNotConfirmed,
                "only a confirmed reservation can be completed",
            )),
        }
    }
}

/// What a list of reservations is limited to; empty lists and `None` do not limit.
#[derive(Debug, Clone, Default)]
pub struct ReservationFilter {
    /// Only the reservations of this resource.
    pub resource: Option<Uuid>,
    /// Only what this member asked for.
    pub borrower: Option<Uuid>,
    /// Only reservations of this member's resources.
    pub owner: Option<Uuid>,
    /// Any of these states.
    pub states: Vec<ReservationState>,
    /// Limits a non-admin to what concerns it: borrower or owner.
    pub involving: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use fabrique_platform::refusal::Refusal as _;

    use super::*;
    use crate::domain::resource::tests::resource;
    use crate::domain::resource::{ResourceKind, ResourceState};
    use crate::domain::slot::BookingRules;
    use crate::domain::slot::tests::at;

    #[test]
    fn a_request_expires_at_its_answer_window_or_its_slot() {
        let mut tool = resource(ResourceKind::Equipment, ResourceState::Available);
        tool.rules.answer_within = Some(Duration::hours(2));
        let request = |start, end| {
            Reservation::request(
                &tool,
                Uuid::now_v7(),
                Slot::new(at(start), at(end)).unwrap(),
                None,
                "test".into(),
                at(8),
            )
            .expect("a request")
        };
        assert_eq!(request(20, 22).answer_by, at(10), "two hours to answer");
        assert_eq!(request(9, 10).answer_by, at(9), "no later than the slot");
        let pending = request(20, 22);
        assert!(
            ReservationTransition::Expire
                .apply(&pending, at(9))
                .is_err()
        );
        assert_eq!(
            ReservationTransition::Expire.apply(&pending, at(10)),
            Ok(ReservationState::Expired)
        );
        assert!(!ReservationState::Expired.holds());
        let confirmed = pending
            .next(ReservationTransition::Confirm, None, at(9))
            .expect("confirmed");
        assert!(
            ReservationTransition::Expire
                .apply(&confirmed, at(11))
                .is_err()
        );
    }

    #[test]
    fn reservation_transitions_follow_the_state_and_the_clock() {
        use ReservationState::*;
        use ReservationTransition::*;
        use fabrique_platform::refusal::Refusal as _;
        let (now, resource) = (at(8), Uuid::now_v7());
        let reservation = |state, start, end| Reservation {
            id: Uuid::now_v7(),
            resource,
            owner: Uuid::now_v7(),
            borrower: Uuid::now_v7(),
            slot: Slot::new(at(start), at(end)).unwrap(),
            held_end: at(end),
            answer_by: at(start),
            note: None,
            state,
            state_reason: None,
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let code = |transition: ReservationTransition, state, start, end| {
            transition
                .apply(&reservation(state, start, end), now)
                .map_err(|refusal| refusal.code())
        };
        assert_eq!(code(Confirm, Requested, 9, 10), Ok(Confirmed));
        assert_eq!(code(Decline, Requested, 9, 10), Ok(Declined));
        assert_eq!(code(Cancel, Confirmed, 9, 10), Ok(Cancelled));
        assert_eq!(code(Cancel, Confirmed, 6, 7), Err("RESERVATION_OVER"));
        assert_eq!(code(Complete, Confirmed, 7, 9), Ok(Completed));
        assert_eq!(
            code(Complete, Confirmed, 9, 10),
            Err("RESERVATION_NOT_STARTED")
        );
        assert_eq!(
            code(Confirm, Confirmed, 9, 10),
            Err("RESERVATION_NOT_REQUESTED")
        );
        assert_eq!(code(Cancel, Declined, 9, 10), Err("RESERVATION_CLOSED"));
        assert_eq!(
            code(Complete, Requested, 7, 9),
            Err("RESERVATION_NOT_CONFIRMED")
        );
        let refused = Confirm
            .apply(&reservation(Cancelled, 9, 10), now)
            .unwrap_err()
            .message();
        assert!(refused.contains("/reservations/"), "{refused}");
        assert!(refused.contains(" is CANCELLED: "), "{refused}");
    }

    /// Every state, every transition, with the slot ahead, under way and over.
    #[test]
    fn one_function_decides_a_reservation_s_lifecycle() {
        use ReservationState::*;
        use ReservationTransition::*;
        let now = at(8);
        let tool = resource(ResourceKind::Equipment, ResourceState::Available);
        let borrower = Uuid::now_v7();
        // (start, end, label): ahead, under way, over.
        let clocks = [(9, 10, "ahead"), (7, 9, "under way"), (6, 7, "over")];
        for from in ReservationState::ALL {
            for transition in [Confirm, Decline, Cancel, Complete, Expire] {
                for (start, end, clock) in clocks {
                    let slot = Slot::new(at(start), at(end)).unwrap();
                    let mut current =
                        Reservation::request(&tool, borrower, slot, None, "test".into(), at(5))
                            .unwrap();
                    current.state = *from;
                    let expected = match (transition, from, clock) {
                        (Confirm, Requested, _) => Ok(Confirmed),
                        (Decline, Requested, _) => Ok(Declined),
                        (Cancel, Requested | Confirmed, "over") => Err("RESERVATION_OVER"),
                        (Cancel, Requested | Confirmed, _) => Ok(Cancelled),
                        (Complete, Confirmed, "ahead") => Err("RESERVATION_NOT_STARTED"),
                        (Complete, Confirmed, _) => Ok(Completed),
                        (Confirm | Decline, _, _) => Err("RESERVATION_NOT_REQUESTED"),
                        (Cancel, _, _) => Err("RESERVATION_CLOSED"),
                        (Complete, _, _) => Err("RESERVATION_NOT_CONFIRMED"),
                        // Unanswered, the request is due at its slot's start.
                        (Expire, Requested, "ahead") => Err("RESERVATION_NOT_REQUESTED"),
                        (Expire, Requested, _) => Ok(Expired),
                        (Expire, _, _) => Err("RESERVATION_NOT_REQUESTED"),
                    };
                    let case = format!("{from:?} + {transition:?}, slot {clock}");
                    let reason = Some("le camion est en panne".to_string());
                    match current.next(transition, reason.clone(), now) {
                        Ok(next) => {
                            assert_eq!(Ok(next.state), expected, "{case}");
                            assert_eq!(next.version, current.version + 1, "{case}");
                            assert_eq!(next.updated_at, now, "{case}");
                            assert_eq!(next.state_reason, reason, "{case}");
                        }
                        Err(refusal) => {
                            assert_eq!(Err(refusal.code()), expected, "{case}");
                            assert!(refusal.message().contains("/reservations/"), "{case}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_request_holds_the_slot_and_the_turnaround() {
        let mut tool = resource(ResourceKind::Vehicle, ResourceState::Available);
        tool.rules = BookingRules {
            turnaround: Duration::minutes(30),
            max_duration: Some(Duration::hours(4)),
            max_advance: None,
            answer_within: None,
        };
        let slot = Slot::new(at(9), at(11)).unwrap();
        let borrower = Uuid::now_v7();
        let requested =
            Reservation::request(&tool, borrower, slot, None, "test".into(), at(8)).unwrap();
        assert_eq!(requested.state, ReservationState::Requested);
        assert_eq!(requested.held_end, at(11) + Duration::minutes(30));
        assert_eq!((requested.owner, requested.version), (tool.owner, 1));
        let long = Slot::new(at(9), at(14)).unwrap();
        assert_eq!(
            Reservation::request(&tool, borrower, long, None, "test".into(), at(8))
                .unwrap_err()
                .code(),
            "SLOT_TOO_LONG"
        );
    }
}
