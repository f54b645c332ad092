//! Every conversion between the sharing service's domain and its contract
//! (`fabrique.sharing.v1`): enums mapped by name, resources, reservations, claims and
//! needs to messages, and requests parsed into domain types (drafts, patches, filters,
//! slots) with every invalid field reported by its path. Used by the gRPC handlers and
//! by the events; depends on the domain only.
//!
//! One submodule per aggregate: [`resource`] (with its conditions, booking rules and
//! the list filter), [`reservation`], [`claim`], [`need`] (with its matches). What they
//! share — names, locations, quantities, slots — is here.

use fabrique_api::sharing as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::{from_timestamp, timestamp};
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use crate::domain::{
    ClaimState, Invalid, Location, Milli, NeedState, QuantityUnit, ReservationState, ResourceKind,
    ResourceState, Slot, parse_resource_name,
};
use crate::refusal::RefusalCode;

pub mod claim;
pub mod need;
pub mod reservation;
pub mod resource;

pub use claim::parse_claim_request;
pub use need::parse_needs_filter;
pub use reservation::parse_reservation;
pub use resource::{
    parse_availability_window, parse_resource_filter, parse_resource_patch, resource_for,
    resource_to_proto,
};

fabrique_platform::proto_mapped!(
    ResourceKind => proto::ResourceKind,
    ResourceState => proto::ResourceState,
    ReservationState => proto::ReservationState,
    ClaimState => proto::ClaimState,
    NeedState => proto::NeedState,
    QuantityUnit => proto::QuantityUnit,
    RefusalCode => proto::Refusal,
);

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

/// An amount in whole units (three decimals at most) and its unit.
pub fn quantity(amount: Milli, unit: QuantityUnit) -> proto::Quantity {
    proto::Quantity {
        amount: amount.amount(),
        unit: unit.to_proto_i32(),
    }
}

/// Coordinates in degrees.
pub fn location_to_proto(location: &Location) -> proto::Location {
    proto::Location {
        latitude: location.latitude(),
        longitude: location.longitude(),
    }
}

impl From<&Slot> for proto::Interval {
    fn from(slot: &Slot) -> Self {
        proto::Interval {
            start_time: Some(timestamp(slot.start())),
            end_time: Some(timestamp(slot.end())),
        }
    }
}

// ---------------------------------------------------------------------------
// Fields in
// ---------------------------------------------------------------------------

/// A resource name parsed by `parse`, its error reported on `field`.
pub fn parse_name<T>(
    field: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<T, Error> {
    parse(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// `resources/{id}` or `resources/-` (all).
pub fn parse_parent(field: &str, parent: &str) -> Result<Option<Uuid>, Error> {
    if parent == "resources/-" || parent.is_empty() {
        Ok(None)
    } else {
        parse_name(field, parent, parse_resource_name).map(Some)
    }
}

/// `Some(None)`: no location given; `None`: invalid (the violation is recorded).
fn parse_location(
    v: &mut Violations,
    field: &str,
    location: Option<&proto::Location>,
) -> Option<Option<Location>> {
    match location {
        None => Some(None),
        Some(l) => match Location::parse(l.latitude, l.longitude) {
            Ok(location) => Some(Some(location)),
            Err((coordinate, invalid)) => {
                v.add(format!("{field}.{coordinate}"), invalid.0);
                None
            }
        },
    }
}

/// `Some(None)`: no quantity given; `None`: invalid (the violations are recorded).
fn parse_quantity(
    v: &mut Violations,
    field: &str,
    q: Option<&proto::Quantity>,
) -> Option<Option<(Milli, QuantityUnit)>> {
    let Some(q) = q else {
        return Some(None);
    };
    let amount = v.check(&format!("{field}.amount"), Milli::parse_positive(q.amount));
    let unit = v.check(&format!("{field}.unit"), QuantityUnit::from_proto(q.unit));
    amount.zip(unit).map(Some)
}

/// `prefix` is the path of the message holding `start_time` and `end_time`; without
/// `required`, neither of them is no slot.
fn parse_slot(
    v: &mut Violations,
    prefix: &str,
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
    required: bool,
) -> Option<Option<Slot>> {
    let time = |v: &mut Violations, name: &str, t: Option<&prost_types::Timestamp>| match t {
        None => None,
        Some(t) => {
            let parsed = from_timestamp(t);
            if parsed.is_none() {
                v.add(format!("{prefix}{name}"), "is not a valid time");
            }
            parsed
        }
    };
    match (start, end) {
        (None, None) if !required => Some(None),
        (None, _) => {
            v.add(format!("{prefix}start_time"), "is required");
            None
        }
        (_, None) => {
            v.add(format!("{prefix}end_time"), "is required");
            None
        }
        (Some(_), Some(_)) => {
            let start = time(v, "start_time", start)?;
            let end = time(v, "end_time", end)?;
            match Slot::new(start, end) {
                Ok(slot) => Some(Some(slot)),
                Err(invalid) => {
                    v.add(format!("{prefix}end_time"), invalid.0);
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn every_enum_maps_both_ways_by_name() {
        assert_round_trip::<ResourceKind>();
        assert_round_trip::<ResourceState>();
        assert_round_trip::<ReservationState>();
        assert_round_trip::<ClaimState>();
        assert_round_trip::<NeedState>();
        assert_round_trip::<QuantityUnit>();
        assert_round_trip::<RefusalCode>();
    }
}
