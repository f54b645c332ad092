//! Reservations to messages, and the requests about them parsed: a new reservation's
//! slot and note, a list filter.

use fabrique_api::sharing as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use super::{parse_parent, parse_slot};
use crate::domain::{
    Invalid, Reservation, ReservationFilter, ReservationState, Slot, member_name, parse_member_name,
};

impl From<&Reservation> for proto::Reservation {
    fn from(r: &Reservation) -> Self {
        proto::Reservation {
            name: r.name(),
            borrower: member_name(r.borrower),
            start_time: Some(timestamp(r.slot.start())),
            end_time: Some(timestamp(r.slot.end())),
            note: r.note.clone().unwrap_or_default(),
            state: r.state.to_proto_i32(),
            state_reason: r.state_reason.clone().unwrap_or_default(),
            create_time: Some(timestamp(r.created_at)),
            update_time: Some(timestamp(r.updated_at)),
            etag: r.etag(),
            answer_time: Some(timestamp(r.answer_by)),
        }
    }
}

/// The slot and the note of a new reservation.
pub fn parse_reservation(
    reservation: &proto::Reservation,
) -> Result<(Slot, Option<String>), Error> {
    let mut v = Violations::new();
    let slot = parse_slot(
        &mut v,
        "reservation.",
        reservation.start_time.as_ref(),
        reservation.end_time.as_ref(),
        true,
    )
    .flatten();
    let note = v.check(
        "reservation.note",
        fabrique_types::text::optional_multiline(&reservation.note, 1000),
    );
    v.into_result()?;
    match (slot, note) {
        (Some(slot), Some(note)) => Ok((slot, note)),
        _ => Err(Error::internal(
            "reservation parsed without violations but incomplete",
        )),
    }
}

impl TryFrom<&proto::ListReservationsRequest> for ReservationFilter {
    type Error = Error;

    fn try_from(r: &proto::ListReservationsRequest) -> Result<Self, Error> {
        let mut v = Violations::new();
        let mut filter = ReservationFilter {
            resource: v
                .check(
                    "parent",
                    parse_parent("parent", &r.parent).map_err(|e| Invalid::new(e.to_string())),
                )
                .flatten(),
            borrower: v
                .check("borrower", optional(&r.borrower, parse_member_name))
                .flatten(),
            owner: v
                .check("owner", optional(&r.owner, parse_member_name))
                .flatten(),
            ..Default::default()
        };
        for (i, state) in r.states.iter().enumerate() {
            if let Some(state) = v.check(
                &format!("states[{i}]"),
                ReservationState::from_proto(*state),
            ) {
                filter.states.push(state);
            }
        }
        v.into_result()?;
        Ok(filter)
    }
}
