//! Where resources, reservations, claims and needs are kept, the same on PostgreSQL and
//! SQLite. Two guarantees live in the database itself: holding reservations of a
//! resource never overlap (an exclusion constraint on PostgreSQL, triggers on SQLite),
//! and a material's remaining quantity never goes below zero (a CHECK and conditional
//! updates).
//!
//! One file per table: `resource`, `reservation`, `claim` (with the stock it
//! moves), `need`; the sea-orm entities are in `entity`, the schema in [`migrations`].
//! Queries return domain types, and a row the domain cannot read is an internal error.

mod claim;
mod entity;
pub mod migrations;
mod need;
mod reservation;
mod resource;

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use sea_orm::DbErr;
use uuid::Uuid;

pub use claim::{
    CLAIM_REQUEST_ID_KEY, claim_by_request, get_claim, held_on, insert_claim, list_claims,
    overdue_claims, return_stock, set_claim_state, take_stock,
};
pub use need::{get_need, insert_need, list_needs, need_by_request, set_need_state};
pub use reservation::{
    RESERVATION_REQUEST_ID_KEY, future_holding_of, future_holding_on, get_reservation,
    holding_between, insert_reservation, list_reservations, overdue_requests,
    reservation_by_request, update_reservation,
};
pub use resource::{
    StoredResource, all_resources, get_resource, insert_resource, list_resources, remaining,
    resource_by_request, resources_at, resources_of, resources_within, update_resource,
};

use crate::domain::Invalid;

/// Times are stored as microseconds since the epoch where the database compares them
/// (slots, so that both backends order and overlap them alike).
pub fn to_us(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// The time `us` microseconds after the epoch; out of range reads as the epoch (never
/// written by [`to_us`]).
pub fn from_us(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A stored row the domain refuses: the database was changed behind the service's back.
fn internal(what: &str, id: Uuid, invalid: Invalid) -> Error {
    Error::internal(format!("stored {what} {id} is invalid: {invalid}"))
}

/// Whether an insert or update broke the no-overlap guarantee.
pub fn is_overlap(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("reservations_no_overlap") || text.contains("23P01")
}
