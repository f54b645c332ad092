//! What ends a resource's bookings without their parties deciding: its withdrawal, its
//! place closing, its owner leaving. Its reservations still to come are cancelled and
//! its held claims cancelled (their quantity back in the stock), each with an event
//! naming the cause; in the transaction of the change that ends them.

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use fabrique_platform::event::OutgoingEvent;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{CANCELLED, CLAIM_CANCELLED, claim, reservation};
use crate::domain::{ClaimState, ClaimTransition, ReservationTransition};
use crate::store;

/// Cancels `resource`'s reservations that have not started at `now` and its held
/// claims, with `reason`, inside the caller's transaction; their events, or `None` when
/// one of them changed meanwhile (the caller rolls back and reads again).
pub async fn end_bookings<C: ConnectionTrait>(
    txn: &C,
    resource: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<Vec<OutgoingEvent>>, Error> {
    let mut events = Vec::new();
    for current in store::future_holding_on(txn, resource, now).await? {
        let Ok(next) = current.next(ReservationTransition::Cancel, Some(reason.into()), now) else {
            continue;
        };
        if !store::update_reservation(txn, &next, current.version).await? {
            return Ok(None);
        }
        events.push(reservation(CANCELLED, &next, reason, None));
    }
    for current in store::held_on(txn, resource).await? {
        let Ok(next) = current.next(ClaimTransition::Cancel, now) else {
            continue;
        };
        if !store::set_claim_state(txn, &next, ClaimState::Held).await? {
            return Ok(None);
        }
        store::return_stock(txn, resource, current.quantity).await?;
        let remaining = store::remaining(txn, resource).await?;
        events.push(claim(CLAIM_CANCELLED, &next, remaining, None, reason));
    }
    Ok(Some(events))
}
