//! The sharing domain: resources (bookable by time slot, claimable by quantity, or just
//! shared), reservations with their slots, claims, needs, and how well a resource fits a
//! need. No protobuf and no SQL here.
//!
//! One file per aggregate, each with its state machine — one function that decides the
//! next state or refuses with a typed [`Refusal`](crate::refusal::Refusal):
//! [`resource`] ([`Resource::next`]), [`reservation`] ([`ReservationTransition::apply`],
//! [`Reservation::next`]), [`claim`] ([`Claim::next`]), [`need`] ([`Need::next`]); and
//! the values they share: [`slot`] (time slots and booking rules), [`quantity`]
//! (exact thousandths and their units), [`matching`] (scores). The names of everything
//! (`resources/{id}/reservations/{id}`…) are here, since every aggregate names others.

pub mod claim;
pub mod matching;
pub mod need;
pub mod quantity;
pub mod reservation;
pub mod resource;
pub mod slot;

pub use claim::{Claim, ClaimState, ClaimTransition};
pub use fabrique_types::{Invalid, Location, bounded_text, fold};
pub use matching::{
    Availability, Match, availability, best, distance_km, match_score, search_words, within_radius,
    words_in_common,
};
pub use need::{MAX_RADIUS_KM, Need, NeedDraft, NeedState, NeedTransition};
pub use quantity::{Milli, QuantityUnit};
pub use reservation::{Reservation, ReservationFilter, ReservationState, ReservationTransition};
pub use resource::{
    Conditions, MAX_ECO_LABELS, Patched, Resource, ResourceDraft, ResourceFilter, ResourceKind,
    ResourcePatch, ResourceState, ResourceTransition, Usage, parse_description, parse_eco_label,
    parse_title,
};
pub use slot::{BookingRules, Slot, check_rules, free_intervals};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// `resources/{id}`.
pub fn resource_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("resources", id)
}

/// `resources/{resource}/reservations/{id}`: a reservation lives under its resource.
pub fn reservation_name(resource: Uuid, id: Uuid) -> String {
    format!("{}/reservations/{id}", resource_name(resource))
}

/// `resources/{resource}/claims/{id}`: a claim lives under its resource.
pub fn claim_name(resource: Uuid, id: Uuid) -> String {
    format!("{}/claims/{id}", resource_name(resource))
}

/// `needs/{id}`.
pub fn need_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("needs", id)
}

/// The id in `resources/{id}`.
pub fn parse_resource_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("resources", name)
}

/// The id in `needs/{id}`.
pub fn parse_need_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("needs", name)
}

/// `resources/{r}/<collection>/{id}` → (r, id).
pub fn parse_child_name(name: &str, collection: &str) -> Result<(Uuid, Uuid), Invalid> {
    let invalid = || {
        Invalid::new(format!(
            "must be resources/{{id}}/{collection}/{{id}} with UUID ids"
        ))
    };
    let rest = name.strip_prefix("resources/").ok_or_else(invalid)?;
    let (resource, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let id = rest
        .strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(invalid)?;
    Ok((
        Uuid::parse_str(resource).map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}

/// The id in `members/{id}`: members belong to the members service, named as it names them.
pub fn parse_member_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("members", name)
}

/// `members/{id}`.
pub fn member_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("members", id)
}

/// The id in `places/{id}`: places belong to the registry, named as it names them.
pub fn parse_place_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("places", name)
}

/// `places/{id}`.
pub fn place_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("places", id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_names() {
        let (r, id) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            parse_child_name(&reservation_name(r, id), "reservations").unwrap(),
            (r, id)
        );
        assert!(parse_child_name(&claim_name(r, id), "reservations").is_err());
        assert!(parse_child_name("resources/x/reservations/y", "reservations").is_err());
    }
}
