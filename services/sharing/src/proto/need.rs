//! Needs and their matches to messages, and the requests about needs parsed: a new
//! need, a list filter.

use fabrique_api::sharing as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use super::resource::resource_to_proto;
use super::{location_to_proto, parse_location, parse_quantity, parse_slot, quantity};
use crate::domain::{
    MAX_RADIUS_KM, Match, Need, NeedDraft, NeedState, ResourceKind, member_name, parse_member_name,
    parse_place_name, place_name,
};

impl From<&Need> for proto::Need {
    fn from(n: &Need) -> Self {
        proto::Need {
            name: n.name(),
            member: member_name(n.member),
            // Unset: the need takes any kind.
            kind: n.kind.map(ProtoMapped::to_proto_i32).unwrap_or_default(),
            description: n.description.clone(),
            place: n.place.map(place_name).unwrap_or_default(),
            location: n.location.as_ref().map(location_to_proto),
            radius_km: n.radius_km.unwrap_or_default(),
            start_time: n.slot.map(|s| timestamp(s.start())),
            end_time: n.slot.map(|s| timestamp(s.end())),
            quantity: n.quantity.map(|(q, u)| quantity(q, u)),
            state: n.state.to_proto_i32(),
            create_time: Some(timestamp(n.created_at)),
        }
    }
}

impl From<&Match> for proto::Match {
    fn from(m: &Match) -> Self {
        proto::Match {
            resource: Some(resource_to_proto(&m.resource, m.distance_km)),
            score: m.score,
            // The contract's "unknown distance".
            distance_km: m.distance_km.unwrap_or(-1.0),
            available: m.available,
            matched_words: m.matched_words.clone(),
        }
    }
}

impl TryFrom<&proto::Need> for NeedDraft {
    type Error = Error;

    fn try_from(n: &proto::Need) -> Result<Self, Error> {
        let mut v = Violations::new();
        // Unset: the need takes any kind.
        let kind = if n.kind == 0 {
            Some(None)
        } else {
            v.check("need.kind", ResourceKind::from_proto(n.kind))
                .map(Some)
        };
        let description = v.check(
            "need.description",
            fabrique_types::bounded_text(&n.description, 1, 500),
        );
        let place = v.check("need.place", optional(&n.place, parse_place_name));
        let location = parse_location(&mut v, "need.location", n.location.as_ref());
        let radius = if n.radius_km == 0.0 {
            Some(None)
        } else {
            v.check(
                "need.radius_km",
                fabrique_types::geo::parse_radius_km(n.radius_km, MAX_RADIUS_KM),
            )
            .map(Some)
        };
        let slot = parse_slot(
            &mut v,
            "need.",
            n.start_time.as_ref(),
            n.end_time.as_ref(),
            false,
        );
        let quantity = parse_quantity(&mut v, "need.quantity", n.quantity.as_ref());
        v.into_result()?;
        match (kind, description, place, location, radius, slot, quantity) {
            (
                Some(kind),
                Some(description),
                Some(place),
                Some(location),
                Some(radius_km),
                Some(slot),
                Some(quantity),
            ) => Ok(NeedDraft {
                kind,
                description,
                place,
                location,
                radius_km,
                slot,
                quantity,
            }),
            _ => Err(Error::internal(
                "need parsed without violations but incomplete",
            )),
        }
    }
}

/// The member and the states a list of needs is limited to.
pub fn parse_needs_filter(
    r: &proto::ListNeedsRequest,
) -> Result<(Option<Uuid>, Vec<NeedState>), Error> {
    let mut v = Violations::new();
    let member = v
        .check("member", optional(&r.member, parse_member_name))
        .flatten();
    let mut states = Vec::new();
    for (i, state) in r.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), NeedState::from_proto(*state)) {
            states.push(state);
        }
    }
    v.into_result()?;
    Ok((member, states))
}
