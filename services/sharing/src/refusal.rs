//! Why the sharing service refuses a call that is well formed and allowed: its refusal
//! codes, listed in the proto as `fabrique.sharing.v1.Refusal` (`proto.rs` maps them),
//! and each refusal's message, built here and nowhere else. Every refusal here is a
//! FAILED_PRECONDITION; the ABORTED and ALREADY_EXISTS ones are the platform's
//! ([`fabrique_platform::refusal::Shared`]).
//!
//! Names (`resources/…`, `members/…`) and states come in as strings, so this module
//! depends on no other module of the crate: `domain` and `app` depend on it.

use chrono::{DateTime, Duration, Utc};
use fabrique_platform::refusal::Refusal as RefusalTrait;

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for the sharing service: its own
    /// and the platform's shared ones.
    RefusalCode {
        /// The call acts for a member and the caller's token names none.
        NotAMember => "NOT_A_MEMBER",
        /// The owner, borrower or claimant a call acts for is not ACTIVE, or not known here.
        MemberNotActive => "MEMBER_NOT_ACTIVE",
        /// The place a resource or need is set at is closed.
        PlaceClosed => "PLACE_CLOSED",
        /// The place a resource or need is set at is not known to this service.
        PlaceUnknown => "PLACE_UNKNOWN",
        /// Withdrawing a resource already WITHDRAWN, or restoring one already AVAILABLE.
        ResourceState => "RESOURCE_STATE",
        /// Reserving or claiming a resource that is not AVAILABLE.
        ResourceNotAvailable => "RESOURCE_NOT_AVAILABLE",
        /// Reserving or claiming one's own resource.
        OwnResource => "OWN_RESOURCE",
        /// Asking for slots of a resource whose kind is not booked by time slot.
        NotBookable => "NOT_BOOKABLE",
        /// A reservation whose slot starts in the past.
        SlotInThePast => "SLOT_IN_THE_PAST",
        /// A slot longer than the resource's longest reservation.
        SlotTooLong => "SLOT_TOO_LONG",
        /// A slot starting beyond the resource's booking horizon.
        SlotTooFarAhead => "SLOT_TOO_FAR_AHEAD",
        /// A slot that, with the turnaround, overlaps a REQUESTED or CONFIRMED reservation.
        SlotTaken => "SLOT_TAKEN",
        /// Confirming or declining a reservation that is not REQUESTED.
        ReservationNotRequested => "RESERVATION_NOT_REQUESTED",
        /// Cancelling a reservation whose slot has ended.
        ReservationOver => "RESERVATION_OVER",
        /// Cancelling a reservation that is neither REQUESTED nor CONFIRMED.
        ReservationClosed => "RESERVATION_CLOSED",
        /// Completing a reservation whose slot has not started.
        ReservationNotStarted => "RESERVATION_NOT_STARTED",
        /// Completing a reservation that is not CONFIRMED.
        ReservationNotConfirmed => "RESERVATION_NOT_CONFIRMED",
        /// Claiming a resource that is not a material: only materials go by quantity.
        NotAMaterial => "NOT_A_MATERIAL",
        /// Claiming more than is left, without accepting less, or when nothing is left.
        NotEnoughLeft => "NOT_ENOUGH_LEFT",
        /// Collecting or cancelling a claim that is no longer HELD.
        ClaimNotHeld => "CLAIM_NOT_HELD",
        /// Closing a need that is already CLOSED.
        NeedClosed => "NEED_CLOSED",
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

/// The reservation a refused slot collides with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// `resources/{id}/reservations/{id}`.
    pub reservation: String,
    /// Its slot, the turnaround after it not included (the message adds it).
    pub start: DateTime<Utc>,
    /// The end of its slot.
    pub end: DateTime<Utc>,
}

/// A refusal of the sharing service, with what its message needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The call acts for a member, and the caller's token names none.
    NotAMember,
    /// The member a call acts for (`role`: owner, borrower, claimant, member) is not
    /// ACTIVE: `state` is its state, `None` when this service does not know it.
    MemberNotActive {
        /// What the member is to the call: owner, borrower, claimant or member.
        role: &'static str,
        /// `members/{id}`.
        member: String,
        /// Its state as this service last heard it; `None` if it never heard of it.
        state: Option<String>,
    },
    /// The place given in `field` is closed.
    PlaceClosed {
        /// The request field that named the place, e.g. `resource.place`.
        field: String,
        /// `places/{id}`.
        place: String,
    },
    /// The place given in `field` is not one this service knows.
    PlaceUnknown {
        /// The request field that named the place, e.g. `need.place`.
        field: String,
        /// `places/{id}`.
        place: String,
    },
    /// Withdrawing or restoring a resource already in that `state`.
    ResourceAlready {
        /// `resources/{id}`.
        resource: String,
        /// The state it is already in, `withdrawn` or `available`.
        state: &'static str,
    },
    /// Reserving or claiming a resource that is not AVAILABLE.
    ResourceNotAvailable {
        /// `resources/{id}`.
        resource: String,
        /// The state it is in instead.
        state: &'static str,
    },
    /// Reserving or claiming one's own resource.
    OwnResource {
        /// `resources/{id}`, owned by the caller.
        resource: String,
    },
    /// Asking for the slots of a resource of a `kind` not booked by time slot.
    NotBookable {
        /// `resources/{id}`.
        resource: String,
        /// Its kind: a material (claimed by quantity) or a method (shared as is).
        kind: &'static str,
    },
    /// A slot that starts before now.
    SlotInThePast,
    /// A slot longer than the resource's longest reservation, `max`.
    SlotTooLong {
        /// The longest reservation the owner allows.
        max: Duration,
    },
    /// A slot starting further ahead than the resource's booking horizon, `max`.
    SlotTooFarAhead {
        /// How far ahead the owner lets the resource be booked.
        max: Duration,
    },
    /// A slot that overlaps another reservation held on the resource, or its
    /// `turnaround`; `holding` is that reservation, when it could still be read.
    SlotTaken {
        /// `resources/{id}`.
        resource: String,
        /// The time the owner keeps free after each reservation, counted in the overlap.
        turnaround: Duration,
        /// The reservation in the way; `None` when it could not be read again.
        holding: Option<Holding>,
    },
    /// A reservation lifecycle call its current state does not allow: `code` is
    /// `RESERVATION_NOT_REQUESTED`, `RESERVATION_CLOSED` or `RESERVATION_NOT_CONFIRMED`,
    /// `rule` says which states allow it.
    IllegalTransition {
        /// Which of the three transition codes the client is sent.
        code: RefusalCode,
        /// `resources/{id}/reservations/{id}`.
        reservation: String,
        /// The state it is in, which does not allow the call.
        state: &'static str,
        /// The rule, in words, for the message.
        rule: &'static str,
    },
    /// Cancelling a reservation whose slot has ended.
    ReservationOver {
        /// `resources/{id}/reservations/{id}`.
        reservation: String,
    },
    /// Completing a reservation whose slot has not started.
    ReservationNotStarted {
        /// `resources/{id}/reservations/{id}`.
        reservation: String,
    },
    /// Claiming a resource of a `kind` that is not a material.
    NotAMaterial {
        /// `resources/{id}`.
        resource: String,
        /// Its kind: one booked by time slot, or a method (shared as is).
        kind: &'static str,
    },
    /// Claiming more than is left (and not accepting less, or nothing is left).
    NotEnoughLeft {
        /// `resources/{id}`.
        resource: String,
        /// What is left to claim, in `unit`.
        remaining: f64,
        /// What the claim asked for, in `unit`.
        asked: f64,
        /// The unit the material is counted in.
        unit: &'static str,
    },
    /// Collecting or cancelling a claim that is no longer HELD.
    ClaimNotHeld {
        /// `resources/{id}/claims/{id}`.
        claim: String,
    },
    /// Closing a need that is already closed.
    NeedClosed {
        /// `needs/{id}`.
        need: String,
    },
}

impl RefusalTrait for Refusal {
    fn code(&self) -> &'static str {
        let code = match self {
            Refusal::NotAMember => RefusalCode::NotAMember,
            Refusal::MemberNotActive { .. } => RefusalCode::MemberNotActive,
            Refusal::PlaceClosed { .. } => RefusalCode::PlaceClosed,
            Refusal::PlaceUnknown { .. } => RefusalCode::PlaceUnknown,
            Refusal::ResourceAlready { .. } => RefusalCode::ResourceState,
            Refusal::ResourceNotAvailable { .. } => RefusalCode::ResourceNotAvailable,
            Refusal::OwnResource { .. } => RefusalCode::OwnResource,
            Refusal::NotBookable { .. } => RefusalCode::NotBookable,
            Refusal::SlotInThePast => RefusalCode::SlotInThePast,
            Refusal::SlotTooLong { .. } => RefusalCode::SlotTooLong,
            Refusal::SlotTooFarAhead { .. } => RefusalCode::SlotTooFarAhead,
            Refusal::SlotTaken { .. } => RefusalCode::SlotTaken,
            Refusal::IllegalTransition { code, .. } => *code,
            Refusal::ReservationOver { .. } => RefusalCode::ReservationOver,
            Refusal::ReservationNotStarted { .. } => RefusalCode::ReservationNotStarted,
            Refusal::NotAMaterial { .. } => RefusalCode::NotAMaterial,
            Refusal::NotEnoughLeft { .. } => RefusalCode::NotEnoughLeft,
            Refusal::ClaimNotHeld { .. } => RefusalCode::ClaimNotHeld,
            Refusal::NeedClosed { .. } => RefusalCode::NeedClosed,
        };
        code.as_str()
    }

    /// One arm per refusal, so that every message the service sends is read in one
    /// place. Over 60 lines: that list.
    fn message(&self) -> String {
        match self {
            Refusal::NotAMember => {
                "this acts for a member: use a token whose subject is the member's id".into()
            }
            Refusal::MemberNotActive {
                role,
                member,
                state: Some(state),
            } => format!(
                "the {role} {member} is {}, not an active member",
                state.to_uppercase()
            ),
            Refusal::MemberNotActive {
                role,
                member,
                state: None,
            } => format!("the {role} {member} is not a member known to this service"),
            Refusal::PlaceClosed { field, place } => format!("{field}: {place} is closed"),
            Refusal::PlaceUnknown { field, place } => {
                format!("{field}: {place} is not a place known to this service")
            }
            Refusal::ResourceAlready { resource, state } => {
                format!("{resource} is already {}", state.to_uppercase())
            }
            Refusal::ResourceNotAvailable { resource, state } => {
                format!("{resource} is {}", state.to_uppercase())
            }
            Refusal::OwnResource { resource } => format!("{resource} is your own resource"),
            Refusal::NotBookable { resource, kind } => {
                format!("{resource} is a {kind}: it is not booked by time slot")
            }
            Refusal::SlotInThePast => "a reservation cannot start in the past".into(),
            Refusal::SlotTooLong { max } => format!(
                "reservations of this resource last at most {} hours",
                max.num_hours()
            ),
            Refusal::SlotTooFarAhead { max } => format!(
                "this resource can be booked at most {} days ahead",
                max.num_days()
            ),
            Refusal::SlotTaken {
                resource,
                turnaround,
                holding: Some(holding),
            } => format!(
                "{resource} is already held from {} to {} by {}{}",
                holding.start.to_rfc3339(),
                holding.end.to_rfc3339(),
                holding.reservation,
                if *turnaround > Duration::zero() {
                    format!(" (plus {} minutes of turnaround)", turnaround.num_minutes())
                } else {
                    String::new()
                }
            ),
            Refusal::SlotTaken {
                resource,
                holding: None,
                ..
            } => format!("{resource} is already held at that time"),
            Refusal::IllegalTransition {
                reservation,
                state,
                rule,
                ..
            } => format!("{reservation} is {}: {rule}", state.to_uppercase()),
            Refusal::ReservationOver { reservation } => {
                format!("{reservation} has ended; it can no longer be cancelled")
            }
            Refusal::ReservationNotStarted { reservation } => {
                format!("{reservation} has not started; it cannot be completed yet")
            }
            Refusal::NotAMaterial { resource, kind } => {
                format!("{resource} is a {kind}: only materials are claimed")
            }
            Refusal::NotEnoughLeft {
                resource,
                remaining,
                asked,
                unit,
            } => format!("{resource} has {remaining} {unit} left, {asked} asked"),
            Refusal::ClaimNotHeld { claim } => format!("{claim} is no longer held"),
            Refusal::NeedClosed { need } => format!("{need} is already closed"),
        }
    }

    /// The facts a client shows or acts on, as the proto's `Refusal` lists them: the
    /// slot in the way, the limits a slot broke, what is left of a material.
    fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            Refusal::SlotTaken {
                turnaround,
                holding,
                ..
            } => {
                let mut facts = vec![("turnaround_minutes", turnaround.num_minutes().to_string())];
                if let Some(holding) = holding {
                    facts.extend([
                        ("holding_reservation", holding.reservation.clone()),
                        ("holding_start_time", holding.start.to_rfc3339()),
                        ("holding_end_time", holding.end.to_rfc3339()),
                    ]);
                }
                facts
            }
            Refusal::SlotTooLong { max } => {
                vec![("max_duration_hours", max.num_hours().to_string())]
            }
            Refusal::SlotTooFarAhead { max } => {
                vec![("max_advance_days", max.num_days().to_string())]
            }
            Refusal::NotEnoughLeft {
                remaining, unit, ..
            } => vec![
                ("remaining", remaining.to_string()),
                ("unit", unit.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fabrique_platform::refusal::Shared;
    use tonic::Code;

    use super::*;

    const RESOURCE: &str = "resources/0190a000-0000-7000-8000-000000000001";

    /// One refusal of each kind. Over 60 lines: one entry per variant.
    fn every_refusal() -> Vec<Refusal> {
        let resource = || RESOURCE.to_string();
        let reservation = || format!("{RESOURCE}/reservations/2");
        let transition = |code, rule| Refusal::IllegalTransition {
            code,
            reservation: reservation(),
            state: "completed",
            rule,
        };
        vec![
            Refusal::NotAMember,
            Refusal::MemberNotActive {
                role: "owner",
                member: "members/1".into(),
                state: Some("suspended".into()),
            },
            Refusal::MemberNotActive {
                role: "borrower",
                member: "members/2".into(),
                state: None,
            },
            Refusal::PlaceClosed {
                field: "resource.place".into(),
                place: "places/1".into(),
            },
            Refusal::PlaceUnknown {
                field: "need.place".into(),
                place: "places/2".into(),
            },
            Refusal::ResourceAlready {
                resource: resource(),
                state: "withdrawn",
            },
            Refusal::ResourceNotAvailable {
                resource: resource(),
                state: "unavailable",
            },
            Refusal::OwnResource {
                resource: resource(),
            },
            Refusal::NotBookable {
                resource: resource(),
                kind: "material",
            },
            Refusal::SlotInThePast,
            Refusal::SlotTooLong {
                max: Duration::hours(4),
            },
            Refusal::SlotTooFarAhead {
                max: Duration::days(30),
            },
            Refusal::SlotTaken {
                resource: resource(),
                turnaround: Duration::minutes(30),
                holding: Some(Holding {
                    reservation: reservation(),
                    start: DateTime::UNIX_EPOCH,
                    end: DateTime::UNIX_EPOCH + Duration::hours(1),
                }),
            },
            Refusal::SlotTaken {
                resource: resource(),
                turnaround: Duration::zero(),
                holding: None,
            },
            transition(
                RefusalCode::ReservationNotRequested,
                "only a requested reservation can be confirmed or declined",
            ),
            transition(RefusalCode::ReservationClosed, "it cannot be cancelled"),
            transition(
                RefusalCode::ReservationNotConfirmed,
                "only a confirmed reservation can be completed",
            ),
            Refusal::ReservationOver {
                reservation: reservation(),
            },
            Refusal::ReservationNotStarted {
                reservation: reservation(),
            },
            Refusal::NotAMaterial {
                resource: resource(),
                kind: "tool",
            },
            Refusal::NotEnoughLeft {
                resource: resource(),
                remaining: 2.5,
                asked: 3.0,
                unit: "tonne",
            },
            Refusal::ClaimNotHeld {
                claim: format!("{RESOURCE}/claims/1"),
            },
            Refusal::NeedClosed {
                need: "needs/1".into(),
            },
        ]
    }

    #[test]
    fn the_platform_s_codes_are_listed() {
        let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        fabrique_platform::refusal::assert_lists_shared(&codes);
    }

    /// Each listed code is sent, by a refusal of this service or by the platform's, and
    /// each refusal of this service is a FAILED_PRECONDITION.
    #[test]
    fn the_codes_listed_are_the_codes_sent() {
        let mut sent: BTreeSet<&str> = Shared::CODES.iter().copied().collect();
        for refusal in every_refusal() {
            assert_eq!(refusal.status(), Code::FailedPrecondition, "{refusal:?}");
            assert!(!refusal.message().is_empty(), "{refusal:?}");
            sent.insert(refusal.code());
        }
        let listed: BTreeSet<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(sent, listed);
    }

    #[test]
    fn messages_name_what_was_refused() {
        let message = |refusal: Refusal| refusal.message();
        assert_eq!(
            message(Refusal::MemberNotActive {
                role: "owner",
                member: "members/1".into(),
                state: Some("suspended".into()),
            }),
            "the owner members/1 is SUSPENDED, not an active member"
        );
        assert_eq!(
            message(Refusal::MemberNotActive {
                role: "borrower",
                member: "members/2".into(),
                state: None,
            }),
            "the borrower members/2 is not a member known to this service"
        );
        let taken = message(Refusal::SlotTaken {
            resource: RESOURCE.into(),
            turnaround: Duration::minutes(30),
            holding: Some(Holding {
                reservation: format!("{RESOURCE}/reservations/2"),
                start: DateTime::UNIX_EPOCH,
                end: DateTime::UNIX_EPOCH + Duration::hours(1),
            }),
        });
        assert_eq!(
            taken,
            format!(
                "{RESOURCE} is already held from 1970-01-01T00:00:00+00:00 to \
                 1970-01-01T01:00:00+00:00 by {RESOURCE}/reservations/2 \
                 (plus 30 minutes of turnaround)"
            )
        );
        assert_eq!(
            message(Refusal::IllegalTransition {
                code: RefusalCode::ReservationNotRequested,
                reservation: format!("{RESOURCE}/reservations/2"),
                state: "confirmed",
                rule: "only a requested reservation can be confirmed or declined",
            }),
            format!(
                "{RESOURCE}/reservations/2 is CONFIRMED: \
                 only a requested reservation can be confirmed or declined"
            )
        );
        assert_eq!(
            message(Refusal::NotEnoughLeft {
                resource: RESOURCE.into(),
                remaining: 2.5,
                asked: 3.0,
                unit: "tonne",
            }),
            format!("{RESOURCE} has 2.5 tonne left, 3 asked")
        );
    }
}
